"""Tests of the shared infrastructure package."""
