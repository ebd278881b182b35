"""Developer tooling: the local stack, the test harness, the `commerce` CLI and the importing client.

Never shipped in a service image; services' runtime modules never import it.
"""
