"""The upload entries of the re-run record, and when a re-run may skip an item.

An entry describes one item an upload verified (a file, or a leaf directory
uploaded as one item) under the key ``["upload", folder id, absolute local
path]``::

    {"item": {...ItemState...},
     "bitstreams": {"scan.nii": [2147483648, "<md5>"]},       # the head revision
     "files": {"scan.nii": {"state": {...LocalState...}, "md5": "<md5>"}}}

A re-run of ``pydas.upload(..., reuse_existing=True)`` lists each folder
anyway; an item it finds there is skipped without any request of its own
(:meth:`UploadEntry.unchanged`) only if

* the entry is settled and the listing shows the recorded ``item_id``,
  ``uuid``, ``date_update`` and ``sizebytes``
  (:class:`~pydas._transfer.record.ItemState`);
* every local file of the item has a recorded file whose MD5 and size are
  those of the recorded bitstream of that name; and
* each local file shows the recorded ``os.stat`` state and that state was
  not racy, or else hashing it now gives the recorded MD5
  (:class:`~pydas._transfer.record.LocalState`, the MD5 cache spares the
  hashing of files met before).

Otherwise the item is read with ``midas.item.get`` and compared as without a
record, and the entry is written again from what that found.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, Dict, Mapping, Optional, Sequence, Tuple

from pydas._transfer.answers import Item
from pydas._transfer.digests import MD5Cache
from pydas._transfer.local import LocalFile
from pydas._transfer.names import name_key
from pydas._transfer.record import ItemState, LocalState, record_key
from pydas._transfer.verify import is_md5, matches

__all__ = ["UploadEntry", "entry_key"]


def entry_key(folder_id: Any, source_path: str) -> str:
    """The record key of what ``source_path`` (a file or a leaf directory) uploads into a folder."""
    return record_key("upload", folder_id, os.path.abspath(source_path))


#: A recorded local file: its state and MD5.
_File = Tuple[LocalState, str]


@dataclass(frozen=True)
class UploadEntry:
    """What an item and its local files were when an upload verified them.

    :param item: the item as listed, and when it was seen and read
    :param bitstreams: the head revision's files by name: ``(size, md5)``
    :param files: the local files by name: their state and MD5
    """

    item: ItemState
    bitstreams: Dict[str, Tuple[int, str]]
    files: Dict[str, _File]

    @classmethod
    def of(cls, item: Item, state: ItemState,
           files: Sequence[Tuple[LocalFile, str]]) -> UploadEntry:
        """The entry for ``files`` (with their MD5s) verified in ``item`` (read as ``state``)."""
        head = item.head
        bitstreams = {name_key(b.name): (b.size, b.checksum)
                      for b in (head.bitstreams if head else ()) if not b.link}
        return cls(state, bitstreams, {local.key: (local.state, md5) for local, md5 in files})

    def unchanged(self, listed: Mapping[str, Any], files: Sequence[LocalFile],
                  md5s: MD5Cache) -> bool:
        """Whether the item (as the listing shows it) and ``files`` are as recorded."""
        if not (self.item.settled and self.item.listed_as(listed)):
            return False
        for local in files:
            recorded = self.files.get(local.key)
            stored = self.bitstreams.get(local.key)
            if recorded is None or stored is None:
                return False
            state, md5 = recorded
            if not matches(state.size, md5, *stored) or local.size != state.size:
                return False
            if state.racy or not local.state.same_file(state):
                try:
                    if md5s.md5(local.path, local.state) != md5:
                        return False
                except OSError:
                    return False
        return True

    def to_json(self) -> Dict[str, Any]:
        """The entry as a JSON object."""
        return {
            "item": self.item.to_json(),
            "bitstreams": {name: [size, md5] for name, (size, md5) in self.bitstreams.items()},
            "files": {name: {"state": state.to_json(), "md5": md5}
                      for name, (state, md5) in self.files.items()},
        }

    @classmethod
    def from_json(cls, data: Any) -> Optional[UploadEntry]:
        """An entry stored by :meth:`to_json`; ``None`` if ``data`` is not one."""
        if not isinstance(data, dict):
            return None
        item = ItemState.from_json(data.get("item"))
        bitstreams = _bitstreams(data.get("bitstreams"))
        files = _files(data.get("files"))
        if item is None or bitstreams is None or files is None:
            return None
        return cls(item, bitstreams, files)


def _bitstreams(data: Any) -> Optional[Dict[str, Tuple[int, str]]]:
    if not isinstance(data, dict):
        return None
    found: Dict[str, Tuple[int, str]] = {}
    for name, value in data.items():
        if not (isinstance(value, list) and len(value) == 2):
            return None
        size, md5 = value
        if not (isinstance(size, int) and isinstance(md5, str)):
            return None
        found[name] = (size, md5)
    return found


def _files(data: Any) -> Optional[Dict[str, _File]]:
    if not isinstance(data, dict):
        return None
    found: Dict[str, _File] = {}
    for name, value in data.items():
        state = LocalState.from_json(value.get("state")) if isinstance(value, dict) else None
        md5 = value.get("md5") if isinstance(value, dict) else None
        if state is None or not isinstance(md5, str) or not is_md5(md5):
            return None
        found[name] = (state, md5)
    return found
