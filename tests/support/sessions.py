"""Logging the high-level API in to a test server."""

import pytest

import pydas
from pydas.core import RetryPolicy


def no_sleep(seconds):
    """A sleep that waits for no real time (retry paths in tests)."""


def log_in(server, user, url=None, sleep=no_sleep):
    """Log ``user`` in to ``server`` (or to ``url``, e.g. a proxy in front of it).

    Retries and the settling of upload offsets wait with ``sleep``; the
    request log of the server starts empty.

    :returns: the token
    """
    token = pydas.login(email=user.email, api_key=user.api_key, url=url or server.url)
    pydas.session.communicator.retry = RetryPolicy(sleep=sleep)
    server.clear_request_log()
    return token


@pytest.fixture
def logged_in(midas_server, midas_user):
    """Log ``midas_user`` in with the API key; retries wait for no real time."""
    return log_in(midas_server, midas_user)
