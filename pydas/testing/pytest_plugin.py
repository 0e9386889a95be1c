"""Pytest plugin of pydas: fixtures for tests against the emulator or a real server.

The plugin is registered through the ``pytest11`` entry point of the package,
so the fixtures are available in every test session once pydas is installed.

Always on the bundled emulator:

``midas_server``
    A started :class:`pydas.testing.MidasServer` on a temporary data
    directory, stopped (and its data removed) after the test.
``midas_user``
    A :class:`pydas.testing.UserRecord` created on ``midas_server``:
    ``user@example.com`` with password ``password``, named Jane Doe.

On the emulator by default, on a real Midas server when one is configured
(``--midas-credentials FILE``, ``--midas-url URL`` or the environment
variable ``PYDAS_TEST_CREDENTIALS``), so that one test suite runs either way:

``midas_account``
    A :class:`MidasAccount`: the server URL and an account to use there.
``midas_scratch_folder``
    A :class:`ScratchFolder`: a new, uniquely named folder in the account's
    ``Private`` folder, deleted with everything in it after the test.
"""

import os
import re
import uuid
import warnings
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Dict, Iterator, Optional

import pytest

if TYPE_CHECKING:
    from pydas.core import Communicator
    from pydas.testing import MidasServer, UserRecord

__all__ = [
    "MidasAccount",
    "ScratchFolder",
    "midas_server",
    "midas_user",
    "midas_account",
    "midas_scratch_folder",
    "read_credentials_file",
    "create_scratch_folder",
    "remove_scratch_folder",
]

#: Credentials of the user that the ``midas_user`` fixture creates.
USER_EMAIL = "user@example.com"
USER_PASSWORD = "password"

#: The environment variable that may name a credentials file instead of ``--midas-credentials``.
CREDENTIALS_VARIABLE = "PYDAS_TEST_CREDENTIALS"
#: Every scratch folder's name starts with this, so that leftovers are easy to find.
SCRATCH_PREFIX = "pydas-test-"

_ACCOUNT_KEY = pytest.StashKey[Optional["MidasAccount"]]()


@dataclass(frozen=True)
class MidasAccount:
    """A server and an account on it, for a test.

    :param url: the server's root URL.
    :param email: the account's e-mail address.
    :param api_key: an API key of the account.
    :param application: the application the API key belongs to.
    :param real: ``True`` for a real server, ``False`` for the emulator.
    """

    url: str
    email: str
    api_key: str = field(repr=False)
    application: str = "Default"
    real: bool = False

    def login(self) -> str:
        """Log in with :func:`pydas.login` (for ``pydas.upload``/``download``); return the token."""
        import pydas

        return pydas.login(
            email=self.email, api_key=self.api_key, application=self.application, url=self.url
        )

    def communicator(self) -> "Communicator":
        """Return a new :class:`pydas.core.Communicator` for the server (close it after use)."""
        from pydas.core import Communicator

        return Communicator(self.url)

    def token(self, communicator: "Communicator") -> str:
        """Return a fresh API token of the account, got through ``communicator``.

        :raises pytest.UsageError: if the account needs a one-time password.
        """
        # the communicator hands the call to its driver, which checks the answer
        answer: Dict[str, str] = communicator.request_login(
            self.email, self.api_key, self.application
        )
        if "token" not in answer:
            raise pytest.UsageError(
                f"the test account {self.email} has a second login factor; "
                "use an account without one"
            )
        return answer["token"]


@dataclass(frozen=True)
class ScratchFolder:
    """A folder made for one test.

    :param folder_id: its id.
    :param name: its name, unique on the server.
    :param path: its server path for :func:`pydas.upload` and
        :func:`pydas.download` (``Private/<name>``, in the account's home).
    """

    folder_id: str
    name: str
    path: str


def read_credentials_file(path: str) -> Dict[str, str]:
    """Read ``KEY=value`` lines (the format the Midas server kit writes).

    Blank lines and lines starting with ``#`` are ignored; values are taken
    as written, without quotes or variable expansion.

    :param path: the file.
    :returns: the keys and values.
    :raises OSError: if the file cannot be read.
    """
    values: Dict[str, str] = {}
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            line = line.strip()
            if line and not line.startswith("#") and "=" in line:
                key, value = line.split("=", 1)
                values[key.strip()] = value.strip()
    return values


def pytest_addoption(parser: Any) -> None:
    group = parser.getgroup("pydas", "pydas: the Midas server of midas_account")
    group.addoption(
        "--midas-credentials",
        metavar="FILE",
        help="run midas_account and midas_scratch_folder on the real Midas server of FILE "
        "(KEY=value lines: MIDAS_URL, MIDAS_EMAIL, MIDAS_API_KEY or MIDAS_PASSWORD, "
        f"MIDAS_APPNAME); default: ${CREDENTIALS_VARIABLE}",
    )
    group.addoption(
        "--midas-url",
        metavar="URL",
        help="run midas_account and midas_scratch_folder on the real Midas server at URL, "
        "as the account of --midas-credentials or of $MIDAS_EMAIL with $MIDAS_API_KEY "
        "(or $MIDAS_PASSWORD)",
    )


def pytest_configure(config: Any) -> None:
    config.stash[_ACCOUNT_KEY] = _configured_account(
        config.getoption("--midas-credentials", None) or os.environ.get(CREDENTIALS_VARIABLE),
        config.getoption("--midas-url", None),
    )


def pytest_report_header(config: Any) -> Optional[str]:
    account = config.stash.get(_ACCOUNT_KEY, None)
    if account is None:
        return None
    return f"pydas: midas_account is {account.email} on the real server {account.url}"


def _configured_account(path: Optional[str], url: Optional[str]) -> Optional[MidasAccount]:
    """The real server's account, from a credentials file or the environment, or ``None``.

    Read once, when pytest starts: test fixtures may scrub the environment later.
    """
    if not path and not url:
        return None
    if path:
        try:
            values = read_credentials_file(path)
        except OSError as error:
            raise pytest.UsageError(f"cannot read the Midas credentials file: {error}") from None
        source = path
    else:
        values = {key: value for key, value in os.environ.items() if key.startswith("MIDAS_")}
        source = "the environment"
    url = url or values.get("MIDAS_URL", "")
    email = values.get("MIDAS_EMAIL", "")
    api_key = values.get("MIDAS_API_KEY", "")
    application = values.get("MIDAS_APPNAME") or "Default"
    if not url.lower().startswith(("http://", "https://")):
        raise pytest.UsageError(f"no http:// or https:// MIDAS_URL in {source} (got {url!r})")
    if not email:
        raise pytest.UsageError(f"no MIDAS_EMAIL in {source}")
    if not api_key:
        password = values.get("MIDAS_PASSWORD")
        if not password:
            raise pytest.UsageError(f"neither MIDAS_API_KEY nor MIDAS_PASSWORD in {source}")
        from pydas.drivers import CoreDriver
        from pydas.exceptions import PydasException

        driver = CoreDriver(url)
        try:
            api_key = driver.get_default_api_key(email, password)
        except PydasException as error:
            raise pytest.UsageError(
                f"cannot get the API key of {email} at {url}: {error}"
            ) from None
        finally:
            driver.close()
        application = "Default"
    return MidasAccount(url.rstrip("/"), email, api_key, application, real=True)


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


@pytest.fixture
def midas_account(request: pytest.FixtureRequest) -> MidasAccount:
    """Return the account to test with: on the configured real server, else on an emulator."""
    account = request.config.stash.get(_ACCOUNT_KEY, None)
    if account is not None:
        return account
    server = request.getfixturevalue("midas_server")
    user = request.getfixturevalue("midas_user")
    return MidasAccount(server.url, user.email, user.api_key)


def create_scratch_folder(
    communicator: "Communicator", token: str, parent_id: Any, label: str
) -> Dict[str, Any]:
    """Create a uniquely named folder for a test.

    Its name is :data:`SCRATCH_PREFIX`, up to 40 characters of ``label``
    (letters, digits, ``-`` and ``_`` kept) and 12 random hexadecimal digits.

    :param communicator: the communicator to use.
    :param token: a token of an account that may write to the parent.
    :param parent_id: the parent folder.
    :param label: what the folder is for, usually the test's name.
    :returns: the folder dictionary of the server.
    """
    cleaned = re.sub(r"[^A-Za-z0-9_-]+", "-", label).strip("-")[:40]
    name = f"{SCRATCH_PREFIX}{cleaned}-{uuid.uuid4().hex[:12]}"
    # the communicator hands the call to its driver, which checks the answer is an object
    folder: Dict[str, Any] = communicator.create_folder(
        token, name, parent_id, description=f"made by the test {label}; safe to delete"
    )
    return folder


def remove_scratch_folder(communicator: "Communicator", token: str, folder_id: Any) -> None:
    """Delete a scratch folder with its contents; warn if that fails.

    A folder that is already gone is fine.
    """
    from pydas import exceptions

    try:
        communicator.delete_folder(token, folder_id)
    except exceptions.InvalidPolicy:
        try:
            communicator.folder_get(token, folder_id)
        except exceptions.InvalidPolicy:
            return
        warnings.warn(f"could not delete the scratch folder {folder_id}", stacklevel=2)
    except exceptions.PydasException as error:
        warnings.warn(f"could not delete the scratch folder {folder_id}: {error}", stacklevel=2)


@pytest.fixture
def midas_scratch_folder(request: Any, midas_account: MidasAccount) -> Iterator[ScratchFolder]:
    """Yield a new folder in the account's ``Private`` folder; delete it after the test."""
    with midas_account.communicator() as communicator:
        token = midas_account.token(communicator)
        private = [
            folder
            for folder in communicator.list_user_folders(token)
            if folder.get("name") == "Private"
        ]
        if not private:
            raise pytest.UsageError(
                f"the test account {midas_account.email} has no Private folder"
            )
        folder = create_scratch_folder(
            communicator, token, private[0]["folder_id"], request.node.name
        )
    folder_id = str(folder["folder_id"])
    try:
        yield ScratchFolder(folder_id, folder["name"], f"Private/{folder['name']}")
    finally:
        with midas_account.communicator() as communicator:
            remove_scratch_folder(communicator, midas_account.token(communicator), folder_id)
