"""Local input: what :func:`pydas.upload` will send, found before anything is sent.

A pattern is expanded, directories are walked in name order, and every path
is checked (readable, a regular file or a directory, a name the server can
store). Symbolic links met inside directories are skipped and reported; a
link the pattern names itself is followed.
"""

from __future__ import annotations

import errno
import glob
import os
import stat
import time
import unicodedata
from typing import Any, Iterator, List, Optional, Sequence, Tuple

from pydas._transfer.exclude import Excludes, join
from pydas._transfer.record import LocalState
from pydas.exceptions import LocalInputError

__all__ = ["LocalDirectory", "LocalFile", "all_files", "scan", "totals"]


def _upload_name(path: str) -> str:
    """The name a local path gets on the server: its last component.

    :raises LocalInputError: if the name is not text the server can store
        (bytes that are not UTF-8, which Python hands out as surrogates)
    """
    name = os.path.basename(os.path.abspath(path))
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        raise LocalInputError(
            f"cannot upload {path!r}: its name is not valid UTF-8; rename it"
        ) from None
    return name


class LocalFile:
    """A regular file to upload.

    :param path: the path as it will be printed (built from the user's pattern)
    :param state: what ``os.stat`` showed at scan time (``size`` is its size)
    """

    def __init__(self, path: str, state: LocalState) -> None:
        self.path = path
        self.name = _upload_name(path)
        self.key = unicodedata.normalize("NFC", self.name)
        self.state = state
        self.size = state.size


class LocalDirectory:
    """A directory to upload, with its entries sorted by name.

    :param path: the path as it will be printed
    :param entries: files and sub-directories, in upload order
    """

    def __init__(self, path: str, entries: List[Any]) -> None:
        self.path = path
        self.name = _upload_name(path)
        self.key = unicodedata.normalize("NFC", self.name)
        self.entries = entries

    @property
    def files(self) -> List[LocalFile]:
        """The regular files directly inside."""
        return [entry for entry in self.entries if isinstance(entry, LocalFile)]

    @property
    def is_leaf(self) -> bool:
        """Whether the directory holds no sub-directory (it may be empty)."""
        return all(isinstance(entry, LocalFile) for entry in self.entries)


def _link_problem(path: str) -> Optional[str]:
    """Describe why a symbolic link cannot be resolved, or ``None`` if it can."""
    try:
        os.stat(path)
    except OSError as error:
        if error.errno == errno.ELOOP:
            return "symbolic link loop"
        return "broken symbolic link"
    return None


def _check_readable(path: str) -> None:
    try:
        with open(path, "rb"):
            pass
    except OSError as error:
        raise LocalInputError(f"cannot read {path!r}: {error.strerror or error}") from None


def _scan_path(
    path: str, skipped: List[str], excludes: Excludes, relative: str, named: bool = False
) -> Any:
    """Scan one path; ``named`` when the user's pattern named it (links are then followed).

    ``relative`` is its path for the exclude patterns; an excluded path is not
    looked at at all (it may be unreadable).
    """
    if excludes.match(relative):
        return None
    if os.path.islink(path):
        problem = _link_problem(path)
        if problem == "symbolic link loop" or (problem and named):
            raise LocalInputError(f"{path!r} is a {problem}")
        if not named:
            skipped.append(f"Skipping {problem or 'symbolic link'} {path}")
            return None
    try:
        read_ns = time.time_ns()
        info = os.stat(path)
    except OSError as error:
        raise LocalInputError(f"cannot read {path!r}: {error.strerror or error}") from None
    if stat.S_ISDIR(info.st_mode):
        try:
            names = sorted(os.listdir(path))
        except OSError as error:
            raise LocalInputError(
                f"cannot list directory {path!r}: {error.strerror or error}"
            ) from None
        entries = []
        for name in names:
            entry = _scan_path(os.path.join(path, name), skipped, excludes, join(relative, name))
            if entry is not None:
                entries.append(entry)
        return LocalDirectory(path, entries)
    if stat.S_ISREG(info.st_mode):
        _check_readable(path)
        return LocalFile(path, LocalState.from_stat(info, read_ns))
    skipped.append(f"Skipping special file {path}")
    return None


def scan(
    file_pattern: str, excludes: Optional[Excludes] = None
) -> Tuple[List[Any], List[str]]:
    """Expand a glob pattern into the files and directories to upload.

    Directories are walked sorted by name. Symbolic links inside them are not
    followed: they are skipped and listed in the second element of the result,
    except that a link loop is an error. A link that the pattern itself
    matches is followed (it was asked for by name). Nothing is sent to the
    server here. What ``excludes`` matches is left out, at every level (see
    :mod:`pydas._transfer.exclude`); a directory whose sub-directories are
    all left out is a leaf directory.

    :param file_pattern: a path or glob pattern (``~`` is expanded); a path
        that exists is used as it is, even if it contains glob characters
    :param excludes: what to leave out (default: nothing)
    :returns: ``(entries, skipped)``: :class:`LocalFile` / :class:`LocalDirectory`
        objects in order, and one message per skipped path
    :raises LocalInputError: when nothing matches, or something cannot be read
    """
    excludes = excludes or Excludes()
    pattern = os.path.expanduser(file_pattern)
    # a path that exists as written is taken as it is, even with [ ] * ? in its name
    matches = [pattern] if os.path.lexists(pattern) else sorted(glob.glob(pattern))
    if not matches:
        raise LocalInputError(f"no file or directory matches {file_pattern!r}")
    skipped: List[str] = []
    entries = []
    for match in matches:
        path = os.path.normpath(match)
        name = os.path.basename(os.path.abspath(path))
        entry = _scan_path(path, skipped, excludes, name, named=True)
        if entry is not None:
            entries.append(entry)
    return entries, skipped


def all_files(entries: Sequence[Any]) -> Iterator[LocalFile]:
    """Every file in scanned entries, depth first, in upload order."""
    for entry in entries:
        if isinstance(entry, LocalFile):
            yield entry
        else:
            yield from all_files(entry.entries)


def totals(entries: Sequence[Any]) -> Tuple[int, int]:
    """Return the number of bytes and of files in scanned entries."""
    files = list(all_files(entries))
    return sum(entry.size for entry in files), len(files)
