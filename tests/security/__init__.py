"""Security checks of the whole platform: who may write what, tokens, passwords, logs, dependencies."""
