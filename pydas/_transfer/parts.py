"""Part files: where a download is written until it is verified and renamed into place.

The part file of a target is ``.<target name>.<first 12 digits of its MD5>.pydas-part``
in the target's directory, so that a later run downloading the same content
finds the part file of a run that died (``kill -9``, a crash, a power cut)
and continues it from its size instead of starting again. While a process
writes a part file it holds an exclusive lock on it; a second process that
finds it locked writes a part file of its own (with a random name), so two
processes never write one part file. Part files of the same target that no
process holds — left by a dead run, or for content the server has since
replaced — are removed.
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
from typing import Any, Optional, Tuple

from pydas._transfer import locks
from pydas._transfer.hashing import BackgroundMD5
from pydas._transfer.names import NAME_MAX, fit
from pydas._transfer.verify import CHUNK_SIZE

__all__ = ["Part", "SUFFIX", "remove_stale"]

#: The ending of every part file.
SUFFIX = ".pydas-part"
_TAG = re.compile(r"^[0-9a-f]{8,12}$")
#: Room for the dot, the tag, its dot and the suffix within a file name.
_ROOM = NAME_MAX - 1 - 1 - 12 - len(SUFFIX)
#: Bytes still to come from which the digest is computed on a second thread.
_BACKGROUND_FROM = 8 * 1024 * 1024


def _prefix(target: str) -> str:
    return "." + fit(os.path.basename(target), _ROOM) + "."


def remove_stale(target: str, keep: Optional[str] = None) -> None:
    """Remove the part files of ``target`` that no process holds (except ``keep``).

    :param target: the final path of a file
    :param keep: a part file not to remove (the caller's own)
    """
    directory = os.path.dirname(target)
    prefix = _prefix(target)
    try:
        names = os.listdir(directory or os.curdir)
    except OSError:
        return
    for name in names:
        if not (name.startswith(prefix) and name.endswith(SUFFIX)):
            continue
        if not _TAG.match(name[len(prefix):-len(SUFFIX)]):
            continue
        path = os.path.join(directory, name)
        if keep is not None and os.path.abspath(path) == os.path.abspath(keep):
            continue
        try:
            handle = os.open(path, os.O_RDONLY)
        except OSError:
            continue
        try:
            if locks.try_lock(handle):
                os.remove(path)
        except OSError:
            pass
        finally:
            os.close(handle)


class Part:
    """The part file of one download, open, locked, and possibly holding a prefix already.

    :param target: the final path of the file
    :param checksum: the MD5 the file will have (names the part file)
    :param size: the size it will have; a longer part file is emptied

    :attr:`held` is the number of bytes already in the part file (from a run
    that died) and :attr:`digest` the MD5 state of those bytes; :attr:`keep`
    says that a failed download should leave the part file for a later run.
    When many bytes are still to come, the digest is computed on a second
    thread (:class:`~pydas._transfer.hashing.BackgroundMD5`) while the next
    pieces arrive; :meth:`commit`, :meth:`discard` and :meth:`close` stop it.
    """

    def __init__(self, target: str, checksum: str, size: int) -> None:
        self.target = target
        self.size = size
        self.keep = False
        directory = os.path.dirname(target)
        shared = os.path.join(directory, _prefix(target) + checksum[:12] + SUFFIX)
        opened = self._open_shared(shared) if locks.AVAILABLE else None
        if opened is None:
            opened = self._open_new(directory)
        self.handle, self.path = opened
        self.digest: Any = hashlib.md5()
        self.held = os.fstat(self.handle).st_size
        if self.held > size:
            self.restart()
        elif self.held:
            self._hash_held()
        self._hash_the_rest()
        remove_stale(target, keep=self.path)

    def _hash_the_rest(self) -> None:
        """Hash the bytes to come on a second thread when there are many of them."""
        if self.size - self.held >= _BACKGROUND_FROM:
            self.digest = BackgroundMD5(self.digest)

    @staticmethod
    def _open_shared(path: str) -> Optional[Tuple[int, str]]:
        """Open and lock the part file others would use too; ``None`` if another holds it."""
        handle = locks.open_locked(path, os.O_RDWR | os.O_CREAT | getattr(os, "O_BINARY", 0),
                                   0o666)
        return None if handle is None else (handle, path)

    @staticmethod
    def _open_new(directory: str) -> Tuple[int, str]:
        """Create a part file of this process's own (the shared one is in use)."""
        while True:
            path = os.path.join(directory, "." + secrets.token_hex(4) + SUFFIX)
            try:
                flags = os.O_RDWR | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
                handle = os.open(path, flags, 0o666)
            except FileExistsError:
                continue
            locks.try_lock(handle)
            return handle, path

    def _hash_held(self) -> None:
        os.lseek(self.handle, 0, os.SEEK_SET)
        remaining = self.held
        while remaining > 0:
            piece = os.read(self.handle, min(CHUNK_SIZE, remaining))
            if not piece:
                break
            self.digest.update(piece)
            remaining -= len(piece)
        self.held -= remaining
        os.lseek(self.handle, self.held, os.SEEK_SET)

    def restart(self) -> None:
        """Empty the part file (its content was wrong); write from the first byte again."""
        os.ftruncate(self.handle, 0)
        os.lseek(self.handle, 0, os.SEEK_SET)
        self.held = 0
        self._stop_hashing()
        self.digest = hashlib.md5()
        self._hash_the_rest()

    def _stop_hashing(self) -> None:
        if isinstance(self.digest, BackgroundMD5):
            self.digest.close()

    def write(self, data: bytes) -> None:
        """Append ``data`` and add it to the digest."""
        view = memoryview(data)
        while view:
            written = os.write(self.handle, view)
            view = view[written:]
        self.digest.update(data)
        self.held += len(data)

    def commit(self) -> None:
        """Put the (verified) part file in place of the target and release it."""
        self._stop_hashing()
        os.replace(self.path, self.target)
        os.close(self.handle)
        self.handle = -1

    def discard(self) -> None:
        """Remove the part file and release it."""
        try:
            os.remove(self.path)
        except FileNotFoundError:
            pass
        self.close()

    def close(self) -> None:
        """Release the part file, leaving it for a later run to continue."""
        self._stop_hashing()
        if self.handle >= 0:
            os.close(self.handle)
            self.handle = -1
