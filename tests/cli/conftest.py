"""Fixtures of the command's tests: a private home, a test keyring, a logged-in environment.

Every test here runs with ``HOME`` and the configuration directory in a
temporary directory and with a keyring backend of the test's choosing, so
nothing reads or writes the real user's login.
"""

import keyring
import pytest
from keyring.backend import KeyringBackend
from keyring.backends import fail
from keyring.errors import PasswordDeleteError
from support.sessions import logged_in

import pydas.credentials

__all__ = ["MemoryKeyring", "logged_in"]


class MemoryKeyring(KeyringBackend):
    """A keyring backend that keeps passwords in a dictionary."""

    priority = 1

    def __init__(self):
        super().__init__()
        self.entries = {}

    def get_password(self, service, username):
        return self.entries.get((service, username))

    def set_password(self, service, username, password):
        self.entries[(service, username)] = password

    def delete_password(self, service, username):
        if (service, username) not in self.entries:
            raise PasswordDeleteError("no such password")
        del self.entries[(service, username)]


@pytest.fixture(autouse=True)
def home(tmp_path, monkeypatch):
    """A fresh home directory (and configuration directory) for the test."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.delenv("NETRC", raising=False)
    monkeypatch.delenv("PYTHON_KEYRING_BACKEND", raising=False)
    assert pydas.credentials.config_dir() == str(home / ".config" / "pydas")
    return home


@pytest.fixture(autouse=True)
def no_keyring():
    """No usable keyring backend (the headless Linux case), unless a test installs one."""
    previous = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    yield
    keyring.set_keyring(previous)


@pytest.fixture
def memory_keyring():
    """A working keyring backend, kept in memory."""
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    return backend


@pytest.fixture
def server_env(monkeypatch, midas_server, midas_user):
    """The ``MIDAS_*`` variables naming the emulator and its user."""
    monkeypatch.setenv("MIDAS_URL", midas_server.url)
    monkeypatch.setenv("MIDAS_EMAIL", midas_user.email)
    monkeypatch.setenv("MIDAS_API_KEY", midas_user.api_key)
    return midas_user
