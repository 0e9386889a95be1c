"""Uploads: tokens, checksum de-duplication, streamed bodies, resume (§4.7, §6)."""

from typing import Any, Tuple

from pydas.testing.answers import ApiError
from pydas.testing.backend import READ, WRITE, Row
from pydas.testing.backend.records import item_dict
from pydas.testing.backend.values import as_int
from pydas.testing.dispatch import Context, core_method
from pydas.testing.handlers.common import count

__all__ = []


@core_method("upload.generatetoken")
def upload_generatetoken(ctx: Context) -> Any:
    """Return an upload token, or a blank one after de-duplicating by checksum."""
    (filename,) = ctx.require("filename")
    if not ctx.has("itemid") and not ctx.has("folderid"):
        raise ApiError(-150, "Parameter itemid or folderid must be defined")
    if ctx.has("itemid") and ctx.has("folderid"):
        raise ApiError(-150, "Parameter itemid or folderid must be defined, but not both")
    caller = ctx.caller()
    user = caller.user
    if user is None:
        raise ApiError(-151, "Anonymous users may not upload")
    backend = ctx.backend
    items, policies = backend.items, backend.policies
    if ctx.has("itemid"):
        item = items.get_for(as_int(ctx.get("itemid")), caller)
        if item is None:
            raise ApiError(0, "Error in parameter itemdao or policy when checking Item policy.")
        if item["level"] < WRITE:
            raise ApiError(-151, "Invalid policy or itemid")
        item_id = item["item_id"]
    else:
        folder = backend.folders.get_for(as_int(ctx.get("folderid")), caller)
        if folder is None:
            raise ApiError(-150, "Parent folder corresponding to folderid doesn't exist")
        if folder["level"] < WRITE:
            raise ApiError(-151, "Invalid policy or folderid")
        item_id = items.create(ctx.get("itemname") or filename, folder["folder_id"],
                               user["user_id"], ctx.get("itemdescription") or "")
    if ctx.has("checksum"):
        known = items.known_content(ctx.get("checksum"))
        if known is not None and policies.level("item", known["owner_item"], caller) >= READ:
            head = items.head(item_id)
            if head is None:
                head = items.create_revision(item_id, user["user_id"], "Initial revision")
            names = {row["name"] for row in items.bitstreams(head["itemrevision_id"])}
            if filename not in names:
                items.add_bitstream(head, filename, known["mimetype"], known["sizebytes"],
                                    known["checksum"], known["path"])
            return {"token": ""}
    return {"token": backend.uploads.create(user["user_id"], item_id)}


@core_method("upload.getoffset", session="own", authenticates=False)
def upload_getoffset(ctx: Context) -> Any:
    """Return how many bytes the server holds for an upload token.

    A ``perform`` running on the token is waited for.
    """
    (upload_token,) = ctx.require("uploadtoken")
    offset = ctx.backend.uploads.offset(upload_token)
    return {"offset": "" if offset is None else offset}


def _target_revision(ctx: Context, item_id: int, user_id: int) -> Row:
    items = ctx.backend.items
    revision_text = ctx.get("revision")
    changes = ctx.get("changes") or ""
    if revision_text is None:
        return items.create_revision(item_id, user_id, changes, ctx.get("license"))
    if revision_text.lower() == "head":
        revision = items.head(item_id)
        if revision is None:
            return items.create_revision(item_id, user_id, changes, ctx.get("license"))
    else:
        revision = items.revision(item_id, as_int(revision_text))
        if revision is None:
            raise ApiError(-150, "Unable to find revision")
    if revision["changes"] != changes:
        items.set_changes(revision["itemrevision_id"], changes)
    return revision


def _check_upload(ctx: Context) -> Tuple[str, Row, Row, int]:
    upload_token, _filename, length_text = ctx.require("uploadtoken", "filename", "length")
    if ctx.verb not in ("POST", "PUT"):
        raise ApiError(-153, "POST or PUT method required")
    backend = ctx.backend
    parts = upload_token.split("/")
    owner = backend.users.caller_by_id(as_int(parts[0])) if parts[0].isdigit() else None
    if owner is None or owner.user is None:
        raise ApiError(-150, "Invalid user id from upload token")
    user = owner.user
    item = (backend.items.get_for(as_int(parts[1]), owner)
            if len(parts) > 1 and parts[1].isdigit() else None)
    if item is None:
        raise ApiError(-150, "Unable to find item")
    if item["level"] < WRITE:
        raise ApiError(-151, "Permission error")
    revision_text = ctx.get("revision")
    if revision_text is not None and revision_text.lower() != "head":
        if backend.items.revision(item["item_id"], as_int(revision_text)) is None:
            raise ApiError(-150, "Unable to find revision")
    return upload_token, user, item, count(length_text.strip()) or 0


@core_method("upload.perform", session="own", streams_body=True, authenticates=False)
def upload_perform(ctx: Context) -> Any:
    """Receive file bytes for an upload token and create the bitstream.

    The body is streamed to the token's temporary file outside any database
    session, so that many clients can upload at once; requests on the same token
    wait for each other.
    """
    backend = ctx.backend
    with backend.read():
        upload_token, user, item, length = _check_upload(ctx)
        mode = ctx.get("mode", "stream")
        if mode not in ("stream", "multipart"):
            raise ApiError(-150, "Invalid upload mode")
    if mode == "multipart":
        if "file" not in ctx.files or not ctx.has("file"):
            raise ApiError(-150, "Parameter file is not defined")
        name, content = ctx.files["file"]
        with backend.write():
            if backend.items.get(item["item_id"]) is None:
                raise ApiError(-150, "Unable to find item")
            revision = _target_revision(ctx, item["item_id"], user["user_id"])
            checksum, path = backend.files.adopt_bytes(content)
            backend.items.add_bitstream(revision, name, backend.files.mimetype(checksum),
                                        len(content), checksum, path)
            return item_dict(backend.items.reload(item["item_id"]))
    uploads = backend.uploads
    with uploads.exclusive(upload_token, land_late_bytes=True) as token_path:
        if token_path is None or not uploads.is_open(upload_token):
            raise ApiError(-141, f"Invalid upload token {upload_token}")
        try:
            checksum, size = uploads.receive(token_path, ctx.body, length)
        finally:
            late, seconds = ctx.late_body()
            uploads.write_later(upload_token, late, seconds)
        with backend.write():
            if backend.items.get(item["item_id"]) is None:
                uploads.finish(upload_token, token_path)
                raise ApiError(-150, "Unable to find item")
            revision = _target_revision(ctx, item["item_id"], user["user_id"])
            path = backend.files.adopt(token_path, checksum)
            uploads.finish(upload_token)
            backend.items.add_bitstream(revision, ctx.get("filename") or "",
                                        backend.files.mimetype(checksum), size, checksum, path)
            return item_dict(backend.items.reload(item["item_id"]))
