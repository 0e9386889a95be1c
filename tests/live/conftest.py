"""The live tier: tests against a real Midas Server 3 instead of the emulator.

The server is named by a credentials file in the format the kit in
``../shared/midas-server`` writes (``KEY=value`` lines: ``MIDAS_URL``,
``MIDAS_EMAIL``, ``MIDAS_API_KEY``, ``MIDAS_ADMIN_*``, ``MIDAS_OTP_*`` ...).
Its path comes from ``PYDAS_LIVE_CREDENTIALS``. The file is read when this
module is imported, before the autouse fixture of ``tests/conftest.py`` scrubs
``MIDAS_*`` and ``PYDAS_*`` variables from the environment of each test.

Without that variable every live test is skipped with a one-line reason, so
the README's offline test command runs as before.
"""

import os
from typing import Dict, Optional

import pytest

#: The environment variable naming the credentials file of a real server.
CREDENTIALS_VARIABLE = "PYDAS_LIVE_CREDENTIALS"


def _read_credentials(path: str) -> Dict[str, str]:
    values: Dict[str, str] = {}
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            line = line.strip()
            if line and not line.startswith("#") and "=" in line:
                key, value = line.split("=", 1)
                values[key.strip()] = value.strip()
    return values


def _load() -> Optional[Dict[str, str]]:
    path = os.environ.get(CREDENTIALS_VARIABLE)
    if not path:
        return None
    return _read_credentials(path)


#: The credentials of the configured real server, or ``None``.
LIVE = _load()
SKIP_REASON = f"no real Midas server configured (set {CREDENTIALS_VARIABLE})"


def pytest_collection_modifyitems(config, items):
    """Mark every test of this directory ``live``; skip them all without a server."""
    here = os.path.dirname(__file__)
    for item in items:
        if str(item.fspath).startswith(here):
            item.add_marker(pytest.mark.live)
            if LIVE is None:
                item.add_marker(pytest.mark.skip(reason=SKIP_REASON))


@pytest.fixture(scope="session")
def live() -> Dict[str, str]:
    """The credentials of the real server (``MIDAS_URL``, ``MIDAS_EMAIL``, ...)."""
    if LIVE is None:
        pytest.skip(SKIP_REASON)
    return LIVE
