"""Repository-wide pytest configuration: the real-infrastructure fixtures of devkit.testing."""

pytest_plugins = ["devkit.testing"]
