"""Server paths: ``/users/<first>_<last>/...``, ``/communities/<name>/...``, ``Private/...``.

A path is resolved one name at a time, with the names compared in the form
:func:`pydas._transfer.names.name_key` gives them, so that non-ASCII names
match whatever the server's double encoding did to them.
"""

from __future__ import annotations

import unicodedata
from typing import Any, Dict, List, Tuple

from pydas import exceptions
from pydas._transfer import answers
from pydas._transfer.names import name_key, repair_text
from pydas._transfer.remote import Remote

__all__ = ["destination_folder", "folder_by_id", "resolve"]


def _split(path: str) -> List[str]:
    """The names of a server path, in the form :func:`name_key` gives server names."""
    return [unicodedata.normalize("NFC", part) for part in path.split("/") if part]


def _find_user(remote: Remote, owner: str) -> Dict[str, Any]:
    """Find the user named ``<first>_<last>``, trying every ``_`` as the separator."""
    communicator = remote.communicator
    for index, character in enumerate(owner):
        if character != "_" or index == 0 or index == len(owner) - 1:
            continue
        user = communicator.get_user_by_name(owner[:index], owner[index + 1 :])
        if user:
            return answers.folder_record(user, "midas.user.get")
    raise exceptions.PathNotFound(f"no user named {owner!r} (expected <firstname>_<lastname>)")


def _descend(
    remote: Remote, path: str, folder: Dict[str, Any], parts: List[str]
) -> Tuple[str, Dict[str, Any]]:
    """Follow ``parts`` down from ``folder``; the last part may name an item."""
    for position, part in enumerate(parts):
        folder_id = folder["folder_id"]
        children = remote.children(folder_id)
        for child in children.folders:
            if name_key(child["name"]) == part:
                folder = child
                break
        else:
            if position == len(parts) - 1:
                for item in children.items:
                    if name_key(item["name"]) == part:
                        return "item", item
            raise exceptions.PathNotFound(
                f"server path {path!r} does not exist (or you may not read it): "
                f"no {part!r} in {repair_text(folder.get('name', folder_id))!r}"
            )
    return "folder", folder


def folder_by_id(remote: Remote, folder_id: Any) -> Dict[str, Any]:
    """Return the folder with this id (``midas.folder.get``)."""
    return remote.folder(folder_id)


def resolve(remote: Remote, path: str) -> Tuple[str, Dict[str, Any]]:
    """Resolve a server path to ``("folder", folder)`` or ``("item", item)``.

    Accepted forms: ``/users/<first>_<last>/...``, ``/communities/<name>/...``
    and ``<home folder>/...`` (``Private``, ``Public``, ... of the logged-in user).

    :raises pydas.exceptions.PathNotFound: naming the path, when it does not resolve
    """
    parts = _split(path)
    if path.startswith("/"):
        if len(parts) < 2 or parts[0] not in ("users", "communities"):
            raise exceptions.PathNotFound(
                f"server path {path!r} does not exist: absolute paths start with "
                "/users/<first>_<last> or /communities/<name>"
            )
        if parts[0] == "users":
            root_id = _find_user(remote, parts[1])["folder_id"]
        else:
            name = parts[1]
            try:
                root_id = remote.community_folder_id(name)
            except (exceptions.InvalidPolicy, exceptions.InvalidParameter):
                raise exceptions.PathNotFound(
                    f"server path {path!r} does not exist: no community {name!r}"
                ) from None
        rest = parts[2:]
        if not rest:
            try:
                return "folder", folder_by_id(remote, root_id)
            except exceptions.InvalidPolicy:
                raise exceptions.PathNotFound(f"you may not read server path {path!r}") from None
        return _descend(remote, path, {"folder_id": root_id, "name": parts[1]}, rest)
    if not parts:
        raise exceptions.PathNotFound("empty server path")
    home = remote.home()
    for folder in home:
        if name_key(folder["name"]) == parts[0]:
            return _descend(remote, path, folder, parts[1:])
    names = ", ".join(repr(repair_text(folder["name"])) for folder in home)
    raise exceptions.PathNotFound(
        f"server path {path!r} does not exist: your home folders are {names}"
    )


def destination_folder(remote: Remote, destination: str) -> Any:
    """Return the id of the folder a server path names.

    :raises pydas.exceptions.PathNotFound: if it does not resolve, or names an item
    """
    kind, resource = resolve(remote, destination)
    if kind != "folder":
        raise exceptions.PathNotFound(f"destination {destination!r} is an item, not a folder")
    return resource["folder_id"]
