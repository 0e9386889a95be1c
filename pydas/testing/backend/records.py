"""How each resource is serialised: field order and content of midas-web-api.md §3.1.

Folder and item rows carry a ``public`` column (the anonymous group holds a
policy), from which ``privacy_status`` is derived; the queries of
:mod:`~pydas.testing.backend.folders` and :mod:`~pydas.testing.backend.items`
select it.
"""

from typing import Any, Dict

from pydas.testing.backend.database import Row

__all__ = ["user_dict", "community_dict", "folder_dict", "item_dict", "revision_dict",
           "bitstream_dict"]

_USER_FIELDS = (
    "user_id", "firstname", "lastname", "email", "thumbnail", "company", "creation",
    "folder_id", "admin", "privacy", "view", "uuid", "city", "country", "website",
    "biography", "dynamichelp",
)
_COMMUNITY_FIELDS = (
    "community_id", "name", "description", "creation", "privacy", "folder_id",
    "admingroup_id", "moderatorgroup_id", "membergroup_id", "can_join", "view", "uuid",
)
_ITEM_FIELDS = (
    "item_id", "name", "description", "type", "sizebytes", "date_creation", "date_update",
    "thumbnail_id", "view", "download",
)
_REVISION_FIELDS = (
    "itemrevision_id", "item_id", "revision", "date", "changes", "user_id", "license_id", "uuid",
)
_BITSTREAM_FIELDS = (
    "bitstream_id", "itemrevision_id", "assetstore_id", "name", "mimetype", "sizebytes",
    "checksum", "path", "date",
)


def user_dict(user: Row) -> Dict[str, Any]:
    """Serialise a user (never its password, hash or salt)."""
    return {name: user[name] for name in _USER_FIELDS}


def community_dict(community: Row) -> Dict[str, Any]:
    """Serialise a community."""
    return {name: community[name] for name in _COMMUNITY_FIELDS}


def folder_dict(folder: Row) -> Dict[str, Any]:
    """Serialise a folder (a row with the ``public`` column)."""
    folder_id = folder["folder_id"]
    return {
        "folder_id": folder_id,
        "left_index": 2 * folder_id,
        "right_index": 2 * folder_id + 1,
        "parent_id": folder["parent_id"],
        "name": folder["name"],
        "description": folder["description"],
        "date_update": folder["date_update"],
        "date_creation": folder["date_creation"],
        "view": folder["view"],
        "teaser": folder["teaser"],
        "privacy_status": 0 if folder["public"] else 2,
        "uuid": folder["uuid"],
    }


def item_dict(item: Row) -> Dict[str, Any]:
    """Serialise an item (a row with the ``public`` column)."""
    result = {name: item[name] for name in _ITEM_FIELDS}
    result["privacy_status"] = 0 if item["public"] else 2
    result["uuid"] = item["uuid"]
    return result


def revision_dict(revision: Row) -> Dict[str, Any]:
    """Serialise an item revision."""
    return {name: revision[name] for name in _REVISION_FIELDS}


def bitstream_dict(bitstream: Row) -> Dict[str, Any]:
    """Serialise a bitstream."""
    return {name: bitstream[name] for name in _BITSTREAM_FIELDS}
