"""Work put off until a moment has passed: the verification of fresh uploads.

An upload's verifying ``midas.item.get`` gives the re-run record its
entry; the entry can be trusted only if that read came at least
:data:`~pydas._transfer.record.SETTLE_SECONDS` after the upload's last change
(Midas stamps changes to the second). Instead of waiting, the transfer goes
on with other files and verifies each upload once its moment has come.

Who runs a verification that has come due:

* with several workers, whichever worker finishes a job next
  (:meth:`Deferred.run_due`, called between jobs);
* with one worker, a thread of its own (``background=True``), so that the
  verifying round trip of one file overlaps the sending of the next: a file
  then costs two round trips on the transfer's path instead of three. A
  verification that fails is raised in the transfer's thread at its next
  :meth:`Deferred.run_due`, so the transfer stops as after any failed job.

At the end, what is still waiting is verified at once, unless waiting for it
costs less than :data:`TAIL_SHARE` of the time the transfer has taken so far,
or at least :data:`TAIL_ITEMS` verifications wait (then the record of the last
files can be trusted too, and a re-run does not ask about each of them: the
wait, at most the settling time, is then worth more requests than it costs). Nothing is reported
done before its verification has run: :meth:`Deferred.finish` returns only
when every job has, and raises the first failure.
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

__all__ = ["TAIL_ITEMS", "TAIL_SHARE", "Deferred"]

#: The longest wait for the last verifications, as a share of the transfer's time so far.
TAIL_SHARE = 0.05
#: As many verifications waiting at the end make the wait worth it whatever its share.
TAIL_ITEMS = 100

_Work = Callable[[], None]


class Deferred:
    """Jobs due at given moments (``time.monotonic()``).

    :param background: run them on a thread of their own (else by whoever
        calls :meth:`run_due`)
    """

    def __init__(self, background: bool = False) -> None:
        self._lock = threading.Condition()
        self._waiting: List[Tuple[float, int, _Work]] = []
        self._order = itertools.count()
        self.started = time.monotonic()
        self._background = background
        self._thread: Optional[threading.Thread] = None
        self._hurry = False  # run what waits now, without waiting for its moment
        self._draining = False  # nothing more will be added: end once all has run
        self._stopping = False  # start nothing more
        self._error: Optional[BaseException] = None

    def __len__(self) -> int:
        with self._lock:
            return len(self._waiting)

    def add(self, due: float, work: _Work) -> None:
        """Run ``work`` once ``time.monotonic()`` has reached ``due``."""
        with self._lock:
            heapq.heappush(self._waiting, (due, next(self._order), work))
            if self._background and self._thread is None:
                self._thread = threading.Thread(
                    target=self._serve, name="pydas-verify", daemon=True
                )
                self._thread.start()
            self._lock.notify_all()

    def _pop(self, until: float) -> List[_Work]:
        with self._lock:
            ready = []
            while self._waiting and self._waiting[0][0] <= until:
                ready.append(heapq.heappop(self._waiting)[2])
            return ready

    # -- the thread of its own ------------------------------------------------------------

    def _next(self) -> Optional[_Work]:
        """The next job once its moment has come; ``None`` when the thread should end."""
        with self._lock:
            while True:
                if self._stopping or self._error is not None:
                    return None
                if self._waiting:
                    now = time.monotonic()
                    due = self._waiting[0][0]
                    if self._hurry or due <= now:
                        return heapq.heappop(self._waiting)[2]
                    self._lock.wait(due - now)
                elif self._draining:
                    return None
                else:
                    self._lock.wait()

    def _serve(self) -> None:
        while True:
            work = self._next()
            if work is None:
                return
            try:
                work()
            except BaseException as error:  # raised in the transfer's thread
                with self._lock:
                    self._error = error
                    self._lock.notify_all()
                return

    def _join(self) -> None:
        thread = self._thread
        if thread is not None:
            thread.join()  # its job is bounded by the transport's deadlines

    def _raise_failure(self) -> None:
        with self._lock:
            error = self._error
        if error is not None:
            raise error

    # -- the transfer's side ----------------------------------------------------------------

    def run_due(self) -> None:
        """Run, in this thread, every job whose moment has come.

        With a thread of its own: raise the failure of a job it ran, if any.
        """
        if self._background:
            self._raise_failure()
            return
        for work in self._pop(time.monotonic()):
            work()

    def finish(self, runner: Runner, sleep: Optional[Callable[[float], None]] = None) -> None:
        """Run what is still waiting: at its moment if the wait is short enough, else now.

        :param runner: runs the jobs (on its workers, when it has several)
        :param sleep: how to wait (default: ``time.sleep`` as this module sees it)
        :raises Exception: the first failure of a job
        """
        sleep = sleep or time.sleep
        with self._lock:
            last = max((due for due, _, _ in self._waiting), default=0.0)
            many = len(self._waiting) >= TAIL_ITEMS
        now = time.monotonic()
        wait = many or last - now <= TAIL_SHARE * (now - self.started)
        if self._background:
            with self._lock:
                self._hurry = self._hurry or not wait
                self._draining = True
                self._lock.notify_all()
            self._join()
            self._raise_failure()
            return
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
        self.close()
        for work in self._pop(float("inf")):
            try:
                work()
            except Exception as error:  # noqa: BLE001 (reported by the caller's failure)
                logger.info("Not verifying the remaining uploads after a failure: %s", error)
                return

    def close(self) -> None:
        """Stop the thread of its own after the job it is running (what waits stays)."""
        with self._lock:
            self._stopping = True
            self._lock.notify_all()
        self._join()
