"""The download entries of the re-run record, and when a re-run may skip an item.

An entry describes one item a folder download verified, under the key
``["download", item id, absolute path of the local directory it went into]``
(the item's own local name is what the entry tells, so the key cannot hold
it)::

    {"item": {...ItemState...},
     "claim": "scan.nii",       # the server name claimed in that directory
     "local": "scan.nii",       # the local name it got
     "directory": false,        # several files (or none): a directory named after the item
     "files": [{"name": "scan.nii", "size": 2147483648, "md5": "<md5>",
                "local": "scan.nii", "state": {...LocalState...}}]}

For an item of one file, its file's ``local`` is the item's; in a directory,
a file left out by the excludes has ``local`` and ``state`` ``null``. Items
with links are not recorded (a full run reports each link).

A re-run lists each folder anyway; an item it finds there is skipped without
any request of its own (:meth:`DownloadEntry.check`) only if

* the entry is settled and the listing shows the recorded ``item_id``,
  ``uuid``, ``date_update`` and ``sizebytes``
  (:class:`~pydas._transfer.record.ItemState`);
* an item that became a directory is listed under the recorded name (its
  local name comes from the item's, and a rename need not move
  ``date_update``);
* the excludes leave out exactly the files they left out then; and
* every recorded local file is a regular file that shows the recorded
  ``os.stat`` state, and that state was not racy, or else hashing it now
  gives the recorded MD5 (:class:`~pydas._transfer.record.LocalState`).

The walk then claims the recorded name (so that later clashes in the same
directory resolve as in a full run, provided the claim gives the recorded
local name) and reports the files as unchanged. Otherwise the item is read
with ``midas.item.get`` and downloaded as without a record, and the entry is
written again from what that found.
"""

from __future__ import annotations

import os
import stat
import time
from dataclasses import dataclass, replace
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

from pydas._transfer.answers import Bitstream, Item
from pydas._transfer.digests import MD5Cache
from pydas._transfer.names import repair_text
from pydas._transfer.record import ItemState, LocalState, record_key
from pydas._transfer.verify import is_md5

__all__ = ["DownloadEntry", "RecordedFile", "clock", "download_key", "local_state"]


def clock() -> float:
    """The client clock of the record's times (``time.time()``; tests replace it)."""
    return time.time()


def download_key(item_id: Any, directory: str) -> str:
    """The record key of item ``item_id`` downloaded into the local ``directory``."""
    return record_key("download", item_id, os.path.abspath(directory))


def local_state(path: str) -> Optional[LocalState]:
    """The state of the regular file at ``path`` (not followed if a link), or ``None``."""
    try:
        info = os.lstat(path)
    except OSError:
        return None
    if not stat.S_ISREG(info.st_mode):
        return None
    return LocalState.from_stat(info, time.time_ns())


@dataclass(frozen=True)
class RecordedFile:
    """One bitstream of a recorded item and the local file it became.

    :param name: its server name (repaired)
    :param size: its size on the server
    :param md5: its checksum on the server (that of the local file)
    :param local: its local name, ``None`` when the excludes left it out
    :param state: the local file's state after it was verified (``None`` when left out)
    """

    name: str
    size: int
    md5: str
    local: Optional[str]
    state: Optional[LocalState]

    def to_json(self) -> Dict[str, Any]:
        """The file as a JSON object."""
        return {"name": self.name, "size": self.size, "md5": self.md5, "local": self.local,
                "state": None if self.state is None else self.state.to_json()}

    @classmethod
    def from_json(cls, data: Any) -> Optional[RecordedFile]:
        """A file stored by :meth:`to_json`; ``None`` if ``data`` is not one."""
        if not isinstance(data, dict):
            return None
        name, size, md5, local = (data.get(k) for k in ("name", "size", "md5", "local"))
        state = LocalState.from_json(data.get("state"))
        if not (isinstance(name, str) and isinstance(size, int) and not isinstance(size, bool)
                and isinstance(md5, str) and is_md5(md5)):
            return None
        if local is None and data.get("state") is None:
            return cls(name, size, md5, None, None)
        if not isinstance(local, str) or state is None or state.size != size:
            return None
        return cls(name, size, md5, local, state)


@dataclass(frozen=True)
class DownloadEntry:
    """What an item and its local files were when a download verified them.

    :param item: the item as listed, and when it was seen and read
    :param claim: the server name claimed for it in its local directory
    :param local: the local name that claim gave
    :param directory: whether the item became a directory (else one file)
    :param files: its bitstreams in the server's order
    """

    item: ItemState
    claim: str
    local: str
    directory: bool
    files: Tuple[RecordedFile, ...]

    @classmethod
    def of(cls, item: Item, state: ItemState, path: str,
           written: Sequence[Tuple[Bitstream, Optional[str], Optional[LocalState]]]
           ) -> Optional[DownloadEntry]:
        """The entry of ``item`` (read as ``state``) downloaded to ``path``.

        :param written: per bitstream, in order: the local path it went to
            and the file's state after it was verified (``None, None`` if left out)
        :returns: the entry, or ``None`` for an item with links (not recorded)
        """
        head = item.head
        bitstreams = list(head.bitstreams) if head else []
        if any(b.link for b in bitstreams) or len(written) != len(bitstreams):
            return None
        directory = len(bitstreams) != 1
        claim = repair_text(item.name if directory else bitstreams[0].name)
        files = tuple(
            RecordedFile(repair_text(b.name), b.size, b.checksum.lower(),
                         None if local is None else os.path.basename(local), state)
            for b, local, state in written
        )
        if any(f.local is not None and f.state is None for f in files):
            return None
        return cls(state, claim, os.path.basename(path), directory, files)

    def paths(self, parent: str) -> List[Tuple[RecordedFile, str]]:
        """The recorded files that were written, with their local paths."""
        return [(f, path) for f, path in zip(self.files, self._all_paths(parent))
                if f.local is not None]

    def check(self, listed: Dict[str, Any], parent: str,
              excluded: Callable[[str, str], bool], md5s: MD5Cache) -> Optional[DownloadEntry]:
        """Whether the item (as the listing shows it) and its local files are as recorded.

        :param listed: the item's entry in the listing of its folder
        :param parent: the local directory it goes into
        :param excluded: whether a server name in a local directory is left out
        :param md5s: the MD5 cache, for files whose state alone cannot be trusted
        :returns: ``None`` if anything changed; else the entry to keep: this one,
            or one with the states read now where a file had to be hashed
        """
        if not (self.item.settled and self.item.listed_as(listed)):
            return None
        if self.directory:
            # named after the item: a rename may not move date_update
            if repair_text(str(listed.get("name", ""))) != self.claim:
                return None
            base = os.path.join(parent, self.local)
            if any((f.local is None) != excluded(base, f.name) for f in self.files):
                return None
        elif excluded(parent, self.claim):
            return None
        hashed = False
        states: Dict[str, LocalState] = {}
        for recorded, path in self.paths(parent):
            now = local_state(path)
            if now is None or recorded.state is None or now.size != recorded.size:
                return None
            if recorded.state.racy or not now.same_file(recorded.state):
                try:
                    if md5s.md5(path, now) != recorded.md5:
                        return None
                except OSError:
                    return None
                hashed = True
            states[path] = now
        if not hashed:
            return self
        files = tuple(replace(f, state=states[path]) if f.local is not None else f
                      for f, path in zip(self.files, self._all_paths(parent)))
        return replace(self, files=files)

    def _all_paths(self, parent: str) -> List[str]:
        base = os.path.join(parent, self.local)
        return [os.path.join(base, f.local or "") if self.directory else base
                for f in self.files]

    def to_json(self) -> Dict[str, Any]:
        """The entry as a JSON object."""
        return {"item": self.item.to_json(), "claim": self.claim, "local": self.local,
                "directory": self.directory, "files": [f.to_json() for f in self.files]}

    @classmethod
    def from_json(cls, data: Any) -> Optional[DownloadEntry]:
        """An entry stored by :meth:`to_json`; ``None`` if ``data`` is not one."""
        if not isinstance(data, dict):
            return None
        item = ItemState.from_json(data.get("item"))
        claim, local, directory = data.get("claim"), data.get("local"), data.get("directory")
        listed = data.get("files")
        if (item is None or not isinstance(claim, str) or not isinstance(local, str)
                or not local or not isinstance(directory, bool) or not isinstance(listed, list)):
            return None
        files = tuple(RecordedFile.from_json(f) for f in listed)
        if any(f is None for f in files) or (not directory and len(files) != 1):
            return None
        return cls(item, claim, local, directory, tuple(f for f in files if f is not None))
