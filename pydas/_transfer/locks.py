"""Exclusive locks on files between processes, taken without waiting.

The upload journal and the part files of downloads use them so that two
processes never write one upload token or one part file. A lock is an
``flock`` on an open file: the system releases it when the process ends,
however it ends (``kill -9`` included). Where ``flock`` does not exist
(Windows), :data:`AVAILABLE` is false and callers do without.
"""

from __future__ import annotations

import os
from typing import Optional

try:
    import fcntl
except ImportError:
    fcntl = None  # type: ignore[assignment]

__all__ = ["AVAILABLE", "open_locked", "try_lock"]

#: Whether locks between processes are available on this system.
AVAILABLE = fcntl is not None


def try_lock(handle: int) -> bool:
    """Take an exclusive lock on an open file; ``False`` if another holds it."""
    if fcntl is None:
        return True
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False
    return True


def open_locked(path: str, flags: int, mode: int) -> Optional[int]:
    """Open ``path`` and lock it, making sure the path still names the locked file.

    Another process may rename or remove the file between the opening and
    the locking (it renames a finished part file into place, or removes a
    lock file it is done with); the file is then opened again.

    :returns: the locked descriptor, or ``None`` when another process holds
        the lock or the file cannot be opened
    """
    for _ in range(8):
        try:
            handle = os.open(path, flags, mode)
        except OSError:
            return None
        if not try_lock(handle):
            os.close(handle)
            return None
        try:
            same = os.path.samestat(os.fstat(handle), os.stat(path))
        except OSError:
            same = False
        if same:
            return handle
        os.close(handle)
    return None
