"""Exclude patterns: what a transfer leaves out, matched at every level of a tree.

A pattern is a shell-style glob (``*``, ``?``, ``[...]``, case-sensitive on
every system) matched against the path of each file, directory, folder or
item relative to where the transfer starts, with ``/`` between the names, and
against every trailing part of that path down to the name alone. The path
starts with the name of what was named: for an upload of ``scans`` (or a
download of ``Private/scans``) a file has the path ``scans/raw/x.dcm``, which
``*.dcm``, ``x.dcm``, ``raw/*.dcm``, ``raw`` (for the directory) and
``scans/raw/x.dcm`` all match; ``*`` also matches ``/``.
"""

from __future__ import annotations

import fnmatch
import os
import unicodedata
from typing import Iterable, Tuple

__all__ = ["Excludes", "join"]


def _normalized(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def join(parent: str, name: str) -> str:
    """The relative path of ``name`` inside ``parent`` (``""``: at the top)."""
    return f"{parent}/{name}" if parent else name


class Excludes:
    """A set of exclude patterns.

    :param patterns: glob patterns; a trailing ``/`` and a leading ``./`` are ignored
        (and ``\\`` is taken for ``/`` on Windows)
    :raises ValueError: if a pattern is not a non-empty string
    """

    def __init__(self, patterns: Iterable[str] = ()) -> None:
        if isinstance(patterns, str):
            patterns = (patterns,)
        cleaned = []
        for pattern in patterns:
            if not isinstance(pattern, str) or not pattern.strip("/"):
                raise ValueError(f"an exclude pattern must be a non-empty string, not {pattern!r}")
            pattern = pattern.replace(os.sep, "/").rstrip("/")
            while pattern.startswith("./"):
                pattern = pattern[2:]
            cleaned.append(_normalized(pattern))
        self.patterns: Tuple[str, ...] = tuple(cleaned)

    def __bool__(self) -> bool:
        return bool(self.patterns)

    def __repr__(self) -> str:
        return f"Excludes({list(self.patterns)!r})"

    def match(self, relative: str) -> bool:
        """Whether the entry at ``relative`` (``/``-separated, its name last) is left out."""
        if not self.patterns:
            return False
        parts = _normalized(relative).split("/")
        tails = ["/".join(parts[start:]) for start in range(len(parts))]
        return any(
            fnmatch.fnmatchcase(tail, pattern) for tail in tails for pattern in self.patterns
        )
