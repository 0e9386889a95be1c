"""The one module of pydas that speaks HTTP.

Everything that touches the network goes through :class:`Transport`: the
:class:`requests.Session`, timeouts, the retry policy, the decoding of the
Midas JSON envelope, the streamed upload body and the streamed download.
The drivers only describe which API method to call with which parameters.

Wire conventions (see the Midas web API reference):

* ordinary calls are ``POST BASE/api/json?method=NAME`` with the parameters
  in the form body, so that passwords, API keys and tokens never end up in a
  URL (and in the server's access log);
* uploads are ``PUT`` with the parameters in the query string (the server does
  not parse a PUT body into parameters) and the file streamed from disk;
* downloads are ``GET`` requests whose redirect is followed and whose body is
  handed out chunk by chunk; a redirect of any other call is reported as an
  error instead (following it would drop the form body).

Retries happen only where repeating cannot do harm: a connection that could
not be opened (nothing was sent), and the statuses 429 and 503 (the request
was not processed). 502 and 504 are retried for calls that are safe to repeat
but not for calls that create or delete something, because a gateway may
have passed the request on before failing. An upload body is never retried by
this module once it may have started to flow; resuming is the job of the
caller (through ``midas.upload.getoffset``). A Midas error envelope is never
retried.
"""

import json
import logging
import os
import random
import re
import time
from http.cookiejar import DefaultCookiePolicy
from typing import (
    Any,
    Callable,
    Dict,
    Iterator,
    Mapping,
    Optional,
    Tuple,
    Union,
)
from urllib.parse import quote, quote_plus, unquote, urljoin, urlsplit

import requests
import urllib3
from requests.adapters import HTTPAdapter

from pydas import exceptions

__all__ = [
    "CHUNK_SIZE",
    "DEFAULT_TIMEOUT",
    "POOL_SIZE",
    "SECRET_KEYS",
    "ChunkIterator",
    "FileBody",
    "RetryPolicy",
    "Transport",
    "new_session",
    "scrub",
    "scrub_parameters",
]

logger = logging.getLogger("pydas")

#: Default ``(connect, read)`` timeouts in seconds.
DEFAULT_TIMEOUT: Tuple[float, float] = (10.0, 300.0)
#: Size of the pieces in which files are read, sent and received.
CHUNK_SIZE = 256 * 1024
#: Connections kept per host; large enough for parallel transfers.
POOL_SIZE = 16
#: Parameter names whose values are secrets and never logged or shown.
SECRET_KEYS = frozenset({"token", "apikey", "password", "authToken", "api_key"})
#: API methods that must not be sent twice when the first call may have reached
#: the server: they create something on every call, or (deletions) a second
#: call would report an error although the first one succeeded. See
#: :func:`_repeatable`.
UNREPEATABLE_METHODS = frozenset(
    {
        "midas.community.create",
        "midas.folder.create",
        "midas.item.create",
        "midas.link.create",
        "midas.upload.generatetoken",
        "midas.folder.delete",
        "midas.item.delete",
        "midas.tracker.scalar.add",
        "midas.tracker.item.associate",
        "midas.tracker.submission.create",
        "midas.batchmake.add.condor.dag",
        "midas.batchmake.add.condor.job",
    }
)
#: Statuses after which any request may be repeated (it was not processed).
RETRY_ALWAYS_STATUSES = frozenset({429, 503})
#: Statuses after which only a repeatable request is retried.
RETRY_REPEATABLE_STATUSES = frozenset({502, 504})
#: Largest answer read to decode an envelope in place of a downloaded file.
_ENVELOPE_LIMIT = 1024 * 1024
_EXCERPT_LENGTH = 200
_SECRET_IN_TEXT = re.compile(
    r"(?i)\b(token|apikey|api_key|password|authToken)=([^&\s'\"]*)"
)

Timeout = Union[float, Tuple[float, float]]


class _RejectCookies(DefaultCookiePolicy):
    """Cookie policy that stores nothing.

    Midas starts a PHP session on every call. Sending that cookie back would
    make the server serialise concurrent requests on its session lock, which
    defeats parallel transfers; pydas authenticates with tokens only.
    """

    def set_ok(self, cookie: Any, request: Any) -> bool:
        return False


def new_session(pool_size: int = POOL_SIZE) -> requests.Session:
    """Create the :class:`requests.Session` a communicator shares between its drivers.

    :param pool_size: connections kept open per host.
    :returns: a session with a large enough connection pool and no cookie store.
    """
    session = requests.Session()
    adapter = HTTPAdapter(pool_connections=pool_size, pool_maxsize=pool_size)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    session.cookies.set_policy(_RejectCookies())
    return session


def scrub(text: str, secrets: Tuple[str, ...] = ()) -> str:
    """Remove secret values from a text meant for a log line or an exception.

    :param text: the text to clean.
    :param secrets: literal values to mask wherever they appear.
    :returns: the text with ``token=...``-style query values and every given
        secret (also in its URL-encoded forms) replaced by ``***``.
    """
    for secret in secrets:
        for form in {secret, quote(secret, safe=""), quote_plus(secret)}:
            if form:
                text = text.replace(form, "***")
    return _SECRET_IN_TEXT.sub(lambda match: f"{match.group(1)}=***", text)


def scrub_parameters(parameters: Mapping[str, Any]) -> Dict[str, Any]:
    """Return a copy of ``parameters`` with the values of secret keys masked."""
    return {
        key: ("***" if key in SECRET_KEYS else value) for key, value in parameters.items()
    }


def _secrets_of(parameters: Mapping[str, Any]) -> Tuple[str, ...]:
    return tuple(
        str(value) for key, value in parameters.items() if key in SECRET_KEYS and value
    )


def _excerpt(body: bytes, secrets: Tuple[str, ...]) -> str:
    # Scrub before cutting, so that no part of a secret survives at the cut.
    text = scrub(body[:65536].decode("utf-8", errors="replace"), secrets)
    text = " ".join(text.split())
    if len(text) > _EXCERPT_LENGTH:
        text = text[:_EXCERPT_LENGTH] + "..."
    return text or "(empty body)"


def _repeatable(method: str, parameters: Mapping[str, Any]) -> bool:
    """Whether repeating ``method`` after a possible delivery is harmless.

    The methods of :data:`UNREPEATABLE_METHODS` are not, except creations that
    carry something making a second call land on the same object: a
    client-chosen ``uuid`` (the server then updates instead of creating) or
    the ``reuseExisting`` flag of folder creation.
    """
    method = method.lower()  # the server ignores the case of method names
    if method not in UNREPEATABLE_METHODS:
        return True
    if parameters.get("uuid"):
        return method in {
            "midas.community.create",
            "midas.folder.create",
            "midas.item.create",
        }
    return method == "midas.folder.create" and bool(parameters.get("reuseExisting"))


def _nothing_sent(error: BaseException) -> bool:
    """Whether a requests exception proves the request never left the client."""
    if isinstance(error, requests.exceptions.SSLError):
        return False
    if isinstance(error, requests.exceptions.ConnectTimeout):
        return True
    if isinstance(error, requests.exceptions.ProxyError):
        return False
    if isinstance(error, requests.exceptions.ConnectionError):
        reason = error.args[0] if error.args else None
        if isinstance(reason, urllib3.exceptions.MaxRetryError):
            reason = reason.reason
        return isinstance(reason, urllib3.exceptions.NewConnectionError)
    return False


class RetryPolicy:
    """Bounded exponential backoff with jitter.

    The wait before retry ``n`` (1-based) is ``backoff * 2 ** (n - 1)``,
    capped at ``max_delay``, multiplied by a random factor between 0.5 and 1
    (so that parallel workers do not retry in lockstep). A ``Retry-After``
    header, when present, is honoured up to ``max_delay``.

    :param attempts: total number of attempts, the first one included.
    :param backoff: wait before the first retry, in seconds.
    :param max_delay: longest single wait, in seconds.
    :param sleep: the function used to wait (tests pass a recorder).
    :param random_source: returns a float in ``[0, 1)``; the jitter source.
    """

    def __init__(
        self,
        attempts: int = 4,
        backoff: float = 0.5,
        max_delay: float = 8.0,
        sleep: Callable[[float], None] = time.sleep,
        random_source: Callable[[], float] = random.random,
    ) -> None:
        if attempts < 1:
            raise ValueError("attempts must be at least 1")
        self.attempts = attempts
        self.backoff = backoff
        self.max_delay = max_delay
        self.sleep = sleep
        self.random_source = random_source

    def delay(self, retry: int, retry_after: Optional[float] = None) -> float:
        """Return the wait in seconds before retry number ``retry`` (1-based)."""
        base = min(self.max_delay, self.backoff * 2 ** (retry - 1))
        wait = base * (0.5 + 0.5 * self.random_source())
        if retry_after is not None:
            wait = max(wait, min(retry_after, self.max_delay))
        return wait

    def __repr__(self) -> str:
        return (
            f"RetryPolicy(attempts={self.attempts}, backoff={self.backoff}, "
            f"max_delay={self.max_delay})"
        )


def _retry_after(response: requests.Response) -> Optional[float]:
    value = response.headers.get("Retry-After")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


class FileBody:
    """An upload body read from a file on disk, piece by piece.

    The object is what :mod:`requests` receives as ``data``: it reports its
    length (so ``Content-Length`` is set and no chunked encoding is used) and
    yields the file from ``offset`` in pieces of at most ``chunk_size`` bytes,
    so memory use does not depend on the file size. Each iteration re-opens
    the file, so a body is never "consumed" in a way that would send nothing.

    :param path: the file to send.
    :param offset: first byte to send.
    :param chunk_size: largest piece read and sent at once.
    :param progress: called with the number of bytes of each piece sent.
    :raises FileNotFoundError: if ``path`` does not exist.
    :raises ValueError: if ``offset`` is outside the file.
    """

    def __init__(
        self,
        path: str,
        offset: int = 0,
        chunk_size: int = CHUNK_SIZE,
        progress: Optional[Callable[[int], Any]] = None,
    ) -> None:
        self.path = os.fspath(path)
        self.total = os.stat(self.path).st_size
        if offset < 0 or offset > self.total:
            raise ValueError(f"offset {offset} is outside {self.path!r} ({self.total} bytes)")
        self.offset = offset
        self.chunk_size = chunk_size
        self.progress = progress
        self.sent = 0

    def __len__(self) -> int:
        return self.total - self.offset

    def __iter__(self) -> Iterator[bytes]:
        remaining = len(self)
        self.sent = 0
        with open(self.path, "rb") as handle:
            handle.seek(self.offset)
            while remaining > 0:
                piece = handle.read(min(self.chunk_size, remaining))
                if not piece:
                    raise OSError(
                        f"{self.path!r} shrank while it was being uploaded "
                        f"({self.sent} of {len(self)} bytes sent)"
                    )
                remaining -= len(piece)
                self.sent += len(piece)
                yield piece
                if self.progress is not None:
                    self.progress(len(piece))

    def __repr__(self) -> str:
        return f"FileBody({self.path!r}, offset={self.offset}, length={len(self)})"


class _StreamBody:
    """Upload body read from an already open file object (``request(file_payload=...)``).

    When the remaining size of the object can be found (a real file, or any
    seekable object), exactly that many bytes are sent with a
    ``Content-Length``; otherwise :meth:`data` is a plain generator and
    :mod:`requests` falls back to chunked transfer encoding.
    """

    def __init__(self, handle: Any, chunk_size: int = CHUNK_SIZE) -> None:
        self.handle = handle
        self.chunk_size = chunk_size
        self.start: Optional[int] = None
        self.length: Optional[int] = None
        try:
            self.start = handle.tell()
            end = handle.seek(0, os.SEEK_END)
            handle.seek(self.start)
            self.length = max(0, end - self.start)
        except (AttributeError, OSError, ValueError):
            self.length = None

    def rewind(self) -> bool:
        """Go back to the first byte; ``False`` if the stream cannot seek."""
        if self.start is None or self.length is None:
            return False
        try:
            self.handle.seek(self.start)
        except (AttributeError, OSError, ValueError):
            return False
        return True

    def __len__(self) -> int:
        return self.length or 0

    def __iter__(self) -> Iterator[bytes]:
        remaining = self.length
        while remaining is None or remaining > 0:
            size = self.chunk_size if remaining is None else min(self.chunk_size, remaining)
            piece = self.handle.read(size)
            if not piece:
                return
            if isinstance(piece, str):
                piece = piece.encode("utf-8")
            if remaining is not None:
                remaining -= len(piece)
            yield piece

    def data(self) -> Any:
        """What to hand to :mod:`requests` as ``data``.

        A sized body when the length is known (an empty one is sent as no
        body at all), else a generator of unknown length.
        """
        if self.length is None:
            return iter(self)
        return self


def _filename_from_disposition(header: str) -> Optional[str]:
    """Extract the file name from a ``Content-Disposition`` header.

    Midas writes ``attachment; filename="<name>"`` with the name verbatim
    (raw UTF-8, no escaping), which HTTP libraries decode as ISO-8859-1; the
    name is re-encoded to recover the original text. An RFC 5987
    ``filename*=UTF-8''...`` parameter is honoured if a server sends one.
    """
    extended = re.search(r"filename\*\s*=\s*([^']*)'[^']*'([^;]+)", header, re.IGNORECASE)
    if extended:
        charset = extended.group(1) or "utf-8"
        try:
            return unquote(extended.group(2).strip(), encoding=charset)
        except LookupError:
            return unquote(extended.group(2).strip())
    match = re.search(r"filename\s*=\s*", header, re.IGNORECASE)
    if not match:
        return None
    name = header[match.end():].strip()
    if name.startswith('"'):
        # Midas does not escape quotes inside the name: the last quote ends it.
        end = name.rfind('"')
        name = name[1:end] if end > 0 else name[1:]
    else:
        name = name.split(";", 1)[0].strip()
    try:
        name = name.encode("latin-1").decode("utf-8")
    except UnicodeError:
        pass
    return name


def _read_limited(response: requests.Response, method: str) -> bytes:
    """Read at most :data:`_ENVELOPE_LIMIT` bytes of a streamed response."""
    try:
        return response.raw.read(_ENVELOPE_LIMIT, decode_content=True) or b""
    except (urllib3.exceptions.HTTPError, OSError) as error:
        raise exceptions.RequestError(
            f"{method}: the connection was lost while reading the answer "
            f"({type(error).__name__})",
            method=method,
            request=response.request,
            response=response,
        ) from None


def _redirect_error(
    method: str, response: requests.Response, secrets: Tuple[str, ...]
) -> exceptions.PydasException:
    """The error for an API call that the server redirects elsewhere."""
    target = urlsplit(urljoin(response.url, response.headers.get("Location", "")))
    where = scrub(target._replace(query="", fragment="").geturl(), secrets)
    return exceptions.HTTPError(
        f"{method}: the server redirects this call (HTTP {response.status_code}) to {where}; "
        "pydas does not resend parameters to another address, so use the new address "
        "as the server URL",
        method=method,
        code=response.status_code,
        request=response.request,
        response=response,
    )


def _name_from_url(url: str) -> str:
    path = urlsplit(url).path
    segment = unquote(path.rstrip("/").rsplit("/", 1)[-1]) if path else ""
    return segment or "download"


class ChunkIterator:
    """Iterator over the body of a download, in ``bytes`` pieces.

    The HTTP response is closed as soon as the body is exhausted, when
    :meth:`close` is called (also by ``with``), or when reading fails. A
    connection lost in the middle, or a body shorter than its
    ``Content-Length``, raises :class:`pydas.exceptions.RequestError`.
    A download started at an ``offset`` is the exception the server forces:
    it announces the full size but sends only the bytes from the offset on, so
    a body of exactly ``Content-Length - offset`` bytes is complete (a body of
    ``Content-Length`` bytes too, for a server that announces the rest only).

    :param response: a streamed :class:`requests.Response`.
    :param method: the API method, for error messages.
    :param offset: the byte offset the download was asked to start at.
    :param chunk_size: largest piece returned at once.
    """

    def __init__(
        self,
        response: requests.Response,
        method: str,
        offset: int = 0,
        chunk_size: int = CHUNK_SIZE,
    ) -> None:
        self.response = response
        self.method = method
        self.offset = offset
        self.received = 0
        self.expected: Optional[int] = None
        length = response.headers.get("Content-Length")
        if length is not None and not response.headers.get("Content-Encoding"):
            try:
                self.expected = int(length)
            except ValueError:
                self.expected = None
        if offset and response.raw is not None:
            response.raw.enforce_content_length = False
        self._chunks = response.iter_content(chunk_size)
        self._closed = False

    def __iter__(self) -> "ChunkIterator":
        return self

    def _complete(self) -> bool:
        if self.expected is None or self.received >= self.expected:
            return True
        return bool(self.offset) and self.received == self.expected - self.offset

    def _lost(self, why: str) -> exceptions.RequestError:
        return exceptions.RequestError(
            f"{self.method}: the connection was lost after {self.received} bytes ({why})",
            method=self.method,
            response=self.response,
        )

    def __next__(self) -> bytes:
        if self._closed:
            raise StopIteration
        try:
            piece = next(self._chunks)
        except StopIteration:
            self.close()
            if not self._complete():
                raise self._lost(f"{self.expected} announced") from None
            raise
        except (requests.RequestException, urllib3.exceptions.HTTPError, OSError) as error:
            self.close()
            # With an offset the server closes the connection "early" on purpose.
            if self.offset and self._complete():
                raise StopIteration from None
            raise self._lost(type(error).__name__) from None
        except BaseException:  # e.g. KeyboardInterrupt: still release the connection
            self.close()
            raise
        self.received += len(piece)
        return piece

    def close(self) -> None:
        """Stop reading and release the connection."""
        if not self._closed:
            self._closed = True
            self.response.close()

    def __enter__(self) -> "ChunkIterator":
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()


class Transport:
    """HTTP access for one driver: a session, timeouts and the retry policy.

    :param session: a shared :class:`requests.Session`; when ``None`` a new one
        is made and :meth:`close` closes it.
    :param timeout: seconds, or a ``(connect, read)`` pair; ``None`` means
        :data:`DEFAULT_TIMEOUT`.
    :param retry: the :class:`RetryPolicy`; ``None`` means the default policy.
    """

    def __init__(
        self,
        session: Optional[requests.Session] = None,
        timeout: Optional[Timeout] = None,
        retry: Optional[RetryPolicy] = None,
    ) -> None:
        self.owns_session = session is None
        self.session = session if session is not None else new_session()
        self.timeout: Timeout = DEFAULT_TIMEOUT if timeout is None else timeout
        self.retry = retry if retry is not None else RetryPolicy()
        self.verify: Union[bool, str] = True
        self.auth: Any = None
        self.debug = False

    def close(self) -> None:
        """Close the session if this transport created it."""
        if self.owns_session:
            self.session.close()

    # -- plumbing ---------------------------------------------------------

    def _log(self, text: str, *args: Any) -> None:
        logger.log(logging.INFO if self.debug else logging.DEBUG, text, *args)

    def _send(
        self,
        verb: str,
        url: str,
        method: str,
        parameters: Mapping[str, Any],
        *,
        repeatable: bool,
        stream: bool = False,
        rewind: Optional[Callable[[], bool]] = None,
        follow_redirects: bool = False,
        **kwargs: Any,
    ) -> requests.Response:
        """Send one request with the retry policy; return the final response.

        A redirect is followed only when ``follow_redirects`` is true (downloads).
        For other calls it raises :class:`pydas.exceptions.HTTPError`: following
        it would turn a POST into a GET without the form body (the server would
        then report a missing parameter) and could carry credentials elsewhere.
        """
        secrets = _secrets_of(parameters)
        attempt = 1
        while True:
            started = time.monotonic()
            self._log("%s %s (attempt %d)", verb, method, attempt)
            if self.debug:
                self._log("%s parameters: %s", method, scrub_parameters(parameters))
            try:
                response = self.session.request(
                    verb,
                    url,
                    timeout=self.timeout,
                    verify=self.verify,
                    auth=self.auth,
                    stream=stream,
                    allow_redirects=follow_redirects,
                    **kwargs,
                )
            except requests.exceptions.SSLError as error:
                raise exceptions.SSLVerificationFailed(
                    f"{method}: TLS connection failed: {scrub(str(error), secrets)}",
                    method=method,
                    request=error.request,
                ) from None
            except requests.RequestException as error:
                retriable = _nothing_sent(error) and (rewind is None or rewind())
                if retriable and attempt < self.retry.attempts:
                    self._wait(method, attempt, None, type(error).__name__)
                    attempt += 1
                    continue
                raise exceptions.RequestError(
                    f"{method}: could not complete the request "
                    f"({type(error).__name__}: {scrub(str(error), secrets)})",
                    method=method,
                    request=error.request,
                ) from None
            self._log(
                "%s answered HTTP %d in %.3f s",
                method,
                response.status_code,
                time.monotonic() - started,
            )
            status = response.status_code
            retriable = status in RETRY_ALWAYS_STATUSES or (
                repeatable and status in RETRY_REPEATABLE_STATUSES
            )
            if retriable and rewind is not None:
                retriable = False
            if retriable and attempt < self.retry.attempts:
                response.close()
                self._wait(method, attempt, _retry_after(response), f"HTTP {status}")
                attempt += 1
                continue
            if response.is_redirect and not follow_redirects:
                response.close()
                raise _redirect_error(method, response, secrets)
            return response

    def _wait(self, method: str, attempt: int, retry_after: Optional[float], why: str) -> None:
        delay = self.retry.delay(attempt, retry_after)
        logger.debug("%s: %s, retrying in %.2f s", method, why, delay)
        self.retry.sleep(delay)

    def _decode(
        self,
        method: str,
        response: requests.Response,
        secrets: Tuple[str, ...],
        body: Optional[bytes] = None,
    ) -> Any:
        """Decode a Midas envelope and return ``data``, or raise the mapped error."""
        if body is None:
            body = response.content  # already read: only downloads are streamed
        request = response.request
        try:
            # utf-8-sig: a byte order mark printed by a PHP file is harmless.
            envelope = json.loads(body.decode("utf-8-sig"))
        except (UnicodeDecodeError, ValueError):
            envelope = None
        if not (isinstance(envelope, dict) and "stat" in envelope):
            if response.status_code >= 400:
                raise exceptions.exception_for_status(
                    response.status_code,
                    _excerpt(body, secrets),
                    method=method,
                    request=request,
                    response=response,
                )
            raise exceptions.ParseError(
                f"{method}: the server's answer is not a Midas JSON envelope "
                f"(HTTP {response.status_code}): {_excerpt(body, secrets)}",
                method=method,
                request=request,
                response=response,
            )
        if envelope.get("stat") == "ok" and response.status_code < 400:
            return envelope.get("data")
        message = scrub(str(envelope.get("message") or ""), secrets)
        code = envelope.get("code", "")
        self._log("%s failed with code %s", method, code)
        if envelope.get("stat") == "ok":
            raise exceptions.exception_for_status(
                response.status_code, message, method=method, request=request, response=response
            )
        raise exceptions.exception_for(
            code, message, method=method, request=request, response=response
        )

    # -- the three kinds of calls ------------------------------------------

    def call(self, url: str, method: str, parameters: Mapping[str, Any]) -> Any:
        """POST an ordinary API call with its parameters in the form body.

        :param url: the full endpoint URL (``BASE/api/json?method=NAME``).
        :param method: the API method name (for retries, logs and errors).
        :param parameters: the form fields.
        :returns: the envelope's ``data``.
        :raises pydas.exceptions.PydasException: on any failure.
        """
        response = self._send(
            "POST",
            url,
            method,
            parameters,
            repeatable=_repeatable(method, parameters),
            data=dict(parameters),
        )
        return self._decode(method, response, _secrets_of(parameters))

    def put_file(
        self,
        url: str,
        method: str,
        parameters: Mapping[str, Any],
        path: str,
        offset: int = 0,
        progress: Optional[Callable[[int], Any]] = None,
    ) -> Any:
        """PUT a file from disk as the raw body, parameters in the query string.

        The file is streamed from ``offset`` to its end; ``Content-Length`` is
        the number of bytes sent. The request is retried only if the
        connection could not be opened at all; the body is then produced again
        from the file.

        :returns: the envelope's ``data``.
        :raises FileNotFoundError: if ``path`` does not exist (before sending).
        :raises pydas.exceptions.PydasException: on any failure.
        """
        body = FileBody(path, offset, progress=progress)
        return self._put(url, method, parameters, body, lambda: True)

    def put_stream(
        self, url: str, method: str, parameters: Mapping[str, Any], handle: Any
    ) -> Any:
        """PUT an open file object as the raw body, parameters in the query string.

        The object is read piece by piece. A retry (connection not opened)
        happens only if the object can seek back to where it started.

        :returns: the envelope's ``data``.
        """
        body = _StreamBody(handle)
        return self._put(url, method, parameters, body.data(), body.rewind)

    def _put(
        self,
        url: str,
        method: str,
        parameters: Mapping[str, Any],
        data: Any,
        rewind: Callable[[], bool],
    ) -> Any:
        """PUT ``data`` with the parameters in the query string; decode the answer."""
        response = self._send(
            "PUT",
            url,
            method,
            parameters,
            repeatable=False,
            rewind=rewind,
            params=dict(parameters),
            data=data,
        )
        return self._decode(method, response, _secrets_of(parameters))

    def download(
        self,
        url: str,
        method: str,
        parameters: Mapping[str, Any],
        *,
        offset: int = 0,
    ) -> Tuple[str, ChunkIterator]:
        """GET a download, follow its redirect and stream the body.

        :param url: the full endpoint URL.
        :param method: the API method (``midas.item.download``...).
        :param parameters: query parameters.
        :param offset: the ``offset`` parameter sent, if any (see :class:`ChunkIterator`).
        :returns: ``(filename, chunk iterator)``. The name comes from
            ``Content-Disposition``; without one, after a redirect to another
            location (a link item), it is the last segment of the final URL.
        :raises pydas.exceptions.PydasException: if the server answered with an
            error envelope, an HTTP error, or could not be reached.
        """
        secrets = _secrets_of(parameters)
        response = self._send(
            "GET",
            url,
            method,
            parameters,
            repeatable=True,
            stream=True,
            params=dict(parameters),
            follow_redirects=True,
        )
        try:
            disposition = response.headers.get("Content-Disposition")
            at_endpoint = urlsplit(response.url).path == urlsplit(url).path
            if response.status_code >= 400 or (disposition is None and at_endpoint):
                body = _read_limited(response, method)
                self._decode(method, response, secrets, body)
                raise exceptions.ParseError(
                    f"{method}: the server sent a JSON answer instead of a file",
                    method=method,
                    request=response.request,
                    response=response,
                )
            name = _filename_from_disposition(disposition) if disposition else None
        except BaseException:
            response.close()
            raise
        if not name:
            name = _name_from_url(response.url)
        if response.history:
            self._log("%s redirected to %s", method, scrub(response.url, secrets))
        return name, ChunkIterator(response, method, offset=offset)
