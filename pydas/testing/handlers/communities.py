"""Communities (midas-web-api.md §4.3)."""

from typing import Any, Dict

from pydas.testing.answers import ApiError
from pydas.testing.backend import ADMIN, READ, WRITE
from pydas.testing.backend.records import community_dict, folder_dict
from pydas.testing.backend.values import as_int
from pydas.testing.dispatch import Context, core_method
from pydas.testing.handlers.common import fresh

__all__ = []

_NO_COMMUNITY = "This community doesn't exist or you don't have the permissions."


def _update(ctx: Context, community: Any, name: str) -> Any:
    backend = ctx.backend
    level = backend.policies.community_level(community, ctx.caller())
    if level < WRITE:
        raise ApiError(-151, "Invalid policy")
    changes: Dict[str, Any] = {"name": name}
    if ctx.has("description"):
        changes["description"] = ctx.get("description")
    if (ctx.has("privacy") or ctx.has("canjoin")) and level < ADMIN:
        raise ApiError(-151, "Admin access required.")
    if ctx.has("privacy"):
        if ctx.get("privacy") not in ("Public", "Private"):
            raise ApiError(-150, "privacy should be one of [Public|Private]")
        changes["privacy"] = 0 if ctx.get("privacy") == "Public" else 1
    if ctx.has("canjoin"):
        if ctx.get("canjoin") not in ("Everyone", "Invitation"):
            raise ApiError(-150, "privacy should be one of [Everyone|Invitation]")
        changes["can_join"] = 1 if ctx.get("canjoin") == "Everyone" else 0
    backend.communities.update(community["community_id"], **changes)
    return backend.communities.reload(community["community_id"])


@core_method("community.create")
def community_create(ctx: Context) -> Any:
    """Create a community (server administrators only) or update one by uuid."""
    (name,) = ctx.require("name")
    caller = ctx.caller()
    if caller.user is None:
        raise ApiError(-151, "Unable to find user")
    communities = ctx.backend.communities
    uuid = ctx.get("uuid")
    existing = communities.by_uuid(uuid) if uuid else None
    if existing is not None:
        return community_dict(_update(ctx, existing, name))
    if not caller.admin:
        raise ApiError(-151, "Only admins can create communities")
    community = communities.create(
        name, caller.user["user_id"], description=ctx.get("description") or "",
        privacy=ctx.get("privacy", "Public") or "", can_join=ctx.get("canjoin", "Everyone") or "",
        uuid=uuid or None,
    )
    return fresh(community_dict(community), "view")


@core_method("community.get", session="read")
def community_get(ctx: Context) -> Any:
    """Return a community by id or exact name."""
    communities = ctx.backend.communities
    if ctx.has("id"):
        community = communities.get(as_int(ctx.get("id")))
    elif ctx.has("name"):
        community = communities.by_name(ctx.get("name"))
    else:
        raise ApiError(-150, "Parameter id or name is not defined")
    if community is None or ctx.backend.policies.community_level(community,
                                                                  ctx.caller()) < READ:
        raise ApiError(-151, _NO_COMMUNITY)
    return community_dict(community)


@core_method("community.children", session="read")
def community_children(ctx: Context) -> Any:
    """List the readable folders at the top of a community."""
    (community_id,) = ctx.require("id")
    backend = ctx.backend
    community = backend.communities.get(as_int(community_id))
    if community is None:
        raise ApiError(-150, "Invalid community id")
    folders = backend.folders.children(community["folder_id"], ctx.caller())
    return {"folders": [folder_dict(folder) for folder in folders]}


@core_method("community.list", session="read")
def community_list(ctx: Context) -> Any:
    """List communities visible to the caller, sorted by name case-insensitively."""
    return [community_dict(row) for row in ctx.backend.communities.visible(ctx.caller())]


@core_method("community.delete")
def community_delete(ctx: Context) -> Any:
    """Delete a community with its groups and folders (Admin on the community)."""
    (community_id,) = ctx.require("id")
    caller = ctx.caller()
    if caller.user is None:
        raise ApiError(-101, "Unable to find user")
    communities = ctx.backend.communities
    community = communities.get(as_int(community_id))
    if community is None or ctx.backend.policies.community_level(community, caller) < ADMIN:
        raise ApiError(-151, "This community doesn't exist  or you don't have the permissions.")
    communities.delete(community)
    return ""


@core_method("community.list.groups", session="read")
def community_list_groups(ctx: Context) -> Any:
    """Map the ids of a community's groups to their names (Admin on the community)."""
    (community_id,) = ctx.require("community_id")
    caller = ctx.caller()
    if caller.user is None:
        raise ApiError(-151, "You must be logged in to list groups in a community")
    communities = ctx.backend.communities
    community = communities.get(as_int(community_id))
    if community is None:
        raise ApiError(-150, "Invalid id")
    if ctx.backend.policies.community_level(community, caller) < ADMIN:
        raise ApiError(-151, "Community Admin permissions required.")
    return {"groups": {str(group["group_id"]): group["name"]
                       for group in communities.groups(community["community_id"])}}
