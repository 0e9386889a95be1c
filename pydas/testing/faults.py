"""Fault injection: make the emulator misbehave on purpose, one request at a time.

Tests arm a fault through :attr:`MidasServer.faults <pydas.testing.MidasServer.faults>`;
the next matching request(s) then suffer it. Each fault has a ``times`` budget
and disarms itself when that is used up. Several faults of different kinds may
hit the same request (e.g. a delay and then a cut response); of one kind, the
earliest armed fault that matches is used.

``match`` selects requests:

* ``None`` matches any request;
* a method name such as ``"midas.upload.perform"`` matches calls of that method
  named in the query string (a method named only in a form body is not known
  yet when faults are chosen); any spelling the server accepts (``"midas.itemget"``,
  ``"midas.ITEM.get"``) stands for the canonical name;
* a string starting with ``/`` matches requests whose path after the server's
  base path starts with it (e.g. ``"/download"``).

Any other string is refused with :class:`ValueError`, so that a typo cannot arm
a fault that never fires.
"""

import threading
from dataclasses import dataclass
from typing import Dict, List, Optional

from pydas.testing.dispatch import canonical_name

__all__ = ["FaultInjector", "Fault"]


@dataclass
class Fault:
    """One armed fault.

    :param kind: ``cut_request``, ``cut_response``, ``fail``, ``delay`` or ``garbage``.
    :param match: request selector (see the module documentation).
    :param times: how many more requests it hits.
    :param nbytes: bytes let through before a cut.
    :param status: HTTP status of ``fail``/``garbage`` answers.
    :param seconds: length of a ``delay``.
    :param late_bytes: body bytes past ``nbytes`` that a cut upload writes late.
    :param late_seconds: how long those bytes stay unwritten at most.
    """

    kind: str
    match: Optional[str]
    times: int
    nbytes: int = 0
    status: int = 503
    seconds: float = 0.0
    late_bytes: int = 0
    late_seconds: float = 0.0

    def matches(self, api_method: Optional[str], path: str) -> bool:
        """Tell whether this fault applies to a request.

        :param api_method: canonical lower-case method name, or ``None``.
        :param path: request path after the base path.
        :returns: whether it matches.
        """
        if self.match is None:
            return True
        if api_method is not None and self.match == api_method:
            return True
        return self.match.startswith("/") and path.startswith(self.match)


def _positive(name: str, value: float) -> None:
    if value < 0:
        raise ValueError(f"{name} must not be negative, got {value!r}")


class FaultInjector:
    """The set of armed faults of one server (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: List[Fault] = []

    def _arm(self, fault: Fault) -> None:
        _positive("times", fault.times)
        _positive("nbytes", fault.nbytes)
        _positive("seconds", fault.seconds)
        if not 100 <= fault.status <= 599:
            raise ValueError(f"status must be an HTTP status (100-599), got {fault.status!r}")
        if fault.match is not None and not fault.match.startswith("/"):
            if not fault.match.lower().startswith("midas."):
                raise ValueError(
                    f"match must be an API method name such as 'midas.item.get' or a path "
                    f"starting with '/', got {fault.match!r}"
                )
            fault.match = canonical_name(fault.match) or fault.match.lower()
        with self._lock:
            self._faults.append(fault)

    def cut_request_after(self, nbytes: int, match: Optional[str] = None, times: int = 1,
                          late_bytes: int = 0, late_seconds: float = 0.5) -> None:
        """Read only ``nbytes`` of the next matching request bodies, then drop the connection.

        An upload keeps the bytes it received (the token's partial data grows), as
        on the real server; no answer is sent. A raw-body call (``upload.perform``,
        ``tracker.results.upload.json``) whose body is no longer than ``nbytes`` is
        processed completely and only its answer is lost; a longer JSON document
        arrives truncated and is rejected. Other calls are never processed.

        ``late_bytes`` reproduces the real server's race behind Apache: PHP keeps
        appending the body bytes it had already received after the client saw the
        cut. The server then reads ``late_bytes`` more of the body before it drops
        the connection, and appends them to the token's file only after
        ``late_seconds``, or just before the next ``upload.perform`` on that token
        starts writing, whichever comes first. A ``midas.upload.getoffset``
        answered in between reports ``nbytes``, the stale size; a client that
        resumes from it stores wrong bytes.

        :param nbytes: body bytes to accept before the cut.
        :param match: request selector.
        :param times: number of requests to hit.
        :param late_bytes: body bytes (past ``nbytes``) that an upload writes late.
        :param late_seconds: how long they stay unwritten at most.
        """
        _positive("late_bytes", late_bytes)
        _positive("late_seconds", late_seconds)
        self._arm(Fault("cut_request", match, times, nbytes=nbytes, late_bytes=late_bytes,
                        late_seconds=late_seconds))

    def cut_response_after(self, nbytes: int, match: Optional[str] = None, times: int = 1) -> None:
        """Send the headers and ``nbytes`` of the answer body, then drop the connection.

        The request itself is processed completely (its effects persist).

        :param nbytes: body bytes sent before the cut.
        :param match: request selector.
        :param times: number of requests to hit.
        """
        self._arm(Fault("cut_response", match, times, nbytes=nbytes))

    def fail_next(self, times: int = 1, status: int = 503, match: Optional[str] = None) -> None:
        """Answer the next matching requests with an HTTP error, without processing them.

        :param times: number of requests to hit.
        :param status: the HTTP status to answer with.
        :param match: request selector.
        """
        self._arm(Fault("fail", match, times, status=status))

    def delay(self, seconds: float, match: Optional[str] = None, times: int = 1) -> None:
        """Wait before processing the next matching requests.

        :param seconds: how long to wait.
        :param match: request selector.
        :param times: number of requests to hit.
        """
        self._arm(Fault("delay", match, times, seconds=seconds))

    def garbage_next(self, times: int = 1, match: Optional[str] = None, status: int = 200) -> None:
        """Answer the next matching requests with a PHP-style HTML error page.

        The request is not processed.

        :param times: number of requests to hit.
        :param match: request selector.
        :param status: the HTTP status of the page (the real server sends 200 or 500).
        """
        self._arm(Fault("garbage", match, times, status=status))

    def clear(self) -> None:
        """Disarm every fault."""
        with self._lock:
            self._faults.clear()

    @property
    def pending(self) -> List[Fault]:
        """The faults still armed (a copy)."""
        with self._lock:
            return list(self._faults)

    def take(self, api_method: Optional[str], path: str) -> Dict[str, Fault]:
        """Consume the faults that hit a request, at most one per kind.

        :param api_method: canonical lower-case method name, or ``None``.
        :param path: request path after the base path.
        :returns: kind -> fault.
        """
        hits: Dict[str, Fault] = {}
        with self._lock:
            for fault in self._faults:
                if fault.kind not in hits and fault.times > 0 and fault.matches(api_method, path):
                    hits[fault.kind] = fault
                    fault.times -= 1
            self._faults = [fault for fault in self._faults if fault.times > 0]
        return hits
