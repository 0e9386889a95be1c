"""Small values the server makes or normalises: random strings, times, uuids, ids, names."""

import hashlib
import json
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
    "sniff_mimetype",
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


#: Leading bytes of common formats and the type libmagic gives them.
_MAGIC = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
    (b"%PDF-", "application/pdf"),
    (b"PK\x03\x04", "application/zip"),
    (b"\x1f\x8b", "application/gzip"),
    (b"BZh", "application/x-bzip2"),
    (b"\xfd7zXZ\x00", "application/x-xz"),
)
#: Bytes libmagic never finds in text (other controls, and DEL); all others,
#: 0x80-0xff included, count as some kind of text.
_BINARY_BYTES = frozenset([*range(0, 7), *range(14, 27), *range(28, 32), 127])


def sniff_mimetype(head: bytes) -> str:
    """Tell a stored file's mime type from its first bytes, as the real server's libmagic.

    Empty content is ``application/x-empty``, one or two bytes
    ``application/octet-stream``, DICOM ``application/dicom``; a few
    formats are recognised by their signature; text (no control characters other
    than tab, line breaks, form feed, bell, backspace and escape, in any 8-bit
    encoding) is ``text/plain``, ``text/html`` or ``application/json``; other
    binary content is ``application/octet-stream`` (where libmagic sometimes
    guesses more, e.g. ``image/x-tga``).

    :param head: the first bytes of the file (a few KiB are enough).
    :returns: the type.
    """
    if not head:
        return "application/x-empty"
    if head[128:132] == b"DICM":
        return "application/dicom"
    for signature, mimetype in _MAGIC:
        if head.startswith(signature):
            return mimetype
    if len(head) < 3 or _BINARY_BYTES.intersection(head):  # libmagic: "very short file"
        return "application/octet-stream"
    start = head.lstrip()[:15].lower()
    if start.startswith((b"<!doctype html", b"<html")):
        return "text/html"
    if start.startswith((b"{", b"[")):
        try:
            json.loads(head)
        except ValueError:
            return "text/plain"
        return "application/json"
    return "text/plain"


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
