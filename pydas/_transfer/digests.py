"""The MD5 cache: digests of local files, so that a re-run does not hash them again.

A file's MD5 is kept under its absolute path together with its
:class:`~pydas._transfer.record.LocalState` (size, modification and change
times in nanoseconds, inode, device). It is used again only if the file shows
exactly that state now, and the state was not racy when the digest was made
(see :class:`~pydas._transfer.record.LocalState`): a file rewritten in the
same tick of the file system's clock is hashed again. The table lives in the
transfer cache (:mod:`pydas._transfer.cache`), with at most
:data:`DIGEST_LIMIT` entries.

:class:`Digest` builds the MD5 of a file from the pieces an upload
reads, in any order the upload reads them (a resume re-reads from the
server's offset), and reads only what the upload skipped;
:class:`SendingFile` is the open file an upload hands to the transport, whose
reads feed the digest: a file is read once to be sent and hashed (a large one
on a second thread while it is sent, see :mod:`pydas._transfer.hashing`).
"""

from __future__ import annotations

import hashlib
import os
from typing import Any, Callable, Optional

from pydas._transfer.cache import CacheStore, CacheTable
from pydas._transfer.hashing import BackgroundMD5
from pydas._transfer.record import LocalState
from pydas._transfer.verify import CHUNK_SIZE, is_md5

__all__ = ["BACKGROUND_MIN", "DIGEST_LIMIT", "Digest", "MD5Cache", "SendingFile"]

#: Files at least this large are hashed on a second thread while they are sent.
BACKGROUND_MIN = 8 * 1024 * 1024
#: The most digests the cache keeps.
DIGEST_LIMIT = 100_000
_TABLE = "md5"


class MD5Cache:
    """The MD5s of local files, in an open cache (or nowhere, with ``store=None``).

    :param store: the open cache database
    """

    def __init__(self, store: Optional[CacheStore]) -> None:
        self._table = None if store is None else CacheTable(store, _TABLE, DIGEST_LIMIT)

    def lookup(self, path: str, state: LocalState) -> Optional[str]:
        """The MD5 of the file at ``path`` if it was hashed before in exactly ``state``."""
        if self._table is None:
            return None
        entry = self._table.get(os.path.abspath(path))
        if not isinstance(entry, dict):
            return None
        known = LocalState.from_json(entry.get("state"))
        md5 = entry.get("md5")
        if known is None or not isinstance(md5, str) or not is_md5(md5):
            return None
        if known.racy or not known.same_file(state):
            return None
        return md5

    def remember(self, path: str, state: LocalState, md5: str) -> None:
        """Keep the MD5 of the file at ``path``, hashed from ``state`` on."""
        if self._table is not None:
            self._table.put(os.path.abspath(path), {"state": state.to_json(), "md5": md5})

    def md5(self, path: str, state: Optional[LocalState] = None) -> str:
        """The MD5 of a file: from the cache, or hashed now (and kept).

        :param path: the file
        :param state: its state, if read already
        :raises OSError: when the file cannot be read
        """
        state = state or LocalState.of(path)
        known = self.lookup(path, state)
        if known is not None:
            return known
        digest = Digest(path, state)
        md5 = digest.finish()
        self.keep(digest)
        return md5

    def keep(self, digest: Digest) -> None:
        """Keep the MD5 of a finished :class:`Digest` if the file did not change meanwhile."""
        if digest.md5 is not None and digest.unchanged():
            self.remember(digest.path, digest.state, digest.md5)


class Digest:
    """The MD5 of one file, built from the pieces an upload reads.

    Pieces read from where the hash has got to extend it; pieces before it
    were hashed already; a piece beyond it makes the digest read the gap from
    the file first. :meth:`finish` reads whatever was not read yet.

    :param path: the file
    :param state: its state when hashing began (see :meth:`unchanged`)
    """

    def __init__(self, path: str, state: LocalState) -> None:
        self.path = path
        self.state = state
        self.md5: Optional[str] = None
        self._hash: Any = hashlib.md5()
        self._background: Optional[BackgroundMD5] = None
        self._done = 0  # bytes hashed, from the start of the file

    def sending(self) -> None:
        """A send begins: for a large file, hash on a second thread while it lasts."""
        if self._background is None and self.state.size >= BACKGROUND_MIN:
            self._background = BackgroundMD5(self._hash)

    def sent(self) -> None:
        """A send ended: wait for the second thread's hashing of what it read, and stop it."""
        background, self._background = self._background, None
        if background is not None:
            background.drain()

    def _update(self, piece: bytes) -> None:
        (self._background or self._hash).update(piece)

    def add(self, position: int, piece: bytes) -> None:
        """Take the bytes of the file at ``position`` (as just read for sending)."""
        if position > self._done:
            self._read_up_to(position)
        skip = self._done - position
        if skip < len(piece):
            self._update(piece[skip:] if skip else piece)
            self._done = position + len(piece)

    def _read_up_to(self, end: int) -> None:
        with open(self.path, "rb") as handle:
            handle.seek(self._done)
            while self._done < end:
                piece = handle.read(min(CHUNK_SIZE, end - self._done))
                if not piece:
                    raise OSError(f"{self.path!r} is shorter than {end} bytes")
                self._update(piece)
                self._done += len(piece)

    def finish(self) -> str:
        """The MD5 of the whole file (reading what was not read yet).

        :raises OSError: when the file cannot be read to its recorded size
        """
        if self.md5 is None:
            self.sent()
            if self._done < self.state.size:
                self._read_up_to(self.state.size)
            self.md5 = self._hash.hexdigest()
        return self.md5

    def unchanged(self) -> bool:
        """Whether the file still shows the state it had when hashing began."""
        try:
            return LocalState.of(self.path).same_file(self.state)
        except OSError:
            return False



class SendingFile:
    """A file opened for an upload body: from ``offset`` to its recorded size.

    The transport reads it piece by piece; each piece also goes to the
    ``digest`` (if any) and its length to ``progress``. The file ends, for
    the transport, at the size it had when scanned (``end``): bytes appended
    since are not sent, and a file that shrank raises :class:`OSError`.

    :param path: the file
    :param offset: the first byte to send
    :param end: the size to send up to
    :param digest: takes every piece read, or ``None``
    :param progress: called with the length of every piece read
    """

    def __init__(self, path: str, offset: int, end: int, digest: Optional[Digest],
                 progress: Callable[[int], Any]) -> None:
        self._file = open(path, "rb")  # noqa: SIM115 (closed by close())
        self._file.seek(offset)
        self._end = end
        self._digest = digest
        self._progress = progress
        if digest is not None:
            digest.sending()

    def tell(self) -> int:
        """The position of the next byte read."""
        return self._file.tell()

    def seek(self, position: int, whence: int = os.SEEK_SET) -> int:
        """Move to ``position`` (``SEEK_END`` counts from the recorded size)."""
        if whence == os.SEEK_END:
            return self._file.seek(self._end + position)
        return self._file.seek(position, whence)

    def read(self, size: int = -1) -> bytes:
        """Read at most ``size`` bytes, hashing them and counting them sent.

        :raises OSError: when the file ends before its recorded size
        """
        position = self._file.tell()
        wanted = self._end - position if size < 0 else min(size, self._end - position)
        if wanted <= 0:
            return b""
        piece = self._file.read(wanted)
        if len(piece) < wanted:
            raise OSError(f"{self._file.name!r} shrank while it was being uploaded "
                          f"(it ends at byte {position + len(piece)}, not {self._end})")
        if self._digest is not None:
            self._digest.add(position, piece)
        self._progress(len(piece))
        return piece

    def close(self) -> None:
        """Close the file (the digest has then taken every piece read)."""
        self._file.close()
        if self._digest is not None:
            self._digest.sent()

    def __enter__(self) -> SendingFile:
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()
