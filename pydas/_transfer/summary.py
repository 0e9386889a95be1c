"""What one transfer did, counted: the closing summary a command prints."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field, fields
from typing import Dict, List

__all__ = ["TransferSummary", "size_text"]


def size_text(nbytes: int) -> str:
    """A byte count for people: ``1 byte``, ``512 bytes``, ``1.5 KiB``, ``3.2 GiB``."""
    if nbytes < 1024:
        return "1 byte" if nbytes == 1 else f"{nbytes} bytes"
    value = nbytes / 1024
    for unit in ("KiB", "MiB", "GiB"):
        if value < 1024:
            return f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} TiB"


@dataclass
class TransferSummary:
    """The counts of one :func:`pydas.upload` or :func:`pydas.download`.

    Pass an instance as ``summary=`` and read it afterwards (also after an
    error: it then counts what was done before). Every file counted as
    uploaded or downloaded was verified against the server (size and MD5).

    :param uploaded: files stored on the server by this call (including
        ``resumed`` and ``repaired`` ones, and ones the server already held
        and only linked)
    :param downloaded: files written by this call
    :param unchanged: files skipped because the other side already had them
    :param resumed: transfers continued from bytes already moved: uploads
        from what the server held, downloads from what the part file held
        (after a cut, or from an earlier, interrupted run)
    :param repaired: uploads whose first stored copy was wrong and was replaced
    :param bytes_sent: file bytes sent to the server
    :param bytes_received: file bytes received from the server
    """

    uploaded: int = 0
    downloaded: int = 0
    unchanged: int = 0
    resumed: int = 0
    repaired: int = 0
    bytes_sent: int = 0
    bytes_received: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def add(self, **counts: int) -> None:
        """Add to some of the counts (thread-safe), e.g. ``add(uploaded=1)``."""
        with self._lock:
            for name, value in counts.items():
                setattr(self, name, getattr(self, name) + value)

    def as_dict(self) -> Dict[str, int]:
        """The counts as a plain dictionary (e.g. for ``--json`` output)."""
        return {f.name: getattr(self, f.name) for f in fields(self) if not f.name.startswith("_")}

    def __str__(self) -> str:
        """One line for people, e.g. ``2 files uploaded (1 resumed), 3 unchanged; 1.5 MiB sent``."""
        parts: List[str] = []
        if self.uploaded:
            notes = [f"{n} {word}" for n, word in ((self.resumed, "resumed"),
                                                   (self.repaired, "repaired")) if n]
            parts.append(_files(self.uploaded, "uploaded")
                         + (f" ({', '.join(notes)})" if notes else ""))
        if self.downloaded:
            resumed = "" if self.uploaded or not self.resumed else f" ({self.resumed} resumed)"
            parts.append(_files(self.downloaded, "downloaded") + resumed)
        if self.unchanged or not parts:
            parts.append(f"{self.unchanged} unchanged" if parts else
                         _files(self.unchanged, "unchanged"))
        moved = [f"{size_text(n)} {verb}" for n, verb in ((self.bytes_sent, "sent"),
                                                      (self.bytes_received, "received")) if n]
        return ", ".join(parts) + "; " + (", ".join(moved) if moved else "no bytes moved")


def _files(count: int, verb: str) -> str:
    return f"{count} {'file' if count == 1 else 'files'} {verb}"
