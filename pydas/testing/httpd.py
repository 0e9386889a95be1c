"""The emulator's HTTP layer: the only code that knows HTTP.

The server is :class:`http.server.ThreadingHTTPServer` with an HTTP/1.1
keep-alive handler (``disable_nagle_algorithm`` set: without it every reused
connection stalls on delayed ACKs). It reads request bodies (``Content-Length``
or chunked, form or multipart or raw), applies the armed faults, routes by
:data:`ROUTES`, turns what the handlers return (:mod:`pydas.testing.answers`)
into responses, and streams files and ZIP archives. Routes below the base path:

``/api/json`` and ``/api/rest``
    the JSON-RPC style API (:mod:`pydas.testing.dispatch`), any verb.
``/download/``
    file, ZIP and link downloads (:mod:`pydas.testing.handlers.downloads`).

Every request is handled inside a catch-all: an unexpected exception is logged
on the ``pydas.testing`` logger and answered with a plain HTTP 500 page, so no
traceback reaches a client and no server thread dies.
"""

import io
import logging
import selectors
import socket
import threading
import time
import zipfile
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import HTTP
from email.utils import formatdate
from html import escape
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any, BinaryIO, Callable, Dict, List, Optional, Set, Tuple
from urllib.parse import parse_qsl, urlsplit

from pydas.testing.answers import (
    ApiError,
    FileDownload,
    Redirect,
    ZipDownload,
    ZipEntry,
)
from pydas.testing.backend import CHUNK_SIZE
from pydas.testing.dispatch import Context, resolve
from pydas.testing.envelope import JSON_CONTENT_TYPE, envelope_bytes
from pydas.testing.faults import Fault
from pydas.testing.handlers import download
from pydas.testing.records import RequestRecord, mask_secrets

if TYPE_CHECKING:
    from pydas.testing.server import MidasServer

__all__ = ["HTTPServer", "Response", "ROUTES"]

logger = logging.getLogger("pydas.testing")

#: Paths below the base path and what answers them.
ROUTES = {"/api/json": "api", "/api/rest": "api", "/download": "download"}

#: Largest form body parsed into parameters; a larger one is ignored whole, as PHP
#: does beyond ``post_max_size``.
_MAX_FORM_BODY = 64 * 1024 * 1024
#: Unread request bodies up to this size are drained to keep the connection alive.
_MAX_DRAIN = 16 * 1024 * 1024
#: Limits of a request's header lines, as the standard library's.
_MAX_HEADER_LINE = 65536
_MAX_HEADERS = 100
#: The largest body Apache holds whole before sending (``AP_MIN_BYTES_TO_WRITE``): it then
#: announces its true length, whatever PHP declared.
_APACHE_HELD_BODY = 8000
#: ZIP entries at least this large are stored rather than deflated (as the real server does).
_DEFLATE_LIMIT = 20 * 1024 * 1024

_GARBAGE_PAGE = (
    b"<br />\n<b>Fatal error</b>:  Uncaught exception 'Zend_Exception' with message "
    b"'Internal error' in /var/www/midas/core/controllers/components/ApiComponent.php:42\n"
    b"Stack trace:\n#0 {main}\n  thrown in <b>/var/www/midas/core/controllers/components/"
    b"ApiComponent.php</b> on line <b>42</b><br />\n"
)


@dataclass
class Response:
    """An HTTP answer for the handler to send.

    :param status: HTTP status.
    :param headers: header (name, value) pairs; values are text whose characters are
        sent as single bytes (Latin-1), so raw UTF-8 is passed pre-decoded as Latin-1.
    :param body: the body, when it is small and known.
    :param stream: a function that writes the body to a file-like object instead.
    :param length: the ``Content-Length`` to announce for a streamed body, or ``None``
        for none (the connection then closes after the body).
    :param after: called once the whole body was sent (download counters).
    :param close: close the connection after this answer.
    """

    status: int
    headers: List[Tuple[str, str]] = field(default_factory=list)
    body: bytes = b""
    stream: Optional[Callable[[BinaryIO], None]] = None
    length: Optional[int] = None
    after: Optional[Callable[[], None]] = None
    close: bool = False


def _html_page(status: int, text: str) -> Response:
    body = (
        "<!DOCTYPE html>\n<html><head><title>Midas Server - Error</title></head>\n"
        f"<body><h1>An error occurred</h1><p>{escape(text)}</p></body></html>\n"
    ).encode()
    return Response(status, [("Content-Type", "text/html; charset=UTF-8")], body)


def _redirect(location: str) -> Response:
    # PHP declares its default content type on every answer, redirects included.
    return Response(302, [("Location", location), ("Content-Type", "text/html; charset=UTF-8")])


def _latin1_header(text: str) -> str:
    """Pass text through an HTTP header as raw UTF-8 bytes."""
    return text.encode("utf-8", "surrogateescape").decode("latin-1")


def _copy(source: BinaryIO, out: BinaryIO) -> None:
    with source:
        for block in iter(lambda: source.read(CHUNK_SIZE), b""):
            out.write(block)


def _zip_writer(entries: List[ZipEntry]) -> Callable[[BinaryIO], None]:
    """Return a function writing a ZIP of the entries to a non-seekable stream."""

    def write(out: BinaryIO) -> None:
        with zipfile.ZipFile(out, mode="w", allowZip64=True) as archive:
            for entry in entries:
                info = zipfile.ZipInfo(entry.name, date_time=time.gmtime()[:6])
                info.compress_type = (
                    zipfile.ZIP_DEFLATED if entry.size < _DEFLATE_LIMIT else zipfile.ZIP_STORED
                )
                # Same-named bitstreams give same-named entries, as on the real
                # server; forget the earlier one so zipfile does not warn.
                archive.NameToInfo.pop(entry.name, None)
                with archive.open(info, "w", force_zip64=entry.size >= 2**31) as target:
                    if entry.open is not None:
                        _copy(entry.open(0), target)  # type: ignore[arg-type]

    return write


def _zip_response(answer: ZipDownload) -> Response:
    headers = [
        ("Content-Type", "application/x-zip"),
        ("Content-Disposition", _latin1_header(f'attachment; filename="{answer.name}"')),
        ("Pragma", "public"),
        ("Cache-Control", "public, must-revalidate"),
        ("Content-Transfer-Encoding", "binary"),
    ]
    return Response(200, headers, stream=_zip_writer(answer.entries), length=None,
                    after=answer.after, close=True)


def _file_response(answer: FileDownload, faithful_offset_bug: bool) -> Response:
    mimetype = answer.mimetype
    if mimetype.startswith("text/") and "charset" not in mimetype:
        mimetype += ";charset=UTF-8"  # PHP adds its default charset to text types
    headers = [
        ("Content-Type", mimetype),
        ("Content-Disposition", _latin1_header(f'attachment; filename="{answer.name}"')),
        ("Accept-Ranges", "bytes"),
        ("Expires", "0"),
        ("Cache-Control", "must-revalidate, post-check=0, pre-check=0"),
        ("Last-Modified", formatdate(usegmt=True)),
    ]
    offset = answer.offset
    # PHP announces the full size after an offset; Apache corrects it only for
    # a body it holds whole before sending anything, and closes the connection
    # after the short body otherwise
    short = faithful_offset_bug and offset > 0 and answer.size - offset > _APACHE_HELD_BODY
    length = answer.size if short else answer.size - offset
    return Response(
        200, headers, stream=lambda out: _copy(answer.open(offset), out), length=length,
        after=answer.after, close=short,
    )


def _download_response(answer: Any, faithful_offset_bug: bool) -> Response:
    if isinstance(answer, FileDownload):
        return _file_response(answer, faithful_offset_bug)
    if isinstance(answer, ZipDownload):
        return _zip_response(answer)
    if isinstance(answer, Redirect):
        return _redirect(answer.location)
    return _html_page(answer.status, answer.text)


class _Dropped(Exception):
    """The connection is to be dropped without (the rest of) an answer."""


class _Body:
    """The request body: ``Content-Length`` or chunked, with an optional cut-off."""

    def __init__(self, rfile: io.BufferedIOBase, length: Optional[int], chunked: bool) -> None:
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

    @property
    def whole(self) -> bool:
        """Whether the answer may be sent whole (no response cut is armed)."""
        return self._cut_after is None

    def count(self, size: int) -> None:
        """Account for body bytes written directly to the socket."""
        self.sent += size
        self._record.response_bytes = self.sent

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


class _Headers:
    """Request headers: the first value of each name, looked up case-insensitively.

    The standard library parses headers with the e-mail parser, which is a third
    of the time of a small request; this is all the emulator needs of them.
    """

    def __init__(self, pairs: List[Tuple[str, str]]) -> None:
        self._values: Dict[str, str] = {}
        for name, value in pairs:
            self._values.setdefault(name.lower(), value)

    def get(self, name: str, default: str = "") -> str:
        """Return the first value of a header, or ``default``."""
        return self._values.get(name.lower(), default)

    def get_content_type(self) -> str:
        """Return the lower-case media type, ``text/plain`` when absent or malformed."""
        kind = (self._values.get("content-type") or "").split(";", 1)[0].strip().lower()
        return kind if kind.count("/") == 1 else "text/plain"


def _read_headers(rfile: Any) -> Optional[List[Tuple[str, str]]]:
    """Read header lines up to the blank line; ``None`` when there are too many or too long."""
    pairs: List[Tuple[str, str]] = []
    while True:
        line = rfile.readline(_MAX_HEADER_LINE + 1)
        if len(line) > _MAX_HEADER_LINE or len(pairs) > _MAX_HEADERS:
            return None
        if line in (b"\r\n", b"\n", b""):
            return pairs
        text = line.decode("iso-8859-1").rstrip("\r\n")
        if text[:1] in (" ", "\t") and pairs:  # a folded continuation line
            name, value = pairs[-1]
            pairs[-1] = (name, f"{value} {text.strip()}")
            continue
        name, colon, value = text.partition(":")
        if colon:
            pairs.append((name.strip(), value.strip()))


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server: "HTTPServer"
    headers: _Headers  # type: ignore[assignment]  # see parse_request
    raw_requestline: bytes
    _headers_buffer: List[bytes]  # BaseHTTPRequestHandler's pending header lines

    def parse_request(self) -> bool:
        """Read the request line and headers (without the standard library's e-mail parser).

        :returns: whether to go on with the request (an error was sent otherwise).
        """
        self.command = ""
        self.request_version = "HTTP/0.9"
        self.close_connection = True
        self.requestline = str(self.raw_requestline, "iso-8859-1").rstrip("\r\n")
        words = self.requestline.split()
        if not words:
            return False
        if len(words) != 3 or not words[2].startswith("HTTP/"):
            self.send_error(HTTPStatus.BAD_REQUEST, "Bad request syntax")
            return False
        self.command, path, self.request_version = words
        try:
            major, minor = (int(part) for part in self.request_version[5:].split("."))
        except ValueError:
            self.send_error(HTTPStatus.BAD_REQUEST, "Bad request version")
            return False
        if major != 1:
            self.send_error(HTTPStatus.HTTP_VERSION_NOT_SUPPORTED, "Invalid HTTP version")
            return False
        self.path = "/" + path.lstrip("/") if path.startswith("//") else path
        pairs = _read_headers(self.rfile)
        if pairs is None:
            self.send_error(HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE, "Headers too large")
            return False
        self.headers = _Headers(pairs)
        connection = self.headers.get("Connection").lower()
        self.close_connection = connection == "close" or (minor == 0
                                                            and connection != "keep-alive")
        if self.headers.get("Expect").lower() == "100-continue" and minor >= 1:
            return self.handle_expect_100()
        return True

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
        logger.debug("%s %s", self.address_string(), mask_secrets(format % args))

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
        route = None if relative is None else ROUTES.get(relative.rstrip("/"))
        method = None
        if route == "api":
            name = query.get("method")
            if name is not None:
                method = resolve(name, app.config.modules, app.config.variants)
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
        if route == "api":
            self._api(query)
        elif route == "download":
            self._download(query)
        else:
            self._send(_html_page(404, f"Page not found: {self.path.split('?')[0]}"))
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

    def _form(self) -> Tuple[Dict[str, str], Dict[str, Tuple[str, bytes]], Any]:
        """Parse a POST form body as PHP does (``$_POST`` and ``$_FILES``).

        :returns: ``(fields, files, raw)``: ``raw`` is what ``php://input``
            would read (``None`` once a multipart or oversized body was consumed).
        """
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
        return form, files, raw

    def _download(self, query: Dict[str, str]) -> None:
        # the download controller reads its parameters from the query string
        # and from a POST form alike (the query wins)
        form, _files, _raw = self._form()
        params = {**form, **query}
        self._record.params = dict(params)
        app = self.server.app
        self._send(_download_response(download(app.store, params),
                                      app.config.faithful_offset_bug))

    def _api(self, query: Dict[str, str]) -> None:
        app = self.server.app
        form, files, raw = self._form()
        params = {**form, **query}
        self._record.params = dict(params)
        if "method" not in params:
            body = b"Inconsistent request: please set a method parameter"
            self._send(Response(200, [("Content-Type", "text/html; charset=UTF-8")], body))
            return
        method = resolve(params["method"], app.config.modules, app.config.variants)
        self._record.api_method = method.full_name if method else params["method"].lower()
        if method is None:
            error = ApiError(
                -101, f"Server error. Requested method {params['method']} does not exist."
            )
            self._send_envelope(error=error)
            return
        context = Context(params, self.command, app.store, app.config, body=raw, files=files)
        try:
            if method.session == "own":
                result = method.function(context)
            else:
                session = app.store.read if method.session == "read" else app.store.write
                with session():
                    if method.authenticates:
                        context.caller()
                    result = method.function(context)
        except ApiError as error:
            self._send_envelope(error=error)
            return
        if isinstance(result, Redirect):
            self._send(_redirect(result.location))
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
        if self.command == "HEAD":
            self.end_headers()
            self.wfile.flush()
            return
        if response.stream is None and self._out.whole:
            # Headers and body in one write: one segment, one wake-up of the client.
            self._headers_buffer.append(b"\r\n")
            self._headers_buffer.append(response.body)
            self._out.count(len(response.body))
            self.flush_headers()
            if response.after is not None:
                response.after()
            return
        self.end_headers()
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


class HTTPServer(ThreadingHTTPServer):
    """The threading HTTP server of one :class:`~pydas.testing.MidasServer`."""

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


