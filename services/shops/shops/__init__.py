"""The shops service."""
