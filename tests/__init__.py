"""Cross-service tests, fault injection and benchmarks of the whole platform."""
