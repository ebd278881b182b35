"""The districts service."""
