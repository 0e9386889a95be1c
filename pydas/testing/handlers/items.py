"""Items, their metadata, links and name search (midas-web-api.md §4.5, §4.6)."""

import string
from typing import Any, Dict, List, Optional, Set
from urllib.parse import quote, urlsplit

from pydas.testing.answers import ApiError, Redirect
from pydas.testing.backend import ADMIN, READ, WRITE, Row
from pydas.testing.backend.records import bitstream_dict, folder_dict, item_dict, revision_dict
from pydas.testing.backend.values import as_int, timestamp
from pydas.testing.dispatch import Context, core_method
from pydas.testing.handlers.common import (
    auth_suffix,
    count,
    fresh,
    readable_item,
    writable_destination,
)
from pydas.testing.handlers.folders import update_by_uuid

__all__ = ["revision_for"]

#: The characters PHP's URL validation accepts (no spaces, controls or non-ASCII).
_URL_CHARACTERS = frozenset(
    string.ascii_letters + string.digits + "$-_.+!*'(),{}|\\^~[]`<>#%\";/?:@&="
)


def revision_for(ctx: Context, item: Row) -> Row:
    """Resolve the ``revision`` parameter (default head) as the metadata calls do.

    :raises ApiError: -151 for an item without revisions, -150 for a bad number.
    """
    items = ctx.backend.items
    head = items.head(item["item_id"])
    if head is None:
        raise ApiError(-151, "The item must have at least one revision to have metadata")
    if not ctx.has("revision"):
        return head
    text = ctx.get("revision") or ""
    number = as_int(text)
    if number < 1 or str(number) != text.strip():
        raise ApiError(-150, f"Revision Numbers must be integers greater than 0.{text}")
    revision = items.revision(item["item_id"], number)
    if revision is None:
        raise ApiError(-150, "This revision number is invalid for this item.")
    return revision


def _apply_item_update(ctx: Context, item: Row) -> None:
    items = ctx.backend.items
    update_by_uuid(ctx, "item", item, "Item Admin privileges required to set privacy")
    extra = {key[1:]: value for key, value in ctx.params.items() if key.startswith("_")}
    head = items.head(item["item_id"])
    if extra:
        if head is None:
            raise ApiError(-151, "The item must have at least one revision to have metadata")
        for element, value in extra.items():
            items.set_metadata(head["itemrevision_id"], element, value)
    if ctx.has("updatebitstream"):
        if head is None:
            raise ApiError(-100, "The item has no revision")
        bitstreams = items.bitstreams(head["itemrevision_id"])
        if len(bitstreams) == 1:
            items.rename_bitstream(bitstreams[0]["bitstream_id"], ctx.get("name"))


@core_method("item.create")
def item_create(ctx: Context) -> Any:
    """Create an item in a folder, or update one by uuid."""
    (name,) = ctx.require("name")
    caller = ctx.caller()
    if caller.user is None:
        raise ApiError(-151, "Cannot create item anonymously")
    backend = ctx.backend
    items = backend.items
    uuid = ctx.get("uuid")
    existing = items.by_uuid(uuid) if uuid else None
    if existing is not None:
        _apply_item_update(ctx, existing)
        return item_dict(items.reload(existing["item_id"]))
    if not name.strip():
        raise ApiError(0, "Name cannot be empty.")
    (parent_id,) = ctx.require("parentid")
    parent = backend.folders.get_for(as_int(parent_id), caller)
    if parent is None:
        raise ApiError(-150, "Parent folder doesn't exist")
    if parent["level"] < WRITE:
        raise ApiError(-151, "Invalid permissions on parent folder")
    item_id = items.create(name, parent["folder_id"], caller.user_id,
                           ctx.get("description") or "", uuid)
    if ctx.has("privacy"):
        backend.policies.set_privacy("item", item_id, ctx.get("privacy") or "")
    return fresh(item_dict(items.reload(item_id)), "sizebytes", "view", "download")


@core_method("item.get", session="read")
def item_get(ctx: Context) -> Any:
    """Return an item with its revisions and bitstreams."""
    (item_id,) = ctx.require("id")
    item = readable_item(ctx, item_id)
    items = ctx.backend.items
    result = item_dict(item)
    folder_id = items.first_folder_id(item["item_id"])
    if folder_id is not None:
        result["folder_id"] = folder_id
    if ctx.has("head"):
        head = items.head(item["item_id"])
        revisions = [] if head is None else [head]
    else:
        revisions = items.revisions(item["item_id"])
    by_revision: Dict[int, List[Dict[str, Any]]] = {}
    for row in items.bitstreams_of(revision["itemrevision_id"] for revision in revisions):
        by_revision.setdefault(row["itemrevision_id"], []).append(bitstream_dict(row))
    result["revisions"] = []
    for revision in revisions:
        entry = revision_dict(revision)
        entry["bitstreams"] = by_revision.get(revision["itemrevision_id"], [])
        result["revisions"].append(entry)
    result["extraFields"] = []
    return result


@core_method("item.delete")
def item_delete(ctx: Context) -> Any:
    """Delete an item everywhere (Admin required)."""
    (item_id,) = ctx.require("id")
    if ctx.user() is None:
        raise ApiError(-101, "Unable to find user")
    item = readable_item(ctx, item_id, ADMIN)
    ctx.backend.items.delete(item["item_id"])
    return ""


@core_method("item.download", session="read")
def item_download(ctx: Context) -> Any:
    """Redirect to the download of an item (head or given revision number)."""
    (item_id,) = ctx.require("id")
    item = readable_item(ctx, item_id)
    revision = f",{ctx.get('revision')}" if ctx.has("revision") else ""
    return Redirect(
        f"{ctx.config.base_path}/download/?items={item['item_id']}{quote(revision, safe=',')}"
        f"{auth_suffix(ctx)}"
    )


@core_method("item.getmetadata", session="read")
def item_getmetadata(ctx: Context) -> Any:
    """Return the metadata of an item revision."""
    (item_id,) = ctx.require("id")
    item = readable_item(ctx, item_id)
    revision = revision_for(ctx, item)
    return [
        {name: row[name] for name in ("metadata_id", "metadatatype", "element", "qualifier",
                                      "value")}
        for row in ctx.backend.items.metadata(revision["itemrevision_id"])
    ]


@core_method("item.setmetadata")
def item_setmetadata(ctx: Context) -> Any:
    """Set one metadata value on an item revision (Write required)."""
    item_id, element, value = ctx.require("itemId", "element", "value")
    item = readable_item(
        ctx, item_id, WRITE, "This item doesn't exist or you don't have write permission."
    )
    revision = revision_for(ctx, item)
    ctx.backend.items.set_metadata(revision["itemrevision_id"], element, value,
                                   ctx.get("qualifier") or "",
                                   max(as_int(ctx.get("type", "0")), 0))
    _touch(ctx, item)
    return True


def _touch(ctx: Context, item: Row) -> None:
    """Move an item's ``date_update`` to now: the real server saves the item with
    every metadata value it adds, so a folder listing shows the change."""
    ctx.backend.items.update(item["item_id"], date_update=timestamp())


def _with_owning_folders(ctx: Context, item_id: int) -> Dict[str, Any]:
    items = ctx.backend.items
    result = item_dict(items.reload(item_id))
    result["owningfolders"] = [folder_dict(folder) for folder in items.folders(item_id)]
    return result


@core_method("item.share")
def item_share(ctx: Context) -> Any:
    """Link an item into another folder as well."""
    item_id, _destination_id = ctx.require("id", "dstfolderid")
    if ctx.user() is None:
        raise ApiError(-151, "Cannot share item anonymously")
    item = readable_item(ctx, item_id)
    destination = writable_destination(ctx)
    backend = ctx.backend
    items = backend.items
    result = item_dict(item)
    owning = items.folders(item["item_id"])
    result["owningfolders"] = [folder_dict(folder) for folder in owning]
    if destination["folder_id"] not in {folder["folder_id"] for folder in owning}:
        items.link(item["item_id"], destination["folder_id"])
        backend.policies.grant_groups_of(destination["folder_id"], item["item_id"], READ)
        result["owningfolders"].append(folder_dict(destination))
    return result


@core_method("item.move")
def item_move(ctx: Context) -> Any:
    """Move an item from one folder to another."""
    item_id, source_id, _destination_id = ctx.require("id", "srcfolderid", "dstfolderid")
    if ctx.user() is None:
        raise ApiError(-151, "Cannot move item anonymously")
    item = readable_item(ctx, item_id, ADMIN)
    destination = writable_destination(ctx)
    backend = ctx.backend
    items = backend.items
    source = backend.folders.get(as_int(source_id))
    if source is None:
        raise ApiError(-151, "Unable to load source or destination folder.")
    if source["folder_id"] != destination["folder_id"]:
        # The real server renames the item against every item of the destination,
        # itself included when it is already linked there.
        items.update(item["item_id"], name=items.unique_name(destination["folder_id"],
                                                             item["name"]))
        items.link(item["item_id"], destination["folder_id"])
        backend.policies.copy("folder", destination["folder_id"], "item", item["item_id"])
        items.unlink(item["item_id"], source["folder_id"])
    return _with_owning_folders(ctx, item["item_id"])


@core_method("item.searchbyname", session="read")
@core_method("item.searchbynameandfolder", session="read")
@core_method("item.searchbynameandfoldername", session="read")
def item_search(ctx: Context) -> Any:
    """Find readable items by exact name, optionally inside a folder id or folder name."""
    (name,) = ctx.require("name")
    caller = ctx.caller()
    backend = ctx.backend
    items = backend.items
    folder_filter: Optional[Set[int]] = None
    if ctx.has("folderId"):
        folder_filter = {as_int(ctx.get("folderId"))}
    elif ctx.has("folderName"):
        folder_filter = set(backend.folders.ids_named(ctx.get("folderName")))
    found = []
    for item in items.named(name):
        if folder_filter is not None and not folder_filter & set(items.folder_ids(item["item_id"])):
            continue
        if backend.policies.level("item", item["item_id"], caller) < READ:
            continue
        entry = item_dict(item)
        folder_id = items.first_folder_id(item["item_id"], caller)
        if folder_id is not None:
            entry["folder_id"] = folder_id
        found.append(entry)
    return {"items": found}


@core_method("link.create")
def link_create(ctx: Context) -> Any:
    """Create an item whose single bitstream is a URL (POST only)."""
    if ctx.verb != "POST":
        raise ApiError(-153, "POST method required")
    folder_id, url = ctx.require("folderid", "url")
    caller = ctx.caller()
    if caller.user is None:
        raise ApiError(-151, "Anonymous users may not create a link")
    backend = ctx.backend
    folder = backend.folders.get_for(as_int(folder_id), caller)
    if folder is None:
        raise ApiError(-150, "Folder corresponding to folderid does not exist")
    if folder["level"] < WRITE:
        raise ApiError(-151, "Invalid policy or folderid")
    parts = urlsplit(url)
    if not parts.scheme or not parts.netloc or not set(url) <= _URL_CHARACTERS:
        raise ApiError(-150, "Invalid URL")
    length = count(ctx.get("length", "0") or "")
    if length is None or length >= 2**63:
        raise ApiError(-150, "Invalid length")
    items = backend.items
    item_id = items.create(ctx.get("itemname") or url, folder["folder_id"], None)
    revision = items.create_revision(item_id, caller.user["user_id"], "Initial revision")
    items.add_bitstream(revision, url, "url", length, ctx.get("checksum", " ") or "", url)
    return fresh(item_dict(items.reload(item_id)), "view", "download")


@core_method("item.exists", session="read")
def item_exists(ctx: Context) -> Any:
    """Tell whether a readable item of a name is in a folder (and return it)."""
    name, parent_id = ctx.require("name", "parentid")
    backend = ctx.backend
    folder = backend.folders.get_for(as_int(parent_id), ctx.caller())
    if folder is None:
        raise ApiError(-150, "Invalid parentid")
    if folder["level"] < READ:
        raise ApiError(-151, "Read permission required on folder")
    item = backend.items.named_in(folder["folder_id"], name)
    if item is None or backend.policies.level("item", item["item_id"], ctx.caller()) < READ:
        return {"exists": False}
    return {"exists": True, "item": item_dict(item)}


_NO_WRITE = "This item doesn't exist or you don't have write permission."


def _metadata_target(ctx: Context) -> Row:
    """The ``itemid`` item the caller may write to (the metadata calls' lookup)."""
    (item_id,) = ctx.require("itemid")
    return readable_item(ctx, item_id, WRITE, _NO_WRITE)


@core_method("item.setmultiplemetadata")
def item_setmultiplemetadata(ctx: Context) -> Any:
    """Set ``count`` metadata values given as ``element_i``/``value_i``/``qualifier_i``."""
    ctx.require("itemid", "count")
    count_text = ctx.get("count") or ""
    number = as_int(count_text)
    if number < 1:
        raise ApiError(-150, "Count must be an integer greater than 0.")
    tuples = []
    for index in range(1, number + 1):
        for part in ("element", "value"):
            if not ctx.has(f"{part}_{index}"):
                raise ApiError(-150, f"Count was {index - 1} but param {part}_{index} is missing.")
        if ctx.has(f"type_{index}"):
            # The real server reads the type from the qualifier and then wants an int:
            # any given type is refused.
            raise ApiError(-150, f"param type_{index} must be an integer between 0 and 6.")
        tuples.append((ctx.get(f"element_{index}") or "", ctx.get(f"value_{index}") or "",
                       ctx.get(f"qualifier_{index}") or ""))
    item = _metadata_target(ctx)
    revision = revision_for(ctx, item)
    for element, value, qualifier in tuples:
        ctx.backend.items.set_metadata(revision["itemrevision_id"], element, value, qualifier)
    _touch(ctx, item)
    return True


@core_method("item.deletemetadata")
def item_deletemetadata(ctx: Context) -> Any:
    """Remove one metadata value (element, qualifier, type) from a revision."""
    ctx.require("itemid", "element")
    item = _metadata_target(ctx)
    revision = revision_for(ctx, item)
    items = ctx.backend.items
    metadata_id = items.metadata_id(max(as_int(ctx.get("type", "0")), 0),
                                    ctx.get("element") or "", ctx.get("qualifier") or "")
    if metadata_id is None:
        return False
    items.delete_metadata(revision["itemrevision_id"], metadata_id)
    return True


@core_method("item.deletemetadata.all")
def item_deletemetadata_all(ctx: Context) -> Any:
    """Remove every metadata value of a revision, or of all revisions (``revision=all``)."""
    item = _metadata_target(ctx)
    items = ctx.backend.items
    if ctx.get("revision") == "all":
        revisions = items.revisions(item["item_id"])
        if not revisions:
            raise ApiError(-151, "The item must have at least one revision to have metadata")
    else:
        revisions = [revision_for(ctx, item)]
    for revision in revisions:
        items.delete_metadata(revision["itemrevision_id"])
    return True


@core_method("item.duplicate")
def item_duplicate(ctx: Context) -> Any:
    """Copy an item with its revisions, metadata and bitstreams into a folder."""
    item_id, destination_id = ctx.require("id", "dstfolderid")
    caller = ctx.caller()
    if caller.user is None:
        raise ApiError(-151, "Cannot duplicate item anonymously")
    backend = ctx.backend
    item = backend.items.get_for(as_int(item_id), caller)
    destination = backend.folders.get_for(as_int(destination_id), caller)
    if item is None or item["level"] < READ or destination is None or (
            destination["level"] < WRITE):
        raise ApiError(-151, "This item doesn't exist or you don't have the permissions.")
    copy_id = backend.items.duplicate(item, caller.user["user_id"], destination["folder_id"])
    return fresh(item_dict(backend.items.reload(copy_id)), "view", "download")
