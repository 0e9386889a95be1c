"""Helpers shared by the test directories (plain modules, imported as ``support.x``)."""
