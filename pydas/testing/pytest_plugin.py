"""Pytest plugin of pydas: fixtures that start a local Midas Server 3 emulator.

The plugin is registered through the ``pytest11`` entry point of the package,
so the fixtures are available in every test session once pydas is installed:

``midas_server``
    A started :class:`pydas.testing.MidasServer` on a temporary data
    directory, stopped (and its data removed) after the test.
``midas_user``
    A :class:`pydas.testing.UserRecord` created on ``midas_server``:
    ``user@example.com`` with password ``password``, named Jane Doe.
"""

from typing import TYPE_CHECKING, Iterator

import pytest

if TYPE_CHECKING:
    from pydas.testing import MidasServer, UserRecord

__all__ = ["midas_server", "midas_user"]

#: Credentials of the user that the ``midas_user`` fixture creates.
USER_EMAIL = "user@example.com"
USER_PASSWORD = "password"


@pytest.fixture
def midas_server() -> "Iterator[MidasServer]":
    """Yield a started emulator on a fresh temporary data directory."""
    from pydas.testing import MidasServer

    with MidasServer() as server:
        yield server


@pytest.fixture
def midas_user(midas_server: "MidasServer") -> "UserRecord":
    """Return a freshly created ordinary user of ``midas_server``."""
    return midas_server.create_user(USER_EMAIL, USER_PASSWORD, "Jane", "Doe")
