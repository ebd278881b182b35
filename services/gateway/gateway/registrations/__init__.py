"""Self-registration: requests for an account and the office's decision."""
