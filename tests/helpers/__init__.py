"""Helpers shared by tests (speech synthesis, ...)."""
