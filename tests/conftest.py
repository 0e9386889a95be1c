"""Fixtures shared by every test.

Each test starts from a clean library state and an environment that cannot
redirect it to a real server, a proxy or a different CA bundle.
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
def clean_pydas_state(monkeypatch):
    """Reset :mod:`pydas.session` and scrub environment variables around each test."""
    import os

    for name in list(os.environ):
        upper = name.upper()
        if upper.startswith(_SCRUBBED_PREFIXES) or upper in _SCRUBBED_NAMES:
            monkeypatch.delenv(name, raising=False)
    pydas.session.reset()
    yield
    pydas.session.reset()
