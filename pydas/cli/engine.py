"""The command's access to server paths and to the transfer engine.

This is the only module of the command that uses private parts of pydas
(:mod:`pydas._transfer`, whose path resolution :mod:`pydas.api` uses too): the
public :func:`pydas.upload` takes one pattern and no exclude patterns, and
the library has no public call for listing a server path. When the library
offers those, this module shrinks to calls of the public API.
"""

import fnmatch
import posixpath
from typing import Any, Dict, Iterator, List, Optional, Sequence, Tuple

from pydas import _transfer, api

__all__ = [
    "children",
    "create_scratch_folder",
    "delete_folder",
    "destination_id",
    "exclude",
    "folder_by_id",
    "head_bitstreams",
    "home_folders",
    "item",
    "local_files",
    "name",
    "resolve",
    "scan",
    "upload",
]

Entry = Any  # a LocalFile or LocalDirectory of the engine's scan


def _remote() -> _transfer.Remote:
    return api._remote()


def name(resource: Dict[str, Any]) -> str:
    """The name of a server folder, item or bitstream, repaired from double encoding."""
    return str(_transfer.repair_text(resource.get("name", "")))


def resolve(server_path: str) -> Tuple[str, Dict[str, Any]]:
    """Resolve a server path to ``("folder", folder)`` or ``("item", item)``.

    :raises pydas.exceptions.PathNotFound: naming the path
    """
    return _transfer.resolve(_remote(), server_path)


def home_folders() -> List[Dict[str, Any]]:
    """The folders at the top of the logged-in user's home (``Private``, ``Public``...)."""
    remote = _remote()
    return list(remote.call(remote.communicator.list_user_folders) or [])


def children(folder_id: Any) -> Dict[str, List[Dict[str, Any]]]:
    """The sub-folders and items of a folder: ``{"folders": [...], "items": [...]}``."""
    remote = _remote()
    answer = remote.call(remote.communicator.folder_children, folder_id=folder_id) or {}
    return {"folders": list(answer.get("folders") or []), "items": list(answer.get("items") or [])}


def item(item_id: Any) -> Dict[str, Any]:
    """An item with its revisions and bitstreams."""
    remote = _remote()
    return remote.call(remote.communicator.item_get, item_id=item_id)


def head_bitstreams(item_answer: Dict[str, Any]) -> List[Dict[str, Any]]:
    """The bitstreams of an item's head revision."""
    revision = _transfer.head_revision(item_answer) or {}
    return list(revision.get("bitstreams") or [])


def folder_by_id(folder_id: Any) -> Dict[str, Any]:
    """A folder given by its id.

    :raises pydas.exceptions.InvalidPolicy: if it does not exist or may not be read
    """
    return _transfer.folder_by_id(_remote(), folder_id)


def destination_id(destination: str) -> Any:
    """The id of the folder a server path names.

    :raises pydas.exceptions.PathNotFound: if it does not exist or is an item
    """
    return _transfer.destination_folder(_remote(), destination)


def create_scratch_folder(folder_name: str, parent_id: Any) -> Any:
    """Create a new folder and return its id; refuse to reuse one that exists.

    The real server answers ``folder.create`` with the existing folder when the
    name is taken, so the parent is listed before and the answer checked.

    :raises FileExistsError: if a folder of that name is already there
    """
    listing = children(parent_id)["folders"]
    before = {str(folder["folder_id"]) for folder in listing}
    if all(name(folder) != folder_name for folder in listing):
        remote = _remote()
        created = remote.call(
            remote.communicator.create_folder, name=folder_name, parent_id=parent_id
        )
        if str(created["folder_id"]) not in before:
            return created["folder_id"]
    raise FileExistsError(f"a folder named {folder_name!r} exists already")


def delete_folder(folder_id: Any) -> None:
    """Delete a server folder and everything in it."""
    remote = _remote()
    remote.call(remote.communicator.delete_folder, folder_id=folder_id)


def scan(paths: Sequence[str]) -> Tuple[List[Entry], List[str]]:
    """Scan local paths (or glob patterns) as :func:`pydas.upload` does, nothing sent.

    :returns: the entries of all paths in order, and the skipped-path messages
    :raises pydas.exceptions.LocalInputError: when a path matches nothing or cannot be read
    """
    entries: List[Entry] = []
    skipped: List[str] = []
    for path in paths:
        found, passed_over = _transfer.scan(path)
        entries.extend(found)
        skipped.extend(passed_over)
    return entries, skipped


def _excluded(entry_name: str, relative: str, patterns: Sequence[str]) -> bool:
    return any(
        fnmatch.fnmatchcase(entry_name, pattern) or fnmatch.fnmatchcase(relative, pattern)
        for pattern in patterns
    )


def exclude(
    entries: Sequence[Entry], patterns: Sequence[str], parent: str = ""
) -> List[Entry]:
    """Leave out the entries matching any pattern, at every level.

    A pattern is matched against the name of each file and directory and
    against its path relative to the uploaded path (``/``-separated), so
    ``*.tmp`` leaves out every ``.tmp`` file and ``scans/raw`` one directory.
    A directory left out takes everything in it along; a directory whose
    sub-directories are all left out counts as a leaf folder.

    :returns: the remaining entries (directories rebuilt without what was left out)
    """
    if not patterns:
        return list(entries)
    kept: List[Entry] = []
    for entry in entries:
        relative = posixpath.join(parent, entry.name) if parent else entry.name
        if _excluded(entry.name, relative, patterns):
            continue
        if isinstance(entry, _transfer.LocalDirectory):
            entry = _transfer.LocalDirectory(entry.path, exclude(entry.entries, patterns,
                                                                 relative))
        kept.append(entry)
    return kept


def local_files(entries: Sequence[Entry], parent: str = "") -> Iterator[Tuple[str, str, int]]:
    """Every file of scanned entries: ``(local path, server-relative path, size)``."""
    for entry in entries:
        relative = posixpath.join(parent, entry.name) if parent else entry.name
        if isinstance(entry, _transfer.LocalDirectory):
            yield from local_files(entry.entries, relative)
        else:
            yield entry.path, relative, entry.size


def upload(
    entries: Sequence[Entry],
    skipped: Sequence[str],
    folder_id: Any,
    *,
    reuse_existing: bool,
    leaf_folders_as_items: bool,
    workers: int,
    quiet: bool,
    progress: Optional[bool],
) -> None:
    """Upload scanned entries into a server folder, as :func:`pydas.upload` does."""
    reporter = _transfer.Reporter(quiet=quiet, bar=progress)
    try:
        for line in skipped:
            reporter.warn(line)
        options = _transfer.TransferOptions(
            workers=workers,
            quiet=quiet,
            bar=progress,
            reuse_existing=reuse_existing,
            leaf_folders_as_items=leaf_folders_as_items,
        )
        _transfer.upload_entries(_remote(), entries, folder_id, options, reporter)
    finally:
        reporter.close()
