"""The HTTP toolkit every service's API uses: problem+json errors, entity tags, pagination, middleware."""
