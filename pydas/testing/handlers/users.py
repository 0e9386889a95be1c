"""Logging in and users (midas-web-api.md §2, §4.2)."""

from typing import Any

from pydas.testing.answers import ApiError
from pydas.testing.backend.records import folder_dict, user_dict
from pydas.testing.backend.values import as_int
from pydas.testing.dispatch import Context, core_method

__all__ = []


@core_method("login", authenticates=False)
def login(ctx: Context) -> Any:
    """Exchange e-mail, application name and API key for a token."""
    email, appname, apikey = ctx.require("email", "appname", "apikey")
    users = ctx.backend.users
    user = users.by_email(email)
    if user is None:
        raise ApiError(-150, "Unable to authenticate. Please check credentials.")
    key = users.api_key(user["user_id"], appname, apikey)
    if key is None:
        raise ApiError(0, "")
    token = users.issue_token(user["user_id"], key)
    if "mfa" in ctx.config.modules and user["otp"] is not None:
        return {"mfa_token_id": users.start_mfa(user["user_id"], token["token_id"])}
    return {"token": token["token"]}


@core_method("user.apikey.default", session="read", authenticates=False)
def user_apikey_default(ctx: Context) -> Any:
    """Return the ``Default`` API key of a user given e-mail and password (POST only)."""
    if ctx.verb != "POST":
        raise ApiError(-153, "POST method required")
    email, password = ctx.require("email", "password")
    users = ctx.backend.users
    user = users.by_email(email)
    if user is None or not users.check_password(user, password):
        raise ApiError(-150, "Login failed")
    key = users.default_api_key(user["user_id"])
    if key is None:
        raise ApiError(-150, "User has no default API key")
    return {"apikey": key}


@core_method("user.folders", session="read")
def user_folders(ctx: Context) -> Any:
    """List the readable children of the caller's home folder."""
    caller = ctx.caller()
    if caller.user is None:
        return []
    return [folder_dict(folder)
            for folder in ctx.backend.folders.children(caller.user["folder_id"], caller)]


@core_method("user.list", session="read", authenticates=False)
def user_list(ctx: Context) -> Any:
    """List public users ordered by last name."""
    (limit_text,) = ctx.require("limit")
    limit = as_int(limit_text)
    rows = ctx.backend.users.public()
    if limit > 0:
        rows = rows[:limit]
    return [user_dict(row) for row in rows]


@core_method("user.get", session="read", authenticates=False)
def user_get(ctx: Context) -> Any:
    """Find one user by id, e-mail, or first and last name (``""`` if none)."""
    users = ctx.backend.users
    if ctx.has("user_id") or ctx.has("id"):
        user = users.get(as_int(ctx.get("user_id", ctx.get("id"))))
    elif ctx.has("email"):
        user = users.by_email(ctx.get("email") or "")
    elif ctx.has("firstname") and ctx.has("lastname"):
        user = users.by_name(ctx.get("firstname"), ctx.get("lastname"))
    else:
        raise ApiError(-150, "Please provide a user email or both first and last name")
    return "" if user is None else user_dict(user)
