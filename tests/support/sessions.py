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

    Both ways an upload's bytes leave go through it: ``perform_upload`` (its
    progress callback) and ``request`` with an open file as the body (its
    reads). Only this communicator is changed: a new login replaces it.
    """
    real_perform, real_request = communicator.perform_upload, communicator.request
    sent = []

    def count(size):
        sent.append(size)
        if sum(sent) >= nbytes:
            raise KeyboardInterrupt

    def interrupted(*args, **kwargs):
        progress = kwargs["progress"]

        def stop_when_enough(size):
            progress(size)
            count(size)

        return real_perform(*args, **dict(kwargs, progress=stop_when_enough))

    class Counted:
        def __init__(self, handle):
            self.handle = handle

        def tell(self):
            return self.handle.tell()

        def seek(self, *args):
            return self.handle.seek(*args)

        def read(self, size=-1):
            piece = self.handle.read(size)
            count(len(piece))
            return piece

    def request(method, parameters=None, file_payload=None):
        if file_payload is not None:
            file_payload = Counted(file_payload)
        return real_request(method, parameters, file_payload=file_payload)

    communicator.perform_upload = interrupted
    communicator.request = request
