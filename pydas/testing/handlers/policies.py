"""Permissions of folders and items: listing, adding and removing policies (§3.3).

The real server names the id parameter ``folder_id``/``item_id`` and answers a
folder change with ``{"success": n, "failure": m}`` (resources changed, with
``recursive`` the sub-folders and items too), an item change with
``{"success": "true"}``.
"""

from typing import Any, Dict

from pydas.testing.answers import ApiError
from pydas.testing.backend import ADMIN, READ, WRITE, Caller, Row
from pydas.testing.backend.values import as_int
from pydas.testing.dispatch import Context, core_method

__all__ = []

_POLICY_CODES = {"Admin": ADMIN, "Write": WRITE, "Read": READ}
_POLICY_NAMES = {level: name for name, level in _POLICY_CODES.items()}


def _target(ctx: Context, kind: str, purpose: str = "") -> Row:
    (object_id,) = ctx.require(f"{kind}_id")
    backend = ctx.backend
    found = (backend.folders if kind == "folder" else backend.items).get_for(
        as_int(object_id), ctx.caller())
    if found is None:
        raise ApiError(-150, f"This {kind} doesn't exist.")
    if found["level"] < ADMIN:
        raise ApiError(-151, f"Admin privileges required on the {kind}{purpose}.")
    return found


def _policy_code(text: str) -> int:
    if text not in _POLICY_CODES:
        raise ApiError(-150, f"policy should be one of [{'|'.join(_POLICY_CODES)}]")
    return _POLICY_CODES[text]


def _subject(ctx: Context, role: str) -> Dict[str, Any]:
    backend = ctx.backend
    if role == "group":
        group = backend.policies.group(as_int(ctx.get("group_id")))
        if group is None:
            raise ApiError(-150, "This group doesn't exist.")
        return {"group_id": group["group_id"]}
    user = backend.users.get(as_int(ctx.get("user_id")))
    if user is None:
        raise ApiError(-150, "This user doesn't exist.")
    return {"user_id": user["user_id"]}


def _apply_down(ctx: Context, folder: Row, caller: Caller, results: Dict[str, int]) -> None:
    """Give every sub-folder and item the caller administers the folder's policies."""
    backend = ctx.backend
    policies = backend.policies
    folder_id = folder["folder_id"]
    for child in backend.folders.children(folder_id):
        if policies.level("folder", child["folder_id"], caller) < ADMIN:
            results["failure"] += 1
            continue
        policies.remove_all("folder", child["folder_id"])
        policies.copy("folder", folder_id, "folder", child["folder_id"])
        results["success"] += 1
        _apply_down(ctx, child, caller, results)
    for item in backend.items.in_folder(folder_id):
        if policies.level("item", item["item_id"], caller) < ADMIN:
            results["failure"] += 1
            continue
        policies.remove_all("item", item["item_id"])
        policies.copy("folder", folder_id, "item", item["item_id"])
        results["success"] += 1


def _change(ctx: Context, kind: str, role: str, adding: bool) -> Any:
    ctx.require(f"{kind}_id", f"{role}_id", *(["policy"] if adding else []))
    target = _target(ctx, kind)
    subject = _subject(ctx, role)
    policies = ctx.backend.policies
    object_id = target[f"{kind}_id"]
    if adding:
        policies.set(kind, object_id, _policy_code(ctx.get("policy") or ""), **subject)
    else:
        policies.remove(kind, object_id, **subject)
    if kind == "item":
        return {"success": "true"}
    results = {"success": 1, "failure": 0}
    if ctx.has("recursive"):
        _apply_down(ctx, target, ctx.caller(), results)
    return results


def _listing(ctx: Context, kind: str) -> Any:
    target = _target(ctx, kind, " to list permissions")
    policies = ctx.backend.policies
    object_id = target[f"{kind}_id"]
    return {
        "privacy": "Public" if target["public"] else "Private",
        "user": [{"user_id": row["user_id"], "policy": _POLICY_NAMES[row["policy"]],
                  "email": row["email"]} for row in policies.of_users(kind, object_id)],
        "group": [{"group_id": row["group_id"], "policy": _POLICY_NAMES[row["policy"]],
                   "name": row["name"]} for row in policies.of_groups(kind, object_id)],
    }


@core_method("folder.list.permissions", session="read")
def folder_list_permissions(ctx: Context) -> Any:
    """List the privacy and the user and group policies of a folder (Admin required)."""
    return _listing(ctx, "folder")


@core_method("item.list.permissions", session="read")
def item_list_permissions(ctx: Context) -> Any:
    """List the privacy and the user and group policies of an item (Admin required)."""
    return _listing(ctx, "item")


@core_method("folder.add.policygroup")
def folder_add_policygroup(ctx: Context) -> Any:
    """Give a group a policy on a folder (and, with ``recursive``, below it)."""
    return _change(ctx, "folder", "group", adding=True)


@core_method("folder.remove.policygroup")
def folder_remove_policygroup(ctx: Context) -> Any:
    """Remove a group's policy from a folder (and, with ``recursive``, below it)."""
    return _change(ctx, "folder", "group", adding=False)


@core_method("folder.add.policyuser")
def folder_add_policyuser(ctx: Context) -> Any:
    """Give a user a policy on a folder (and, with ``recursive``, below it)."""
    return _change(ctx, "folder", "user", adding=True)


@core_method("folder.remove.policyuser")
def folder_remove_policyuser(ctx: Context) -> Any:
    """Remove a user's policy from a folder (and, with ``recursive``, below it)."""
    return _change(ctx, "folder", "user", adding=False)


@core_method("item.add.policygroup")
def item_add_policygroup(ctx: Context) -> Any:
    """Give a group a policy on an item."""
    return _change(ctx, "item", "group", adding=True)


@core_method("item.remove.policygroup")
def item_remove_policygroup(ctx: Context) -> Any:
    """Remove a group's policy from an item."""
    return _change(ctx, "item", "group", adding=False)


@core_method("item.add.policyuser")
def item_add_policyuser(ctx: Context) -> Any:
    """Give a user a policy on an item."""
    return _change(ctx, "item", "user", adding=True)


@core_method("item.remove.policyuser")
def item_remove_policyuser(ctx: Context) -> Any:
    """Remove a user's policy from an item."""
    return _change(ctx, "item", "user", adding=False)


@core_method("folder.set.privacy.recursive")
def folder_set_privacy_recursive(ctx: Context) -> Any:
    """Make a folder Public or Private and give everything below it its policies."""
    ctx.require("folder_id", "privacy")
    target = _target(ctx, "folder", " to set privacy")
    privacy = ctx.get("privacy") or ""
    if privacy not in ("Public", "Private"):
        raise ApiError(-150, "privacy should be one of [Public|Private]")
    ctx.backend.policies.set_privacy("folder", target["folder_id"], privacy)
    results = {"success": 1, "failure": 0}
    _apply_down(ctx, target, ctx.caller(), results)
    return results
