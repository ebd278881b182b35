"""The markets service."""
