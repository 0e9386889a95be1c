"""Bitstreams (midas-web-api.md §4.8)."""

from typing import Any
from urllib.parse import quote

from pydas.testing.answers import ApiError, Redirect
from pydas.testing.backend import READ
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
