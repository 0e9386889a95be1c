"""What several handlers share: permission-checked lookups and parameter forms."""

from typing import Any, Dict, List, Optional
from urllib.parse import quote

from pydas.testing.answers import ApiError
from pydas.testing.backend import READ, WRITE, Row
from pydas.testing.backend.values import as_int
from pydas.testing.dispatch import Context

__all__ = [
    "NO_ITEM",
    "NO_FOLDER",
    "FOLDER_POLICY_ERROR",
    "readable_item",
    "readable_folder",
    "writable_destination",
    "writable_item",
    "auth_suffix",
    "count",
    "fresh",
    "module_require",
]

NO_ITEM = "This item doesn't exist or you don't have the permissions."
NO_FOLDER = "This folder doesn't exist or you don't have the permissions."
FOLDER_POLICY_ERROR = "Error in params when checking Folder Policy."


def readable_item(ctx: Context, item_id: Any, level: int = READ, message: str = NO_ITEM) -> Row:
    """Return the item if the caller holds ``level`` on it.

    :raises ApiError: -151 with ``message`` otherwise (or for no such item).
    """
    item = ctx.backend.items.get_for(as_int(item_id), ctx.caller())
    if item is None or item["level"] < level:
        raise ApiError(-151, message)
    return item


def readable_folder(ctx: Context, folder_id: Any, level: int = READ,
                    message: str = NO_FOLDER) -> Row:
    """Return the folder if the caller holds ``level`` on it.

    :raises ApiError: -151 with ``message`` otherwise (or for no such folder).
    """
    folder = ctx.backend.folders.get_for(as_int(folder_id), ctx.caller())
    if folder is None or folder["level"] < level:
        raise ApiError(-151, message)
    return folder


_NO_WRITE = "You didn't log in or you don't have the write permission for the given item."
_ITEM_POLICY_ERROR = "Error in parameter itemdao or policy when checking Item policy."


def writable_item(ctx: Context, item_id: Any) -> Row:
    """Return an item the caller may write to, checked the way the modules do.

    :raises ApiError: 0 for no such item, -151 without Write (or anonymously).
    """
    caller = ctx.caller()
    item = ctx.backend.items.get_for(as_int(item_id), caller)
    if item is None:
        raise ApiError(0, _ITEM_POLICY_ERROR)
    if caller.user is None or item["level"] < WRITE:
        raise ApiError(-151, _NO_WRITE)
    return item


def writable_destination(ctx: Context) -> Row:
    """Return the ``dstfolderid`` folder if the caller may write to it.

    :raises ApiError: 0 for no such folder, -151 without Write.
    """
    destination = ctx.backend.folders.get_for(as_int(ctx.get("dstfolderid")), ctx.caller())
    if destination is None:
        raise ApiError(0, FOLDER_POLICY_ERROR)
    if destination["level"] < WRITE:
        raise ApiError(-151, "Invalid policy")
    return destination


def auth_suffix(ctx: Context) -> str:
    """Return ``&authToken=...`` for a logged-in caller's download redirect, else ``""``."""
    token = ctx.get("token")
    return f"&authToken={quote(token, safe='')}" if token and ctx.user() is not None else ""


def fresh(record: Dict[str, Any], *unset: str) -> Dict[str, Any]:
    """Blank the fields a new object's answer leaves unset on the real server.

    The real server answers a create with the object it just saved, whose
    counters (``view``, ``download``, an item's ``sizebytes``) were never set
    and serialise as ``""``; a later read gives ``"0"``.
    """
    return {**record, **{name: None for name in unset}}


def count(text: str) -> Optional[int]:
    """Return the value of a non-negative decimal number, or ``None`` if ``text`` is not one."""
    return int(text) if text.isascii() and text.isdigit() else None


def module_require(ctx: Context, *names: str) -> List[str]:
    """Require parameters the way the modules do (code -1, ``Parameter X must be set.``)."""
    return ctx.require(*names, code=-1, template="Parameter {} must be set.")
