"""The local embedded stack: a real Kafka-protocol broker, a real MongoDB-wire server, the services.

Used by ``make run``/``make up``/``make down`` and by the test harness (which starts its own
broker and database on free ports). Every process is started by us, tracked by a pid file whose
command line is checked before any signal is sent, and bound to 127.0.0.1.
"""
