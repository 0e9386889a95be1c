"""Core API methods of the emulator (midas-web-api.md §2 and §4.1-4.8).

Each function implements one method; the decorator registers it under its
canonical name. Parameter checks, error codes and message texts follow the
reference, including its quirks (e.g. code ``0`` with an empty message for a
wrong API key). Where the reference describes a server crash, the emulator
answers with the closest envelope instead (noted per method).
"""

import hashlib
import os
import string
import tempfile
import time
from typing import Any, Dict, List, Optional, Tuple
from urllib.parse import quote, urlsplit

from pydas.testing.dispatch import Context, core_method, method_listing
from pydas.testing.envelope import ApiError, Redirect
from pydas.testing.model import (
    ADMIN,
    READ,
    WRITE,
    Model,
    Row,
    as_int,
    guess_mimetype,
    hash_password,
)
from pydas.testing.store import CHUNK_SIZE, md5_of_file

__all__: List[str] = []

VERSION = "3.4.2"

_NO_ITEM = "This item doesn't exist or you don't have the permissions."
_NO_FOLDER = "This folder doesn't exist or you don't have the permissions."
_NO_FOLDER_DELETE = "This folder doesn't exist  or you don't have the permissions."
_NO_COMMUNITY = "This community doesn't exist or you don't have the permissions."
_FOLDER_POLICY_ERROR = "Error in params when checking Folder Policy."
#: The characters PHP's URL validation accepts (no spaces, controls or non-ASCII).
_URL_CHARACTERS = frozenset(
    string.ascii_letters + string.digits + "$-_.+!*'(),{}|\\^~[]`<>#%\";/?:@&="
)


def _auth_suffix(ctx: Context) -> str:
    token = ctx.get("token")
    return f"&authToken={quote(token, safe='')}" if token and ctx.user() is not None else ""


def _count(text: str) -> Optional[int]:
    """Return the value of a non-negative decimal number, or ``None`` if ``text`` is not one."""
    return int(text) if text.isascii() and text.isdigit() else None


def _readable_item(ctx: Context, item_id: Any, level: int = READ, message: str = _NO_ITEM) -> Row:
    model = ctx.model
    item = model.item(item_id)
    if item is None or model.item_level(item["item_id"], ctx.user()) < level:
        raise ApiError(-151, message)
    return item


def _readable_folder(ctx: Context, folder_id: Any, level: int = READ,
                     message: str = _NO_FOLDER) -> Row:
    model = ctx.model
    folder = model.folder(folder_id)
    if folder is None or model.folder_level(folder["folder_id"], ctx.user()) < level:
        raise ApiError(-151, message)
    return folder


def _revision_for(ctx: Context, model: Model, item: Row) -> Row:
    """Resolve the ``revision`` parameter (default head) as the metadata calls do."""
    head = model.head_revision(item["item_id"])
    if head is None:
        raise ApiError(-151, "The item must have at least one revision to have metadata")
    if not ctx.has("revision"):
        return head
    text = ctx.get("revision") or ""
    number = as_int(text)
    if number < 1 or str(number) != text.strip():
        raise ApiError(-150, f"Revision Numbers must be integers greater than 0.{text}")
    revision = model.revision_by_number(item["item_id"], number)
    if revision is None:
        raise ApiError(-150, "This revision number is invalid for this item.")
    return revision


def _metadatum(row: Row) -> Dict[str, Any]:
    return {
        "metadata_id": row["metadata_id"],
        "metadatatype": row["metadatatype"],
        "element": row["element"],
        "qualifier": row["qualifier"],
        "value": row["value"],
    }


def set_metadata(model: Model, revision: Row, element: str, value: str,
                 qualifier: str = "", metadatatype: int = 0) -> None:
    """Set (or overwrite) one metadata value on a revision, defining it on first use.

    :param model: the data model.
    :param revision: the item revision row.
    :param element: metadata element.
    :param value: the value (truncated to 1024 characters, as stored by the server).
    :param qualifier: metadata qualifier.
    :param metadatatype: the metadata type number.
    """
    definition = model.db.one(
        "SELECT metadata_id FROM metadata WHERE metadatatype = ? AND element = ? AND qualifier = ?",
        (metadatatype, element, qualifier),
    )
    if definition is None:
        metadata_id = model.db.insert(
            "metadata", metadatatype=metadatatype, element=element, qualifier=qualifier
        )
    else:
        metadata_id = definition["metadata_id"]
    model.db.run(
        "INSERT INTO metadatavalue (itemrevision_id, metadata_id, value) VALUES (?, ?, ?) "
        "ON CONFLICT (itemrevision_id, metadata_id) DO UPDATE SET value = excluded.value",
        (revision["itemrevision_id"], metadata_id, value[:1024]),
    )


def revision_metadata(model: Model, revision_id: int) -> List[Row]:
    """Return the metadata rows of a revision (definition fields plus ``value``)."""
    return model.db.all(
        "SELECT m.metadata_id, m.metadatatype, m.element, m.qualifier, v.value "
        "FROM metadatavalue v JOIN metadata m ON m.metadata_id = v.metadata_id "
        "WHERE v.itemrevision_id = ? ORDER BY v.rowid",
        (revision_id,),
    )


# -- server information ---------------------------------------------------------------


@core_method("version", authenticates=False)
def version(ctx: Context) -> Any:
    """Return the server version."""
    return {"version": VERSION}


@core_method("info", authenticates=False)
def info(ctx: Context) -> Any:
    """Return version, name, description, modules and REST resources."""
    resources = {
        f"/{name}": f"{ctx.config.origin}{ctx.config.base_path}/rest/{name}"
        for name in ("system", "user", "community", "folder", "item", "itemrevision",
                     "bitstream", "group")
    }
    return {
        "version": VERSION,
        "name": "",
        "description": "",
        "modules": list(ctx.config.modules),
        "resources": resources,
    }


@core_method("modules.list", authenticates=False)
def modules_list(ctx: Context) -> Any:
    """Return the names of the enabled modules."""
    return {"modules": list(ctx.config.modules)}


@core_method("methods.list", authenticates=False)
def methods_list(ctx: Context) -> Any:
    """Return every available method with a short description."""
    return {
        "methods": [
            {
                "name": method.name,
                "help": {"params": {}, "example": [], "return": "",
                         "description": method.description},
            }
            for method in method_listing(ctx.config.modules)
        ]
    }


@core_method("system.listMethods", authenticates=False)
def system_list_methods(ctx: Context) -> Any:
    """Return the one method the real dispatcher lists here (a server quirk)."""
    return ["midas.system.listMethods"]


# -- authentication -----------------------------------------------------------------------


@core_method("login", authenticates=False)
def login(ctx: Context) -> Any:
    """Exchange e-mail, application name and API key for a token."""
    email, appname, apikey = ctx.require("email", "appname", "apikey")
    model = ctx.model
    user = model.user_by_email(email)
    if user is None:
        raise ApiError(-150, "Unable to authenticate. Please check credentials.")
    key = model.db.one(
        "SELECT * FROM apikey WHERE user_id = ? AND application = ? AND apikey = ?",
        (user["user_id"], appname, apikey),
    )
    if key is None:
        raise ApiError(0, "")
    token = model.issue_token(user["user_id"], key)
    if "mfa" in ctx.config.modules and user["otp"]:
        mfa_id = model.db.insert("mfa_token", user_id=user["user_id"], token_id=token["token_id"])
        return {"mfa_token_id": mfa_id}
    return {"token": token["token"]}


@core_method("user.apikey.default", authenticates=False)
def user_apikey_default(ctx: Context) -> Any:
    """Return the ``Default`` API key of a user given e-mail and password (POST only)."""
    if ctx.verb != "POST":
        raise ApiError(-153, "POST method required")
    email, password = ctx.require("email", "password")
    model = ctx.model
    user = model.user_by_email(email)
    if user is None or hash_password(password, user["salt"]) != user["password_hash"]:
        raise ApiError(-150, "Login failed")
    key = model.default_api_key(user["user_id"])
    if key is None:
        raise ApiError(-150, "User has no default API key")
    return {"apikey": key}


# -- users ----------------------------------------------------------------------------------


@core_method("user.folders")
def user_folders(ctx: Context) -> Any:
    """List the readable children of the caller's home folder."""
    user = ctx.user()
    if user is None:
        return []
    model = ctx.model
    return [
        model.folder_dict(folder)
        for folder in model.child_folders(user["folder_id"])
        if model.folder_level(folder["folder_id"], user) >= READ
    ]


@core_method("user.list", authenticates=False)
def user_list(ctx: Context) -> Any:
    """List public users ordered by last name."""
    (limit_text,) = ctx.require("limit")
    limit = as_int(limit_text)
    sql = "SELECT * FROM user WHERE privacy = 0 ORDER BY lastname, user_id"
    rows = ctx.db.all(sql)
    if limit > 0:
        rows = rows[:limit]
    model = ctx.model
    return [model.user_dict(row) for row in rows]


@core_method("user.get", authenticates=False)
def user_get(ctx: Context) -> Any:
    """Find one user by id, e-mail, or first and last name (``""`` if none)."""
    model = ctx.model
    if ctx.has("user_id") or ctx.has("id"):
        user = model.user(ctx.get("user_id", ctx.get("id")))
    elif ctx.has("email"):
        user = model.user_by_email(ctx.get("email") or "")
    elif ctx.has("firstname") and ctx.has("lastname"):
        user = ctx.db.one(
            "SELECT * FROM user WHERE firstname = ? AND lastname = ? ORDER BY user_id",
            (ctx.get("firstname"), ctx.get("lastname")),
        )
    else:
        raise ApiError(-150, "Please provide a user email or both first and last name")
    return "" if user is None else model.user_dict(user)


# -- communities --------------------------------------------------------------------------


@core_method("community.create")
def community_create(ctx: Context) -> Any:
    """Create a community (server administrators only) or update one by uuid."""
    (name,) = ctx.require("name")
    user = ctx.user()
    if user is None:
        raise ApiError(-151, "Unable to find user")
    model = ctx.model
    uuid = ctx.get("uuid")
    existing = ctx.db.one("SELECT * FROM community WHERE uuid = ?", (uuid,)) if uuid else None
    if existing is not None:
        level = model.community_level(existing, user)
        if level < WRITE:
            raise ApiError(-151, "Invalid policy")
        changes: Dict[str, Any] = {"name": name}
        if ctx.has("description"):
            changes["description"] = ctx.get("description")
        if ctx.has("privacy") or ctx.has("canjoin"):
            if level < ADMIN:
                raise ApiError(-151, "Admin access required.")
        if ctx.has("privacy"):
            if ctx.get("privacy") not in ("Public", "Private"):
                raise ApiError(-150, "privacy should be one of [Public|Private]")
            changes["privacy"] = 0 if ctx.get("privacy") == "Public" else 1
        if ctx.has("canjoin"):
            if ctx.get("canjoin") not in ("Everyone", "Invitation"):
                raise ApiError(-150, "privacy should be one of [Everyone|Invitation]")
            changes["can_join"] = 1 if ctx.get("canjoin") == "Everyone" else 0
        ctx.db.update("community", "community_id", existing["community_id"], **changes)
        updated = model.community(existing["community_id"])
        assert updated is not None
        return model.community_dict(updated)
    if not user["admin"]:
        raise ApiError(-151, "Only admins can create communities")
    community = model.create_community(
        name, user["user_id"], description=ctx.get("description") or "",
        privacy=ctx.get("privacy", "Public") or "", can_join=ctx.get("canjoin", "Everyone") or "",
        uuid=uuid or None,
    )
    return model.community_dict(community)


@core_method("community.get")
def community_get(ctx: Context) -> Any:
    """Return a community by id or exact name."""
    model = ctx.model
    user = ctx.user()
    if ctx.has("id"):
        community = model.community(ctx.get("id"))
    elif ctx.has("name"):
        community = ctx.db.one("SELECT * FROM community WHERE name = ?", (ctx.get("name"),))
    else:
        raise ApiError(-150, "Parameter id or name is not defined")
    if community is None or model.community_level(community, user) < READ:
        raise ApiError(-151, _NO_COMMUNITY)
    return model.community_dict(community)


@core_method("community.children")
def community_children(ctx: Context) -> Any:
    """List the readable folders at the top of a community."""
    (community_id,) = ctx.require("id")
    user = ctx.user()
    model = ctx.model
    community = model.community(community_id)
    if community is None:
        raise ApiError(-150, "Invalid community id")
    return {
        "folders": [
            model.folder_dict(folder)
            for folder in model.child_folders(community["folder_id"])
            if model.folder_level(folder["folder_id"], user) >= READ
        ]
    }


@core_method("community.list")
def community_list(ctx: Context) -> Any:
    """List communities visible to the caller, sorted by name case-insensitively."""
    user = ctx.user()
    model = ctx.model
    if user is not None and user["admin"]:
        rows = ctx.db.all("SELECT * FROM community")
    else:
        rows = list(ctx.db.all("SELECT * FROM community WHERE privacy = 0 LIMIT 20"))
        if user is not None:
            rows += ctx.db.all(
                "SELECT c.* FROM community c JOIN group_user g ON g.group_id = c.membergroup_id "
                "WHERE g.user_id = ?",
                (user["user_id"],),
            )
    unique = {row["community_id"]: row for row in rows}
    ordered = sorted(unique.values(), key=lambda row: (row["name"].lower(), row["community_id"]))
    return [model.community_dict(row) for row in ordered]


# -- folders -------------------------------------------------------------------------------


def _update_by_uuid(ctx: Context, kind: str, row: Row, admin_message: str) -> None:
    model = ctx.model
    object_id = row[f"{kind}_id"]
    level = (model.folder_level if kind == "folder" else model.item_level)(object_id, ctx.user())
    if level < WRITE:
        raise ApiError(-151, "Invalid policy")
    changes: Dict[str, Any] = {"name": ctx.get("name")}
    if ctx.has("description"):
        changes["description"] = ctx.get("description")
    ctx.db.update(kind, f"{kind}_id", object_id, **changes)
    if ctx.has("privacy"):
        if level < ADMIN:
            raise ApiError(-151, admin_message)
        model.set_privacy(kind, object_id, ctx.get("privacy") or "")


@core_method("folder.create")
def folder_create(ctx: Context) -> Any:
    """Create a folder, reuse a same-named one, or update one by uuid."""
    (name,) = ctx.require("name")
    user = ctx.user()
    if user is None:
        raise ApiError(-151, "Cannot create folder anonymously")
    model = ctx.model
    uuid = ctx.get("uuid")
    existing = ctx.db.one("SELECT * FROM folder WHERE uuid = ?", (uuid,)) if uuid else None
    if existing is not None:
        _update_by_uuid(ctx, "folder", existing, "Folder Admin privileges required to set privacy")
        updated = model.folder(existing["folder_id"])
        assert updated is not None
        return model.folder_dict(updated)
    if not name.strip():
        raise ApiError(0, "Name cannot be empty.")
    (parent_text,) = ctx.require("parentid")
    parent_id = as_int(parent_text)
    if parent_id == -1:
        parent_id = user["folder_id"]
        sibling = ctx.db.one(
            "SELECT * FROM folder WHERE parent_id = ? AND name = ?", (parent_id, name)
        )
        if sibling is not None:
            return model.folder_dict(sibling)
        folder_id = model.create_folder(name, parent_id, ctx.get("description") or "", uuid)
        model.grant("folder", folder_id, ADMIN, user_id=user["user_id"])
    else:
        parent = model.folder(parent_id)
        if parent is None:
            raise ApiError(-150, "Parent doesn't exist")
        if model.folder_level(parent_id, user) < WRITE:
            raise ApiError(-151, "Invalid policy")
        sibling = ctx.db.one(
            "SELECT * FROM folder WHERE parent_id = ? AND name = ?", (parent_id, name)
        )
        if sibling is not None:
            if ctx.has("reuseExisting"):
                return model.folder_dict(sibling)
            raise ApiError(
                -150,
                "A folder already exists in that parent with that name. "
                "Pass reuseExisting to reuse it.",
            )
        folder_id = model.create_folder(name, parent_id, ctx.get("description") or "", uuid)
        model.copy_policies("folder", parent_id, "folder", folder_id)
        model.grant("folder", folder_id, ADMIN, user_id=user["user_id"])
    if ctx.has("privacy"):
        model.set_privacy("folder", folder_id, ctx.get("privacy") or "")
    created = model.folder(folder_id)
    assert created is not None
    return model.folder_dict(created)


@core_method("folder.get")
def folder_get(ctx: Context) -> Any:
    """Return a folder and its parent."""
    (folder_id,) = ctx.require("id")
    folder = _readable_folder(ctx, folder_id)
    model = ctx.model
    result = model.folder_dict(folder)
    parent = model.folder(folder["parent_id"]) if folder["parent_id"] > 0 else None
    result["parent"] = "" if parent is None else model.folder_dict(parent)
    return result


@core_method("folder.children")
def folder_children(ctx: Context) -> Any:
    """List the readable sub-folders and items of a folder.

    The real server dies with a PHP fatal error for an unknown id; the emulator
    answers -151 instead.
    """
    (folder_id,) = ctx.require("id")
    user = ctx.user()
    model = ctx.model
    folder = model.folder(folder_id)
    if folder is None:
        raise ApiError(-151, _NO_FOLDER)
    folders = [
        model.folder_dict(child)
        for child in model.child_folders(folder["folder_id"])
        if model.folder_level(child["folder_id"], user) >= READ
    ]
    items = []
    for item in model.child_items(folder["folder_id"]):
        if model.item_level(item["item_id"], user) >= READ:
            entry = model.item_dict(item)
            entry["extraFields"] = []
            items.append(entry)
    return {"folders": folders, "items": items}


@core_method("folder.delete")
def folder_delete(ctx: Context) -> Any:
    """Delete a folder recursively (Admin required)."""
    (folder_id,) = ctx.require("id")
    if ctx.user() is None:
        raise ApiError(-101, "Unable to find user")
    folder = _readable_folder(ctx, folder_id, ADMIN, _NO_FOLDER_DELETE)
    ctx.model.delete_folder(folder["folder_id"])
    return ""


@core_method("folder.move")
def folder_move(ctx: Context) -> Any:
    """Move a folder under another one."""
    folder_id, destination_id = ctx.require("id", "dstfolderid")
    folder = _readable_folder(ctx, folder_id, ADMIN)
    model = ctx.model
    destination = model.folder(destination_id)
    if destination is None:
        raise ApiError(0, _FOLDER_POLICY_ERROR)
    if model.folder_level(destination["folder_id"], ctx.user()) < WRITE:
        raise ApiError(-151, "Invalid policy")
    if destination["folder_id"] == folder["folder_id"]:
        raise ApiError(0, "Folder == Parent")
    if model.is_descendant(destination["folder_id"], folder["folder_id"]):
        raise ApiError(0, "Parent is a child of Folder")
    if folder["parent_id"] != destination["folder_id"]:
        clash = ctx.db.one(
            "SELECT 1 FROM folder WHERE parent_id = ? AND name = ?",
            (destination["folder_id"], folder["name"]),
        )
        if clash is not None:
            raise ApiError(0, "This name is already used")
        ctx.db.update("folder", "folder_id", folder["folder_id"],
                      parent_id=destination["folder_id"])
    moved = model.folder(folder["folder_id"])
    assert moved is not None
    return model.folder_dict(moved)


@core_method("folder.download")
def folder_download(ctx: Context) -> Any:
    """Redirect to the ZIP download of a folder."""
    (folder_id,) = ctx.require("id")
    folder = _readable_folder(ctx, folder_id)
    return Redirect(
        f"{ctx.config.base_path}/download/?folders={folder['folder_id']}{_auth_suffix(ctx)}"
    )


# -- items ----------------------------------------------------------------------------------


def _apply_item_update(ctx: Context, item: Row) -> None:
    model = ctx.model
    _update_by_uuid(ctx, "item", item, "Item Admin privileges required to set privacy")
    extra = {key[1:]: value for key, value in ctx.params.items() if key.startswith("_")}
    head = model.head_revision(item["item_id"])
    if extra:
        if head is None:
            raise ApiError(-151, "The item must have at least one revision to have metadata")
        for element, value in extra.items():
            set_metadata(model, head, element, value)
    if ctx.has("updatebitstream"):
        if head is None:
            raise ApiError(-100, "The item has no revision")
        bitstreams = model.bitstreams(head["itemrevision_id"])
        if len(bitstreams) == 1:
            ctx.db.update("bitstream", "bitstream_id", bitstreams[0]["bitstream_id"],
                          name=ctx.get("name"))


@core_method("item.create")
def item_create(ctx: Context) -> Any:
    """Create an item in a folder, or update one by uuid."""
    (name,) = ctx.require("name")
    user = ctx.user()
    if user is None:
        raise ApiError(-151, "Cannot create item anonymously")
    model = ctx.model
    uuid = ctx.get("uuid")
    existing = ctx.db.one("SELECT * FROM item WHERE uuid = ?", (uuid,)) if uuid else None
    if existing is not None:
        _apply_item_update(ctx, existing)
        updated = model.item(existing["item_id"])
        assert updated is not None
        return model.item_dict(updated)
    if not name.strip():
        raise ApiError(0, "Name cannot be empty.")
    (parent_id,) = ctx.require("parentid")
    parent = model.folder(parent_id)
    if parent is None:
        raise ApiError(-150, "Parent folder doesn't exist")
    if model.folder_level(parent["folder_id"], user) < WRITE:
        raise ApiError(-151, "Invalid permissions on parent folder")
    item_id = model.create_item(
        name, parent["folder_id"], user["user_id"], ctx.get("description") or "", uuid
    )
    if ctx.has("privacy"):
        model.set_privacy("item", item_id, ctx.get("privacy") or "")
    created = model.item(item_id)
    assert created is not None
    return model.item_dict(created)


def item_with_revisions(model: Model, item: Row, head_only: bool = False) -> Dict[str, Any]:
    """Serialise an item the way ``midas.item.get`` does.

    :param model: the data model.
    :param item: the item row.
    :param head_only: include only the head revision.
    :returns: item fields plus ``folder_id`` (if linked), ``revisions``, ``extraFields``.
    """
    result = model.item_dict(item)
    folders = model.item_folders(item["item_id"])
    if folders:
        result["folder_id"] = folders[0]["folder_id"]
    if head_only:
        head = model.head_revision(item["item_id"])
        revisions = [] if head is None else [head]
    else:
        revisions = model.revisions(item["item_id"])
    result["revisions"] = []
    for revision in revisions:
        entry = model.revision_dict(revision)
        entry["bitstreams"] = [
            model.bitstream_dict(row) for row in model.bitstreams(revision["itemrevision_id"])
        ]
        result["revisions"].append(entry)
    result["extraFields"] = []
    return result


@core_method("item.get")
def item_get(ctx: Context) -> Any:
    """Return an item with its revisions and bitstreams."""
    (item_id,) = ctx.require("id")
    item = _readable_item(ctx, item_id)
    return item_with_revisions(ctx.model, item, ctx.has("head"))


@core_method("item.delete")
def item_delete(ctx: Context) -> Any:
    """Delete an item everywhere (Admin required)."""
    (item_id,) = ctx.require("id")
    if ctx.user() is None:
        raise ApiError(-101, "Unable to find user")
    item = _readable_item(ctx, item_id, ADMIN)
    ctx.model.delete_item(item["item_id"])
    return ""


@core_method("item.download")
def item_download(ctx: Context) -> Any:
    """Redirect to the download of an item (head or given revision number)."""
    (item_id,) = ctx.require("id")
    item = _readable_item(ctx, item_id)
    revision = f",{ctx.get('revision')}" if ctx.has("revision") else ""
    return Redirect(
        f"{ctx.config.base_path}/download/?items={item['item_id']}{quote(revision, safe=',')}"
        f"{_auth_suffix(ctx)}"
    )


@core_method("item.getmetadata")
def item_getmetadata(ctx: Context) -> Any:
    """Return the metadata of an item revision."""
    (item_id,) = ctx.require("id")
    item = _readable_item(ctx, item_id)
    model = ctx.model
    revision = _revision_for(ctx, model, item)
    return [_metadatum(row) for row in revision_metadata(model, revision["itemrevision_id"])]


@core_method("item.setmetadata")
def item_setmetadata(ctx: Context) -> Any:
    """Set one metadata value on an item revision (Write required)."""
    item_id, element, value = ctx.require("itemId", "element", "value")
    item = _readable_item(
        ctx, item_id, WRITE, "This item doesn't exist or you don't have write permission."
    )
    model = ctx.model
    revision = _revision_for(ctx, model, item)
    set_metadata(model, revision, element, value, ctx.get("qualifier") or "",
                 max(as_int(ctx.get("type", "0")), 0))
    return True


def _destination(ctx: Context) -> Row:
    model = ctx.model
    destination = model.folder(ctx.get("dstfolderid"))
    if destination is None:
        raise ApiError(0, _FOLDER_POLICY_ERROR)
    if model.folder_level(destination["folder_id"], ctx.user()) < WRITE:
        raise ApiError(-151, "Invalid policy")
    return destination


@core_method("item.share")
def item_share(ctx: Context) -> Any:
    """Link an item into another folder as well."""
    item_id, _destination_id = ctx.require("id", "dstfolderid")
    if ctx.user() is None:
        raise ApiError(-151, "Cannot share item anonymously")
    item = _readable_item(ctx, item_id)
    destination = _destination(ctx)
    model = ctx.model
    model.link_item(item["item_id"], destination["folder_id"])
    for row in ctx.db.all(
        "SELECT group_id FROM folderpolicygroup WHERE folder_id = ?", (destination["folder_id"],)
    ):
        model.grant("item", item["item_id"], READ, group_id=row["group_id"])
    result = model.item_dict(item)
    result["owningfolders"] = [model.folder_dict(f) for f in model.item_folders(item["item_id"])]
    return result


@core_method("item.move")
def item_move(ctx: Context) -> Any:
    """Move an item from one folder to another."""
    item_id, source_id, _destination_id = ctx.require("id", "srcfolderid", "dstfolderid")
    if ctx.user() is None:
        raise ApiError(-151, "Cannot move item anonymously")
    item = _readable_item(ctx, item_id, ADMIN)
    destination = _destination(ctx)
    model = ctx.model
    source = model.folder(source_id)
    if source is None:
        raise ApiError(-151, "Unable to load source or destination folder.")
    if source["folder_id"] != destination["folder_id"]:
        linked = ctx.db.one(
            "SELECT 1 FROM item2folder WHERE item_id = ? AND folder_id = ?",
            (item["item_id"], destination["folder_id"]),
        )
        if linked is None:
            new_name = model.unique_item_name(destination["folder_id"], item["name"])
            ctx.db.update("item", "item_id", item["item_id"], name=new_name)
            model.link_item(item["item_id"], destination["folder_id"])
        model.copy_policies("folder", destination["folder_id"], "item", item["item_id"])
        ctx.db.run("DELETE FROM item2folder WHERE item_id = ? AND folder_id = ?",
                   (item["item_id"], source["folder_id"]))
    moved = model.item(item["item_id"])
    assert moved is not None
    result = model.item_dict(moved)
    result["owningfolders"] = [model.folder_dict(f) for f in model.item_folders(item["item_id"])]
    return result


@core_method("item.searchbyname")
@core_method("item.searchbynameandfolder")
@core_method("item.searchbynameandfoldername")
def item_search(ctx: Context) -> Any:
    """Find readable items by exact name, optionally inside a folder id or folder name."""
    (name,) = ctx.require("name")
    user = ctx.user()
    model = ctx.model
    rows = ctx.db.all("SELECT * FROM item WHERE name = ? ORDER BY item_id", (name,))
    folder_filter: Optional[set] = None
    if ctx.has("folderId"):
        folder_filter = {as_int(ctx.get("folderId"))}
    elif ctx.has("folderName"):
        folder_filter = {
            row["folder_id"]
            for row in ctx.db.all("SELECT folder_id FROM folder WHERE name = ?",
                                  (ctx.get("folderName"),))
        }
    items = []
    for item in rows:
        folders = model.item_folders(item["item_id"])
        if folder_filter is not None and not folder_filter & {f["folder_id"] for f in folders}:
            continue
        if model.item_level(item["item_id"], user) < READ:
            continue
        entry = model.item_dict(item)
        for folder in folders:
            if model.folder_level(folder["folder_id"], user) >= READ:
                entry["folder_id"] = folder["folder_id"]
                break
        items.append(entry)
    return {"items": items}


@core_method("link.create")
def link_create(ctx: Context) -> Any:
    """Create an item whose single bitstream is a URL (POST only)."""
    if ctx.verb != "POST":
        raise ApiError(-153, "POST method required")
    folder_id, url = ctx.require("folderid", "url")
    user = ctx.user()
    if user is None:
        raise ApiError(-151, "Anonymous users may not create a link")
    model = ctx.model
    folder = model.folder(folder_id)
    if folder is None:
        raise ApiError(-150, "Folder corresponding to folderid does not exist")
    if model.folder_level(folder["folder_id"], user) < WRITE:
        raise ApiError(-151, "Invalid policy or folderid")
    parts = urlsplit(url)
    if not parts.scheme or not parts.netloc or not set(url) <= _URL_CHARACTERS:
        raise ApiError(-150, "Invalid URL")
    length = _count(ctx.get("length", "0") or "")
    if length is None or length >= 2**63:
        raise ApiError(-150, "Invalid length")
    item_id = model.create_item(ctx.get("itemname") or url, folder["folder_id"], None)
    revision = model.create_revision(item_id, user["user_id"], "Initial revision")
    model.add_bitstream(revision, url, "url", length, ctx.get("checksum", " ") or "", url)
    item = model.item(item_id)
    assert item is not None
    return model.item_dict(item)


@core_method("resource.search")
def resource_search(ctx: Context) -> Any:
    """Substring search over items, folders, communities and users."""
    (term,) = ctx.require("search")
    order = ctx.get("order", "view")
    if order not in ("view", "name", "date", "relevance"):
        raise ApiError(0, "Error in order parameter, not one of the expected values.")
    user = ctx.user()
    model = ctx.model
    pattern = f"%{term}%"

    def formatted(date: str) -> str:
        try:
            parsed = time.strptime(date[:10], "%Y-%m-%d")
        except (TypeError, ValueError):
            return ""
        return time.strftime("%m/%d/%Y", parsed)

    results: List[Dict[str, Any]] = []
    items = [
        row for row in ctx.db.all(
            "SELECT * FROM item WHERE name LIKE ? OR description LIKE ? ORDER BY item_id",
            (pattern, pattern),
        ) if model.item_level(row["item_id"], user) >= READ
    ][:200]
    for row in items:
        entry = model.item_dict(row)
        entry.update(resultType="item", formattedDate=formatted(row["date_update"]))
        results.append(entry)
    folders = [
        row for row in ctx.db.all("SELECT * FROM folder WHERE name LIKE ? ORDER BY folder_id",
                                  (pattern,))
        if model.folder_level(row["folder_id"], user) >= READ
    ][:15]
    for row in folders:
        entry = model.folder_dict(row)
        entry.update(resultType="folder", formattedDate=formatted(row["date_update"]))
        results.append(entry)
    communities = [
        row for row in ctx.db.all("SELECT * FROM community WHERE name LIKE ?", (pattern,))
        if model.community_level(row, user) >= READ
    ][:15]
    for row in communities:
        entry = model.community_dict(row)
        entry.update(resultType="community", formattedDate=formatted(row["creation"]))
        results.append(entry)
    users = ctx.db.all(
        "SELECT * FROM user WHERE privacy = 0 AND (firstname LIKE ? OR lastname LIKE ?) LIMIT 15",
        (pattern, pattern),
    )
    for row in users:
        entry = model.user_dict(row)
        del entry["email"]
        entry.update(resultType="user", formattedDate=formatted(row["creation"]))
        results.append(entry)
    return {
        "nitems": len(items),
        "nfolders": len(folders),
        "ncommunities": len(communities),
        "nusers": len(users),
        "results": results,
    }


# -- uploads ---------------------------------------------------------------------------------


@core_method("upload.generatetoken")
def upload_generatetoken(ctx: Context) -> Any:
    """Return an upload token, or a blank one after de-duplicating by checksum."""
    (filename,) = ctx.require("filename")
    if not ctx.has("itemid") and not ctx.has("folderid"):
        raise ApiError(-150, "Parameter itemid or folderid must be defined")
    if ctx.has("itemid") and ctx.has("folderid"):
        raise ApiError(-150, "Parameter itemid or folderid must be defined, but not both")
    user = ctx.user()
    if user is None:
        raise ApiError(-151, "Anonymous users may not upload")
    model = ctx.model
    if ctx.has("itemid"):
        item = model.item(ctx.get("itemid"))
        if item is None:
            raise ApiError(0, "Error in parameter itemdao or policy when checking Item policy.")
        if model.item_level(item["item_id"], user) < WRITE:
            raise ApiError(-151, "Invalid policy or itemid")
        item_id = item["item_id"]
    else:
        folder = model.folder(ctx.get("folderid"))
        if folder is None:
            raise ApiError(-150, "Parent folder corresponding to folderid doesn't exist")
        if model.folder_level(folder["folder_id"], user) < WRITE:
            raise ApiError(-151, "Invalid policy or folderid")
        item_id = model.create_item(
            ctx.get("itemname") or filename, folder["folder_id"], user["user_id"],
            ctx.get("itemdescription") or "",
        )
    if ctx.has("checksum"):
        known = ctx.db.one(
            "SELECT b.*, r.item_id AS owner_item FROM bitstream b "
            "JOIN itemrevision r ON r.itemrevision_id = b.itemrevision_id "
            "WHERE b.checksum = ? AND b.mimetype != 'url' ORDER BY b.bitstream_id LIMIT 1",
            (ctx.get("checksum"),),
        )
        if known is not None and model.item_level(known["owner_item"], user) >= READ:
            head = model.head_revision(item_id)
            if head is None:
                head = model.create_revision(item_id, user["user_id"], "Initial revision")
            names = {row["name"] for row in model.bitstreams(head["itemrevision_id"])}
            if filename not in names:
                model.add_bitstream(head, filename, known["mimetype"], known["sizebytes"],
                                    known["checksum"], known["path"])
            return {"token": ""}
    return {"token": ctx.db.uploads.create(user["user_id"], item_id)}


@core_method("upload.getoffset", authenticates=False, locks_store=False)
def upload_getoffset(ctx: Context) -> Any:
    """Return how many bytes the server holds for an upload token.

    A ``perform`` running on the token is waited for.
    """
    (upload_token,) = ctx.require("uploadtoken")
    offset = ctx.db.uploads.offset(upload_token)
    return {"offset": "" if offset is None else offset}


def _receive_stream(ctx: Context, path: str, length: int) -> Tuple[str, int]:
    """Append the raw body to the token's file until it holds ``length`` bytes.

    Reads are capped at the missing byte count, except the first read of a resumed
    upload, which takes a whole chunk: surplus bytes there are appended, as on the
    real server.

    :returns: MD5 and size of the completed file (hashed while streaming when the
        upload started at byte 0, otherwise afterwards).
    :raises ApiError: -105 when the body ended early (the bytes received are kept).
    """
    start = os.path.getsize(path)
    digest = hashlib.md5() if start == 0 else None
    size = start
    body = ctx.body
    with open(path, "ab") as handle:
        while body is not None and size < length:
            overshoot = start > 0 and size == start
            block = body.read(CHUNK_SIZE if overshoot else min(CHUNK_SIZE, length - size))
            if not block or (length == 1 and start == 0 and block == b"0"):
                break
            handle.write(block)
            size += len(block)
            if digest is not None:
                digest.update(block)
    if size < length:
        raise ApiError(-105, f"Failed to upload file - {size}/{length} bytes transferred")
    return md5_of_file(path) if digest is None else (digest.hexdigest(), size)


def _target_revision(ctx: Context, model: Model, item_id: int, user_id: int) -> Row:
    revision_text = ctx.get("revision")
    changes = ctx.get("changes") or ""
    if revision_text is None:
        return model.create_revision(item_id, user_id, changes, ctx.get("license"))
    if revision_text.lower() == "head":
        revision = model.head_revision(item_id)
        if revision is None:
            return model.create_revision(item_id, user_id, changes, ctx.get("license"))
    else:
        revision = model.revision_by_number(item_id, as_int(revision_text))
        if revision is None:
            raise ApiError(-150, "Unable to find revision")
    ctx.db.update("itemrevision", "itemrevision_id", revision["itemrevision_id"],
                  changes=changes)
    return revision


def _check_upload(ctx: Context) -> tuple:
    upload_token, _filename, length_text = ctx.require("uploadtoken", "filename", "length")
    if ctx.verb not in ("POST", "PUT"):
        raise ApiError(-153, "POST or PUT method required")
    model = ctx.model
    parts = upload_token.split("/")
    user = model.user(parts[0]) if parts and parts[0].isdigit() else None
    if user is None:
        raise ApiError(-150, "Invalid user id from upload token")
    item = model.item(parts[1]) if len(parts) > 1 and parts[1].isdigit() else None
    if item is None:
        raise ApiError(-150, "Unable to find item")
    if model.item_level(item["item_id"], user) < WRITE:
        raise ApiError(-151, "Permission error")
    revision_text = ctx.get("revision")
    if revision_text is not None and revision_text.lower() != "head":
        if model.revision_by_number(item["item_id"], as_int(revision_text)) is None:
            raise ApiError(-150, "Unable to find revision")
    return upload_token, user, item, _count(length_text.strip()) or 0


@core_method("upload.perform", streams_body=True, authenticates=False)
def upload_perform(ctx: Context) -> Any:
    """Receive file bytes for an upload token and create the bitstream.

    The body is streamed to the token's temporary file without holding the store
    lock, so that many clients can upload at once; requests on the same token
    wait for each other.
    """
    with ctx.transaction():
        upload_token, user, item, length = _check_upload(ctx)
        mode = ctx.get("mode", "stream")
        if mode not in ("stream", "multipart"):
            raise ApiError(-150, "Invalid upload mode")
    if mode == "multipart":
        if "file" not in ctx.files or not ctx.has("file"):
            raise ApiError(-150, "Parameter file is not defined")
        name, content = ctx.files["file"]
        handle_number, path = tempfile.mkstemp(prefix="multipart-", dir=ctx.db.upload_dir)
        with os.fdopen(handle_number, "wb") as handle:
            handle.write(content)
        try:
            return _store_upload(ctx, path, item, user, name, hashlib.md5(content).hexdigest(),
                                 len(content))
        finally:
            if os.path.exists(path):
                os.remove(path)  # a failed multipart upload leaves nothing behind
    uploads = ctx.db.uploads
    with uploads.exclusive(upload_token, land_late_bytes=True) as token_path:
        if token_path is None or not os.path.isfile(token_path):
            raise ApiError(-141, f"Invalid upload token {upload_token}")
        try:
            checksum, size = _receive_stream(ctx, token_path, length)
        finally:
            late, seconds = ctx.late_body()
            uploads.write_later(upload_token, late, seconds)
        return _store_upload(ctx, token_path, item, user, ctx.get("filename") or "", checksum,
                             size)


def _store_upload(ctx: Context, path: str, item: Row, user: Row, name: str, checksum: str,
                  size: int) -> Any:
    """Move a received file into the store and add its bitstream to the target revision."""
    with ctx.transaction():
        model = ctx.model
        if model.item(item["item_id"]) is None:
            os.remove(path)
            raise ApiError(-150, "Unable to find item")
        revision = _target_revision(ctx, model, item["item_id"], user["user_id"])
        relative = ctx.db.adopt_file(path, checksum)
        model.add_bitstream(revision, name, guess_mimetype(name), size, checksum, relative)
        updated = model.item(item["item_id"])
        assert updated is not None
        return model.item_dict(updated)


# -- bitstreams -------------------------------------------------------------------------------


@core_method("bitstream.download")
def bitstream_download(ctx: Context) -> Any:
    """Redirect to the download of one bitstream, with optional offset and name."""
    if not ctx.has("id") and not ctx.has("checksum"):
        raise ApiError(-150, "Either an id or checksum parameter is required")
    user = ctx.user()
    model = ctx.model
    missing = "The bitstream does not exist or you do not have the permissions"
    if ctx.has("id"):
        bitstream = ctx.db.one("SELECT * FROM bitstream WHERE bitstream_id = ?",
                               (as_int(ctx.get("id")),))
    else:
        bitstream = None
        for row in ctx.db.all(
            "SELECT b.* FROM bitstream b JOIN itemrevision r "
            "ON r.itemrevision_id = b.itemrevision_id WHERE b.checksum = ? ORDER BY b.bitstream_id",
            (ctx.get("checksum"),),
        ):
            revision = ctx.db.one("SELECT item_id FROM itemrevision WHERE itemrevision_id = ?",
                                  (row["itemrevision_id"],))
            if revision is not None and model.item_level(revision["item_id"], user) >= READ:
                bitstream = row
                break
    if bitstream is None:
        raise ApiError(-150, missing)
    revision = ctx.db.one("SELECT item_id FROM itemrevision WHERE itemrevision_id = ?",
                          (bitstream["itemrevision_id"],))
    if revision is None:
        raise ApiError(-100, "Bitstream does not belong to a revision")
    if model.item_level(revision["item_id"], user) < READ:
        raise ApiError(-151, "Read permission required")
    offset = ctx.get("offset", "0")
    name = ctx.get("name") or bitstream["name"]
    return Redirect(
        f"{ctx.config.base_path}/download/?bitstream={bitstream['bitstream_id']}"
        f"&offset={quote(offset or '0', safe='')}&name={quote(name, safe='')}{_auth_suffix(ctx)}"
    )
