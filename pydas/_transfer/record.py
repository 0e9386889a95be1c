"""The re-run record: what earlier transfers left verified, so a re-run can skip it.

A re-run of an unchanged upload (or download) should not ask the server
about every file. The record keeps, per transferred thing, what both sides
looked like when the transfer was verified; a re-run compares that with
what it sees anyway (one ``midas.folder.children`` per folder, one
``os.stat`` per file) and asks the server about an item only when something
looks changed, or when the record cannot be trusted.

The API, for uploads and downloads alike (values are JSON objects whose
layout belongs to the caller)::

    with CacheStore() as store:
        record = Record(store)
        entries = record.lookup_many(server, keys)   # {key: value} of those stored
        entry = record.lookup(server, key)           # a value, or None
        record.store(server, key, value)             # after a verified transfer
        record.forget(server, key)                   # what it described is gone

``server`` is the server URL; a key names the transfer from the local side
(e.g. uploads use ``["upload", folder id, absolute path]`` as JSON). The
database, its bounds (:data:`RECORD_LIMIT` entries) and its concurrency are
those of :mod:`pydas._transfer.cache`. With ``PYDAS_NO_RECORD`` set (to
anything but ``0`` or nothing), or with ``Record(store, check_all=True)`` (the
``check_all`` of :func:`pydas.upload`, ``--check-all`` of the ``pydas``
command), lookups find nothing, so every item is checked with the server again
(a full check), and what that check finds is stored.

Two value types carry the rules that decide whether an entry still holds:

:class:`LocalState` — a local file as ``os.stat`` shows it: size,
``st_mtime_ns``, ``st_ctime_ns``, inode and device. A file is taken as
unchanged only if all five are equal; the change time moves on every write
and cannot be set back by a program (unlike the modification time), so
content rewritten with the size and modification time restored is seen as
changed. A state read less than :data:`RACY_SECONDS` after the file's last
change (or status change) is *racy*: a write in the same tick of the file
system's clock could leave every field as it was, so such a file is hashed
again before its recorded MD5 is believed (as git does with its index).

:class:`ItemState` — a server item as a folder listing shows it: ``item_id``,
``uuid``, ``date_update``, ``sizebytes``, plus two times of the client's
clock: ``seen``, by when its ``date_update`` was known to be current, and
``checked``, when the content the entry describes was read (the
``midas.item.get`` that verified it). Midas stamps ``date_update`` to the
second, so a second change within the same second as the one recorded would
leave the listing as it was; but every change after the second of
``date_update`` moves it. An entry is *settled* once ``checked`` is at least
:data:`SETTLE_SECONDS` after ``seen``: the content was then read after the
last change that could share its stamp. An item may be skipped only if its
entry is settled and the listing shows the same four fields.

What no listing shows (measured on Midas 3.4.2, ``benchmarks/NOTES.rst``
§4, ``tests/live/test_live_rerun_upload.py``): ``midas.bitstream.delete`` and
``midas.bitstream.edit`` (a rename) save the bitstream alone and move neither
the item's ``date_update`` nor its ``sizebytes`` (``midas.item.get`` shows
them unchanged too, only its revision's bitstreams differ). A bitstream
deleted or renamed on the server after an upload is therefore not noticed by
a re-run that trusts the record; make a full check (``PYDAS_NO_RECORD=1`` or
``check_all``) after such changes.
"""

from __future__ import annotations

import json
import math
import os
import time
from dataclasses import asdict, dataclass
from typing import Any, Dict, Iterable, Mapping, Optional, Sequence, Tuple

from pydas._transfer.cache import CacheStore, CacheTable

__all__ = [
    "NO_RECORD_VARIABLE",
    "RACY_SECONDS",
    "RECORD_LIMIT",
    "SETTLE_SECONDS",
    "ItemState",
    "LocalState",
    "Record",
    "Sighting",
    "record_key",
]

#: Set (not to ``0``) to make lookups find nothing: every item is checked again.
NO_RECORD_VARIABLE = "PYDAS_NO_RECORD"
#: The most entries the record keeps.
RECORD_LIMIT = 100_000
#: Seconds between the last change of an item and the reading of its content
#: before an entry is trusted (the stamp's resolution, one second, plus a margin).
SETTLE_SECONDS = 2.0
#: Seconds between a file's last change and the reading of its state before
#: the state alone is trusted (coarse file system clocks; FAT's are 2 s).
RACY_SECONDS = 2.0
_TABLE = "record"
_NS = 1_000_000_000


def record_key(*parts: Any) -> str:
    """A key made of parts (``record_key("upload", folder_id, path)``)."""
    return json.dumps([str(part) for part in parts], ensure_ascii=False)


def _disabled() -> bool:
    return os.environ.get(NO_RECORD_VARIABLE, "") not in ("", "0")


class Record:
    """The re-run record in an open :class:`~pydas._transfer.cache.CacheStore`.

    :param store: the open cache database
    :param check_all: find nothing (a full check) for this run, as with
        ``PYDAS_NO_RECORD`` set; what the run verifies is still stored
    """

    def __init__(self, store: CacheStore, check_all: bool = False) -> None:
        self._table = CacheTable(store, _TABLE, RECORD_LIMIT)
        self.enabled = not (check_all or _disabled())

    @staticmethod
    def _key(server: str, key: str) -> str:
        return json.dumps([server, key], ensure_ascii=False)

    def lookup_many(self, server: str, keys: Iterable[str]) -> Dict[str, Dict[str, Any]]:
        """The entries stored for those of ``keys`` that have one (none when disabled)."""
        if not self.enabled:
            return {}
        wanted = {self._key(server, key): key for key in keys}
        found = self._table.get_many(wanted)
        return {wanted[k]: v for k, v in found.items() if isinstance(v, dict)}

    def lookup(self, server: str, key: str) -> Optional[Dict[str, Any]]:
        """The entry stored for ``key``, or ``None``."""
        return self.lookup_many(server, [key]).get(key)

    def store(self, server: str, key: str, value: Dict[str, Any]) -> None:
        """Store the entry of a verified transfer (replacing the earlier one)."""
        self._table.put(self._key(server, key), value)

    def forget(self, server: str, key: str) -> None:
        """Drop the entry of ``key``: what it described is no longer so."""
        self._table.delete(self._key(server, key))


def _integers(data: Any, names: Sequence[str]) -> Optional[Tuple[int, ...]]:
    if not isinstance(data, dict):
        return None
    values = [data.get(name) for name in names]
    numbers = tuple(v for v in values if isinstance(v, int) and not isinstance(v, bool))
    return numbers if len(numbers) == len(names) else None


@dataclass(frozen=True)
class LocalState:
    """A local file as ``os.stat`` shows it, and when that was read.

    :param size: ``st_size``
    :param mtime_ns: ``st_mtime_ns``
    :param ctime_ns: ``st_ctime_ns``
    :param inode: ``st_ino``
    :param device: ``st_dev``
    :param read_ns: when the state was read (``time.time_ns()``), for the racy rule
    """

    size: int
    mtime_ns: int
    ctime_ns: int
    inode: int
    device: int
    read_ns: int

    @classmethod
    def of(cls, path: str) -> LocalState:
        """The state of the file at ``path`` now.

        :raises OSError: when it cannot be read
        """
        now = time.time_ns()
        return cls.from_stat(os.stat(path), now)

    @classmethod
    def from_stat(cls, info: os.stat_result, read_ns: int) -> LocalState:
        """The state an ``os.stat`` result shows, read at ``read_ns``."""
        return cls(info.st_size, info.st_mtime_ns, info.st_ctime_ns, info.st_ino,
                   info.st_dev, read_ns)

    def same_file(self, other: LocalState) -> bool:
        """Whether ``other`` shows the same file unchanged (all but the reading time equal)."""
        return (self.size, self.mtime_ns, self.ctime_ns, self.inode, self.device) == (
            other.size, other.mtime_ns, other.ctime_ns, other.inode, other.device)

    @property
    def racy(self) -> bool:
        """Whether the file changed too shortly before this state was read to trust it."""
        return max(self.mtime_ns, self.ctime_ns) + int(RACY_SECONDS * _NS) > self.read_ns

    def to_json(self) -> Dict[str, int]:
        """The state as a JSON object."""
        return asdict(self)

    @classmethod
    def from_json(cls, data: Any) -> Optional[LocalState]:
        """A state stored by :meth:`to_json`; ``None`` if ``data`` is not one."""
        values = _integers(data, ("size", "mtime_ns", "ctime_ns", "inode", "device", "read_ns"))
        return None if values is None else cls(*values)


#: An answer that showed an item (a listing entry, the item of ``upload.perform``)
#: and the client's time (``time.time()``) when it arrived.
Sighting = Tuple[Mapping[str, Any], float]

_LISTED = ("item_id", "uuid", "date_update", "sizebytes")


def _listed(entry: Mapping[str, Any]) -> Optional[Tuple[str, str, str, str]]:
    """The four fields of an item that a listing shows, as text; ``None`` if one is missing."""
    values = [entry.get(name) for name in _LISTED]
    if not all(isinstance(v, (str, int)) and not isinstance(v, bool) and str(v).strip()
               for v in values):
        return None
    item_id, uuid, date_update, sizebytes = (str(v).strip() for v in values)
    return item_id, uuid, date_update, sizebytes


@dataclass(frozen=True)
class ItemState:
    """A server item as a folder listing shows it, and when it was seen and read.

    :param item_id: its id
    :param uuid: its ``uuid``
    :param date_update: its ``date_update`` (to the second)
    :param sizebytes: its ``sizebytes`` (the head revision's total)
    :param seen: client time by which this ``date_update`` was known to be current
    :param checked: client time when the content the entry describes was read
    """

    item_id: str
    uuid: str
    date_update: str
    sizebytes: str
    seen: float
    checked: float

    @property
    def settled(self) -> bool:
        """Whether the content was read late enough after the last change to be trusted."""
        return self.checked - self.seen >= SETTLE_SECONDS

    def listed_as(self, entry: Mapping[str, Any]) -> bool:
        """Whether a listing entry shows this very state (id, uuid, date_update, sizebytes)."""
        return _listed(entry) == (self.item_id, self.uuid, self.date_update, self.sizebytes)

    @classmethod
    def observed(
        cls,
        item: Mapping[str, Any],
        asked: float,
        answered: float,
        earlier: Iterable[Sighting] = (),
        previous: Optional[ItemState] = None,
    ) -> Optional[ItemState]:
        """The state of an item read by ``midas.item.get``.

        :param item: the answer (its ``item_id``, ``uuid``, ``date_update``, ``sizebytes``)
        :param asked: client time just before the request was sent
        :param answered: client time just after the answer arrived
        :param earlier: other answers that showed the item, and when they
            arrived; one with the same ``date_update`` shows since when it was current
        :param previous: the state recorded before, if any (same rule)
        :returns: the state, or ``None`` when the answer lacks one of the four fields
        """
        fields = _listed(item)
        if fields is None:
            return None
        seen = answered
        for entry, arrived in earlier:
            shown = _listed(entry)
            if shown is not None and shown[:3] == fields[:3]:
                seen = min(seen, arrived)
        if previous is not None and (previous.item_id, previous.uuid,
                                     previous.date_update) == fields[:3]:
            seen = min(seen, previous.seen)
        item_id, uuid, date_update, sizebytes = fields
        return cls(item_id, uuid, date_update, sizebytes, seen=seen, checked=asked)

    def to_json(self) -> Dict[str, Any]:
        """The state as a JSON object."""
        return asdict(self)

    @classmethod
    def from_json(cls, data: Any) -> Optional[ItemState]:
        """A state stored by :meth:`to_json`; ``None`` if ``data`` is not one."""
        if not isinstance(data, dict):
            return None
        fields = _listed(data)
        seen, checked = _time(data.get("seen")), _time(data.get("checked"))
        if fields is None or seen is None or checked is None:
            return None
        item_id, uuid, date_update, sizebytes = fields
        return cls(item_id, uuid, date_update, sizebytes, seen, checked)


def _time(value: Any) -> Optional[float]:
    # a damaged entry may hold NaN, infinities or huge numbers (JSON as Python reads it)
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        return None
    try:
        seconds = float(value)
    except OverflowError:
        return None
    return seconds if math.isfinite(seconds) else None
