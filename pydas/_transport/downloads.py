"""The body of a download: a closable iterator of chunks, and the file name.

:class:`ChunkIterator` hands out a streamed response piece by piece, checks
that it is complete, releases the connection whatever happens, and keeps the
stall deadline of the transfer (see :mod:`pydas._transport.deadlines`)
moving while data arrives.
"""

import re
from typing import Any, Iterator, Optional
from urllib.parse import quote, unquote, urlencode, urlsplit

import requests
import urllib3

from pydas import exceptions
from pydas._transport.bodies import CHUNK_SIZE

__all__ = [
    "ChunkIterator",
    "filename_from_disposition",
    "name_from_url",
    "repair_bitstream_redirect",
]

# The redirect of midas.bitstream.download, as Midas 3.4.2 writes it: every
# value inserted as it is, unencoded (the name may hold spaces, '&', '#'...).
_BITSTREAM_REDIRECT = re.compile(
    r"^(?P<path>[^?]*/download/?)\?bitstream=(?P<id>[^&]*)&offset=(?P<offset>[^&]*)"
    r"&name=(?P<name>.*?)(?:&authToken=(?P<token>[^&]*))?$",
    re.DOTALL,
)
# What cannot stand unencoded in a query value (PHP reads '+' as a space).
_NOT_ENCODED = re.compile(r"[\s&#+\x80-\U0010ffff]|%(?![0-9A-Fa-f]{2})")


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


def repair_bitstream_redirect(location: str) -> str:
    """Encode the raw values the server writes into a bitstream download redirect.

    Midas puts the bitstream name into the redirect URL as it is
    (``/download/?bitstream=7&offset=0&name=a b&c#d.bin&authToken=...``):
    followed as it stands, the name is cut at ``&``, the token is lost after
    ``#`` and the download fails. The values are re-encoded here. A name that
    holds nothing a query needs encoded is left alone, so a redirect that is
    already encoded (as a server without the defect would write it) keeps
    its meaning.

    :param location: the ``Location`` of a redirect.
    :returns: the location to follow.
    """
    match = _BITSTREAM_REDIRECT.match(location)
    if match is None or not _NOT_ENCODED.search(match.group("name")):
        return location
    query = [
        ("bitstream", match.group("id")),
        ("offset", match.group("offset")),
        ("name", match.group("name")),
    ]
    if match.group("token") is not None:
        query.append(("authToken", match.group("token")))
    return f"{match.group('path')}?{urlencode(query, quote_via=quote)}"


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
    ``Content-Length``, raises :class:`pydas.exceptions.RequestError`; no
    piece for ``Timeout.stall`` seconds raises
    :class:`pydas.exceptions.TimedOut`.
    A download started at an ``offset`` is the exception the server forces:
    it announces the full size but sends only the bytes from the offset on, so
    a body of exactly ``Content-Length - offset`` bytes is complete (a body of
    ``Content-Length`` bytes too, for a server that announces the rest only).

    :param response: a streamed :class:`requests.Response`.
    :param method: the API method, for error messages.
    :param offset: the byte offset the download was asked to start at.
    :param chunk_size: largest piece returned at once.
    :param guard: the stall deadline of the transfer, disarmed on close.
    """

    def __init__(
        self,
        response: requests.Response,
        method: str,
        offset: int = 0,
        chunk_size: int = CHUNK_SIZE,
        guard: Any = None,
    ) -> None:
        self.response = response
        self.method = method
        self.offset = offset
        self.guard = guard
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
        # without decode_unicode, requests yields the body as bytes
        self._chunks: Iterator[bytes] = response.iter_content(chunk_size)
        self._closed = False

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
        if self.guard is not None:
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
