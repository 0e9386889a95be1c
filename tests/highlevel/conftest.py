"""Fixtures of the high-level tests."""

import pytest

import pydas
from pydas.core import RetryPolicy


@pytest.fixture(autouse=True)
def private_cache(tmp_path, monkeypatch):
    """Keep the upload journal of each test in its own directory."""
    monkeypatch.setenv("PYDAS_CACHE_DIR", str(tmp_path / "cache"))


@pytest.fixture
def logged_in(midas_server, midas_user):
    """Log ``midas_user`` in with the API key; the request log starts empty.

    Retries wait for no real time (the policy's sleep is replaced).
    """
    token = pydas.login(email=midas_user.email, api_key=midas_user.api_key, url=midas_server.url)
    pydas.session.communicator.retry = RetryPolicy(sleep=lambda seconds: None)
    midas_server.clear_request_log()
    return token
