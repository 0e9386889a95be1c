"""The ``/download/`` endpoint: files, ZIP archives and link redirects (§5).

:func:`download` decides what to send in one read session and returns an
answer (:mod:`pydas.testing.answers`) whose bytes the HTTP layer streams
afterwards, outside the session.
"""

import re
from typing import Any, Callable, Dict, List, Optional

from pydas.testing.answers import ErrorPage, FileDownload, Redirect, ZipDownload, ZipEntry
from pydas.testing.backend import ANONYMOUS, READ, Backend, Caller, Row
from pydas.testing.backend.values import as_int

__all__ = ["download"]

# PHP's is_numeric, near enough: a decimal number, blanks around it allowed.
_NUMERIC = re.compile(r"\s*[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?\s*")


def _counter(backend: Backend, item_ids: List[int]) -> Callable[[], None]:
    """Count one download of each item once the answer was sent."""

    def count() -> None:
        for item_id in item_ids:
            backend.items.count_download(item_id)

    return count


def _is_link(bitstream: Row) -> bool:
    return str(bitstream["path"]).startswith(("http://", "https://"))


def _entry(backend: Backend, name: str, bitstream: Row) -> ZipEntry:
    checksum = bitstream["checksum"]
    return ZipEntry(name, bitstream["sizebytes"],
                    lambda offset: backend.files.open(checksum, offset))


def _file(backend: Backend, bitstream: Row, name: str, offset: int = 0,
          after: Any = None) -> FileDownload:
    checksum = bitstream["checksum"]
    size = backend.files.size(checksum)
    return FileDownload(
        name, bitstream["mimetype"] or "application/octet-stream", size,
        lambda start: backend.files.open(checksum, start),
        offset if 0 < offset <= size else 0, after,
    )


def _item(backend: Backend, caller: Caller, spec: str) -> Any:
    item_text, _, revision_text = spec.partition(",")
    items = backend.items
    item = items.get_for(as_int(item_text), caller)
    if item is None:
        return ErrorPage(404, f"Item does not exist: {item_text}")
    if item["level"] < READ:
        return ErrorPage(403, "You do not have the permission to download this item.")
    if revision_text:
        revision = items.revision(item["item_id"], as_int(revision_text))
    else:
        revision = items.head(item["item_id"])
    bitstreams = [] if revision is None else items.bitstreams(revision["itemrevision_id"])
    count = _counter(backend, [item["item_id"]])
    archive = f"{item['name'][:50]}.zip"
    if not bitstreams:
        return ZipDownload(archive, [], count)
    if len(bitstreams) == 1:
        if _is_link(bitstreams[0]):
            return Redirect(bitstreams[0]["path"])
        return _file(backend, bitstreams[0], bitstreams[0]["name"], after=count)
    entries = [_entry(backend, row["name"], row) for row in bitstreams if not _is_link(row)]
    return ZipDownload(archive, entries, count)


def _folder_entries(backend: Backend, caller: Caller, folder: Row, prefix: str,
                    entries: List[ZipEntry], item_ids: List[int]) -> None:
    items = backend.items
    base = f"{prefix}{folder['name']}"
    for item in items.in_folder(folder["folder_id"], caller):
        item_ids.append(item["item_id"])
        head = items.head(item["item_id"])
        if head is None:
            entries.append(ZipEntry(f"{base}/{item['name']}", 0))
            continue
        bitstreams = [row for row in items.bitstreams(head["itemrevision_id"])
                      if not _is_link(row)]
        if len(bitstreams) == 1 and bitstreams[0]["name"] == item["name"]:
            entries.append(_entry(backend, f"{base}/{item['name']}", bitstreams[0]))
            continue
        for row in bitstreams:
            entries.append(_entry(backend, f"{base}/{item['name']}/{row['name']}", row))
    for child in backend.folders.children(folder["folder_id"], caller):
        _folder_entries(backend, caller, child, f"{base}/", entries, item_ids)


def _folder(backend: Backend, caller: Caller, folder_text: str) -> Any:
    folder = backend.folders.get_for(as_int(folder_text), caller)
    if folder is None:
        return ErrorPage(404, f"Folder does not exist: {folder_text}")
    if folder["level"] < READ:
        return ErrorPage(403, "You do not have the permission to download this folder.")
    owner = backend.folders.owner_name(folder["folder_id"])
    entries: List[ZipEntry] = []
    item_ids: List[int] = []
    _folder_entries(backend, caller, folder, "", entries, item_ids)
    return ZipDownload(f"{owner}-{folder['name'][:50]}.zip", entries,
                       _counter(backend, item_ids))


def _bitstream(backend: Backend, caller: Caller, params: Dict[str, str]) -> Any:
    """A bitstream by id, as the real server's download controller sends it.

    It checks less than ``midas.bitstream.download`` and answers with HTML
    error pages: an unknown id is a 404, a bitstream the caller may not read
    (or one outside any revision) a 500 "Permission denied", and a link a 500
    as well (the controller looks for the URL on its disk).
    """
    bitstream = backend.items.bitstream(as_int(params["bitstream"]))
    if bitstream is None:
        return ErrorPage(404, "Invalid bitstream id")
    owner = bitstream["owner_item"]
    if owner is None or backend.policies.level("item", owner, caller) < READ:
        return ErrorPage(500, "Permission denied")
    if _is_link(bitstream):
        return ErrorPage(500, "Unable to find file on the disk")
    offset = as_int(params.get("offset", "0"))
    name = params["name"] if "name" in params else bitstream["name"]
    return _file(backend, bitstream, name, offset, _counter(backend, [owner]))


def download(backend: Backend, params: Dict[str, str]) -> Any:
    """Answer ``/download/`` for the given parameters (query string and form body alike).

    :param backend: the server's state.
    :param params: ``bitstream`` (with ``offset``, ``name``) or ``items`` or
        ``folders``, plus ``authToken``.
    :returns: a :class:`FileDownload`, :class:`ZipDownload`, :class:`Redirect` or
        :class:`ErrorPage`.
    """
    with backend.read():
        token: Optional[str] = params.get("authToken")
        caller = backend.users.caller(token) if token is not None else ANONYMOUS
        if caller is None:
            return ErrorPage(500, "Invalid token")
        # the real controller tries a numeric bitstream id first, whatever else is given
        if _NUMERIC.fullmatch(params.get("bitstream", "")):
            return _bitstream(backend, caller, params)
        if params.get("items"):
            return _item(backend, caller, params["items"])
        if params.get("folders"):
            return _folder(backend, caller, params["folders"])
        return ErrorPage(500, "No parameters, expecting itemIds or folderIds.")
