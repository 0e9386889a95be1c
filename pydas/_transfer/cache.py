"""The transfer cache: one small SQLite database in the user's cache directory.

It holds the tables of the re-run record (:mod:`pydas._transfer.record`) and
of the MD5 cache (:mod:`pydas._transfer.digests`): things pydas learnt in an
earlier run that spare a later one requests or hashing. Everything in it is a
hint that is checked before it is relied on, so losing it (a deleted or
corrupt file, a full disk, a database locked for too long) costs time, never
correctness: a failing cache is logged once and then left unused.

* Where: ``<cache dir>/transfers.sqlite3``, the cache dir being
  ``PYDAS_CACHE_DIR`` or ``platformdirs.user_cache_dir("pydas")`` (the
  upload journal lives beside it). The directory is made with mode 0700, the
  file with 0600 (SQLite gives its ``-wal`` and ``-shm`` files the same mode).
* Concurrency: the database runs in WAL mode, so processes read while one
  writes; a writer waits at most :data:`BUSY_SECONDS` for another. Within a
  process one connection is shared by the worker threads under a lock.
* Bounds: each table keeps at most its ``limit`` entries; when a run has
  written more, the least recently used are removed (10% below the limit),
  and entries unused for :data:`MAX_AGE` seconds go at the next opening.

Entries are JSON values under text keys, per table (:class:`CacheTable`).
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import threading
import time
from typing import Any, Dict, Iterable, List, Optional

__all__ = [
    "BUSY_SECONDS",
    "CACHE_DIR_VARIABLE",
    "CACHE_FILE",
    "MAX_AGE",
    "CacheStore",
    "CacheTable",
    "cache_directory",
]

logger = logging.getLogger("pydas")

#: The environment variable that moves the cache directory (tests use it).
CACHE_DIR_VARIABLE = "PYDAS_CACHE_DIR"
#: The database's file name in the cache directory.
CACHE_FILE = "transfers.sqlite3"
#: Longest wait for another process's write, in seconds; then the cache is skipped.
BUSY_SECONDS = 5.0
#: Entries not used for this many seconds (90 days) are removed.
MAX_AGE = 90 * 24 * 3600

_SCHEMA = """
CREATE TABLE IF NOT EXISTS entries (
    tbl TEXT NOT NULL,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    used REAL NOT NULL,
    PRIMARY KEY (tbl, key)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS entries_by_use ON entries (tbl, used);
"""
#: Keys looked up in one statement (SQLite's default limit of variables is 999).
_BATCH = 500


def cache_directory() -> str:
    """The directory of pydas's cache (``PYDAS_CACHE_DIR`` or the user cache dir)."""
    base = os.environ.get(CACHE_DIR_VARIABLE)
    if not base:
        import platformdirs

        base = platformdirs.user_cache_dir("pydas")
    return base


def _private_file(path: str) -> None:
    """Make sure ``path`` exists and only its owner may read or write it."""
    handle = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        loose = os.fstat(handle).st_mode & 0o077
    finally:
        os.close(handle)
    if loose:
        os.chmod(path, 0o600)


class CacheStore:
    """The open cache database of one transfer (use it as a context manager).

    :param directory: where the database lives (default: :func:`cache_directory`)
    """

    def __init__(self, directory: Optional[str] = None) -> None:
        self.directory = directory or cache_directory()
        self.path = os.path.join(self.directory, CACHE_FILE)
        self._lock = threading.Lock()
        self._connection: Optional[sqlite3.Connection] = None
        self._written: Dict[str, int] = {}  # entries written per table
        self._used: Dict[str, List[str]] = {}  # keys read per table, to mark as used
        self._limits: Dict[str, int] = {}  # the most entries per table
        try:
            self._connection = self._open()
        except (OSError, sqlite3.Error) as error:
            self._fail(error)

    @property
    def usable(self) -> bool:
        """Whether the cache can be read and written (it is skipped otherwise)."""
        return self._connection is not None

    def _open(self) -> sqlite3.Connection:
        os.makedirs(self.directory, mode=0o700, exist_ok=True)
        _private_file(self.path)
        try:
            return self._connect()
        except sqlite3.DatabaseError as error:
            if isinstance(error, sqlite3.OperationalError):
                raise  # locked or unreadable: leave it to its owner
            logger.warning("The transfer cache %s is damaged (%s); starting a new one",
                           self.path, error)
            for suffix in ("", "-wal", "-shm"):
                try:
                    os.remove(self.path + suffix)
                except FileNotFoundError:
                    pass
            _private_file(self.path)
            return self._connect()

    def _connect(self) -> sqlite3.Connection:
        connection = sqlite3.connect(self.path, timeout=BUSY_SECONDS, isolation_level=None,
                                     check_same_thread=False)
        try:
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA synchronous=NORMAL")  # a cache: no fsync per entry
            connection.executescript(_SCHEMA)
            connection.execute("DELETE FROM entries WHERE used < ?", (time.time() - MAX_AGE,))
        except BaseException:
            connection.close()
            raise
        return connection

    def _fail(self, error: BaseException) -> None:
        """Stop using the cache after an error (said once, as a warning)."""
        if self._connection is not None:
            try:
                self._connection.close()
            except sqlite3.Error:
                pass
            self._connection = None
        logger.warning("Not using the transfer cache %s: %s; every file is checked with "
                       "the server and hashed", self.path, getattr(error, "strerror", None)
                       or error)

    # -- for CacheTable --------------------------------------------------------------------

    def get_many(self, table: str, keys: Iterable[str]) -> Dict[str, Any]:
        """The JSON values of those ``keys`` of ``table`` that are stored."""
        wanted = list(dict.fromkeys(keys))
        found: Dict[str, Any] = {}
        with self._lock:
            if self._connection is None:
                return found
            try:
                for start in range(0, len(wanted), _BATCH):
                    batch = wanted[start:start + _BATCH]
                    marks = ",".join("?" * len(batch))
                    rows = self._connection.execute(
                        f"SELECT key, value FROM entries WHERE tbl = ? AND key IN ({marks})",
                        [table, *batch],
                    ).fetchall()
                    for key, value in rows:
                        try:
                            found[key] = json.loads(value)
                        except ValueError:
                            continue
            except sqlite3.Error as error:
                self._fail(error)
                return {}
            self._used.setdefault(table, []).extend(found)
        return found

    def put(self, table: str, key: str, value: Any) -> None:
        """Store ``value`` (JSON) under ``key`` in ``table``, replacing what was there."""
        text = json.dumps(value, separators=(",", ":"))
        with self._lock:
            if self._connection is None:
                return
            try:
                self._connection.execute(
                    "INSERT OR REPLACE INTO entries (tbl, key, value, used) VALUES (?, ?, ?, ?)",
                    (table, key, text, time.time()),
                )
            except sqlite3.Error as error:
                self._fail(error)
                return
            self._written[table] = self._written.get(table, 0) + 1

    def delete(self, table: str, key: str) -> None:
        """Remove ``key`` from ``table`` (nothing happens if it is not there)."""
        with self._lock:
            if self._connection is None:
                return
            try:
                self._connection.execute("DELETE FROM entries WHERE tbl = ? AND key = ?",
                                         (table, key))
            except sqlite3.Error as error:
                self._fail(error)

    # -- closing ---------------------------------------------------------------------------

    def bound(self, table: str, limit: int) -> None:
        """Keep at most ``limit`` entries in ``table`` (applied by :meth:`close`)."""
        self._limits[table] = limit

    def close(self) -> None:
        """Mark the entries read as used, keep the tables within their bounds, and close."""
        with self._lock:
            connection, self._connection = self._connection, None
            if connection is None:
                return
            try:
                now = time.time()
                connection.execute("BEGIN")
                for table, keys in self._used.items():
                    connection.executemany("UPDATE entries SET used = ? WHERE tbl = ? AND key = ?",
                                           [(now, table, key) for key in keys])
                for table, written in self._written.items():
                    limit = self._limits.get(table)
                    if limit is not None and written:
                        _prune(connection, table, limit)
                connection.execute("COMMIT")
            except sqlite3.Error as error:
                logger.debug("The transfer cache could not be tidied: %s", error)
            finally:
                connection.close()

    def __enter__(self) -> CacheStore:
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()


def _prune(connection: sqlite3.Connection, table: str, limit: int) -> None:
    """Remove the least recently used entries of ``table`` beyond ``limit`` (to 90% of it)."""
    (count,) = connection.execute("SELECT count(*) FROM entries WHERE tbl = ?",
                                  (table,)).fetchone()
    if count <= limit:
        return
    excess = count - limit * 9 // 10
    connection.execute(
        "DELETE FROM entries WHERE tbl = ? AND key IN "
        "(SELECT key FROM entries WHERE tbl = ? ORDER BY used LIMIT ?)",
        (table, table, excess),
    )


class CacheTable:
    """One table of the cache: JSON values under text keys, at most ``limit`` of them.

    :param store: the open database
    :param name: the table's name
    :param limit: the most entries it keeps (applied when the store closes)
    """

    def __init__(self, store: CacheStore, name: str, limit: int) -> None:
        self.store = store
        self.name = name
        store.bound(name, limit)

    def get_many(self, keys: Iterable[str]) -> Dict[str, Any]:
        """The values stored under those of ``keys`` that are stored."""
        return self.store.get_many(self.name, keys)

    def get(self, key: str) -> Any:
        """The value stored under ``key``, or ``None``."""
        return self.get_many([key]).get(key)

    def put(self, key: str, value: Any) -> None:
        """Store ``value`` under ``key``."""
        self.store.put(self.name, key, value)

    def delete(self, key: str) -> None:
        """Remove ``key``."""
        self.store.delete(self.name, key)
