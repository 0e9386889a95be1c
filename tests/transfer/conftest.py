"""Fixtures of the transfer engine tests."""

import pytest
from support.sessions import logged_in

__all__ = ["journal_dir", "logged_in"]


@pytest.fixture
def journal_dir(tmp_path, monkeypatch):
    """The upload journal's directory of this test (``PYDAS_CACHE_DIR``)."""
    monkeypatch.setenv("PYDAS_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache" / "uploads"
