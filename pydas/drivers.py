"""Placeholder: filled in by the client-core work."""
