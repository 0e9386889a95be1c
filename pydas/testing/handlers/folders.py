"""Folders (midas-web-api.md §4.4)."""

from typing import Any, Dict

from pydas.testing.answers import ApiError, Redirect
from pydas.testing.backend import ADMIN, WRITE, Row
from pydas.testing.backend.records import folder_dict, item_dict
from pydas.testing.backend.values import as_int
from pydas.testing.dispatch import Context, core_method
from pydas.testing.handlers.common import (
    FOLDER_POLICY_ERROR,
    NO_FOLDER,
    auth_suffix,
    readable_folder,
)

__all__ = ["update_by_uuid"]

_NO_FOLDER_DELETE = "This folder doesn't exist  or you don't have the permissions."


def update_by_uuid(ctx: Context, kind: str, row: Row, admin_message: str) -> None:
    """Apply ``name``, ``description`` and ``privacy`` to a folder or item found by uuid.

    :raises ApiError: -151 without Write (or Admin, to change the privacy).
    """
    backend = ctx.backend
    object_id = row[f"{kind}_id"]
    level = backend.policies.level(kind, object_id, ctx.caller())
    if level < WRITE:
        raise ApiError(-151, "Invalid policy")
    changes: Dict[str, Any] = {"name": ctx.get("name")}
    if ctx.has("description"):
        changes["description"] = ctx.get("description")
    (backend.folders if kind == "folder" else backend.items).update(object_id, **changes)
    if ctx.has("privacy"):
        if level < ADMIN:
            raise ApiError(-151, admin_message)
        backend.policies.set_privacy(kind, object_id, ctx.get("privacy") or "")


@core_method("folder.create")
def folder_create(ctx: Context) -> Any:
    """Create a folder, reuse a same-named one, or update one by uuid."""
    (name,) = ctx.require("name")
    caller = ctx.caller()
    user = caller.user
    if user is None:
        raise ApiError(-151, "Cannot create folder anonymously")
    backend = ctx.backend
    folders, policies = backend.folders, backend.policies
    uuid = ctx.get("uuid")
    existing = folders.by_uuid(uuid) if uuid else None
    if existing is not None:
        update_by_uuid(ctx, "folder", existing, "Folder Admin privileges required to set privacy")
        return folder_dict(folders.reload(existing["folder_id"]))
    if not name.strip():
        raise ApiError(0, "Name cannot be empty.")
    (parent_text,) = ctx.require("parentid")
    parent_id = as_int(parent_text)
    if parent_id == -1:
        parent_id = user["folder_id"]
        sibling = folders.child_named(parent_id, name)
        if sibling is not None:
            return folder_dict(sibling)
        folder_id = folders.create(name, parent_id, ctx.get("description") or "", uuid)
        policies.grant("folder", folder_id, ADMIN, user_id=user["user_id"])
    else:
        parent = folders.get_for(parent_id, caller)
        if parent is None:
            raise ApiError(-150, "Parent doesn't exist")
        if parent["level"] < WRITE:
            raise ApiError(-151, "Invalid policy")
        sibling = folders.child_named(parent_id, name)
        if sibling is not None:
            if ctx.has("reuseExisting"):
                return folder_dict(sibling)
            raise ApiError(
                -150,
                "A folder already exists in that parent with that name. "
                "Pass reuseExisting to reuse it.",
            )
        folder_id = folders.create(name, parent_id, ctx.get("description") or "", uuid)
        policies.copy("folder", parent_id, "folder", folder_id)
        policies.grant("folder", folder_id, ADMIN, user_id=user["user_id"])
    if ctx.has("privacy"):
        policies.set_privacy("folder", folder_id, ctx.get("privacy") or "")
    return folder_dict(folders.reload(folder_id))


@core_method("folder.get", session="read")
def folder_get(ctx: Context) -> Any:
    """Return a folder and its parent."""
    (folder_id,) = ctx.require("id")
    folder = readable_folder(ctx, folder_id)
    result = folder_dict(folder)
    parent = ctx.backend.folders.get(folder["parent_id"]) if folder["parent_id"] > 0 else None
    result["parent"] = "" if parent is None else folder_dict(parent)
    return result


@core_method("folder.children", session="read")
def folder_children(ctx: Context) -> Any:
    """List the readable sub-folders and items of a folder.

    The real server dies with a PHP fatal error for an unknown id; the emulator
    answers -151 instead.
    """
    (folder_id,) = ctx.require("id")
    caller = ctx.caller()
    backend = ctx.backend
    folder = backend.folders.get(as_int(folder_id))
    if folder is None:
        raise ApiError(-151, NO_FOLDER)
    folders = [folder_dict(child) for child in backend.folders.children(folder["folder_id"],
                                                                         caller)]
    items = []
    for item in backend.items.in_folder(folder["folder_id"], caller):
        entry = item_dict(item)
        entry["extraFields"] = []
        items.append(entry)
    return {"folders": folders, "items": items}


@core_method("folder.delete")
def folder_delete(ctx: Context) -> Any:
    """Delete a folder recursively (Admin required)."""
    (folder_id,) = ctx.require("id")
    if ctx.user() is None:
        raise ApiError(-101, "Unable to find user")
    folder = readable_folder(ctx, folder_id, ADMIN, _NO_FOLDER_DELETE)
    ctx.backend.folders.delete(folder["folder_id"])
    return ""


@core_method("folder.move")
def folder_move(ctx: Context) -> Any:
    """Move a folder under another one."""
    folder_id, destination_id = ctx.require("id", "dstfolderid")
    folder = readable_folder(ctx, folder_id, ADMIN)
    backend = ctx.backend
    folders = backend.folders
    destination = folders.get(as_int(destination_id))
    if destination is None:
        raise ApiError(0, FOLDER_POLICY_ERROR)
    if backend.policies.level("folder", destination["folder_id"], ctx.caller()) < WRITE:
        raise ApiError(-151, "Invalid policy")
    if destination["folder_id"] == folder["folder_id"]:
        raise ApiError(0, "Folder == Parent")
    if folders.is_descendant(destination["folder_id"], folder["folder_id"]):
        raise ApiError(0, "Parent is a child of Folder")
    if folder["parent_id"] != destination["folder_id"]:
        if folders.child_named(destination["folder_id"], folder["name"]) is not None:
            raise ApiError(0, "This name is already used")
        folders.update(folder["folder_id"], parent_id=destination["folder_id"])
    return folder_dict(folders.reload(folder["folder_id"]))


@core_method("folder.download", session="read")
def folder_download(ctx: Context) -> Any:
    """Redirect to the ZIP download of a folder."""
    (folder_id,) = ctx.require("id")
    folder = readable_folder(ctx, folder_id)
    return Redirect(
        f"{ctx.config.base_path}/download/?folders={folder['folder_id']}{auth_suffix(ctx)}"
    )
