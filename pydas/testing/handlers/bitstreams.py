"""Bitstreams (midas-web-api.md §4.8)."""

from typing import Any
from urllib.parse import quote

from pydas.testing.answers import ApiError, Redirect
from pydas.testing.backend import ADMIN, READ, WRITE, Row
from pydas.testing.backend.records import bitstream_dict
from pydas.testing.backend.values import as_int
from pydas.testing.dispatch import Context, core_method
from pydas.testing.handlers.common import auth_suffix

__all__ = []

_MISSING = "The bitstream does not exist or you do not have the permissions"


@core_method("bitstream.download", session="read")
def bitstream_download(ctx: Context) -> Any:
    """Redirect to the download of one bitstream, with optional offset and name."""
    if not ctx.has("id") and not ctx.has("checksum"):
        raise ApiError(-150, "Either an id or checksum parameter is required")
    caller = ctx.caller()
    backend = ctx.backend
    items, policies = backend.items, backend.policies
    if ctx.has("id"):
        bitstream = items.bitstream(as_int(ctx.get("id")))
    else:
        bitstream = next(
            (row for row in items.bitstreams_with_checksum(ctx.get("checksum"))
             if policies.level("item", row["owner_item"], caller) >= READ),
            None,
        )
    if bitstream is None:
        raise ApiError(-150, _MISSING)
    if bitstream["owner_item"] is None:
        raise ApiError(-100, "Bitstream does not belong to a revision")
    if policies.level("item", bitstream["owner_item"], caller) < READ:
        raise ApiError(-151, "Read permission required")
    offset = ctx.get("offset", "0")
    name = ctx.get("name") or bitstream["name"]
    return Redirect(
        f"{ctx.config.base_path}/download/?bitstream={bitstream['bitstream_id']}"
        f"&offset={quote(offset or '0', safe='')}&name={quote(name, safe='')}{auth_suffix(ctx)}"
    )


def _bitstream(ctx: Context) -> Row:
    (bitstream_id,) = ctx.require("id")
    bitstream = ctx.backend.items.bitstream(as_int(bitstream_id))
    if bitstream is None:
        raise ApiError(-150, "Invalid bitstream id")
    return bitstream


def _level(ctx: Context, bitstream: Row) -> int:
    owner = bitstream["owner_item"]
    if owner is None:
        raise ApiError(-100, "Invalid revision id")
    return ctx.backend.policies.level("item", owner, ctx.caller())


@core_method("bitstream.get", session="read")
def bitstream_get(ctx: Context) -> Any:
    """Return a bitstream's id, name, size, mime type, checksum, revision, item and date."""
    bitstream = _bitstream(ctx)
    if _level(ctx, bitstream) < READ:
        raise ApiError(-151, "This item doesn't exist or you don't have the permissions.")
    return {
        "id": bitstream["bitstream_id"],
        "name": ctx.get("name") if ctx.has("name") else bitstream["name"],
        "size": bitstream["sizebytes"],
        "mimetype": bitstream["mimetype"],
        "checksum": bitstream["checksum"],
        "itemrevision_id": bitstream["itemrevision_id"],
        "item_id": bitstream["owner_item"],
        "date": bitstream["date"],
    }


@core_method("bitstream.edit")
def bitstream_edit(ctx: Context) -> Any:
    """Rename a bitstream or change its mime type (Write on the item)."""
    bitstream = _bitstream(ctx)
    if _level(ctx, bitstream) < WRITE:
        raise ApiError(-151, "Write access on item is required")
    changes = {name: ctx.get(name) for name in ("name", "mimetype") if ctx.has(name)}
    items = ctx.backend.items
    items.edit_bitstream(bitstream["bitstream_id"], **changes)
    edited = items.bitstream(bitstream["bitstream_id"])
    assert edited is not None
    return bitstream_dict(edited)


@core_method("bitstream.delete")
def bitstream_delete(ctx: Context) -> Any:
    """Delete a bitstream (Admin on the item)."""
    bitstream = _bitstream(ctx)
    if _level(ctx, bitstream) < ADMIN:
        raise ApiError(-151, "Admin privileges required on the containing item")
    ctx.backend.items.delete_bitstream(bitstream["bitstream_id"])
    return ""


@core_method("bitstream.count", session="read")
def bitstream_count(ctx: Context) -> Any:
    """Count the bitstreams (and their bytes) readable in a community, folder or item."""
    (uuid,) = ctx.require("uuid")
    backend = ctx.backend
    caller = ctx.caller()
    kind, row = backend.resource_by_uuid(uuid)
    if row is None:
        raise ApiError(-150, "No resource for the given UUID.")
    if kind == "community":
        if backend.policies.community_level(row, caller) < READ:
            raise ApiError(-151, "Invalid policy")
        return backend.count_bitstreams(row["folder_id"], caller)
    if kind in ("folder", "item"):
        if backend.policies.level(kind, row[f"{kind}_id"], caller) < READ:
            raise ApiError(-151, "Invalid policy")
        if kind == "folder":
            return backend.count_bitstreams(row["folder_id"], caller)
        totals = backend.items.head_totals(row["item_id"])
        return {"size": totals["size"], "count": totals["count"]}
    raise ApiError(-100, "Invalid resource type")
