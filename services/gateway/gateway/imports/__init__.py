"""Open-data imports: an uploaded official file becomes a job of the gateway, loaded through the public API."""
