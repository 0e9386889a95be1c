"""Names: server text repaired, local names made safe, distinct and short enough.

Names that come from the server are untrusted: they may hold separators,
``..``, drive letters, characters Windows forbids, or be longer than a file
system allows. Everything here turns them into one harmless path component,
predictably, so that a download never writes outside its directory and
gives the same local names on every run.
"""

from __future__ import annotations

import hashlib
import os
import re
import threading
import unicodedata
from typing import Any, Dict

from pydas.exceptions import UnsafePathError

__all__ = ["NAME_MAX", "NameBook", "fit", "inside", "name_key", "repair_text", "safe_name"]

#: The longest file name, in UTF-8 bytes, that common file systems take
#: (ext4, XFS, APFS: 255 bytes; NTFS: 255 UTF-16 units, which is never fewer).
NAME_MAX = 255
#: Longest ending kept as an extension when a name is shortened.
_EXTENSION_MAX = 32

_DRIVE = re.compile(r"^([A-Za-z]):")
_WINDOWS_FORBIDDEN = re.compile(r'[<>:"|?*\x01-\x1f]')
_WINDOWS_DEVICE = re.compile(r"^(CON|PRN|AUX|NUL|COM[0-9]|LPT[0-9])(\..*)?$", re.IGNORECASE)


def repair_text(value: Any) -> Any:
    """Undo the server's double encoding of non-ASCII text (midas-web-api.md §1.5).

    :param value: a value from a server answer; non-strings are returned as they are
    :returns: the original text when ``value`` decodes as double-encoded UTF-8,
        otherwise ``value`` unchanged
    """
    if not isinstance(value, str):
        return value
    try:
        return value.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return value


def name_key(server_name: str) -> str:
    """The form in which a server name is compared with a local one.

    Repaired from the double encoding, and in Unicode normal form C (macOS
    file systems hand out decomposed names).
    """
    return unicodedata.normalize("NFC", repair_text(server_name))


def safe_name(name: str, windows: bool = os.name == "nt") -> str:
    """Turn a name that came from the server into one harmless path component.

    The rules are fixed so that the result is predictable: ``/``, ``\\`` and
    NUL become ``_``; a leading drive (``C:``) becomes ``C_``; a name that is
    empty or made only of dots (``.``, ``..``) has every character replaced by
    ``_`` (an empty name becomes ``_``). On Windows, the characters it forbids
    in names (``<>:"|?*`` and control characters) become ``_`` as well (a
    ``:`` would write to a hidden stream of another file), trailing dots and
    spaces become ``_``, and a device name (``CON``, ``NUL.txt``, ``COM1``...)
    gets a leading ``_``. Anything else is kept, including non-ASCII
    characters and spaces.

    :param name: a folder, item or bitstream name
    :param windows: apply the Windows rules too (default: on Windows)
    :returns: a name that cannot leave the directory it is joined to
    """
    cleaned = name.replace("\x00", "_").replace("/", "_").replace("\\", "_")
    cleaned = _DRIVE.sub(r"\1_", cleaned)
    if windows:
        cleaned = _WINDOWS_FORBIDDEN.sub("_", cleaned)
        stripped = cleaned.rstrip(". ")
        cleaned = stripped + "_" * (len(cleaned) - len(stripped))
        if _WINDOWS_DEVICE.match(cleaned):
            cleaned = "_" + cleaned
    if cleaned.strip(".") == "":
        cleaned = "_" * max(len(cleaned), 1)
    return cleaned


def fit(name: str, limit: int = NAME_MAX) -> str:
    """Shorten a name to at most ``limit`` bytes of UTF-8, deterministically.

    A name that fits is returned unchanged. A longer one keeps its extension
    and as much of its beginning as fits, followed by ``~`` and eight
    hexadecimal digits of a hash of the whole name, so that two long names
    that begin alike still get different local names, and the same name
    gets the same local name on every run.

    :param name: a safe name (see :func:`safe_name`)
    :param limit: the largest size in bytes
    """
    if len(name.encode("utf-8", "surrogateescape")) <= limit:
        return name
    stem, extension = os.path.splitext(name)
    if len(extension.encode("utf-8", "surrogateescape")) > _EXTENSION_MAX:
        stem, extension = name, ""
    tag = "~" + hashlib.sha256(name.encode("utf-8", "surrogateescape")).hexdigest()[:8]
    room = limit - len(extension.encode("utf-8", "surrogateescape")) - len(tag)
    start = stem.encode("utf-8", "surrogateescape")[:room].decode("utf-8", "ignore")
    return start + tag + extension


class NameBook:
    """Hands out distinct safe names inside one local directory.

    Two server names can map to the same local name (``a/b`` and ``a_b``, or
    names differing only in case on a case-insensitive file system). The
    second one gets `` (1)``, `` (2)``, ... before its extension. Names too
    long for a file system are shortened by :func:`fit`.
    """

    def __init__(self) -> None:
        self._used: Dict[str, str] = {}
        self._lock = threading.Lock()

    def claim(self, name: str) -> str:
        """Return the local name for server name ``name`` (a new one on each call)."""
        with self._lock:
            candidate = self._next(name)
            self._used[candidate.casefold()] = name
        return candidate

    def peek(self, name: str) -> str:
        """The local name :meth:`claim` would return for ``name`` now (nothing is claimed)."""
        with self._lock:
            return self._next(name)

    def _next(self, name: str) -> str:
        candidate = fit(safe_name(name))
        stem, extension = os.path.splitext(candidate)
        number = 0
        while candidate.casefold() in self._used:
            number += 1
            candidate = fit(f"{stem} ({number}){extension}")
        return candidate


def inside(root: str, name: str) -> str:
    """Join a safe name to ``root`` and make sure the result really is inside it.

    :raises pydas.exceptions.UnsafePathError: when an existing symbolic link
        would lead elsewhere
    """
    path = name if root == os.curdir else os.path.join(root, name)
    real_root = os.path.realpath(root)
    real_path = os.path.realpath(path)
    if os.path.commonpath([real_root, real_path]) != real_root or real_root == real_path:
        raise UnsafePathError(f"refusing to write {path!r}: it resolves outside {root!r}")
    return path
