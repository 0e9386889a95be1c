"""Sightings: since when each server item was known to show its ``date_update``.

A re-run record entry is trusted only once the content it describes was
read :data:`~pydas._transfer.record.SETTLE_SECONDS` after the item's
``date_update`` was known current (:class:`~pydas._transfer.record.ItemState`).
An entry written by the transfer that first meets an item would never be
settled, since its listing and its ``midas.item.get`` come close together;
but another transfer of this client may have seen the same ``date_update``
earlier (an upload knows when the server answered with the item it made).
This table keeps, per server and item id, the item's ``uuid``,
``date_update`` and ``sizebytes`` and the earliest client time they were
seen, so that a download made a few seconds after an upload of the same
items stores settled entries at once.

A sighting is a hint like every entry of the transfer cache: it only moves
``seen`` earlier when the item still shows the very same fields.
"""

from __future__ import annotations

import json
from typing import Any, Dict, Iterable, List

from pydas._transfer.cache import CacheStore, CacheTable
from pydas._transfer.record import ItemState, Sighting

__all__ = ["SIGHTING_LIMIT", "Sightings"]

#: The most sightings the cache keeps.
SIGHTING_LIMIT = 100_000
_TABLE = "sightings"


class Sightings:
    """The sightings table of an open :class:`~pydas._transfer.cache.CacheStore`.

    :param store: the open cache database
    """

    def __init__(self, store: CacheStore) -> None:
        self._table = CacheTable(store, _TABLE, SIGHTING_LIMIT)

    @staticmethod
    def _key(server: str, item_id: Any) -> str:
        return json.dumps([server, str(item_id)], ensure_ascii=False)

    def lookup_many(self, server: str, item_ids: Iterable[Any]) -> Dict[str, List[Sighting]]:
        """The sightings of those of ``item_ids`` seen before, by item id (as text).

        Each is ``[(fields, seen)]``, ready for ``ItemState.observed(earlier=...)``.
        """
        wanted = {self._key(server, item_id): str(item_id) for item_id in item_ids}
        found: Dict[str, List[Sighting]] = {}
        for key, value in self._table.get_many(wanted).items():
            state = ItemState.from_json(value)
            if state is not None and state.item_id == wanted[key]:
                found[state.item_id] = [(state.to_json(), state.seen)]
        return found

    def note(self, server: str, state: ItemState) -> None:
        """Keep when ``state``'s fields were first known current (``state.seen``)."""
        self._table.put(self._key(server, state.item_id), state.to_json())
