"""The ``/download/`` endpoint: files, streamed ZIP archives and link redirects (§5).

:func:`download_response` decides what to send while holding the store lock and
returns a :class:`Response` whose body is produced afterwards, without the lock,
straight onto the socket in chunks. ZIP archives are written by :mod:`zipfile`
to the non-seekable socket stream (entries carry data descriptors), so an
archive of any size needs constant memory and is sent without a
``Content-Length`` (the connection closes at its end, as on the real server).
"""

import os
import time
import zipfile
from dataclasses import dataclass, field
from email.utils import formatdate
from html import escape
from typing import BinaryIO, Callable, Dict, List, Optional, Tuple

from pydas.testing.dispatch import ServerConfig
from pydas.testing.model import READ, Model, Row, as_int
from pydas.testing.store import CHUNK_SIZE, Store

__all__ = ["Response", "download_response", "html_page"]

#: Entries at least this large are stored rather than deflated (as the real server does).
_DEFLATE_LIMIT = 20 * 1024 * 1024


@dataclass
class Response:
    """An HTTP answer for the handler to send.

    :param status: HTTP status.
    :param headers: header (name, value) pairs; values are text whose characters are
        sent as single bytes (Latin-1), so raw UTF-8 is passed pre-decoded as Latin-1.
    :param body: the body, when it is small and known.
    :param stream: a function that writes the body to a file-like object instead.
    :param length: the ``Content-Length`` to announce for a streamed body, or ``None``
        for none (the connection then closes after the body).
    :param after: called once the whole body was sent (download counters).
    :param close: close the connection after this answer.
    """

    status: int
    headers: List[Tuple[str, str]] = field(default_factory=list)
    body: bytes = b""
    stream: Optional[Callable[[BinaryIO], None]] = None
    length: Optional[int] = None
    after: Optional[Callable[[], None]] = None
    close: bool = False


def html_page(status: int, text: str) -> Response:
    """Return a small HTML error page like the real server's.

    :param status: HTTP status.
    :param text: the message shown (plain text, escaped here).
    :returns: the response.
    """
    body = (
        "<!DOCTYPE html>\n<html><head><title>Midas Server - Error</title></head>\n"
        f"<body><h1>An error occurred</h1><p>{escape(text)}</p></body></html>\n"
    ).encode()
    return Response(status, [("Content-Type", "text/html; charset=UTF-8")], body)


def _latin1_header(text: str) -> str:
    """Pass text through an HTTP header as raw UTF-8 bytes."""
    return text.encode("utf-8", "surrogateescape").decode("latin-1")


def _copy_file(path: str, out: BinaryIO, offset: int = 0) -> None:
    with open(path, "rb") as handle:
        if offset:
            handle.seek(offset)
        for block in iter(lambda: handle.read(CHUNK_SIZE), b""):
            out.write(block)


def _zip_writer(entries: List[Tuple[str, Optional[str], int]]) -> Callable[[BinaryIO], None]:
    """Return a function writing a ZIP of ``(archive name, file path or None, size)``."""

    def write(out: BinaryIO) -> None:
        with zipfile.ZipFile(out, mode="w", allowZip64=True) as archive:
            for name, path, size in entries:
                info = zipfile.ZipInfo(name, date_time=time.gmtime()[:6])
                info.compress_type = (
                    zipfile.ZIP_DEFLATED if size < _DEFLATE_LIMIT else zipfile.ZIP_STORED
                )
                # Same-named bitstreams give same-named entries, as on the real
                # server; forget the earlier one so zipfile does not warn.
                archive.NameToInfo.pop(name, None)
                with archive.open(info, "w", force_zip64=size >= 2**31) as target:
                    if path is not None:
                        _copy_file(path, target)  # type: ignore[arg-type]

    return write


def _zip_response(name: str, entries: List[Tuple[str, Optional[str], int]],
                  after: Optional[Callable[[], None]] = None) -> Response:
    headers = [
        ("Content-Type", "application/x-zip"),
        ("Content-Disposition", _latin1_header(f'attachment; filename="{name}"')),
        ("Pragma", "public"),
        ("Cache-Control", "public, must-revalidate"),
        ("Content-Transfer-Encoding", "binary"),
    ]
    return Response(200, headers, stream=_zip_writer(entries), length=None, after=after,
                    close=True)


def _file_response(db: Store, bitstream: Row, name: str, offset: int, config: ServerConfig,
                   after: Optional[Callable[[], None]] = None) -> Response:
    path = db.asset_path(bitstream["checksum"])
    size = os.path.getsize(path) if os.path.exists(path) else 0
    if not 0 < offset <= size:
        offset = 0
    headers = [
        ("Content-Type", bitstream["mimetype"] or "application/octet-stream"),
        ("Content-Disposition", _latin1_header(f'attachment; filename="{name}"')),
        ("Accept-Ranges", "bytes"),
        ("Expires", "0"),
        ("Cache-Control", "must-revalidate, post-check=0, pre-check=0"),
        ("Last-Modified", formatdate(usegmt=True)),
    ]
    length = size if config.faithful_offset_bug else size - offset
    return Response(
        200, headers, stream=lambda out: _copy_file(path, out, offset), length=length,
        after=after, close=offset > 0 and config.faithful_offset_bug,
    )


def _counter(db: Store, item_id: int) -> Callable[[], None]:
    def count() -> None:
        with db.lock:
            db.run("UPDATE item SET download = download + 1 WHERE item_id = ?", (item_id,))

    return count


def _is_link(bitstream: Row) -> bool:
    return str(bitstream["path"]).startswith(("http://", "https://"))


def _item_download(db: Store, model: Model, user: Optional[Row], spec: str,
                   config: ServerConfig) -> Response:
    item_text, _, revision_text = spec.partition(",")
    item = model.item(item_text)
    if item is None:
        return html_page(404, f"Item does not exist: {item_text}")
    if model.item_level(item["item_id"], user) < READ:
        return html_page(403, "You do not have the permission to download this item.")
    if revision_text:
        revision = model.revision_by_number(item["item_id"], as_int(revision_text))
    else:
        revision = model.head_revision(item["item_id"])
    bitstreams = [] if revision is None else model.bitstreams(revision["itemrevision_id"])
    archive_name = f"{item['name'][:50]}.zip"
    count = _counter(db, item["item_id"])
    if not bitstreams:
        return _zip_response(archive_name, [], count)
    if len(bitstreams) == 1:
        if _is_link(bitstreams[0]):
            return Response(302, [("Location", bitstreams[0]["path"])])
        return _file_response(db, bitstreams[0], bitstreams[0]["name"], 0, config, count)
    entries: List[Tuple[str, Optional[str], int]] = [
        (row["name"], db.asset_path(row["checksum"]), row["sizebytes"])
        for row in bitstreams
        if not _is_link(row)
    ]
    return _zip_response(archive_name, entries, count)


def _folder_entries(db: Store, model: Model, user: Optional[Row], folder: Row, prefix: str,
                    entries: List[Tuple[str, Optional[str], int]]) -> None:
    base = f"{prefix}{folder['name']}"
    for item in model.child_items(folder["folder_id"]):
        if model.item_level(item["item_id"], user) < READ:
            continue
        head = model.head_revision(item["item_id"])
        if head is None:
            entries.append((f"{base}/{item['name']}", None, 0))
            continue
        bitstreams = [row for row in model.bitstreams(head["itemrevision_id"])
                      if not _is_link(row)]
        if len(bitstreams) == 1 and bitstreams[0]["name"] == item["name"]:
            row = bitstreams[0]
            entries.append((f"{base}/{item['name']}", db.asset_path(row["checksum"]),
                            row["sizebytes"]))
            continue
        for row in bitstreams:
            entries.append((f"{base}/{item['name']}/{row['name']}",
                            db.asset_path(row["checksum"]), row["sizebytes"]))
    for child in model.child_folders(folder["folder_id"]):
        if model.folder_level(child["folder_id"], user) >= READ:
            _folder_entries(db, model, user, child, f"{base}/", entries)


def _folder_download(db: Store, model: Model, user: Optional[Row], folder_text: str) -> Response:
    folder = model.folder(folder_text)
    if folder is None:
        return html_page(404, f"Folder does not exist: {folder_text}")
    if model.folder_level(folder["folder_id"], user) < READ:
        return html_page(403, "You do not have the permission to download this folder.")
    top = model.top_folder(folder["folder_id"])
    owner = ""
    if top is not None:
        community = db.one("SELECT name FROM community WHERE folder_id = ?", (top["folder_id"],))
        if community is not None:
            owner = community["name"]
        else:
            person = db.one("SELECT firstname, lastname FROM user WHERE folder_id = ?",
                            (top["folder_id"],))
            if person is not None:
                owner = f"{person['firstname']}{person['lastname']}"
    entries: List[Tuple[str, Optional[str], int]] = []
    _folder_entries(db, model, user, folder, "", entries)
    return _zip_response(f"{owner}-{folder['name'][:50]}.zip", entries)


def _bitstream_download(db: Store, model: Model, user: Optional[Row], params: Dict[str, str],
                        config: ServerConfig) -> Response:
    bitstream = db.one("SELECT * FROM bitstream WHERE bitstream_id = ?",
                       (as_int(params.get("bitstream")),))
    if bitstream is None:
        return html_page(404, f"Bitstream does not exist: {params.get('bitstream')}")
    revision = db.one("SELECT item_id FROM itemrevision WHERE itemrevision_id = ?",
                      (bitstream["itemrevision_id"],))
    if revision is None or model.item_level(revision["item_id"], user) < READ:
        return html_page(403, "You do not have the permission to download this bitstream.")
    if _is_link(bitstream):
        return Response(302, [("Location", bitstream["path"])])
    offset = max(as_int(params.get("offset", "0")), 0)
    name = params.get("name") or bitstream["name"]
    return _file_response(db, bitstream, name, offset, config)


def download_response(db: Store, config: ServerConfig, params: Dict[str, str]) -> Response:
    """Build the answer of ``/download/`` for the given query parameters.

    :param db: the store (its lock is taken here for the lookups).
    :param config: server settings.
    :param params: ``items``/``folders``/``bitstream`` plus ``authToken``,
        ``offset``, ``name``.
    :returns: the response to send.
    """
    with db.lock:
        model = Model(db)
        user = None
        token = params.get("authToken")
        if token:
            user = db.one(
                "SELECT u.* FROM token t JOIN user u ON u.user_id = t.user_id "
                "WHERE t.token = ? AND t.expires > ?",
                (token, time.time()),
            )
            if user is None:
                return html_page(500, "Invalid token")
        if params.get("items"):
            return _item_download(db, model, user, params["items"], config)
        if params.get("folders"):
            return _folder_download(db, model, user, params["folders"])
        if params.get("bitstream"):
            return _bitstream_download(db, model, user, params, config)
        return html_page(404, "Nothing to download")
