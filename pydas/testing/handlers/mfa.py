"""The ``mfa`` module: one-time-password logins (midas-web-api.md §4.9).

The real server's HOTP device accepts any one-time password (its check is a TODO
upstream); so does a device given with ``MidasServer.set_otp(email)``. A device
given a password, ``set_otp(email, otp)``, accepts only that one, to test how a
client handles a refused OTP.
"""

from typing import Any

from pydas.testing.answers import ApiError
from pydas.testing.backend.values import as_int
from pydas.testing.dispatch import Context, module_method
from pydas.testing.handlers.common import module_require

__all__ = []


@module_method("mfa", "otp.login", authenticates=False)
def mfa_otp_login(ctx: Context) -> Any:
    """Exchange an MFA token id and a one-time password for the real token."""
    otp, mfa_token_id = module_require(ctx, "otp", "mfaTokenId")
    users = ctx.backend.users
    pending = users.take_mfa(as_int(mfa_token_id))
    if pending is None:
        raise ApiError(-1, "Invalid MFA token id")
    token = users.valid_token(pending["token_id"])
    if token is None:
        raise ApiError(-1, "Corresponding api token no longer exists")
    user = users.get(pending["user_id"])
    if user is None or user["otp"] is None:
        raise ApiError(-1, "User does not have an OTP device")
    if user["otp"] and otp != user["otp"]:
        raise ApiError(-1, "Incorrect OTP")
    return {"token": token["token"]}
