"""Fixtures of the high-level tests."""

import pytest

import pydas


@pytest.fixture
def logged_in(midas_server, midas_user):
    """Log ``midas_user`` in with the API key; the request log starts empty."""
    token = pydas.login(email=midas_user.email, api_key=midas_user.api_key, url=midas_server.url)
    midas_server.clear_request_log()
    return token
