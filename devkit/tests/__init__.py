"""Tests of the developer tooling (local stack, harness, importing)."""
