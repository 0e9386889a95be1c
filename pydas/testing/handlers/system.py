"""Server information and the site-wide search (midas-web-api.md §4.1)."""

import time
from typing import Any, Dict, List, Optional, Tuple

from pydas.testing.answers import ApiError
from pydas.testing.backend import READ, Row
from pydas.testing.backend.records import (
    community_dict,
    folder_dict,
    item_dict,
    revision_dict,
    user_dict,
)
from pydas.testing.dispatch import (
    CORE_RESOURCES,
    MODULE_RESOURCES,
    Context,
    core_method,
    method_listing,
)

__all__ = ["VERSION", "SERVER_NAME"]

#: The Midas version the emulator reports.
VERSION = "3.4.2"
#: The site title a fresh Midas install reports in ``midas.info``.
SERVER_NAME = "Midas Platform - Digital Archiving System"


@core_method("version", session="read", authenticates=False)
def version(ctx: Context) -> Any:
    """Return the server version."""
    return {"version": VERSION}


@core_method("info", session="read", authenticates=False)
def info(ctx: Context) -> Any:
    """Return version, name, description, modules and REST resources."""
    root = f"{ctx.config.origin}{ctx.config.base_path}/rest"
    resources = {f"/{name}": f"{root}/{name}" for name in CORE_RESOURCES}
    for module in ctx.config.modules:
        for name in MODULE_RESOURCES.get(module, ()):
            resources[f"/{module}/{name}"] = f"{root}/{module}/{name}"
    return {
        "version": VERSION,
        "name": SERVER_NAME,
        "description": "",
        "modules": list(ctx.config.modules),
        "resources": resources,
    }


@core_method("modules.list", session="read", authenticates=False)
def modules_list(ctx: Context) -> Any:
    """Return the names of the enabled modules."""
    return {"modules": list(ctx.config.modules)}


@core_method("methods.list", session="read", authenticates=False)
def methods_list(ctx: Context) -> Any:
    """Return every available method with a short description."""
    return {
        "methods": [
            {
                "name": method.name,
                "help": {"params": {}, "example": [], "return": "",
                         "description": method.description},
            }
            for method in method_listing(ctx.config.modules, ctx.config.variants)
        ]
    }


@core_method("system.listMethods", session="read", authenticates=False)
def system_list_methods(ctx: Context) -> Any:
    """Return the one method the real dispatcher lists here (a server quirk)."""
    return ["midas.system.listMethods"]


def _formatted(date: str) -> str:
    try:
        parsed = time.strptime(date[:10], "%Y-%m-%d")
    except (TypeError, ValueError):
        return ""
    return time.strftime("%m/%d/%Y", parsed)


@core_method("resource.search", session="read")
def resource_search(ctx: Context) -> Any:
    """Substring search over items, folders, communities and users."""
    (term,) = ctx.require("search")
    order = ctx.get("order", "view")
    if order not in ("view", "name", "date", "relevance"):
        raise ApiError(0, "Error in order parameter, not one of the expected values.")
    caller = ctx.caller()
    backend = ctx.backend
    pattern = f"%{term}%"
    results: List[Dict[str, Any]] = []
    folders = backend.folders.matching(pattern, caller, 15)
    for row in folders:
        entry = folder_dict(row)
        entry.update(resultType="folder", formattedDate=_formatted(row["date_update"]))
        results.append(entry)
    items = backend.items.matching(pattern, caller, 200)
    for row in items:
        entry = item_dict(row)
        entry.update(resultType="item", formattedDate=_formatted(row["date_update"]))
        results.append(entry)
    communities = [row for row in backend.communities.matching(pattern)
                   if backend.policies.community_level(row, caller) >= READ][:15]
    for row in communities:
        entry = community_dict(row)
        entry.update(resultType="community", formattedDate=_formatted(row["creation"]))
        results.append(entry)
    users = backend.users.matching(pattern, 15)
    for row in users:
        entry = user_dict(row)
        del entry["email"]
        entry.update(resultType="user", formattedDate=_formatted(row["creation"]))
        results.append(entry)
    # Folders, items, communities, users, then a stable sort as the real server does.
    if order == "view":
        results.sort(key=lambda entry: -int(entry["view"] or 0))
    elif order in ("name", "relevance"):
        results.sort(key=lambda entry: str(entry.get("name", entry.get("lastname", ""))).lower())
    elif order == "date":
        results.sort(key=lambda entry: str(entry.get("date_update", entry.get("creation", ""))))
    return {
        "nitems": len(items),
        "nfolders": len(folders),
        "ncommunities": len(communities),
        "nusers": len(users),
        "results": results,
    }


#: The real server's numbers for the kinds of resource a uuid may name.
_RESOURCE_TYPES = {"item": 1, "user": 2, "revision": 3, "folder": 4, "community": 6}
_SERIALISERS = {"community": community_dict, "folder": folder_dict, "item": item_dict,
                "revision": revision_dict, "user": user_dict}


def _by_uuid(ctx: Context) -> Tuple[str, Row]:
    (uuid,) = ctx.require("uuid")
    kind, row = ctx.backend.resource_by_uuid(uuid)
    if row is None:
        raise ApiError(-150, "No resource for the given UUID.")
    return kind, row


@core_method("resource.get", session="read")
def resource_get(ctx: Context) -> Any:
    """Tell the type and id of what a uuid names (a community's folder with ``folder``)."""
    kind, row = _by_uuid(ctx)
    if kind == "community" and ctx.has("folder"):
        return {"type": _RESOURCE_TYPES["folder"], "id": row["folder_id"]}
    key = "itemrevision_id" if kind == "revision" else f"{kind}_id"
    return {"type": _RESOURCE_TYPES[kind], "id": row[key]}


def _path_to_root(ctx: Context) -> List[Dict[str, Any]]:
    # The real server checks no permission here.
    kind, row = _by_uuid(ctx)
    path = [_SERIALISERS[kind](row)]
    folders = ctx.backend.folders
    if kind == "folder":
        start: Optional[int] = row["folder_id"]
    elif kind == "item":
        start = ctx.backend.items.first_folder_id(row["item_id"])
        if start is not None:
            path.append(folder_dict(folders.reload(start)))
    elif kind == "community":
        return path
    else:
        raise ApiError(-150, "Should be a folder, an item or a community.")
    if start is not None:
        path += [folder_dict(folder) for folder in folders.ancestors(start)]
    return path


@core_method("path.to.root", session="read")
def path_to_root(ctx: Context) -> Any:
    """List a folder or item and the folders above it, up to its root."""
    return _path_to_root(ctx)


@core_method("path.from.root", session="read")
def path_from_root(ctx: Context) -> Any:
    """List the folders from the root down to a folder or item."""
    return list(reversed(_path_to_root(ctx)))
