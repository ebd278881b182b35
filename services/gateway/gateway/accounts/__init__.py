"""Accounts, logins, sessions, revocation and the audit log of account actions."""
