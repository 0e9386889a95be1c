"""The live tier: tests against a real Midas Server 3 instead of the emulator.

The server is named by a credentials file in the format the kit in
``../shared/midas-server`` writes (``KEY=value`` lines: ``MIDAS_URL``,
``MIDAS_EMAIL``, ``MIDAS_API_KEY``, ``MIDAS_ADMIN_*``, ``MIDAS_OTP_*`` ...).
Its path comes from ``PYDAS_LIVE_CREDENTIALS``; a second server with the
tracker module (a kit set up with ``MIDAS_DB=mysql``) may be named by
``PYDAS_LIVE_TRACKER_CREDENTIALS``. The files are read when this module is
imported, before the autouse fixture of ``tests/conftest.py`` scrubs
``MIDAS_*`` and ``PYDAS_*`` variables from the environment of each test.

Without ``PYDAS_LIVE_CREDENTIALS`` the live tests are left out (deselected)
and the summary says why in one line, so the README's offline test command
runs as before (tests marked ``serverless`` need no server and run anyway).
With ``PYDAS_LIVE_REQUIRED=1`` (as in CI) a missing server is an error, for
the tracker server too, instead of a skip.

Every test runs in its own scratch folders and communities with unique
names, removed afterwards: the server may be shared with other developers.

A test that exercises driver methods says so with
``@pytest.mark.covers("CoreDriver.create_folder", ...)``; the test fails if
its body did not call each of them, and ``test_live_coverage.py`` checks that
every driver method is covered by such a test or listed with the reason why
it cannot be.
"""

import functools
import os
import shutil
import subprocess
import uuid
import warnings
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, Iterator, List, Optional, Set, Tuple

import pytest

from pydas import drivers, exceptions
from pydas.core import Communicator
from pydas.testing.pytest_plugin import (
    create_scratch_folder,
    read_credentials_file,
    remove_scratch_folder,
)

#: The environment variable naming the credentials file of a real server.
CREDENTIALS_VARIABLE = "PYDAS_LIVE_CREDENTIALS"
#: The environment variable naming the credentials file of a server with the tracker module.
TRACKER_VARIABLE = "PYDAS_LIVE_TRACKER_CREDENTIALS"
#: Set to 1 to make a missing server an error rather than a skip.
REQUIRED_VARIABLE = "PYDAS_LIVE_REQUIRED"

#: The credentials-file keys (e-mail, password, API key) of each account of the kit.
ROLES = {
    "user": ("MIDAS_EMAIL", "MIDAS_PASSWORD", "MIDAS_API_KEY"),
    "admin": ("MIDAS_ADMIN_EMAIL", "MIDAS_ADMIN_PASSWORD", "MIDAS_ADMIN_API_KEY"),
    "otp": ("MIDAS_OTP_EMAIL", "MIDAS_OTP_PASSWORD", "MIDAS_OTP_API_KEY"),
}
#: What the OTP account sends as its one-time password. The kit's server
#: accepts any (its HOTP check is a TODO upstream; test_live_login shows it).
ONE_TIME_PASSWORD = "123456"


def _load(variable: str) -> Optional[Dict[str, str]]:
    path = os.environ.get(variable)
    if not path:
        return None
    return read_credentials_file(path)


TRACKER_PATH = os.environ.get(TRACKER_VARIABLE)


#: The credentials of the configured real server, or ``None``.
LIVE = _load(CREDENTIALS_VARIABLE)
#: The credentials of the configured server with the tracker module, or ``None``.
TRACKER = _load(TRACKER_VARIABLE)
REQUIRED = os.environ.get(REQUIRED_VARIABLE, "") not in ("", "0")
_LEFT_OUT = pytest.StashKey[int]()
SKIP_REASON = f"no real Midas server configured (set {CREDENTIALS_VARIABLE})"
TRACKER_SKIP_REASON = (
    f"no real Midas server with the tracker module configured (set {TRACKER_VARIABLE} "
    "to the credentials of a kit server set up with MIDAS_DB=mysql)"
)


def pytest_configure(config):
    if REQUIRED and (LIVE is None or TRACKER is None):
        configured = ((CREDENTIALS_VARIABLE, LIVE), (TRACKER_VARIABLE, TRACKER))
        missing = [variable for variable, credentials in configured if credentials is None]
        raise pytest.UsageError(f"{REQUIRED_VARIABLE} is set but {' and '.join(missing)} is not")


def pytest_collection_modifyitems(config, items):
    """Mark every test of this directory ``live``; without a server, leave them out.

    They are deselected rather than skipped so that the summary says it in
    one line instead of one line per test.
    """
    here = os.path.dirname(__file__)
    left_out = []
    for item in items:
        if str(item.fspath).startswith(here):
            item.add_marker(pytest.mark.live)
            if LIVE is None and item.get_closest_marker("serverless") is None:
                left_out.append(item)
    if left_out:
        config.hook.pytest_deselected(items=left_out)
        items[:] = [item for item in items if item not in set(left_out)]
        config.stash[_LEFT_OUT] = len(left_out)


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    count = config.stash.get(_LEFT_OUT, 0)
    if count:
        terminalreporter.write_line(f"live tier: {count} tests not run: {SKIP_REASON}")


def _check_answers(credentials: Dict[str, str], variable: str) -> None:
    """Stop the run at once, with one clear line, if the configured server is down."""
    try:
        with Communicator(credentials["MIDAS_URL"], timeout=(5, 30)) as communicator:
            communicator.get_server_version()
    except (KeyError, exceptions.PydasException) as error:
        pytest.exit(f"the live server of {variable} does not answer: {error!r}", returncode=3)


@pytest.fixture(scope="session")
def live() -> Dict[str, str]:
    """The credentials of the real server (``MIDAS_URL``, ``MIDAS_EMAIL``, ...)."""
    if LIVE is None:
        pytest.skip(SKIP_REASON)
    _check_answers(LIVE, CREDENTIALS_VARIABLE)
    return LIVE


@pytest.fixture(scope="session")
def live_url(live) -> str:
    """The root URL of the real server."""
    return live["MIDAS_URL"]


@pytest.fixture(scope="session")
def tracker() -> Dict[str, str]:
    """The credentials of the real server with the tracker module."""
    if TRACKER is None:
        pytest.skip(TRACKER_SKIP_REASON)
    _check_answers(TRACKER, TRACKER_VARIABLE)
    return TRACKER


@pytest.fixture(scope="session")
def tracker_database(tracker) -> Callable[[str], List[List[str]]]:
    """``tracker_database(sql)``: rows from the MariaDB of the tracker server.

    For what no API of the server shows. Only for a local kit server (its
    database listens on ``var/mysql.sock`` beside the credentials file);
    otherwise the test is skipped.
    """
    socket = os.path.join(os.path.dirname(TRACKER_PATH or ""), "var", "mysql.sock")
    client = shutil.which("mariadb")
    if client is None or not os.path.exists(socket):
        pytest.skip("the tracker server is not a local kit server (no MariaDB socket)")

    def query(sql: str) -> List[List[str]]:
        output = subprocess.run(
            [client, "--no-defaults", "-S", socket, "-uroot", "-N", "-B", "midas", "-e", sql],
            check=True, capture_output=True, text=True, timeout=60,
        ).stdout
        return [line.split("\t") for line in output.splitlines()]

    return query


# ---------------------------------------------------------------------------
# Accounts


@dataclass
class Login:
    """One account of a live server, logged in: its communicator, token and home folders."""

    role: str
    email: str
    password: str = field(repr=False)
    api_key: str = field(repr=False)
    communicator: Communicator
    token: str = field(repr=False)
    user: Dict[str, Any]
    home: Dict[str, Dict[str, Any]]

    @property
    def user_id(self) -> str:
        return self.user["user_id"]

    @property
    def private_id(self) -> str:
        return self.home["Private"]["folder_id"]

    @property
    def public_id(self) -> str:
        return self.home["Public"]["folder_id"]

    def call(self, method: str, **parameters: Any) -> Any:
        """Call an API method that pydas has no driver method for, with this token."""
        return self.communicator.request(method, {"token": self.token, **parameters})

    def upload(self, item_id: Any, path: Any, name: Optional[str] = None, **options: Any) -> Any:
        """Put a local file into an item with the two driver calls; return the item.

        No checksum is sent, so the server always receives the bytes.
        ``options`` go to :meth:`~pydas.drivers.CoreDriver.perform_upload`.
        """
        path = str(path)
        name = name or os.path.basename(path)
        upload_token = self.communicator.generate_upload_token(self.token, item_id, name)
        return self.communicator.perform_upload(upload_token, name, filepath=path, **options)

    def head(self, item_id: Any) -> Dict[str, Any]:
        """The head revision (the highest number) of an item, read from the server."""
        revisions = self.communicator.item_get(self.token, item_id)["revisions"]
        return max(revisions, key=lambda revision: int(revision["revision"]))


def log_in(credentials: Dict[str, str], role: str) -> Login:
    """Log one of the kit's accounts in (the OTP account through ``mfa.otp.login``)."""
    email_key, password_key, api_key_key = ROLES[role]
    email, password, api_key = (credentials[key] for key in ROLES[role])
    communicator = Communicator(credentials["MIDAS_URL"])
    try:
        answer = communicator.request_login(email, api_key)
        if "token" in answer:
            token = answer["token"]
        else:
            token = communicator.mfa_otp_login(answer["mfa_token_id"], ONE_TIME_PASSWORD)
        user = communicator.get_user_by_email(email)
        home = {folder["name"]: folder for folder in communicator.list_user_folders(token)}
    except BaseException:
        communicator.close()
        raise
    return Login(role, email, password, api_key, communicator, token, user, home)


@contextmanager
def _logged_in(credentials: Dict[str, str], role: str) -> Iterator[Login]:
    login = log_in(credentials, role)
    try:
        yield login
    finally:
        login.communicator.close()


def _login_fixture(server: str, role: str, doc: str) -> Any:
    """A fixture yielding the ``role`` account of the server fixture ``server``, logged in."""

    @pytest.fixture
    def fixture(request: Any) -> Iterator[Login]:
        with _logged_in(request.getfixturevalue(server), role) as login:
            yield login

    fixture.__doc__ = doc
    return fixture


live_user = _login_fixture("live", "user", "The normal user (``MIDAS_EMAIL``), logged in.")
live_admin = _login_fixture("live", "admin", "The administrator (``MIDAS_ADMIN_EMAIL``).")
live_otp = _login_fixture(
    "live", "otp", "The user with a one-time-password device (``MIDAS_OTP_EMAIL``)."
)
tracker_admin = _login_fixture("tracker", "admin", "The administrator of the tracker server.")
tracker_user = _login_fixture("tracker", "user", "The normal user of the tracker server.")


# ---------------------------------------------------------------------------
# Scratch space, removed after each test


@pytest.fixture
def make_scratch(request) -> Iterator[Callable[..., Dict[str, Any]]]:
    """A factory of scratch folders: ``make_scratch(login, parent_id=None)``.

    The folder gets a unique name in the login's ``Private`` folder (or in
    ``parent_id``) and is deleted, with its contents, after the test by the
    account that made it.
    """
    made: List[Tuple[Login, str]] = []

    def make(login: Login, parent_id: Any = None) -> Dict[str, Any]:
        parent = login.private_id if parent_id is None else parent_id
        folder = create_scratch_folder(login.communicator, login.token, parent, request.node.name)
        made.append((login, folder["folder_id"]))
        return folder

    yield make
    for login, folder_id in reversed(made):
        remove_scratch_folder(login.communicator, login.token, folder_id)


@pytest.fixture
def scratch(live_user, make_scratch) -> Dict[str, Any]:
    """A scratch folder of the normal user, in its ``Private`` folder."""
    return make_scratch(live_user)


@pytest.fixture
def make_community(request) -> Iterator[Callable[..., Dict[str, Any]]]:
    """A factory of scratch communities: ``make_community(admin_login, **options)``.

    Each gets a unique name (``Pydas-live-...``) and is deleted after the test.
    """
    made: List[Tuple[Login, str]] = []

    def make(admin: Login, **options: Any) -> Dict[str, Any]:
        name = unique_name("Pydas-live-" + request.node.name[:30])
        community = admin.communicator.create_community(admin.token, name, **options)
        made.append((admin, community["community_id"]))
        return community

    yield make
    for admin, community_id in reversed(made):
        try:
            admin.call("midas.community.delete", id=community_id)
        except exceptions.PydasException as error:
            warnings.warn(f"could not delete the community {community_id}: {error}", stacklevel=1)


def unique_name(prefix: str) -> str:
    """``prefix`` followed by 8 random hexadecimal digits."""
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


# ---------------------------------------------------------------------------
# covers(...): the driver methods a test exercises, checked at run time


def driver_attribute(name: str) -> Tuple[type, str]:
    """Resolve ``"CoreDriver.create_folder"`` (the class that defines the method) to both parts."""
    class_name, _, method = name.partition(".")
    cls = getattr(drivers, class_name, None)
    if not isinstance(cls, type) or method not in vars(cls) or not callable(vars(cls)[method]):
        raise pytest.UsageError(
            f"covers({name!r}): no such method defined in that driver class"
        )
    return cls, method


@contextmanager
def _spying(names: List[str], called: Set[str]) -> Iterator[None]:
    """Record in ``called`` which of the driver methods ``names`` are called."""
    patched = []
    for name in names:
        owner, method = driver_attribute(name)
        original = vars(owner)[method]

        @functools.wraps(original)
        def spy(*args: Any, _original: Any = original, _name: str = name, **kwargs: Any) -> Any:
            called.add(_name)
            return _original(*args, **kwargs)

        patched.append((owner, method, original))
        setattr(owner, method, spy)
    try:
        yield
    finally:
        for owner, method, original in reversed(patched):
            setattr(owner, method, original)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    names = [name for marker in item.iter_markers("covers") for name in marker.args]
    if not names:
        return (yield)
    called: Set[str] = set()
    with _spying(names, called):
        result = yield
    missing = sorted(set(names) - called)
    if missing:
        raise AssertionError(f"marked covers() but never called: {', '.join(missing)}")
    return result
