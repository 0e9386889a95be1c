"""Looking items up ahead of their download, for a transfer with one worker.

A download with one worker needs, per file, the item (``midas.item.get``: the
bitstream's id, size and checksum) and then the bytes. Looked up one after
the other, a file costs two round trips. A :class:`Lookahead` asks for the
next few items on a thread of its own while the worker downloads, so the
worker mostly waits for one round trip per file. With several workers the
workers look items up themselves (they already run ahead of each other).

At most :data:`DEPTH` lookups are ahead of the worker, so a folder of many
items is not read far ahead of what is downloaded: what was looked up is at
most a few files old when its download starts.
"""

from __future__ import annotations

import collections
import concurrent.futures
from typing import Callable, Deque, Iterable, Iterator, TypeVar

__all__ = ["DEPTH", "Lookahead"]

#: How many lookups may be ahead of the worker.
DEPTH = 4

K = TypeVar("K")
V = TypeVar("V")


class Lookahead:
    """Runs lookups on a thread of its own, a few ahead of their use."""

    def __init__(self, depth: int = DEPTH) -> None:
        self.depth = depth
        self._pool = concurrent.futures.ThreadPoolExecutor(
            max_workers=1, thread_name_prefix="pydas-lookup"
        )

    def map(self, fetch: Callable[[K], V],
            keys: Iterable[K]) -> Iterator[concurrent.futures.Future[V]]:
        """The futures of ``fetch(key)`` in the order of ``keys``, started ahead of use.

        A lookup's failure is raised by its future's ``result()``; the ones
        after it are still started (at most :attr:`depth` of them).
        """
        pending: Deque[concurrent.futures.Future[V]] = collections.deque()
        remaining = iter(keys)
        for key in remaining:
            pending.append(self._pool.submit(fetch, key))
            if len(pending) >= self.depth:
                break
        while pending:
            future = pending.popleft()
            for key in remaining:
                pending.append(self._pool.submit(fetch, key))
                break
            yield future

    def close(self) -> None:
        """Drop the lookups not yet started and wait for the one running."""
        self._pool.shutdown(wait=True, cancel_futures=True)

    def __enter__(self) -> Lookahead:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
