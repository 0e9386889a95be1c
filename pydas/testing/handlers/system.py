"""Server information and the site-wide search (midas-web-api.md §4.1)."""

import time
from typing import Any, Dict, List

from pydas.testing.answers import ApiError
from pydas.testing.backend import READ
from pydas.testing.backend.records import community_dict, folder_dict, item_dict, user_dict
from pydas.testing.dispatch import Context, core_method, method_listing

__all__ = ["VERSION"]

#: The Midas version the emulator reports.
VERSION = "3.4.2"


@core_method("version", session="read", authenticates=False)
def version(ctx: Context) -> Any:
    """Return the server version."""
    return {"version": VERSION}


@core_method("info", session="read", authenticates=False)
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
            for method in method_listing(ctx.config.modules)
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
    items = backend.items.matching(pattern, caller, 200)
    for row in items:
        entry = item_dict(row)
        entry.update(resultType="item", formattedDate=_formatted(row["date_update"]))
        results.append(entry)
    folders = backend.folders.matching(pattern, caller, 15)
    for row in folders:
        entry = folder_dict(row)
        entry.update(resultType="folder", formattedDate=_formatted(row["date_update"]))
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
    return {
        "nitems": len(items),
        "nfolders": len(folders),
        "ncommunities": len(communities),
        "nusers": len(users),
        "results": results,
    }
