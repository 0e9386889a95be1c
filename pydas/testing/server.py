"""HTTP layer of the emulator and its public face, :class:`MidasServer`.

The server is :class:`http.server.ThreadingHTTPServer` with an HTTP/1.1
keep-alive handler (``disable_nagle_algorithm`` set: without it every reused
connection stalls on delayed ACKs). Routes below the base path:

``/api/json`` and ``/api/rest``
    the JSON-RPC style API (:mod:`pydas.testing.dispatch`), any verb.
``/download/``
    file, ZIP and link downloads (:mod:`pydas.testing.downloads`).

Every request is handled inside a catch-all: an unexpected exception is logged
on the ``pydas.testing`` logger and answered with a plain HTTP 500 page, so no
traceback reaches a client and no server thread dies.
"""

import collections
import io
import logging
import os
import re
import selectors
import shutil
import socket
import tempfile
import threading
import time
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import HTTP
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Deque, Dict, List, Optional, Set, Tuple, Union
from urllib.parse import parse_qsl, urlsplit

from pydas.testing import api_core, api_modules  # noqa: F401  (registers the methods)
from pydas.testing.dispatch import ALL_MODULES, Context, ServerConfig, resolve
from pydas.testing.downloads import Response, download_response, html_page
from pydas.testing.envelope import JSON_CONTENT_TYPE, ApiError, Redirect, envelope_bytes
from pydas.testing.faults import Fault, FaultInjector
from pydas.testing.model import Model
from pydas.testing.store import CHUNK_SIZE, Store

__all__ = ["MidasServer", "UserRecord", "CommunityRecord", "RequestRecord"]

logger = logging.getLogger("pydas.testing")

#: Largest form body parsed into parameters; a larger one is ignored whole, as PHP
#: does beyond ``post_max_size``.
_MAX_FORM_BODY = 64 * 1024 * 1024
#: Unread request bodies up to this size are drained to keep the connection alive.
_MAX_DRAIN = 16 * 1024 * 1024
#: The request log keeps at most this many records (the oldest are dropped).
_MAX_LOG = 100_000
_SECRET_PARAMS = frozenset(
    {"token", "password", "apikey", "authtoken", "uploadtoken", "otp", "mfatokenid"}
)

_GARBAGE_PAGE = (
    b"<br />\n<b>Fatal error</b>:  Uncaught exception 'Zend_Exception' with message "
    b"'Internal error' in /var/www/midas/core/controllers/components/ApiComponent.php:42\n"
    b"Stack trace:\n#0 {main}\n  thrown in <b>/var/www/midas/core/controllers/components/"
    b"ApiComponent.php</b> on line <b>42</b><br />\n"
)


@dataclass
class UserRecord:
    """A user created through :meth:`MidasServer.create_user`."""

    user_id: str
    email: str
    password: str = field(repr=False)
    api_key: str = field(repr=False)
    firstname: str
    lastname: str
    admin: bool
    folder_id: str
    private_folder_id: str
    public_folder_id: str


@dataclass
class CommunityRecord:
    """A community created through :meth:`MidasServer.create_community`."""

    community_id: str
    name: str
    folder_id: str
    public_folder_id: Optional[str]
    private_folder_id: str


def _masked(params: Dict[str, str]) -> Dict[str, str]:
    return {key: ("***" if key.lower() in _SECRET_PARAMS else value)
            for key, value in params.items()}


#: ``name=value`` of a secret parameter inside a logged request line.
_SECRET_IN_TEXT = re.compile(r"(?i)\b(" + "|".join(sorted(_SECRET_PARAMS)) + r")=[^&\s'\"]*")


@dataclass
class RequestRecord:
    """One request as the emulator saw it (see :attr:`MidasServer.request_log`).

    :param verb: HTTP verb.
    :param path: URL path after the base path, e.g. ``/api/json`` or ``/download/``.
    :param api_method: canonical lower-case method name (``midas.item.get``); the
        lower-cased name as sent if it does not resolve; ``None`` for non-API requests.
    :param params: merged parameters (query string over form body).
    :param body_bytes: request body bytes the server read.
    :param status: HTTP status sent, ``0`` if the connection was dropped without one.
    :param response_bytes: response body bytes sent.
    :param query: the parameters that came in the query string alone.
    """

    verb: str
    path: str
    api_method: Optional[str]
    params: Dict[str, str]
    body_bytes: int
    status: int
    response_bytes: int
    query: Dict[str, str] = field(default_factory=dict)

    def __repr__(self) -> str:
        return (
            f"RequestRecord(verb={self.verb!r}, path={self.path!r}, "
            f"api_method={self.api_method!r}, params={_masked(self.params)!r}, "
            f"body_bytes={self.body_bytes}, status={self.status}, "
            f"response_bytes={self.response_bytes}, query={_masked(self.query)!r})"
        )


class _Dropped(Exception):
    """The connection is to be dropped without (the rest of) an answer."""


class _Body:
    """The request body: ``Content-Length`` or chunked, with an optional cut-off."""

    def __init__(self, rfile: Any, length: Optional[int], chunked: bool) -> None:
        self._rfile = rfile
        self._remaining = length or 0
        self._chunked = chunked
        self._chunk_left = 0
        self._done = not chunked and not length
        self.consumed = 0
        self.cut_at: Optional[int] = None
        self.cut_hit = False
        #: Bytes read past ``cut_at`` that a cut upload writes late (see the faults).
        self.late_budget = 0
        self.late_data = b""
        self.late_seconds = 0.0

    @property
    def exhausted(self) -> bool:
        """Whether the whole body has been read."""
        return self._done

    @property
    def remaining(self) -> Optional[int]:
        """Bytes left for a ``Content-Length`` body, ``None`` if unknown (chunked)."""
        if self._done:
            return 0
        return None if self._chunked else self._remaining

    def _read_raw(self, size: int) -> bytes:
        if self._done:
            return b""
        if not self._chunked:
            data = self._rfile.read1(min(size, self._remaining))
            self._remaining -= len(data)
            if not data or self._remaining == 0:
                self._done = True
            return data
        if self._chunk_left == 0:
            line = self._rfile.readline(65537)
            try:
                self._chunk_left = int(line.split(b";")[0].strip() or b"0", 16)
            except ValueError:
                self._done = True
                return b""
            if self._chunk_left == 0:
                while self._rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                    continue
                self._done = True
                return b""
        data = self._rfile.read1(min(size, self._chunk_left))
        self._chunk_left -= len(data)
        if not data:
            self._done = True
        elif self._chunk_left == 0:
            self._rfile.readline(65537)
        return data

    def read(self, size: int = -1) -> bytes:
        if size is None or size < 0:
            return self.read_all()
        if self.cut_at is not None:
            allowed = self.cut_at - self.consumed
            if allowed <= 0:
                if not self.cut_hit and self.late_budget:
                    self.late_data = self._read_late(self.late_budget)
                self.cut_hit = True
                return b""
            size = min(size, allowed)
        data = self._read_raw(size)
        self.consumed += len(data)
        return data

    def _read_late(self, size: int) -> bytes:
        parts = []
        while size > 0:
            block = self._read_raw(min(size, CHUNK_SIZE))
            if not block:
                break
            parts.append(block)
            size -= len(block)
            self.consumed += len(block)
        return b"".join(parts)

    def read_all(self, limit: Optional[int] = None) -> bytes:
        """Read the rest of the body (at most ``limit`` bytes)."""
        parts = []
        total = 0
        while limit is None or total < limit:
            block = self.read(CHUNK_SIZE if limit is None else min(CHUNK_SIZE, limit - total))
            if not block:
                break
            parts.append(block)
            total += len(block)
        return b"".join(parts)


class _Output:
    """Write side of a response body: counts bytes and applies a response cut."""

    def __init__(self, wfile: Any, cut_after: Optional[int],
                 record: "RequestRecord") -> None:
        self._wfile = wfile
        self._cut_after = cut_after
        self._record = record
        self.sent = 0

    def write(self, data: Any) -> int:
        data = bytes(data)
        if self._cut_after is not None and self.sent + len(data) >= self._cut_after:
            part = data[: max(self._cut_after - self.sent, 0)]
            self.sent += len(part)
            self._record.response_bytes = self.sent
            self._wfile.write(part)
            self._wfile.flush()
            raise _Dropped()
        self.sent += len(data)
        self._record.response_bytes = self.sent
        self._wfile.write(data)
        return len(data)

    def flush(self) -> None:
        self._wfile.flush()


def _parse_multipart(content_type: str, data: bytes) -> Tuple[Dict[str, str],
                                                              Dict[str, Tuple[str, bytes]]]:
    header = f"Content-Type: {content_type}\r\n\r\n".encode("latin-1", "replace")
    message = BytesParser(policy=HTTP).parsebytes(header + data)
    form: Dict[str, str] = {}
    files: Dict[str, Tuple[str, bytes]] = {}
    if not message.is_multipart():
        return form, files
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not name:
            continue
        decoded = part.get_payload(decode=True)
        payload = decoded if isinstance(decoded, bytes) else b""
        filename = part.get_filename()
        if filename is not None:
            files[str(name)] = (filename, payload)
        else:
            form[str(name)] = payload.decode("utf-8", "replace")
    return form, files


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server: "_HTTPServer"

    def version_string(self) -> str:
        return "Apache"

    def setup(self) -> None:
        super().setup()
        with self.server.connections_lock:
            self.server.connections.add(self.connection)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            with self.server.connections_lock:
                self.server.connections.discard(self.connection)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        text = _SECRET_IN_TEXT.sub(r"\1=***", format % args)
        logger.debug("%s %s", self.address_string(), text)

    def do_GET(self) -> None:  # noqa: N802
        self._handle()

    do_HEAD = do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = do_GET

    # -- the request ------------------------------------------------------------

    def _handle(self) -> None:
        app = self.server.app
        split = urlsplit(self.path)
        base = app.base_path
        relative = split.path[len(base):] if split.path.startswith(base) else None
        query = dict(parse_qsl(split.query, keep_blank_values=True, errors="replace"))
        record = RequestRecord(self.command, relative or split.path, None, dict(query), 0, 0, 0,
                               dict(query))
        self._record = record
        self._answer_suppressed = False
        self._out = _Output(self.wfile, None, self._record)
        length_header = self.headers.get("Content-Length")
        chunked = "chunked" in self.headers.get("Transfer-Encoding", "").lower()
        try:
            length = int(length_header) if length_header and not chunked else None
        except ValueError:
            length = None
        if length is not None and length < 0:
            length = None
            self.close_connection = True
        self._body = _Body(self.rfile, length, chunked)
        app.log_request_record(record)
        try:
            self._route(relative, query)
        except _Dropped:
            self._drop()
        except (ConnectionError, socket.timeout):
            self.close_connection = True
        except Exception:
            logger.exception("internal error while handling %s %s", self.command, split.path)
            self._internal_error()
        finally:
            record.body_bytes = self._body.consumed

    def _route(self, relative: Optional[str], query: Dict[str, str]) -> None:
        app = self.server.app
        is_api = relative is not None and relative.rstrip("/") in ("/api/json", "/api/rest")
        is_download = relative is not None and relative.rstrip("/") == "/download"
        method = None
        if is_api:
            name = query.get("method")
            if name is not None:
                method = resolve(name, app.config.modules)
                self._record.api_method = method.full_name if method else name.lower()
        faults = app.faults.take(self._record.api_method, relative or "")
        if "delay" in faults:
            time.sleep(faults["delay"].seconds)
        if "fail" in faults or "garbage" in faults:
            self._answer_fault(faults)
            return
        if "cut_response" in faults:
            self._out = _Output(self.wfile, faults["cut_response"].nbytes, self._record)
        cut = faults.get("cut_request")
        if cut is not None:
            self._body.cut_at = cut.nbytes
            self._body.late_budget = cut.late_bytes
            self._body.late_seconds = cut.late_seconds
            self._answer_suppressed = True
            if method is None or not method.streams_body:
                self._body.read_all()
                raise _Dropped()
        if relative is None or not (is_api or is_download):
            self._send(html_page(404, f"Page not found: {self.path.split('?')[0]}"))
        elif is_download:
            self._send(download_response(app.store, app.config, query))
        else:
            self._api(query)
        if cut is not None:
            raise _Dropped()

    def _answer_fault(self, faults: Dict[str, Fault]) -> None:
        if "fail" in faults:
            status = faults["fail"].status
            try:
                phrase = HTTPStatus(status).phrase
            except ValueError:
                phrase = "Error"
            body = f"{status} {phrase}\n".encode("ascii")
            response = Response(status, [("Content-Type", "text/plain; charset=UTF-8")], body)
        else:
            response = Response(faults["garbage"].status,
                                [("Content-Type", "text/html; charset=UTF-8")], _GARBAGE_PAGE)
        self._settle_body()
        self._send(response)

    def _api(self, query: Dict[str, str]) -> None:
        app = self.server.app
        form: Dict[str, str] = {}
        files: Dict[str, Tuple[str, bytes]] = {}
        raw: Any = self._body
        content_type = self.headers.get_content_type()
        if self.command == "POST" and content_type in (
            "application/x-www-form-urlencoded", "multipart/form-data"
        ):
            data = self._body.read_all(_MAX_FORM_BODY + 1)
            if len(data) > _MAX_FORM_BODY:
                raw = None
            elif content_type == "multipart/form-data":
                form, files = _parse_multipart(self.headers.get("Content-Type", ""), data)
                raw = None
            else:
                text = data.decode("utf-8", "replace")
                form = dict(parse_qsl(text, keep_blank_values=True))
                raw = io.BytesIO(data)
        params = {**form, **query}
        self._record.params = dict(params)
        if "method" not in params:
            body = b"Inconsistent request: please set a method parameter"
            self._send(Response(200, [("Content-Type", "text/html; charset=UTF-8")], body))
            return
        method = resolve(params["method"], app.config.modules)
        self._record.api_method = method.full_name if method else params["method"].lower()
        if method is None:
            error = ApiError(
                -101, f"Server error. Requested method {params['method']} does not exist."
            )
            self._send_envelope(error=error)
            return
        context = Context(params, self.command, app.store, app.config, body=raw, files=files)
        try:
            if not method.locks_store:
                result = method.function(context)
            else:
                with context.transaction():
                    if method.authenticates:
                        context.user()
                    result = method.function(context)
        except ApiError as error:
            self._send_envelope(error=error)
            return
        if isinstance(result, Redirect):
            self._send(Response(302, [("Location", result.location)]))
        else:
            self._send_envelope(data=result)

    # -- answers ---------------------------------------------------------------

    def _send_envelope(self, data: Any = None, error: Optional[ApiError] = None) -> None:
        body = envelope_bytes(data, error, self.server.app.config.double_encode)
        self._send(Response(200, [("Content-Type", JSON_CONTENT_TYPE)], body))

    def _settle_body(self) -> bool:
        """Drain a small unread request body; tell whether the connection must close."""
        if self._body.cut_at is not None:
            return True
        if self._body.exhausted:
            return False
        remaining = self._body.remaining
        if remaining is not None and remaining <= _MAX_DRAIN:
            self._body.read_all()
            return False
        return True

    def _send(self, response: Response) -> None:
        if self._answer_suppressed:
            raise _Dropped()
        close = self._settle_body() or response.close or response.length is None and (
            response.stream is not None
        )
        self._record.status = response.status
        self._record.body_bytes = self._body.consumed
        self.send_response(response.status)
        for name, value in response.headers:
            if "\r" in value or "\n" in value:
                logger.warning("%s header not sent: its value contains a line break", name)
                continue
            self.send_header(name, value)
        if response.stream is None:
            self.send_header("Content-Length", str(len(response.body)))
        elif response.length is not None:
            self.send_header("Content-Length", str(response.length))
        if close:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        if self.command == "HEAD":
            self.wfile.flush()
            return
        if response.stream is None:
            if response.body:
                self._out.write(response.body)
        else:
            response.stream(self._out)  # type: ignore[arg-type]
        self.wfile.flush()
        if response.after is not None:
            response.after()

    def _drop(self) -> None:
        self.close_connection = True
        try:
            self.wfile.flush()
        except OSError:
            pass
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def _internal_error(self) -> None:
        self.close_connection = True
        if self._record.status:
            self._drop()
            return
        body = b"500 Internal Server Error\n"
        try:
            self._record.status = 500
            self.send_response(500)
            self.send_header("Content-Type", "text/plain; charset=UTF-8")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Connection", "close")
            self.end_headers()
            self._out = _Output(self.wfile, None, self._record)
            self._out.write(body)
            self.wfile.flush()
        except OSError:
            pass


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128

    def __init__(self, address: Tuple[str, int], app: "MidasServer") -> None:
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        self.app = app
        self.connections: Set[socket.socket] = set()
        self.connections_lock = threading.Lock()
        # A socket pair wakes the accept loop at once on stop (no polling interval).
        self._wake_read, self._wake_write = socket.socketpair()
        super().__init__(address, _Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        logger.debug("connection error from %s", client_address, exc_info=True)

    def serve_until_stopped(self) -> None:
        """Accept connections until :meth:`stop_serving` is called."""
        with selectors.DefaultSelector() as selector:
            selector.register(self.socket, selectors.EVENT_READ)
            selector.register(self._wake_read, selectors.EVENT_READ)
            while True:
                for key, _events in selector.select():
                    if key.fileobj is self._wake_read:
                        return
                    self._handle_request_noblock()  # type: ignore[attr-defined]

    def stop_serving(self) -> None:
        """Make :meth:`serve_until_stopped` return (from any thread)."""
        try:
            self._wake_write.send(b"x")
        except OSError:
            pass

    def server_close(self) -> None:
        super().server_close()
        self._wake_read.close()
        self._wake_write.close()


def _modules(modules: Optional[Any]) -> Tuple[str, ...]:
    if modules is None:
        return ALL_MODULES
    if isinstance(modules, str):
        modules = modules.replace(",", " ").split()
    chosen = {"api", *(str(name).lower() for name in modules)}
    unknown = chosen - set(ALL_MODULES)
    if unknown:
        raise ValueError(
            f"unknown emulator module(s): {', '.join(sorted(unknown))}; "
            f"available: {', '.join(ALL_MODULES)}"
        )
    return tuple(name for name in ALL_MODULES if name in chosen)


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
        an iterable or a comma-separated string; ``None`` enables all of ``batchmake,
        dicomextractor, mfa, solr, thumbnailcreator, tracker``.
    :param host: interface to bind.
    :param port: TCP port; ``0`` picks a free one.
    :param base_path: path of the Midas root in the URL.
    :param double_encode: return non-ASCII text double-encoded, as the real server does.
    :param faithful_offset_bug: announce the full size as ``Content-Length`` of a
        download started at an ``offset``, as the real server does.
    :raises ValueError: for an unknown module name or a malformed base path.
    """

    def __init__(self, data_dir: Union[str, "os.PathLike[str]", None] = None,
                 modules: Optional[Any] = None,
                 host: str = "127.0.0.1", port: int = 0, base_path: str = "/midas",
                 double_encode: bool = True, faithful_offset_bug: bool = True) -> None:
        base_path = "/" + base_path.strip("/") if base_path.strip("/") else ""
        if "?" in base_path or "#" in base_path:
            raise ValueError(f"base_path must be a plain URL path, got {base_path!r}")
        self.data_dir = None if data_dir is None else os.fspath(data_dir)
        self.host = host
        self.port = port
        self.base_path = base_path
        self.config = ServerConfig(base_path, _modules(modules), double_encode,
                                   faithful_offset_bug)
        #: Fault injection for the next requests (see :mod:`pydas.testing.faults`).
        self.faults = FaultInjector()
        self._log: Deque[RequestRecord] = collections.deque(maxlen=_MAX_LOG)
        self._log_lock = threading.Lock()
        self._httpd: Optional[_HTTPServer] = None
        self._thread: Optional[threading.Thread] = None
        self._store: Optional[Store] = None
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
        else:
            os.makedirs(directory, exist_ok=True)
        self._store = Store(directory)
        try:
            self._httpd = _HTTPServer((self.host, self.port), self)
        except OSError:
            self._close_store()
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
        self._httpd = None
        self._thread = None
        self._close_store()

    def _close_store(self) -> None:
        if self._store is not None:
            self._store.close()
            self._store = None
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
    def store(self) -> Store:
        """The open data store (internal; for the HTTP layer)."""
        if self._store is None:
            raise RuntimeError("the emulator is not running; call start() first")
        return self._store

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

    def _transaction(self) -> Any:
        store = self.store
        return _StoreTransaction(store)

    def _user_row(self, model: Model, email: str) -> Any:
        user = model.user_by_email(email.lower())
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
        with self._transaction():
            model = Model(self.store)
            user = model.create_user(email, password, firstname, lastname, admin)
            children = {row["name"]: row["folder_id"]
                        for row in model.child_folders(user["folder_id"])}
            key = model.default_api_key(user["user_id"]) or ""
        return UserRecord(
            user_id=str(user["user_id"]), email=user["email"], password=password, api_key=key,
            firstname=user["firstname"], lastname=user["lastname"], admin=bool(admin),
            folder_id=str(user["folder_id"]), private_folder_id=str(children["Private"]),
            public_folder_id=str(children["Public"]),
        )

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
        with self._transaction():
            model = Model(self.store)
            user = self._user_row(model, email)
            return model.create_api_key(user["user_id"], application, int(lifetime_minutes))

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
        with self._transaction():
            model = Model(self.store)
            owner = self._user_row(model, owner_email)
            try:
                community = model.create_community(name, owner["user_id"], description, privacy)
            except ApiError as error:
                raise ValueError(error.message) from None
            public = model.community_folder(community, "Public")
            private = model.community_folder(community, "Private")
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
        columns = {"member": "membergroup_id", "moderator": "moderatorgroup_id",
                   "admin": "admingroup_id"}
        if role not in columns:
            raise ValueError(f"role must be one of {', '.join(columns)}, got {role!r}")
        with self._transaction():
            model = Model(self.store)
            user = self._user_row(model, email)
            community = model.community(community_id)
            if community is None:
                raise ValueError(f"no community with id {community_id!r}")
            for column in {"membergroup_id", columns[role]}:
                self.store.run("INSERT OR IGNORE INTO group_user VALUES (?, ?)",
                               (community[column], user["user_id"]))

    def set_otp(self, email: str, otp: str) -> None:
        """Give a user a one-time-password device that accepts ``otp``.

        With the ``mfa`` module enabled, ``midas.login`` then answers with an
        ``mfa_token_id`` that ``midas.mfa.otp.login`` exchanges for the token.

        :param email: the user's e-mail.
        :param otp: the one-time password the device accepts.
        :raises ValueError: for an unknown user.
        """
        with self._transaction():
            user = self._user_row(Model(self.store), email)
            self.store.update("user", "user_id", user["user_id"], otp=otp)

    def expire_tokens(self, email: Optional[str] = None) -> None:
        """Make API tokens expire now.

        :param email: only this user's tokens; all tokens when ``None``.
        :raises ValueError: for an unknown user.
        """
        with self._transaction():
            past = time.time() - 1
            if email is None:
                self.store.run("UPDATE token SET expires = ?", (past,))
            else:
                user = self._user_row(Model(self.store), email)
                self.store.run("UPDATE token SET expires = ? WHERE user_id = ?",
                               (past, user["user_id"]))

    def create_batchmake_task(self, email: str) -> str:
        """Create a BatchMake task owned by a user (the API has no call for that).

        :param email: the owner's e-mail.
        :returns: the task id for ``midas.batchmake.add.condor.dag``/``job``.
        :raises ValueError: for an unknown user.
        """
        with self._transaction():
            user = self._user_row(Model(self.store), email)
            return str(self.store.insert("batchmake_task", user_id=user["user_id"]))


class _StoreTransaction:
    """Lock the store and run a block as one transaction (helper methods)."""

    def __init__(self, store: Store) -> None:
        self._store = store

    def __enter__(self) -> None:
        self._store.lock.acquire()
        self._store.begin()

    def __exit__(self, exc_type: Any, *rest: Any) -> None:
        try:
            if exc_type is None:
                self._store.commit()
            else:
                self._store.rollback()
        finally:
            self._store.lock.release()
