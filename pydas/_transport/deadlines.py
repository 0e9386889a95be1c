"""Deadlines that socket timeouts cannot give: the whole call, and a stalled transfer.

A socket timeout bounds each single read. A server that sends one byte per
second never trips it, and would keep a call alive forever. Here a
:class:`Guard` holds a deadline for one request; one watchdog thread per
process (started on first use) shuts the request's socket down when the
deadline passes, which makes the blocked read return at once. The transport
then sees ``guard.fired`` and raises :class:`~pydas.exceptions.TimedOut`.

For ordinary calls the deadline is fixed (``Timeout.total``). For streamed
uploads and downloads it moves: every piece of data that goes through pushes
it ``Timeout.stall`` seconds ahead, so a transfer of any size may take as long
as it needs while it makes progress.

The guard learns which connection a request uses from
:class:`GuardedAdapter`, the :class:`requests.adapters.HTTPAdapter` that
sessions made by pydas use: its connection pools hand each connection to the
guard of the calling thread just before the request is written. With a
session of the caller's own, whose adapters pydas leaves alone, the deadlines
are checked between the pieces of an answer only.
"""

import os
import socket
import threading
import time
from typing import Any, Optional, Set

from requests.adapters import HTTPAdapter
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

__all__ = ["Guard", "GuardedAdapter", "TOTAL", "STALL"]

#: A guard whose deadline does not move: the whole-call deadline.
TOTAL = "total"
#: A guard pushed ahead by progress: the stall deadline of a transfer.
STALL = "stall"

_active = threading.local()
#: How often an expired guard without a socket yet is looked at again, in seconds.
_RECHECK = 0.05


class Guard:
    """The deadline of one request, enforced by the watchdog while armed.

    :param kind: :data:`TOTAL` or :data:`STALL`.
    :param seconds: the whole-call deadline, or the stall limit.
    :param first: for :data:`STALL`, the time allowed before the first piece
        of data (connecting and the server's first answer); default ``seconds``.
    :param answer: for :data:`STALL`, the time allowed for the answer after
        the last piece of an upload body; default ``seconds``.
    """

    __slots__ = ("kind", "seconds", "answer", "expires", "fired", "connection")

    def __init__(
        self,
        kind: str,
        seconds: float,
        first: Optional[float] = None,
        answer: Optional[float] = None,
    ) -> None:
        self.kind = kind
        self.seconds = seconds
        self.answer = seconds if answer is None else answer
        self.expires = time.monotonic() + (seconds if first is None else first)
        self.fired = False
        self.connection: Any = None

    # -- used by the transport and the bodies ---------------------------------

    def __enter__(self) -> "Guard":
        _WATCHDOG.watch(self)
        _active.guard = self
        return self

    def __exit__(self, *exc_info: Any) -> None:
        _active.guard = None

    def moved(self) -> None:
        """A piece of data went through: push a stall deadline ahead."""
        if self.kind == STALL:
            self._expire_at(time.monotonic() + self.seconds)

    def finished(self) -> None:
        """The body is sent: allow the server its time to answer."""
        if self.kind == STALL:
            self._expire_at(time.monotonic() + self.answer)

    def _expire_at(self, when: float) -> None:
        self.expires = when
        # The watchdog sleeps until the soonest deadline it knows; a deadline
        # moved nearer (the first window is longer than the stall window)
        # must wake it.
        if when < _WATCHDOG.wake_at:
            _WATCHDOG.poke()

    def disarm(self) -> None:
        """Stop watching; call when the request is over."""
        _WATCHDOG.forget(self)
        self.connection = None

    # -- used by the watchdog ---------------------------------------------------

    def fire(self) -> bool:
        """Cut the request off; ``False`` while there is no socket to shut yet."""
        self.fired = True
        connection = self.connection
        if connection is not None and getattr(connection, "_pydas_guard", None) is not self:
            return True  # the connection now serves another request
        sock = getattr(connection, "sock", None)
        if not isinstance(sock, socket.socket):
            return False  # not connected yet (or a caller's session): look again soon
        try:
            # the plain socket call, also for TLS sockets: it unblocks a
            # read in another thread without touching the TLS state
            socket.socket.shutdown(sock, socket.SHUT_RDWR)
        except OSError:
            pass
        return True


class _Watchdog:
    """The one thread that fires expired guards."""

    def __init__(self) -> None:
        self._guards: Set[Guard] = set()
        self._condition = threading.Condition()
        self._thread: Optional[threading.Thread] = None
        self._wake_at = float("inf")

    def watch(self, guard: Guard) -> None:
        with self._condition:
            self._guards.add(guard)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._run, name="pydas-deadlines", daemon=True
                )
                self._thread.start()
            elif guard.expires < self._wake_at:
                self._condition.notify()

    def forget(self, guard: Guard) -> None:
        with self._condition:
            self._guards.discard(guard)

    @property
    def wake_at(self) -> float:
        """When the watchdog will next look at the deadlines."""
        return self._wake_at

    def poke(self) -> None:
        """Make the watchdog look at the deadlines now."""
        with self._condition:
            self._condition.notify()

    def _run(self) -> None:
        with self._condition:
            while True:
                now = time.monotonic()
                soonest = float("inf")
                for guard in list(self._guards):
                    if guard.expires <= now:
                        if guard.fire():
                            self._guards.discard(guard)
                            continue
                        guard.expires = now + _RECHECK
                    soonest = min(soonest, guard.expires)
                self._wake_at = soonest
                self._condition.wait(None if soonest == float("inf") else soonest - now)

    def _after_fork(self) -> None:
        # the thread does not exist in a forked child; start anew there
        self._condition = threading.Condition()
        self._thread = None
        self._guards = set()


_WATCHDOG = _Watchdog()
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_WATCHDOG._after_fork)


def _attach(connection: Any) -> None:
    guard = getattr(_active, "guard", None)
    connection._pydas_guard = guard
    if guard is not None:
        guard.connection = connection


class _GuardedHTTPPool(HTTPConnectionPool):
    def _make_request(self, conn: Any, *args: Any, **kwargs: Any) -> Any:
        _attach(conn)
        return super()._make_request(conn, *args, **kwargs)


class _GuardedHTTPSPool(HTTPSConnectionPool):
    def _make_request(self, conn: Any, *args: Any, **kwargs: Any) -> Any:
        _attach(conn)
        return super()._make_request(conn, *args, **kwargs)


_GUARDED_POOLS = {"http": _GuardedHTTPPool, "https": _GuardedHTTPSPool}


class GuardedAdapter(HTTPAdapter):
    """An :class:`~requests.adapters.HTTPAdapter` whose connections can be cut by a guard.

    Direct connections and connections through an HTTP(S) proxy are guarded;
    SOCKS proxies keep their own pools (deadlines are then checked between
    pieces only).
    """

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = dict(_GUARDED_POOLS)

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> Any:
        manager = super().proxy_manager_for(proxy, **proxy_kwargs)
        if not proxy.lower().startswith("socks"):
            manager.pool_classes_by_scheme = dict(_GUARDED_POOLS)
        return manager
