"""MD5 on a second thread, so that hashing overlaps the receiving and writing of a file.

MD5 is the slowest step of a verified download on a fast network (about
450 MiB/s on one core, against more than 800 MiB/s for the transfer
itself). :mod:`hashlib` lets go of the interpreter lock while it hashes a
large piece, so a second thread hashes what the first has just written
while the first receives the next piece: the download then takes about as
long as the slower of the two, instead of their sum.
"""

from __future__ import annotations

import hashlib
import queue
import threading
from typing import Any, List, Optional

__all__ = ["BATCH", "BackgroundMD5"]

#: Bytes collected before they are handed to the hashing thread at once.
BATCH = 512 * 1024
#: Batches that may wait for the hashing thread; the writer waits beyond that.
_DEPTH = 3


class BackgroundMD5:
    """An MD5 digest fed like :func:`hashlib.md5`, computed on a thread of its own.

    Pieces are collected into batches of :data:`BATCH` bytes; at most a few
    batches wait for the thread (the caller waits when more would), so memory
    stays bounded whatever the file size. :meth:`hexdigest` waits for what was
    fed and stops the thread (what is fed later is hashed by the caller's
    thread); :meth:`close` stops the thread without waiting for the hashing
    (safe to call more than once).

    :param digest: the state to continue from (bytes hashed already)
    """

    def __init__(self, digest: Optional[Any] = None) -> None:
        self._digest = digest if digest is not None else hashlib.md5()
        self._batch: List[bytes] = []
        self._batched = 0
        self._queue: queue.Queue[Optional[List[bytes]]] = queue.Queue(_DEPTH)
        self._thread: Optional[threading.Thread] = threading.Thread(
            target=self._run, name="pydas-md5", daemon=True
        )
        self._thread.start()

    def _run(self) -> None:
        while True:
            batch = self._queue.get()
            if batch is None:
                return
            for piece in batch:
                self._digest.update(piece)

    def update(self, data: bytes) -> None:
        """Add ``data`` (it must not change afterwards: it is hashed later)."""
        if self._thread is None:  # stopped: hash here
            self._digest.update(data)
            return
        self._batch.append(data)
        self._batched += len(data)
        if self._batched >= BATCH:
            self._hand_over()

    def _hand_over(self) -> None:
        if self._batch:
            self._queue.put(self._batch)
            self._batch = []
            self._batched = 0

    def _stop(self, drop: bool) -> None:
        thread = self._thread
        if thread is None:
            return
        self._thread = None
        if drop:
            self._batch = []
            while True:  # make room for the end mark: what waits is not wanted
                try:
                    self._queue.get_nowait()
                except queue.Empty:
                    break
        else:
            self._hand_over()
        self._queue.put(None)
        thread.join()

    def drain(self) -> None:
        """Wait until everything fed is hashed, and stop the thread (it hashes no more)."""
        self._stop(drop=False)

    def hexdigest(self) -> str:
        """The digest of everything fed so far (waits for the thread, then stops it)."""
        self._stop(drop=False)
        result: str = self._digest.hexdigest()
        return result

    def close(self) -> None:
        """Stop the thread; what was not hashed yet is dropped."""
        self._stop(drop=True)
