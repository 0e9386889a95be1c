"""Persistent state of the emulator: SQLite metadata and a content-addressed asset store.

All metadata (users, keys, tokens, communities, groups, folders, items,
revisions, bitstreams, policies, metadata, module tables) lives in one SQLite
file, ``midas.sqlite``, inside the data directory, in WAL mode. One connection
is shared by all request threads and guarded by :attr:`Store.lock`; every API
call runs as one transaction under that lock (see :mod:`pydas.testing.server`).

File contents live under ``assetstore/ab/cd/<md5>`` (the layout of the real
server), written once per distinct content. Uploads in progress are plain files
under ``uploads/``, one per upload token; a token is valid exactly as long as
its file exists, which is also how the real server decides.
"""

import hashlib
import os
import sqlite3
import threading
from typing import Any, Iterable, List, Optional, Tuple

from pydas.testing.uploads import Uploads

__all__ = ["Store", "md5_of_file", "CHUNK_SIZE"]

#: Size of the blocks in which file bytes are copied, hashed and sent.
CHUNK_SIZE = 256 * 1024

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
CREATE TABLE IF NOT EXISTS mfa_token (
    mfa_token_id INTEGER PRIMARY KEY AUTOINCREMENT, user_id INTEGER NOT NULL,
    token_id INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS grp (
    group_id INTEGER PRIMARY KEY AUTOINCREMENT, community_id INTEGER, name TEXT);
CREATE TABLE IF NOT EXISTS group_user (
    group_id INTEGER NOT NULL, user_id INTEGER NOT NULL, PRIMARY KEY (group_id, user_id));
CREATE TABLE IF NOT EXISTS community (
    community_id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT, description TEXT,
    creation TEXT, privacy INTEGER, folder_id INTEGER, admingroup_id INTEGER,
    moderatorgroup_id INTEGER, membergroup_id INTEGER, can_join INTEGER,
    view INTEGER DEFAULT 0, uuid TEXT);
CREATE TABLE IF NOT EXISTS folder (
    folder_id INTEGER PRIMARY KEY AUTOINCREMENT, parent_id INTEGER, name TEXT,
    description TEXT, date_update TEXT, date_creation TEXT, view INTEGER DEFAULT 0,
    teaser TEXT DEFAULT '', uuid TEXT);
CREATE TABLE IF NOT EXISTS folderpolicyuser (
    folder_id INTEGER, user_id INTEGER, policy INTEGER, PRIMARY KEY (folder_id, user_id));
CREATE TABLE IF NOT EXISTS folderpolicygroup (
    folder_id INTEGER, group_id INTEGER, policy INTEGER, PRIMARY KEY (folder_id, group_id));
CREATE TABLE IF NOT EXISTS item (
    item_id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT, description TEXT,
    type INTEGER DEFAULT 0, sizebytes INTEGER DEFAULT 0, date_creation TEXT,
    date_update TEXT, thumbnail_id INTEGER, view INTEGER DEFAULT 0,
    download INTEGER DEFAULT 0, uuid TEXT);
CREATE TABLE IF NOT EXISTS item2folder (
    link_id INTEGER PRIMARY KEY AUTOINCREMENT, item_id INTEGER, folder_id INTEGER);
CREATE TABLE IF NOT EXISTS itempolicyuser (
    item_id INTEGER, user_id INTEGER, policy INTEGER, PRIMARY KEY (item_id, user_id));
CREATE TABLE IF NOT EXISTS itempolicygroup (
    item_id INTEGER, group_id INTEGER, policy INTEGER, PRIMARY KEY (item_id, group_id));
CREATE TABLE IF NOT EXISTS itemrevision (
    itemrevision_id INTEGER PRIMARY KEY AUTOINCREMENT, item_id INTEGER, revision INTEGER,
    date TEXT, changes TEXT DEFAULT '', user_id INTEGER, license_id INTEGER, uuid TEXT);
CREATE TABLE IF NOT EXISTS bitstream (
    bitstream_id INTEGER PRIMARY KEY AUTOINCREMENT, itemrevision_id INTEGER,
    assetstore_id INTEGER DEFAULT 1, name TEXT, mimetype TEXT, sizebytes INTEGER,
    checksum TEXT, path TEXT, date TEXT);
CREATE INDEX IF NOT EXISTS bitstream_checksum ON bitstream (checksum);
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
    producer_id INTEGER PRIMARY KEY AUTOINCREMENT, community_id INTEGER, display_name TEXT);
CREATE TABLE IF NOT EXISTS tracker_trend (
    trend_id INTEGER PRIMARY KEY AUTOINCREMENT, producer_id INTEGER, metric_name TEXT,
    unit TEXT, config_item_id INTEGER, test_dataset_id INTEGER, truth_dataset_id INTEGER);
CREATE TABLE IF NOT EXISTS tracker_submission (
    submission_id INTEGER PRIMARY KEY AUTOINCREMENT, producer_id INTEGER, name TEXT,
    uuid TEXT UNIQUE, submit_time TEXT);
CREATE TABLE IF NOT EXISTS tracker_scalar (
    scalar_id INTEGER PRIMARY KEY AUTOINCREMENT, trend_id INTEGER, user_id INTEGER,
    submission_id INTEGER, official INTEGER, build_results_url TEXT, extra_urls TEXT,
    branch TEXT, submit_time TEXT, value REAL, producer_revision TEXT,
    reproduction_command TEXT, params TEXT);
CREATE TABLE IF NOT EXISTS tracker_scalar2item (
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

_PREDEFINED_METADATA = (
    ("contributor", "author"),
    ("date", "uploaded"),
    ("date", "issued"),
    ("date", "created"),
    ("identifier", "citation"),
    ("identifier", "uri"),
    ("identifier", "pubmed"),
    ("identifier", "doi"),
    ("description", "general"),
    ("description", "provenance"),
    ("description", "sponsorship"),
    ("description", "publisher"),
    ("subject", "keyword"),
    ("subject", "ocis"),
)


class Store:
    """The SQLite database and the file store of one emulator data directory.

    :param data_dir: directory holding ``midas.sqlite``, ``assetstore/`` and
        ``uploads/``; created if missing.
    """

    def __init__(self, data_dir: str) -> None:
        self.data_dir = data_dir
        self.asset_dir = os.path.join(data_dir, "assetstore")
        self.upload_dir = os.path.join(data_dir, "uploads")
        os.makedirs(self.asset_dir, exist_ok=True)
        #: The open upload tokens and their temporary files.
        self.uploads = Uploads(self.upload_dir)
        #: Serialises every use of :attr:`conn`; re-entrant so helpers may nest.
        self.lock = threading.RLock()
        self.conn = sqlite3.connect(
            os.path.join(data_dir, "midas.sqlite"), check_same_thread=False, isolation_level=None
        )
        self.conn.row_factory = sqlite3.Row
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA synchronous=NORMAL")
        with self.lock:
            self.conn.executescript(_SCHEMA)
            count = self.one("SELECT COUNT(*) AS n FROM metadata")
            if count is not None and count["n"] == 0:
                for element, qualifier in _PREDEFINED_METADATA:
                    self.insert(
                        "metadata", metadatatype=0, element=element, qualifier=qualifier
                    )

    def close(self) -> None:
        """Close the database connection."""
        self.uploads.close()
        with self.lock:
            self.conn.close()

    # -- transactions -------------------------------------------------------------

    def begin(self) -> None:
        """Start a transaction (the caller holds :attr:`lock`)."""
        self.conn.execute("BEGIN IMMEDIATE")

    def commit(self) -> None:
        """Commit the current transaction, if any."""
        if self.conn.in_transaction:
            self.conn.execute("COMMIT")

    def rollback(self) -> None:
        """Roll back the current transaction, if any."""
        if self.conn.in_transaction:
            self.conn.execute("ROLLBACK")

    # -- queries ------------------------------------------------------------------

    def all(self, sql: str, args: Iterable[Any] = ()) -> List[sqlite3.Row]:
        """Run a query and return every row.

        :param sql: the SQL text with ``?`` placeholders.
        :param args: the placeholder values.
        :returns: the rows.
        """
        with self.lock:
            return self.conn.execute(sql, tuple(args)).fetchall()

    def one(self, sql: str, args: Iterable[Any] = ()) -> Optional[sqlite3.Row]:
        """Run a query and return its first row, or ``None``.

        :param sql: the SQL text with ``?`` placeholders.
        :param args: the placeholder values.
        :returns: the first row or ``None``.
        """
        with self.lock:
            return self.conn.execute(sql, tuple(args)).fetchone()

    def run(self, sql: str, args: Iterable[Any] = ()) -> int:
        """Execute a statement.

        :param sql: the SQL text with ``?`` placeholders.
        :param args: the placeholder values.
        :returns: the number of rows changed.
        """
        with self.lock:
            return self.conn.execute(sql, tuple(args)).rowcount

    def insert(self, table: str, **values: Any) -> int:
        """Insert one row.

        :param table: table name (internal, never from a request).
        :param values: column values.
        :returns: the new row id.
        """
        columns = ", ".join(values)
        marks = ", ".join("?" for _ in values)
        with self.lock:
            cursor = self.conn.execute(
                f"INSERT INTO {table} ({columns}) VALUES ({marks})", tuple(values.values())
            )
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
        with self.lock:
            self.conn.execute(
                f"UPDATE {table} SET {assignments} WHERE {key} = ?",
                (*values.values(), key_value),
            )

    # -- file bytes ---------------------------------------------------------------

    def asset_path(self, checksum: str) -> str:
        """Return the absolute path of the stored content with this MD5.

        :param checksum: MD5 hex digest.
        :returns: ``<data dir>/assetstore/ab/cd/<md5>``.
        """
        return os.path.join(self.asset_dir, self.relative_asset_path(checksum))

    @staticmethod
    def relative_asset_path(checksum: str) -> str:
        """Return the store-relative path of a content: ``ab/cd/<md5>``.

        :param checksum: MD5 hex digest.
        :returns: the relative path with ``/`` separators.
        """
        return f"{checksum[0:2]}/{checksum[2:4]}/{checksum}"

    def adopt_file(self, path: str, checksum: str) -> str:
        """Move a finished file into the asset store, or drop it if the content is known.

        :param path: the file to take over (removed afterwards either way).
        :param checksum: its MD5 hex digest.
        :returns: the store-relative path of the content.
        """
        target = self.asset_path(checksum)
        if os.path.exists(target):
            os.remove(path)
        else:
            os.makedirs(os.path.dirname(target), exist_ok=True)
            os.replace(path, target)
        return self.relative_asset_path(checksum)


def md5_of_file(path: str) -> Tuple[str, int]:
    """Hash a file in chunks.

    :param path: the file.
    :returns: ``(md5 hex digest, size in bytes)``.
    """
    digest = hashlib.md5()
    size = 0
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(CHUNK_SIZE), b""):
            digest.update(block)
            size += len(block)
    return digest.hexdigest(), size

