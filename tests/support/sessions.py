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


def interrupt_uploads_after(communicator, nbytes):
    """Make ``communicator`` raise KeyboardInterrupt (a Ctrl-C) once ``nbytes`` were sent.

    Only this communicator is changed: a new login replaces it.
    """
    real_perform = communicator.perform_upload
    sent = []

    def interrupted(*args, **kwargs):
        progress = kwargs["progress"]

        def stop_when_enough(count):
            progress(count)
            sent.append(count)
            if sum(sent) >= nbytes:
                raise KeyboardInterrupt

        return real_perform(*args, **dict(kwargs, progress=stop_when_enough))

    communicator.perform_upload = interrupted
