"""Fixtures shared by every test.

Each test starts from a clean library state and an environment that cannot
redirect it to a real server, a proxy or a different CA bundle, nor read or
write the real user's stored login, ``.netrc``, keyring or cache.
"""

import pytest

import pydas.session

_SCRUBBED_PREFIXES = ("MIDAS_", "PYDAS_")
_SCRUBBED_NAMES = (
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "ALL_PROXY",
    "NO_PROXY",
    "REQUESTS_CA_BUNDLE",
    "CURL_CA_BUNDLE",
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
)


@pytest.fixture(autouse=True)
def clean_pydas_state(monkeypatch, tmp_path_factory):
    """Reset :mod:`pydas.session` and scrub environment variables around each test."""
    import os

    for name in list(os.environ):
        upper = name.upper()
        if upper.startswith(_SCRUBBED_PREFIXES) or upper in _SCRUBBED_NAMES:
            monkeypatch.delenv(name, raising=False)
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / ".cache"))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / ".local" / "share"))
    monkeypatch.delenv("NETRC", raising=False)
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")
    pydas.session.reset()
    yield
    pydas.session.reset()
