"""The one rule that says a transfer is done: equal size and equal MD5.

An upload is finished when the server's record of the bitstream has the
local file's size and MD5; a download when the bytes written have the size
and MD5 of the server's record; an existing local or remote file is
"unchanged" by the same test. Every place that decides one of these asks
:func:`matches`.
"""

from __future__ import annotations

import hashlib
import os
import re

__all__ = ["CHUNK_SIZE", "file_md5", "is_md5", "local_file_matches", "matches"]

#: Bytes read from disk (and hashed) at a time.
CHUNK_SIZE = 1024 * 1024

_MD5_HEX = re.compile(r"^[0-9a-f]{32}$")


def is_md5(text: str) -> bool:
    """Whether ``text`` is an MD5 digest in lower-case hexadecimal."""
    return bool(_MD5_HEX.match(text))


def matches(size: int, md5: str, expected_size: int, expected_md5: str) -> bool:
    """Whether content of ``size`` bytes with digest ``md5`` is the expected content.

    An expected digest that is not an MD5 (a server record without one) only
    lets the sizes decide.

    :param size: the size of the content at hand
    :param md5: its MD5 hex digest
    :param expected_size: the size it should have
    :param expected_md5: the MD5 it should have
    """
    if size != expected_size:
        return False
    return not is_md5(expected_md5) or md5 == expected_md5


def file_md5(path: str) -> str:
    """Return the MD5 hex digest of a file, read in chunks of :data:`CHUNK_SIZE`.

    :param path: the file to hash
    :returns: 32 lower-case hexadecimal characters
    """
    digest = hashlib.md5()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(CHUNK_SIZE), b""):
            digest.update(chunk)
    return digest.hexdigest()


def local_file_matches(path: str, expected_size: int, expected_md5: str) -> bool:
    """Whether the regular file at ``path`` already holds the expected content.

    The size is compared first, so a file of another size is never hashed.
    """
    if not os.path.isfile(path) or os.path.getsize(path) != expected_size:
        return False
    digest = file_md5(path) if is_md5(expected_md5) else ""
    return matches(expected_size, digest, expected_size, expected_md5)
