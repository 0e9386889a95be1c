"""Fixtures of the high-level tests."""

from support.sessions import logged_in

__all__ = ["logged_in"]
