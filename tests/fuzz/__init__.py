"""Bad input against the public API: property-based fuzzing of the merged OpenAPI and targeted attacks."""
