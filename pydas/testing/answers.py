"""What API handlers and the backend return or raise, independent of HTTP.

:class:`ApiError` becomes a failure envelope, :class:`Redirect` an HTTP 302,
and the download answers (:class:`FileDownload`, :class:`ZipDownload`,
:class:`ErrorPage`) are turned into HTTP responses by :mod:`pydas.testing.httpd`.
"""

from dataclasses import dataclass, field
from typing import BinaryIO, Callable, List, Optional

__all__ = ["ApiError", "Redirect", "FileDownload", "ZipEntry", "ZipDownload", "ErrorPage"]


class ApiError(Exception):
    """A Midas error: becomes ``{"stat": "fail", "code": str(code), "message": message}``.

    :param code: the Midas error code (``-150``, ``-151``, ``0``, ``403`` ...).
    :param message: the server's message text.
    """

    def __init__(self, code: int, message: str = "") -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass
class Redirect:
    """An HTTP 302 answer instead of an envelope.

    :param location: the ``Location`` header value (a server path or a URL).
    """

    location: str


#: Opens stored content for reading, positioned at the given offset.
Opener = Callable[[int], BinaryIO]


@dataclass
class FileDownload:
    """One stored file sent as an attachment.

    :param name: the file name announced.
    :param mimetype: its content type.
    :param size: its full size in bytes.
    :param open: opens the content at an offset.
    :param offset: where the body starts.
    :param after: called once the whole body was sent (download counters).
    """

    name: str
    mimetype: str
    size: int
    open: Opener
    offset: int = 0
    after: Optional[Callable[[], None]] = None


@dataclass
class ZipEntry:
    """One member of a ZIP download.

    :param name: its path inside the archive.
    :param size: its size in bytes.
    :param open: opens its content, or ``None`` for an empty entry.
    """

    name: str
    size: int
    open: Optional[Opener] = None


@dataclass
class ZipDownload:
    """A ZIP archive produced while it is sent.

    :param name: the archive's file name.
    :param entries: its members, in order.
    :param after: called once the whole archive was sent.
    """

    name: str
    entries: List[ZipEntry] = field(default_factory=list)
    after: Optional[Callable[[], None]] = None


@dataclass
class ErrorPage:
    """A small HTML error page like the real server's.

    :param status: HTTP status.
    :param text: the message (plain text).
    """

    status: int
    text: str
