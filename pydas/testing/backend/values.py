"""Small values the server makes or normalises: random strings, times, uuids, ids, names."""

import hashlib
import mimetypes
import secrets
import string
import time
import uuid as uuid_module
from typing import Any, Optional

__all__ = [
    "random_string",
    "timestamp",
    "new_uuid",
    "hash_password",
    "capitalize_first",
    "guess_mimetype",
    "as_int",
]

_ALNUM = string.ascii_letters + string.digits


def random_string(length: int) -> str:
    """Return ``length`` random characters from ``[0-9a-zA-Z]``.

    :param length: number of characters.
    :returns: the random string.
    """
    chosen = ""
    while len(chosen) < length:
        # Bytes below 248 (4 x 62) map uniformly onto the 62 characters.
        chosen += "".join(_ALNUM[byte % 62] for byte in secrets.token_bytes(length + 8)
                          if byte < 248)
    return chosen[:length]


def timestamp(when: Optional[float] = None) -> str:
    """Format a time as the server does: ``YYYY-MM-DD HH:MM:SS`` in UTC.

    :param when: seconds since the epoch; now if omitted.
    :returns: the formatted time.
    """
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(when))


def new_uuid() -> str:
    """Return a fresh uuid as the server formats it: 32 lowercase hex characters."""
    return uuid_module.uuid4().hex


def hash_password(password: str, salt: str) -> str:
    """Return the stored form of a password.

    :param password: the plain text.
    :param salt: the user's salt.
    :returns: a salted SHA-256 hex digest.
    """
    return hashlib.sha256((salt + password).encode("utf-8")).hexdigest()


def capitalize_first(text: str) -> str:
    """Upper-case the first letter only, as the server does for names."""
    return text[:1].upper() + text[1:]


def guess_mimetype(name: str) -> str:
    """Guess a bitstream's mime type from its name (at most 30 characters, as stored).

    :param name: the file name.
    :returns: the type, ``application/octet-stream`` when unknown.
    """
    guessed = mimetypes.guess_type(name)[0] or "application/octet-stream"
    return guessed[:30]


def as_int(value: Any) -> int:
    """Convert an id parameter to an int; anything else becomes ``-9``.

    Non-numeric ids, and numbers beyond SQLite's 64-bit range, never match a
    row, like an unknown id on the real server.
    """
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        return -9
    return number if -(2**63) <= number < 2**63 else -9
