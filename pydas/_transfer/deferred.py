"""Work put off until a moment has passed: the verification of fresh uploads.

An upload's verifying ``midas.item.get`` gives the re-run record its
entry; the entry can be trusted only if that read came at least
:data:`~pydas._transfer.record.SETTLE_SECONDS` after the upload's last change
(Midas stamps changes to the second). Instead of waiting, the transfer goes
on with other files and verifies each upload once its moment has come
(:meth:`Deferred.run_due`, called between jobs). At the end, what is still
waiting is verified at once, unless waiting for it costs less than
:data:`TAIL_SHARE` of the time the transfer has taken so far (then the
record of the last files can be trusted too).
"""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
import time
from typing import Callable, List, Optional, Tuple

from pydas._transfer.runner import Runner

logger = logging.getLogger("pydas")

__all__ = ["TAIL_SHARE", "Deferred"]

#: The longest wait for the last verifications, as a share of the transfer's time so far.
TAIL_SHARE = 0.05

_Work = Callable[[], None]


class Deferred:
    """Jobs due at given moments (``time.monotonic()``), run by whoever comes by."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._waiting: List[Tuple[float, int, _Work]] = []
        self._order = itertools.count()
        self.started = time.monotonic()

    def __len__(self) -> int:
        with self._lock:
            return len(self._waiting)

    def add(self, due: float, work: _Work) -> None:
        """Run ``work`` once ``time.monotonic()`` has reached ``due``."""
        with self._lock:
            heapq.heappush(self._waiting, (due, next(self._order), work))

    def _pop(self, until: float) -> List[_Work]:
        with self._lock:
            ready = []
            while self._waiting and self._waiting[0][0] <= until:
                ready.append(heapq.heappop(self._waiting)[2])
            return ready

    def run_due(self) -> None:
        """Run, in this thread, every job whose moment has come."""
        for work in self._pop(time.monotonic()):
            work()

    def finish(self, runner: Runner, sleep: Optional[Callable[[float], None]] = None) -> None:
        """Run what is still waiting: at its moment if the wait is short enough, else now.

        :param runner: runs the jobs (on its workers, when it has several)
        :param sleep: how to wait (default: ``time.sleep`` as this module sees it)
        """
        sleep = sleep or time.sleep
        with self._lock:
            last = max((due for due, _, _ in self._waiting), default=0.0)
        now = time.monotonic()
        wait = last - now <= TAIL_SHARE * (now - self.started)
        while len(self):
            ready = self._pop(time.monotonic() if wait else float("inf"))
            if not ready:
                with self._lock:
                    first = self._waiting[0][0] if self._waiting else 0.0
                sleep(max(0.0, first - time.monotonic()))
                continue
            runner.wait([runner.submit(work) for work in ready])

    def run_all_now(self) -> None:
        """Run every waiting job at once, in this thread, after a failure elsewhere.

        The first job that fails ends this (its error is logged, not raised:
        the failure being handled is the one to report).
        """
        for work in self._pop(float("inf")):
            try:
                work()
            except Exception as error:  # noqa: BLE001 (reported by the caller's failure)
                logger.info("Not verifying the remaining uploads after a failure: %s", error)
                return
