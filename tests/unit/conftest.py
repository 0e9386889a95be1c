"""Fixtures for the unit tests of the client core.

HTTP is mocked with :mod:`responses` (no request leaves the process). A few
tests need real sockets (connection refused, a body cut short); they use
:class:`support.local_server.LocalServer`, bound to 127.0.0.1.
"""

import socket

import pytest
import requests
import responses
from support.local_server import LocalServer
from support.wire import Recorder


@pytest.fixture
def mocked():
    """A :class:`responses.RequestsMock`; unused registrations are allowed."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


@pytest.fixture
def sleeps() -> Recorder:
    """A sleep replacement that records the waits."""
    return Recorder()


@pytest.fixture
def local_server():
    """A real HTTP server on 127.0.0.1 with programmable routes."""
    server = LocalServer()
    yield server
    server.close()


@pytest.fixture
def closed_port_url() -> str:
    """A URL on 127.0.0.1 where nothing listens (connections are refused)."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return f"http://127.0.0.1:{port}/midas"


@pytest.fixture
def sent_kwargs(monkeypatch):
    """The keyword arguments of the last ``requests.Session.send`` call."""
    seen = {}
    original = requests.Session.send

    def spy(self, *args, **kwargs):
        seen.clear()
        seen.update(kwargs)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(requests.Session, "send", spy)
    return seen
