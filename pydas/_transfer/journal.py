"""The upload journal: open upload tokens kept on disk, so a later run can resume them.

An upload stopped by Ctrl-C, a kill or a lost network leaves its bytes on
the server under an upload token. The journal remembers that token, so that
the next run of the same upload continues from the server's offset instead
of sending the file again (and instead of leaving the partial data behind).

Layout: one small JSON file per open upload in ``<cache dir>/uploads``
(``platformdirs.user_cache_dir("pydas")``, or the directory named by
``PYDAS_CACHE_DIR``), named by a hash of the server URL, the item id and the
file's absolute path. It holds those three, the file's size and modification
time (an entry for a file that changed since is dropped), the upload token
and when it was written::

    {"format": 1, "server": "https://host/midas", "item_id": "42",
     "path": "/data/scan.nii", "size": 2147483648, "mtime_ns": 1700000000000000000,
     "upload_token": "...", "written": 1700000000.0}

The directory is created with mode 0700 and every file with mode 0600 (the
upload token lets anyone holding it append to the upload); entries are
written to a temporary file and renamed, so a reader never sees half an
entry. While one process works on an entry it holds an exclusive lock on a
``.lock`` file beside it; another process (or worker) that finds it locked
does not use the entry and makes a token of its own, so two writers never
share one token. Entries older than :data:`MAX_AGE` seconds are removed.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import secrets
import time
from contextlib import contextmanager
from typing import Any, Dict, Iterator, Optional

from pydas import exceptions
from pydas._transfer import locks
from pydas._transfer.cache import CACHE_DIR_VARIABLE, cache_directory

__all__ = ["CACHE_DIR_VARIABLE", "Claim", "MAX_AGE", "UploadJournal", "journal_directory"]

logger = logging.getLogger("pydas")

#: Entries older than this many seconds (30 days) are removed when the journal opens.
MAX_AGE = 30 * 24 * 3600
_FORMAT = 1


def journal_directory() -> str:
    """The directory of the upload journal (``PYDAS_CACHE_DIR`` or the user cache dir)."""
    return os.path.join(cache_directory(), "uploads")


def _write_private(path: str, data: Dict[str, Any]) -> None:
    """Write ``data`` as JSON to ``path`` atomically, readable by the owner only."""
    temporary = f"{path}.{os.getpid()}.{secrets.token_hex(4)}.tmp"
    handle = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            json.dump(data, out)
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.remove(temporary)
        raise


def _read(path: str) -> Optional[Dict[str, Any]]:
    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and data.get("format") == _FORMAT else None


class Claim:
    """One journal entry, held (locked) by this process while a file is uploaded.

    :attr:`token` is the upload token a previous run left for this very file
    (same server, item, path, size and modification time), or ``None``.
    """

    def __init__(self, path: Optional[str], identity: Dict[str, Any]) -> None:
        self._path = path
        self._identity = identity
        self.token: Optional[str] = None
        if path is not None:
            entry = _read(path)
            if entry is not None and all(entry.get(k) == v for k, v in identity.items()):
                token = entry.get("upload_token")
                self.token = token if isinstance(token, str) and token else None
            elif entry is not None:
                self.forget()  # the file changed: its partial upload is of no use

    def record(self, upload_token: str) -> None:
        """Remember ``upload_token`` as the open upload of this file."""
        self.token = upload_token
        if self._path is None:
            return
        entry = dict(self._identity, format=_FORMAT, upload_token=upload_token,
                     written=time.time())
        try:
            _write_private(self._path, entry)
        except OSError as error:
            logger.warning("Cannot write the upload journal (%s); an interrupted upload "
                           "will start again from the first byte", error.strerror or error)

    def forget(self) -> None:
        """Drop the entry: the upload is finished, or its token is of no further use."""
        self.token = None
        if self._path is not None:
            try:
                os.remove(self._path)
            except FileNotFoundError:
                pass
            except OSError as error:
                logger.warning("Cannot update the upload journal: %s", error.strerror or error)


class UploadJournal:
    """The open upload tokens of one machine user.

    :param directory: where the entries live (default: :func:`journal_directory`)
    """

    def __init__(self, directory: Optional[str] = None) -> None:
        self.directory = directory or journal_directory()
        self._usable = True
        try:
            os.makedirs(self.directory, mode=0o700, exist_ok=True)
        except OSError as error:
            self._usable = False
            logger.warning("Cannot use the upload journal in %s: %s", self.directory,
                           error.strerror or error)
            return
        self._sweep()

    def _entry_path(self, server: str, item_id: Any, path: str) -> str:
        key = json.dumps([server, str(item_id), path])
        return os.path.join(self.directory, hashlib.sha256(key.encode()).hexdigest()[:32])

    @contextmanager
    def claim(self, server: str, item_id: Any, local_path: str) -> Iterator[Claim]:
        """Hold the entry of one file for the duration of its upload.

        :param server: the server URL
        :param item_id: the item receiving the file
        :param local_path: the file
        :raises pydas.exceptions.TransferError: when the file is gone or unreadable
        """
        path = os.path.abspath(local_path)
        try:
            info = os.stat(path)
        except OSError as error:
            raise exceptions.TransferError(
                f"upload of {local_path!r} failed: the file could not be read ({error})"
            ) from error
        identity = {"server": server, "item_id": str(item_id), "path": path,
                    "size": info.st_size, "mtime_ns": info.st_mtime_ns}
        if not self._usable:
            yield Claim(None, identity)
            return
        entry = self._entry_path(server, item_id, path)
        lock = _lock(entry + ".lock")
        try:
            yield Claim(None if lock is False else entry + ".json", identity)
        finally:
            if lock:
                _unlock(entry + ".lock", lock)

    def discard(self, server: str, item_id: Any, local_path: str) -> None:
        """Drop the entry of a file the item already holds, if there is one."""
        if not self._usable:
            return
        entry = self._entry_path(server, item_id, os.path.abspath(local_path))
        if os.path.exists(entry + ".json"):
            with self.claim(server, item_id, local_path) as claim:
                claim.forget()

    def _sweep(self) -> None:
        """Remove entries (and their locks) that are too old to be of use."""
        limit = time.time() - MAX_AGE
        try:
            names = os.listdir(self.directory)
        except OSError:
            return
        for name in names:
            if not name.endswith(".json"):
                continue
            path = os.path.join(self.directory, name)
            try:
                if os.path.getmtime(path) >= limit:
                    continue
            except OSError:
                continue
            lock = _lock(path[: -len(".json")] + ".lock")
            if lock is False:
                continue
            try:
                os.remove(path)
            except OSError:
                pass
            if lock:
                _unlock(path[: -len(".json")] + ".lock", lock)


def _lock(path: str) -> Any:
    """Take the lock file ``path`` without waiting.

    :returns: its descriptor; ``False`` when another process holds it; ``None``
        where locking is not available (the entry is then used unlocked)
    """
    if not locks.AVAILABLE:
        return None
    handle = locks.open_locked(path, os.O_RDWR | os.O_CREAT, 0o600)
    return False if handle is None else handle


def _unlock(path: str, handle: int) -> None:
    """Remove the lock file (while still holding it, so nobody takes a removed one) and release."""
    try:
        os.remove(path)
    except OSError:
        pass
    os.close(handle)
