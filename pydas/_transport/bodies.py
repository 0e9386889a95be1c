"""Request bodies streamed from disk: raw uploads, open file objects, multipart forms.

Each body is what :mod:`requests` receives as ``data``: it reports its length
when it can (so ``Content-Length`` is set) and yields pieces of at most
:data:`CHUNK_SIZE` bytes, so memory use does not depend on the file size.
The transport sets ``watcher`` on a body before each attempt: an object whose
``moved()`` is called after every piece that went out and whose ``finished()``
is called after the last one (the stall deadline of the transfer).
"""

import os
import uuid
from typing import Any, Callable, Iterator, List, Mapping, Optional

__all__ = ["CHUNK_SIZE", "FileBody", "MultipartFileBody", "StreamBody"]

#: Size of the pieces in which files are read, sent and received.
CHUNK_SIZE = 256 * 1024


class _Watched:
    """The ``watcher`` hooks shared by the bodies."""

    watcher: Any = None

    def _moved(self) -> None:
        if self.watcher is not None:
            self.watcher.moved()

    def _finished(self) -> None:
        if self.watcher is not None:
            self.watcher.finished()

    def data(self) -> Any:
        """What to hand to :mod:`requests` as ``data`` for one attempt."""
        return self


class FileBody(_Watched):
    """An upload body read from a file on disk, piece by piece.

    Each iteration re-opens the file, so a body is never "consumed" in a way
    that would send nothing on a second attempt.

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
                self._moved()
                if self.progress is not None:
                    self.progress(len(piece))
        self._finished()

    def rewind(self) -> bool:
        """A file body can always be produced again."""
        return True

    def __repr__(self) -> str:
        return f"FileBody({self.path!r}, offset={self.offset}, length={len(self)})"


def _form_quote(text: str) -> str:
    """Quote a name for a multipart header the way PHP reads it back.

    PHP turns a backslash-escaped quote back into a quote (it does not decode
    the ``%22`` browsers write); line breaks and NUL cannot be sent at all.
    """
    if any(char in text for char in "\r\n\0"):
        raise ValueError(f"a name sent in a multipart form cannot contain line breaks: {text!r}")
    return text.replace('"', '\\"')


class MultipartFileBody(_Watched):
    """A ``multipart/form-data`` body: text fields, then one file streamed from disk.

    The form is written as a browser would: one part per field, then the file
    part with its ``filename`` and ``application/octet-stream`` type. The
    length is known in advance, so ``Content-Length`` is set and the file is
    read piece by piece.

    :param path: the file to send.
    :param fields: the ordinary form fields, in order.
    :param file_field: the name of the file part.
    :param file_name: the file name announced in the file part.
    :param chunk_size: largest piece read and sent at once.
    :param progress: called with the number of file bytes of each piece sent.
    """

    def __init__(
        self,
        path: str,
        fields: Mapping[str, Any],
        file_field: str,
        file_name: str,
        chunk_size: int = CHUNK_SIZE,
        progress: Optional[Callable[[int], Any]] = None,
    ) -> None:
        self.file = FileBody(path, 0, chunk_size)
        self.progress = progress
        self.boundary = uuid.uuid4().hex
        parts: List[bytes] = []
        for name, value in fields.items():
            parts.append(
                f'--{self.boundary}\r\nContent-Disposition: form-data; name="{_form_quote(name)}"'
                f"\r\n\r\n{value}\r\n".encode()
            )
        parts.append(
            f"--{self.boundary}\r\nContent-Disposition: form-data; "
            f'name="{_form_quote(file_field)}"; filename="{_form_quote(file_name)}"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n".encode()
        )
        self.head = b"".join(parts)
        self.tail = f"\r\n--{self.boundary}--\r\n".encode()

    @property
    def content_type(self) -> str:
        """The ``Content-Type`` header of the request, with the boundary."""
        return f"multipart/form-data; boundary={self.boundary}"

    def __len__(self) -> int:
        return len(self.head) + len(self.file) + len(self.tail)

    def __iter__(self) -> Iterator[bytes]:
        yield self.head
        for piece in self.file:
            yield piece
            self._moved()
            if self.progress is not None:
                self.progress(len(piece))
        yield self.tail
        self._finished()

    def rewind(self) -> bool:
        """A multipart body from a file can always be produced again."""
        return True


class StreamBody(_Watched):
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
                break
            if isinstance(piece, str):
                piece = piece.encode("utf-8")
            if remaining is not None:
                remaining -= len(piece)
            yield piece
            self._moved()
        self._finished()

    def data(self) -> Any:
        """What to hand to :mod:`requests` as ``data``.

        A sized body when the length is known (an empty one is sent as no
        body at all), else a generator of unknown length.
        """
        if self.length is None:
            return iter(self)
        return self
