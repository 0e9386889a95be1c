"""The emulator's public face: :class:`MidasServer`.

It owns a data directory (:class:`~pydas.testing.backend.Backend`), serves it
over HTTP in a background thread (:mod:`pydas.testing.httpd`), records the
requests it sees, and offers the helpers a test needs to set the scene as an
administrator would in the web interface.
"""

import collections
import os
import shutil
import socket
import tempfile
import threading
import time
from typing import Any, Deque, List, Optional, Tuple, Union

from pydas.testing.answers import ApiError
from pydas.testing.backend import Backend, Row
from pydas.testing.backend.values import as_int
from pydas.testing.dispatch import DEFAULT_MODULES, ServerConfig, enabled_modules
from pydas.testing.faults import FaultInjector
from pydas.testing.httpd import HTTPServer
from pydas.testing.records import CommunityRecord, RequestRecord, UserRecord

__all__ = ["MidasServer", "UserRecord", "CommunityRecord", "RequestRecord"]

#: The request log keeps at most this many records (the oldest are dropped).
_MAX_LOG = 100_000
#: The tracker APIs the emulator answers.
_TRACKER_VERSIONS = ("2.0.4", "1.2")


def _modules(modules: Optional[Any]) -> Tuple[str, ...]:
    if modules is None:
        return enabled_modules(DEFAULT_MODULES)
    if isinstance(modules, str):
        modules = modules.replace(",", " ").split()
    return enabled_modules(modules)


class MidasServer:
    """A local Midas Server 3 emulator serving the web API over HTTP.

    Use it as a context manager (or call :meth:`start` and :meth:`stop`)::

        with MidasServer() as server:
            user = server.create_user("jane@example.com", "secret", "Jane", "Doe")
            ...  # talk to server.url with any Midas client

    :param data_dir: directory (``str`` or path object) for the SQLite database and the
        stored files; it is kept (and reused on the next start). ``None`` uses a
        temporary directory that :meth:`stop` removes.
    :param modules: names of the server modules to enable (``api`` is always on), as
        an iterable or a comma-separated string, in the order they are enabled (each
        after the modules it depends on, e.g. ``scheduler``, as on the real server);
        ``None`` enables all: ``thumbnailcreator, mfa, dicomextractor, tracker, solr,
        batchmake``.
    :param host: interface to bind.
    :param port: TCP port; ``0`` picks a free one.
    :param base_path: path of the Midas root in the URL.
    :param double_encode: return non-ASCII text double-encoded, as the real server does.
    :param faithful_offset_bug: announce the full size as ``Content-Length`` of a
        download started at an ``offset``, as the real server does.
    :param tracker: the API of the ``tracker`` module: ``2.0.4`` (the real server's
        last version) or ``1.2`` (the older API the old pydas was written for).
    :raises ValueError: for an unknown module name, tracker version or a malformed
        base path.
    """

    def __init__(self, data_dir: Union[str, "os.PathLike[str]", None] = None,
                 modules: Optional[Any] = None,
                 host: str = "127.0.0.1", port: int = 0, base_path: str = "/midas",
                 double_encode: bool = True, faithful_offset_bug: bool = True,
                 tracker: str = "2.0.4") -> None:
        base_path = "/" + base_path.strip("/") if base_path.strip("/") else ""
        if "?" in base_path or "#" in base_path:
            raise ValueError(f"base_path must be a plain URL path, got {base_path!r}")
        self.data_dir = None if data_dir is None else os.fspath(data_dir)
        self.host = host
        self.port = port
        self.base_path = base_path
        if tracker not in _TRACKER_VERSIONS:
            raise ValueError(f"tracker must be one of {', '.join(_TRACKER_VERSIONS)}, "
                             f"got {tracker!r}")
        self.config = ServerConfig(base_path, _modules(modules), double_encode,
                                   faithful_offset_bug,
                                   variants={} if tracker == "2.0.4" else {"tracker": tracker})
        #: Fault injection for the next requests (see :mod:`pydas.testing.faults`).
        self.faults = FaultInjector()
        self._log: Deque[RequestRecord] = collections.deque(maxlen=_MAX_LOG)
        self._log_lock = threading.Lock()
        self._httpd: Optional[HTTPServer] = None
        self._thread: Optional[threading.Thread] = None
        self._backend: Optional[Backend] = None
        self._temporary_dir: Optional[str] = None

    # -- life cycle --------------------------------------------------------------

    def start(self) -> "MidasServer":
        """Open the data directory and start serving in a background thread.

        :returns: the server itself.
        :raises RuntimeError: if it is already running.
        :raises OSError: if the address cannot be bound.
        """
        if self._httpd is not None:
            raise RuntimeError("the emulator is already running")
        directory = self.data_dir
        if directory is None:
            directory = self._temporary_dir = tempfile.mkdtemp(prefix="pydas-midas-")
        self._backend = Backend(directory)
        try:
            self._httpd = HTTPServer((self.host, self.port), self)
        except OSError:
            self._close_backend()
            raise
        self.port = self._httpd.server_address[1]
        self.config.origin = self.url[: len(self.url) - len(self.base_path)]
        self._thread = threading.Thread(
            target=self._httpd.serve_until_stopped,
            name=f"midas-emulator-{self.port}", daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, close open connections and, for a temporary data dir, delete it."""
        httpd = self._httpd
        if httpd is None:
            return
        httpd.stop_serving()
        if self._thread is not None:
            self._thread.join(5)
        with httpd.connections_lock:
            open_connections = list(httpd.connections)
        for connection in open_connections:
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        httpd.server_close()
        # Handler threads are daemons that server_close() does not join: wait
        # (bounded) until they have left, so none runs SQL on a closed database.
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            with httpd.connections_lock:
                if not httpd.connections:
                    break
            time.sleep(0.005)
        self._httpd = None
        self._thread = None
        self._close_backend()

    def _close_backend(self) -> None:
        if self._backend is not None:
            self._backend.close()
            self._backend = None
        if self._temporary_dir is not None:
            shutil.rmtree(self._temporary_dir, ignore_errors=True)
            self._temporary_dir = None

    def __enter__(self) -> "MidasServer":
        return self.start()

    def __exit__(self, *exc_info: Any) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = self.url if self._httpd is not None else "stopped"
        return f"<MidasServer {state}>"

    # -- properties ----------------------------------------------------------------

    @property
    def url(self) -> str:
        """The Midas base URL, e.g. ``http://127.0.0.1:8080/midas`` (no trailing ``/``).

        :raises RuntimeError: before :meth:`start`.
        """
        if self._httpd is None:
            raise RuntimeError("the emulator is not running; call start() first")
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}{self.base_path}"

    @property
    def store(self) -> Backend:
        """The open data directory (internal: for the HTTP layer and white-box tests).

        ``store.asset_path(md5)`` is the file holding a stored content, and
        ``store.statements`` counts the SQL statements run.

        :raises RuntimeError: before :meth:`start`.
        """
        if self._backend is None:
            raise RuntimeError("the emulator is not running; call start() first")
        return self._backend

    @property
    def request_log(self) -> List[RequestRecord]:
        """Requests received since start or :meth:`clear_request_log`, oldest first.

        At most the last 100,000 are kept.
        """
        with self._log_lock:
            return list(self._log)

    def clear_request_log(self) -> None:
        """Forget the recorded requests."""
        with self._log_lock:
            self._log.clear()

    def log_request_record(self, record: RequestRecord) -> None:
        """Append a record to :attr:`request_log` (called by the HTTP layer)."""
        with self._log_lock:
            self._log.append(record)

    # -- test helpers -----------------------------------------------------------------

    def _user_row(self, email: str) -> Row:
        user = self.store.users.by_email(email.lower())
        if user is None:
            raise ValueError(f"no user with e-mail {email!r}")
        return user

    def create_user(self, email: str, password: str, firstname: str, lastname: str,
                    admin: bool = False) -> UserRecord:
        """Create an account as the web UI would (home folders, ``Default`` API key).

        :param email: e-mail address (stored lower-case).
        :param password: the password.
        :param firstname: first name (first letter upper-cased by the server).
        :param lastname: last name (likewise).
        :param admin: make the user a server administrator.
        :returns: the new user's record.
        :raises ValueError: if the e-mail is already registered.
        """
        backend = self.store
        with backend.write():
            user = backend.users.create(email, password, firstname, lastname, admin)
            children = {row["name"]: row["folder_id"]
                        for row in backend.folders.children(user["folder_id"])}
            key = backend.users.default_api_key(user["user_id"]) or ""
        return UserRecord(
            user_id=str(user["user_id"]), email=user["email"], password=password, api_key=key,
            firstname=user["firstname"], lastname=user["lastname"], admin=bool(admin),
            folder_id=str(user["folder_id"]), private_folder_id=str(children["Private"]),
            public_folder_id=str(children["Public"]),
        )

    def default_api_key(self, email: str) -> str:
        """Return the ``Default`` API key of an existing user.

        :param email: the user's e-mail.
        :returns: the key (``""`` if the user has none).
        :raises ValueError: for an unknown user.
        """
        backend = self.store
        with backend.read():
            return backend.users.default_api_key(self._user_row(email)["user_id"]) or ""

    def create_api_key(self, email: str, application: str, lifetime_minutes: int = 100) -> str:
        """Create an API key of a user for an application.

        :param email: the user's e-mail.
        :param application: the application name to pass as ``appname`` at login.
        :param lifetime_minutes: lifetime of the tokens issued for this key.
        :returns: the key.
        :raises ValueError: for an unknown user or a non-positive lifetime.
        """
        if lifetime_minutes <= 0:
            raise ValueError("lifetime_minutes must be positive")
        backend = self.store
        with backend.write():
            user = self._user_row(email)
            return backend.users.create_api_key(user["user_id"], application,
                                                int(lifetime_minutes))

    def create_community(self, name: str, owner_email: str, privacy: str = "Public",
                         description: str = "") -> CommunityRecord:
        """Create a community owned by a user (who joins its Administrator group).

        :param name: community name (first letter upper-cased by the server).
        :param owner_email: e-mail of the owner.
        :param privacy: ``Public`` or ``Private``.
        :param description: description text.
        :returns: the community's record.
        :raises ValueError: for an unknown owner, a bad privacy value or a taken name.
        """
        backend = self.store
        communities = backend.communities
        with backend.write():
            owner = self._user_row(owner_email)
            try:
                community = communities.create(name, owner["user_id"], description, privacy)
            except ApiError as error:
                raise ValueError(error.message) from None
            public = communities.folder(community, "Public")
            private = communities.folder(community, "Private")
        assert private is not None
        return CommunityRecord(
            community_id=str(community["community_id"]), name=community["name"],
            folder_id=str(community["folder_id"]),
            public_folder_id=None if public is None else str(public["folder_id"]),
            private_folder_id=str(private["folder_id"]),
        )

    def add_community_member(self, community_id: Any, email: str, role: str = "member") -> None:
        """Add a user to a community's groups.

        :param community_id: the community id.
        :param email: the user's e-mail.
        :param role: ``member``, ``moderator`` or ``admin`` (every role also joins Members).
        :raises ValueError: for an unknown community, user or role.
        """
        backend = self.store
        with backend.write():
            user = self._user_row(email)
            community = backend.communities.get(as_int(community_id))
            if community is None:
                raise ValueError(f"no community with id {community_id!r}")
            backend.communities.add_member(community, user["user_id"], role)

    def set_otp(self, email: str, otp: Optional[str] = None) -> None:
        """Give a user a one-time-password device.

        With the ``mfa`` module enabled, ``midas.login`` then answers with an
        ``mfa_token_id`` that ``midas.mfa.otp.login`` exchanges for the token.
        Like the real server's HOTP device, the device accepts any one-time
        password; given ``otp``, it accepts only that one (to test a refusal).

        :param email: the user's e-mail.
        :param otp: the one password the device accepts; ``None`` for any.
        :raises ValueError: for an unknown user.
        """
        backend = self.store
        with backend.write():
            backend.users.set_otp(self._user_row(email)["user_id"], otp)

    def expire_tokens(self, email: Optional[str] = None) -> None:
        """Make API tokens expire now.

        :param email: only this user's tokens; all tokens when ``None``.
        :raises ValueError: for an unknown user.
        """
        backend = self.store
        with backend.write():
            user_id = None if email is None else self._user_row(email)["user_id"]
            backend.users.expire_tokens(user_id)

    def create_batchmake_task(self, email: str) -> str:
        """Create a BatchMake task owned by a user (the API has no call for that).

        :param email: the owner's e-mail.
        :returns: the task id for ``midas.batchmake.add.condor.dag``/``job``.
        :raises ValueError: for an unknown user.
        """
        backend = self.store
        with backend.write():
            return str(backend.batchmake.create_task(self._user_row(email)["user_id"]))
