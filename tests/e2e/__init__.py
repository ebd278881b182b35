"""End-to-end tests of the whole platform as a user meets it."""
