"""Infrastructure shared by every service of the platform.

Event envelope, Kafka and MongoDB adapters, the transactional outbox and its relay, the
idempotent consumer, settings, logging, metrics, health checks, problem+json errors and the
identity carried by the gateway's tokens. Nothing here knows what a stall or a shop is.
"""
