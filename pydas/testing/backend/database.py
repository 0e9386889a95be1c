"""The emulator's SQLite database: schema, pooled connections, read and write sessions.

All metadata (users, keys, tokens, communities, groups, folders, items,
revisions, bitstreams, policies, metadata, module tables) lives in one SQLite
file, ``midas.sqlite``, in WAL mode. Each request thread borrows a connection
from a pool for the length of a session:

* a **read** session runs its statements without a transaction on a
  read-only connection, so reads run in parallel with each other and with a
  writer (the real server has no transaction around a call either);
* a **write** session takes the one write lock and runs as one
  ``BEGIN IMMEDIATE`` transaction: a Midas error (:class:`ApiError`) still
  commits what was done before it, as the real server keeps such partial
  effects; any other exception rolls back.

Statements outside any session (helpers called from a test thread) run on a
connection borrowed for that statement.
"""

import contextlib
import itertools
import queue
import sqlite3
import threading
from typing import Any, Iterable, Iterator, List, Optional

from pydas.testing.answers import ApiError

__all__ = ["Database", "Row", "ServerStopped"]

Row = sqlite3.Row

_SCHEMA = """
CREATE TABLE IF NOT EXISTS user (
    user_id INTEGER PRIMARY KEY AUTOINCREMENT, email TEXT UNIQUE NOT NULL,
    password_hash TEXT NOT NULL, salt TEXT NOT NULL, firstname TEXT, lastname TEXT,
    thumbnail TEXT DEFAULT '', company TEXT DEFAULT '', creation TEXT, folder_id INTEGER,
    admin INTEGER DEFAULT 0, privacy INTEGER DEFAULT 0, view INTEGER DEFAULT 0, uuid TEXT,
    city TEXT DEFAULT '', country TEXT DEFAULT '', website TEXT DEFAULT '',
    biography TEXT DEFAULT '', dynamichelp INTEGER DEFAULT 1, otp TEXT);
CREATE TABLE IF NOT EXISTS apikey (
    apikey_id INTEGER PRIMARY KEY AUTOINCREMENT, user_id INTEGER NOT NULL,
    application TEXT NOT NULL, apikey TEXT NOT NULL, lifetime INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS token (
    token_id INTEGER PRIMARY KEY AUTOINCREMENT, user_id INTEGER NOT NULL,
    apikey_id INTEGER NOT NULL, token TEXT UNIQUE NOT NULL, expires REAL NOT NULL);
CREATE INDEX IF NOT EXISTS token_apikey ON token (apikey_id);
CREATE TABLE IF NOT EXISTS mfa_token (
    mfa_token_id INTEGER PRIMARY KEY AUTOINCREMENT, user_id INTEGER NOT NULL,
    token_id INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS grp (
    group_id INTEGER PRIMARY KEY AUTOINCREMENT, community_id INTEGER, name TEXT);
CREATE TABLE IF NOT EXISTS group_user (
    group_id INTEGER NOT NULL, user_id INTEGER NOT NULL, PRIMARY KEY (group_id, user_id));
CREATE INDEX IF NOT EXISTS group_user_user ON group_user (user_id);
CREATE TABLE IF NOT EXISTS community (
    community_id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT, description TEXT,
    creation TEXT, privacy INTEGER, folder_id INTEGER, admingroup_id INTEGER,
    moderatorgroup_id INTEGER, membergroup_id INTEGER, can_join INTEGER,
    view INTEGER DEFAULT 0, uuid TEXT);
CREATE TABLE IF NOT EXISTS folder (
    folder_id INTEGER PRIMARY KEY AUTOINCREMENT, parent_id INTEGER, name TEXT,
    description TEXT, date_update TEXT, date_creation TEXT, view INTEGER DEFAULT 0,
    teaser TEXT DEFAULT '', uuid TEXT);
CREATE INDEX IF NOT EXISTS folder_parent ON folder (parent_id, name);
CREATE TABLE IF NOT EXISTS folderpolicyuser (
    folder_id INTEGER, user_id INTEGER, policy INTEGER, PRIMARY KEY (folder_id, user_id));
CREATE TABLE IF NOT EXISTS folderpolicygroup (
    folder_id INTEGER, group_id INTEGER, policy INTEGER, PRIMARY KEY (folder_id, group_id));
CREATE TABLE IF NOT EXISTS item (
    item_id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT, description TEXT,
    type INTEGER DEFAULT 0, sizebytes INTEGER DEFAULT 0, date_creation TEXT,
    date_update TEXT, thumbnail_id INTEGER, view INTEGER DEFAULT 0,
    download INTEGER DEFAULT 0, uuid TEXT);
CREATE INDEX IF NOT EXISTS item_name ON item (name);
CREATE TABLE IF NOT EXISTS item2folder (
    link_id INTEGER PRIMARY KEY AUTOINCREMENT, item_id INTEGER, folder_id INTEGER);
CREATE INDEX IF NOT EXISTS item2folder_folder ON item2folder (folder_id);
CREATE INDEX IF NOT EXISTS item2folder_item ON item2folder (item_id);
CREATE TABLE IF NOT EXISTS itempolicyuser (
    item_id INTEGER, user_id INTEGER, policy INTEGER, PRIMARY KEY (item_id, user_id));
CREATE TABLE IF NOT EXISTS itempolicygroup (
    item_id INTEGER, group_id INTEGER, policy INTEGER, PRIMARY KEY (item_id, group_id));
CREATE TABLE IF NOT EXISTS itemrevision (
    itemrevision_id INTEGER PRIMARY KEY AUTOINCREMENT, item_id INTEGER, revision INTEGER,
    date TEXT, changes TEXT DEFAULT '', user_id INTEGER, license_id INTEGER, uuid TEXT);
CREATE INDEX IF NOT EXISTS itemrevision_item ON itemrevision (item_id, revision);
CREATE TABLE IF NOT EXISTS bitstream (
    bitstream_id INTEGER PRIMARY KEY AUTOINCREMENT, itemrevision_id INTEGER,
    assetstore_id INTEGER DEFAULT 1, name TEXT, mimetype TEXT, sizebytes INTEGER,
    checksum TEXT, path TEXT, date TEXT);
CREATE INDEX IF NOT EXISTS bitstream_checksum ON bitstream (checksum);
CREATE INDEX IF NOT EXISTS bitstream_revision ON bitstream (itemrevision_id);
CREATE TABLE IF NOT EXISTS metadata (
    metadata_id INTEGER PRIMARY KEY AUTOINCREMENT, metadatatype INTEGER, element TEXT,
    qualifier TEXT);
CREATE TABLE IF NOT EXISTS metadatavalue (
    itemrevision_id INTEGER, metadata_id INTEGER, value TEXT,
    PRIMARY KEY (itemrevision_id, metadata_id));
CREATE TABLE IF NOT EXISTS itemthumbnail (
    itemthumbnail_id INTEGER PRIMARY KEY AUTOINCREMENT, item_id INTEGER UNIQUE,
    thumbnail_id INTEGER);
CREATE TABLE IF NOT EXISTS tracker_producer (
    producer_id INTEGER PRIMARY KEY AUTOINCREMENT, community_id INTEGER NOT NULL,
    repository TEXT DEFAULT '', executable_name TEXT DEFAULT '', display_name TEXT,
    description TEXT DEFAULT '', revision_url TEXT DEFAULT '', histogram_max_x REAL,
    grid_across_metric_groups INTEGER DEFAULT 0, histogram_number_of_bins INTEGER DEFAULT 10,
    producer_definition TEXT);
CREATE TABLE IF NOT EXISTS tracker_trendgroup (
    trendgroup_id INTEGER PRIMARY KEY AUTOINCREMENT, producer_id INTEGER NOT NULL,
    config_item_id INTEGER, test_dataset_id INTEGER, truth_dataset_id INTEGER);
CREATE TABLE IF NOT EXISTS tracker_trend (
    trend_id INTEGER PRIMARY KEY AUTOINCREMENT, trendgroup_id INTEGER, metric_name TEXT,
    display_name TEXT, unit TEXT DEFAULT '', key_metric INTEGER DEFAULT 0);
CREATE TABLE IF NOT EXISTS tracker_submission (
    submission_id INTEGER PRIMARY KEY AUTOINCREMENT, producer_id INTEGER NOT NULL,
    name TEXT DEFAULT '', uuid TEXT UNIQUE, submit_time TEXT, producer_revision TEXT,
    user_id INTEGER DEFAULT -1, official INTEGER DEFAULT 1, build_results_url TEXT DEFAULT '',
    branch TEXT DEFAULT '', extra_urls TEXT, reproduction_command TEXT, document TEXT);
CREATE TABLE IF NOT EXISTS tracker_scalar (
    scalar_id INTEGER PRIMARY KEY AUTOINCREMENT, trend_id INTEGER, value REAL,
    submission_id INTEGER);
CREATE TABLE IF NOT EXISTS tracker_submission2item (
    submission_id INTEGER, item_id INTEGER, label TEXT, trendgroup_id INTEGER);
CREATE TABLE IF NOT EXISTS tracker_param (
    param_id INTEGER PRIMARY KEY AUTOINCREMENT, submission_id INTEGER, param_name TEXT,
    param_type TEXT, text_value TEXT, numeric_value REAL);
CREATE TABLE IF NOT EXISTS tracker1_producer (
    producer_id INTEGER PRIMARY KEY AUTOINCREMENT, community_id INTEGER, display_name TEXT);
CREATE TABLE IF NOT EXISTS tracker1_trend (
    trend_id INTEGER PRIMARY KEY AUTOINCREMENT, producer_id INTEGER, metric_name TEXT,
    unit TEXT, config_item_id INTEGER, test_dataset_id INTEGER, truth_dataset_id INTEGER);
CREATE TABLE IF NOT EXISTS tracker1_submission (
    submission_id INTEGER PRIMARY KEY AUTOINCREMENT, producer_id INTEGER, name TEXT,
    uuid TEXT UNIQUE, submit_time TEXT);
CREATE TABLE IF NOT EXISTS tracker1_scalar (
    scalar_id INTEGER PRIMARY KEY AUTOINCREMENT, trend_id INTEGER, user_id INTEGER,
    submission_id INTEGER, official INTEGER, build_results_url TEXT, extra_urls TEXT,
    branch TEXT, submit_time TEXT, value REAL, producer_revision TEXT,
    reproduction_command TEXT, params TEXT);
CREATE TABLE IF NOT EXISTS tracker1_scalar2item (
    scalar_id INTEGER, item_id INTEGER, label TEXT);
CREATE TABLE IF NOT EXISTS batchmake_task (
    batchmake_task_id INTEGER PRIMARY KEY AUTOINCREMENT, user_id INTEGER);
CREATE TABLE IF NOT EXISTS condor_dag (
    condor_dag_id INTEGER PRIMARY KEY AUTOINCREMENT, batchmake_task_id INTEGER,
    out_filename TEXT, dag_filename TEXT);
CREATE TABLE IF NOT EXISTS condor_job (
    condor_job_id INTEGER PRIMARY KEY AUTOINCREMENT, condor_dag_id INTEGER,
    jobdefinition_filename TEXT, output_filename TEXT, error_filename TEXT,
    log_filename TEXT, post_filename TEXT);
"""


class ServerStopped(ConnectionAbortedError):
    """The emulator stopped while a request was still being handled.

    A connection error, so that the HTTP layer drops the request quietly.
    """


class _Session(threading.local):
    """The connection a thread holds, and how deeply its sessions nest."""

    connection: Optional[sqlite3.Connection] = None
    depth = 0
    writing = False


class Database:
    """The SQLite database of one emulator data directory.

    :param path: the database file (created with its schema if missing).
    """

    def __init__(self, path: str) -> None:
        self.path = path
        self._readers: queue.SimpleQueue[sqlite3.Connection] = queue.SimpleQueue()
        self._writers: queue.SimpleQueue[sqlite3.Connection] = queue.SimpleQueue()
        self._pool_lock = threading.Lock()
        self._closed = False
        self._write_lock = threading.Lock()
        self._session = _Session()
        self._counter = itertools.count()
        self._statements = 0
        setup = self._connect(read_only=False)
        setup.execute("PRAGMA journal_mode=WAL")
        setup.executescript(_SCHEMA)
        self._writers.put(setup)

    @property
    def statements(self) -> int:
        """How many SQL statements ran since the database was opened (approximate under load)."""
        return self._statements

    def _count(self) -> None:
        self._statements = next(self._counter) + 1

    def _connect(self, read_only: bool) -> sqlite3.Connection:
        connection = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None,
                                     cached_statements=256)
        connection.row_factory = sqlite3.Row
        connection.execute("PRAGMA synchronous=NORMAL")
        connection.execute("PRAGMA busy_timeout=10000")
        if read_only:
            connection.execute("PRAGMA query_only=ON")
        return connection

    def _borrow(self, read_only: bool) -> sqlite3.Connection:
        if self._closed:
            raise ServerStopped("the emulator has stopped")
        pool = self._readers if read_only else self._writers
        try:
            return pool.get_nowait()
        except queue.Empty:
            return self._connect(read_only)

    def _give_back(self, connection: sqlite3.Connection, read_only: bool) -> None:
        with self._pool_lock:
            if not self._closed:
                (self._readers if read_only else self._writers).put(connection)
                return
        connection.close()  # the database closed while this connection was in use

    def close(self) -> None:
        """Close every idle connection; one in use is closed when its session ends.

        (Closing a connection that another thread is using can crash SQLite.)
        """
        with self._pool_lock:
            self._closed = True
        for pool in (self._readers, self._writers):
            while True:
                try:
                    pool.get_nowait().close()
                except queue.Empty:
                    break

    # -- sessions -----------------------------------------------------------------------------

    @contextlib.contextmanager
    def read(self) -> Iterator[None]:
        """Run the block's statements on one read-only connection, without a transaction.

        Inside a write session the block simply joins it.
        """
        session = self._session
        if session.depth:
            session.depth += 1
            try:
                yield
            finally:
                session.depth -= 1
            return
        connection = self._borrow(read_only=True)
        session.connection, session.depth = connection, 1
        try:
            yield
        finally:
            session.connection, session.depth = None, 0
            self._give_back(connection, read_only=True)

    @contextlib.contextmanager
    def write(self) -> Iterator[None]:
        """Run the block as one write transaction (nested write blocks join it).

        :raises RuntimeError: inside a read session (the block should have been a write).
        """
        session = self._session
        if session.depth:
            if not session.writing:
                raise RuntimeError("a write inside a read session")
            session.depth += 1
            try:
                yield
            finally:
                session.depth -= 1
            return
        connection = self._borrow(read_only=False)
        with self._write_lock:
            session.connection, session.depth, session.writing = connection, 1, True
            try:
                self._count()
                connection.execute("BEGIN IMMEDIATE")
                try:
                    yield
                except ApiError:
                    self._finish(connection, "COMMIT")
                    raise
                except BaseException:
                    self._finish(connection, "ROLLBACK")
                    raise
                self._finish(connection, "COMMIT")
            finally:
                session.connection, session.depth, session.writing = None, 0, False
                self._give_back(connection, read_only=False)

    def _finish(self, connection: sqlite3.Connection, statement: str) -> None:
        if connection.in_transaction:
            self._count()
            connection.execute(statement)

    # -- statements ---------------------------------------------------------------------------

    def _execute(self, sql: str, args: Iterable[Any]) -> sqlite3.Cursor:
        connection = self._session.connection
        assert connection is not None, "a statement outside a session"
        self._count()
        return connection.execute(sql, tuple(args))

    def all(self, sql: str, args: Iterable[Any] = ()) -> List[Row]:
        """Run a query and return every row.

        :param sql: the SQL text with ``?`` placeholders.
        :param args: the placeholder values.
        :returns: the rows.
        """
        if self._session.connection is None:
            with self.read():
                return self.all(sql, args)
        return self._execute(sql, args).fetchall()

    def one(self, sql: str, args: Iterable[Any] = ()) -> Optional[Row]:
        """Run a query and return its first row, or ``None``.

        :param sql: the SQL text with ``?`` placeholders.
        :param args: the placeholder values.
        :returns: the first row or ``None``.
        """
        if self._session.connection is None:
            with self.read():
                return self.one(sql, args)
        cursor = self._execute(sql, args)
        row: Optional[Row] = cursor.fetchone()  # every connection's row_factory is Row
        cursor.close()
        return row

    def run(self, sql: str, args: Iterable[Any] = ()) -> int:
        """Execute a statement that changes data.

        :param sql: the SQL text with ``?`` placeholders.
        :param args: the placeholder values.
        :returns: the number of rows changed.
        """
        with self.write():
            return self._execute(sql, args).rowcount

    def insert(self, table: str, **values: Any) -> int:
        """Insert one row.

        :param table: table name (internal, never from a request).
        :param values: column values.
        :returns: the new row id.
        """
        columns = ", ".join(values)
        marks = ", ".join("?" for _ in values)
        with self.write():
            cursor = self._execute(f"INSERT INTO {table} ({columns}) VALUES ({marks})",
                                   values.values())
            return int(cursor.lastrowid or 0)

    def update(self, table: str, key: str, key_value: Any, **values: Any) -> None:
        """Update columns of the row whose ``key`` column equals ``key_value``.

        :param table: table name (internal).
        :param key: name of the identifying column.
        :param key_value: its value.
        :param values: the columns to set.
        """
        if not values:
            return
        assignments = ", ".join(f"{column} = ?" for column in values)
        with self.write():
            self._execute(f"UPDATE {table} SET {assignments} WHERE {key} = ?",
                          (*values.values(), key_value))
