"""Repository-wide pytest configuration: the real-infrastructure fixtures of shared.testing."""

pytest_plugins = ["shared.testing"]
