"""The worker runner: item jobs inline (one worker) or on a thread pool (several)."""

from __future__ import annotations

import concurrent.futures
import threading
from typing import Any, Callable, Iterable, List, Optional, TypeVar

__all__ = ["Runner", "Stopped", "check_workers"]

#: What a job returns.
R = TypeVar("R")


def check_workers(workers: int) -> None:
    """Make sure a worker count is a positive integer.

    :raises ValueError: if it is not
    """
    if not isinstance(workers, int) or isinstance(workers, bool) or workers < 1:
        raise ValueError(f"workers must be a positive integer, not {workers!r}")


class Stopped(Exception):
    """A job gave up because another one failed or the transfer was interrupted."""


class Runner:
    """Runs item jobs inline (one worker) or on a thread pool (several).

    With one worker a job runs at once, in the caller's thread, so status
    lines come out in exactly the order of the sequential algorithm. With
    several, jobs run concurrently; the first failure stops new jobs from
    being started, makes running jobs give up at their next :meth:`check`,
    and is raised by :meth:`wait`. :meth:`close` (after an interruption, say)
    stops running jobs the same way.

    :param workers: number of parallel transfers, at least 1
    :raises ValueError: if ``workers`` is smaller than 1
    """

    def __init__(self, workers: int = 1) -> None:
        check_workers(workers)
        self._pool: Optional[concurrent.futures.ThreadPoolExecutor] = None
        if workers > 1:
            self._pool = concurrent.futures.ThreadPoolExecutor(
                max_workers=workers, thread_name_prefix="pydas-transfer"
            )
        self._futures: List[concurrent.futures.Future[Any]] = []
        self._stop = threading.Event()
        self._error: Optional[BaseException] = None
        self._error_lock = threading.Lock()

    @property
    def parallel(self) -> bool:
        """Whether jobs run on worker threads (rather than at once, in the caller's)."""
        return self._pool is not None

    def submit(
        self, job: Callable[..., R], *args: Any, **kwargs: Any
    ) -> concurrent.futures.Future[R]:
        """Run ``job(*args, **kwargs)`` now or on a worker; returns its future."""
        if self._stop.is_set():
            self.wait()
        if self._pool is None:
            future: concurrent.futures.Future[R] = concurrent.futures.Future()
            future.set_result(job(*args, **kwargs))
        else:
            future = self._pool.submit(job, *args, **kwargs)
            future.add_done_callback(self._note)
        self._futures.append(future)
        return future

    def _note(self, future: concurrent.futures.Future[Any]) -> None:
        error = None if future.cancelled() else future.exception()
        if error is None:
            return
        with self._error_lock:
            if self._error is None and not isinstance(error, Stopped):
                self._error = error
        self._stop.set()

    def check(self) -> None:
        """Called by running jobs between pieces of work.

        :raises Stopped: when the job should give up
        """
        if self._stop.is_set():
            raise Stopped("the transfer is stopping")

    def wait(self, futures: Optional[Iterable[concurrent.futures.Future[Any]]] = None) -> None:
        """Wait for ``futures`` (default: every job); raise the first failure."""
        pending = list(self._futures if futures is None else futures)
        for future in pending:
            if self._stop.is_set() and not future.done():
                future.cancel()
        for future in pending:
            if future.cancelled():
                continue
            error = future.exception()
            if error is not None:
                self._cancel_all()
                raise self._error or error

    def result(self, future: concurrent.futures.Future[R]) -> R:
        """Wait for one job and return its result.

        :raises: the job's failure, or the first failure of any job if that
            one cancelled this job before it started
        """
        self.wait([future])
        if future.cancelled():
            self.wait()
        return future.result()

    def _cancel_all(self) -> None:
        for future in self._futures:
            future.cancel()

    def close(self) -> None:
        """Stop the workers, cancelling jobs that have not started."""
        if self._pool is not None:
            self._stop.set()
            self._cancel_all()
            self._pool.shutdown(wait=True)
            self._pool = None
