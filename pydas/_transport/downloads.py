"""The body of a download: a closable iterator of chunks, and the file name.

:class:`ChunkIterator` hands out a streamed response piece by piece, checks
that it is complete, releases the connection whatever happens, and keeps the
stall deadline of the transfer (see :mod:`pydas._transport.deadlines`)
moving while data arrives.
"""

import html
import re
from typing import Any, Iterator, Optional
from urllib.parse import unquote, urlsplit

import requests
import urllib3

from pydas import exceptions

__all__ = [
    "DOWNLOAD_PIECE",
    "PROGRESS",
    "ChunkIterator",
    "filename_from_disposition",
    "name_from_url",
    "page_message",
]

#: Largest piece of a download handed out at once (one receive). Measured on
#: 1 GiB over the loopback: 128 KiB to 1 MiB take the same time (the MD5 is the
#: floor), 4 MiB is slower and larger (each piece is a fresh allocation).
DOWNLOAD_PIECE = 256 * 1024
#: Bytes that must arrive to push the stall deadline ahead.
PROGRESS = 256 * 1024

# Where Midas's error pages say what went wrong: "...the following error:<br/><h3>Permission
# denied<br/>In /path/File.php, line: 85..." or "...not found.</div>...Details: <b>Invalid ...</b>".
_PAGE_MESSAGE = re.compile(
    r"<h3[^>]*>(.*?)(?:<br|</h3>)|Details:\s*<b>(.*?)</b>", re.IGNORECASE | re.DOTALL
)
_TAG = re.compile(r"<[^>]*>")
_PAGE_MESSAGE_LENGTH = 160


def filename_from_disposition(header: str) -> Optional[str]:
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
    name = header[match.end() :].strip()
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


def page_message(body: bytes) -> str:
    """What an HTML error page of the server's download endpoint says, in one short line.

    :param body: the page (or any other answer that is not a file).
    :returns: the error Midas reports on the page ("Permission denied"), else
        the page's text without its markup; at most 160 characters.
    """
    text = body[:65536].decode("utf-8", errors="replace")
    found = _PAGE_MESSAGE.search(text)
    if found is not None:
        text = found.group(1) if found.group(1) is not None else found.group(2)
    words = " ".join(html.unescape(_TAG.sub(" ", text)).split())
    if len(words) > _PAGE_MESSAGE_LENGTH:
        words = words[:_PAGE_MESSAGE_LENGTH] + "..."
    return words or "(empty page)"


def name_from_url(url: str) -> str:
    """The last path segment of a URL, for a download without ``Content-Disposition``."""
    path = urlsplit(url).path
    segment = unquote(path.rstrip("/").rsplit("/", 1)[-1]) if path else ""
    return segment or "download"


class ChunkIterator:
    """Iterator over the body of a download, in ``bytes`` pieces.

    The HTTP response is closed as soon as the body is exhausted, when
    :meth:`close` is called (also by ``with``), or when reading fails. A
    connection lost in the middle, or a body shorter than its
    ``Content-Length``, raises :class:`pydas.exceptions.RequestError`; less
    than :data:`PROGRESS` bytes in ``Timeout.stall`` seconds raises
    :class:`pydas.exceptions.TimedOut`.
    A download started at an ``offset`` is the exception the server forces:
    it announces the full size but sends only the bytes from the offset on, so
    a body of exactly ``Content-Length - offset`` bytes is complete (a body of
    ``Content-Length`` bytes too, for a server that announces the rest only).

    :param response: a streamed :class:`requests.Response`.
    :param method: the API method, for error messages.
    :param offset: the byte offset the download was asked to start at.
    :param chunk_size: largest piece returned at once (a piece holds what one
        receive from the network brought, with urllib3 2).
    :param guard: the stall deadline of the transfer, disarmed on close.
    """

    def __init__(
        self,
        response: requests.Response,
        method: str,
        offset: int = 0,
        chunk_size: int = DOWNLOAD_PIECE,
        guard: Any = None,
    ) -> None:
        self.response = response
        self.method = method
        self.offset = offset
        self.guard = guard
        self.received = 0
        self._progress = 0  # what had been received when the stall deadline last moved
        self.expected: Optional[int] = None
        length = response.headers.get("Content-Length")
        if length is not None and not response.headers.get("Content-Encoding"):
            try:
                self.expected = int(length)
            except ValueError:
                self.expected = None
        raw = response.raw
        if offset and raw is not None:
            raw.enforce_content_length = False
        self._chunks: Iterator[bytes]
        if callable(getattr(raw, "read1", None)):
            self._chunks = self._received(raw, chunk_size)
        else:  # urllib3 1.x: requests' pieces (a piece being received when a cut comes is lost)
            self._chunks = response.iter_content(chunk_size)
        self._closed = False

    def _received(self, raw: Any, chunk_size: int) -> Iterator[bytes]:
        """The body as it arrives: one receive per piece, so a cut loses nothing received.

        Without a ``Content-Encoding`` the pieces are the received bytes
        themselves (urllib3 copies them only to decode).
        """
        decode = bool(self.response.headers.get("Content-Encoding"))
        while True:
            piece = raw.read1(chunk_size, decode_content=decode)
            if not piece:
                # the connection goes back to the pool (a response closed
                # before its end would close it)
                raw.release_conn()
                return
            yield piece

    def __iter__(self) -> "ChunkIterator":
        return self

    def _complete(self) -> bool:
        if self.expected is None or self.received >= self.expected:
            return True
        return bool(self.offset) and self.received == self.expected - self.offset

    def _stalled(self) -> bool:
        return self.guard is not None and self.guard.fired

    def _lost(self, why: str) -> exceptions.RequestError:
        if self._stalled():
            return exceptions.TimedOut(
                f"{self.method}: the download stalled: no data for {self.guard.seconds:g} s "
                f"after {self.received} bytes (stall deadline)",
                method=self.method,
                response=self.response,
            )
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
            # without a Content-Length a connection cut by the stall deadline
            # looks like the end of the body
            if not self._complete() or (self.expected is None and self._stalled()):
                raise self._lost(f"{self.expected} announced") from None
            raise
        except (requests.RequestException, urllib3.exceptions.HTTPError, OSError) as error:
            self.close()
            # With an offset the server closes the connection "early" on purpose.
            if self.offset and self._complete() and not self._stalled():
                raise StopIteration from None
            raise self._lost(type(error).__name__) from None
        except BaseException:  # e.g. KeyboardInterrupt: still release the connection
            self.close()
            raise
        if self._stalled():  # a caller's session: the deadline is seen between pieces
            self.close()
            raise self._lost("stalled")
        self.received += len(piece)
        if self.guard is not None and self.received - self._progress >= PROGRESS:
            # a piece is a single receive: a trickle of tiny pieces is no progress
            self._progress = self.received
            self.guard.moved()
        return piece

    def close(self) -> None:
        """Stop reading and release the connection."""
        if not self._closed:
            self._closed = True
            if self.guard is not None:
                self.guard.disarm()
            self.response.close()

    def __enter__(self) -> "ChunkIterator":
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()
