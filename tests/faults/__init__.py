"""Fault injection against the whole platform: crashes of the broker, the database and the services."""
