"""The public contracts, merged from the services': the OpenAPI and the AsyncAPI documents."""
