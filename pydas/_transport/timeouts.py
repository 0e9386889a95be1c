"""How long pydas waits: the :class:`Timeout` value type.

A timeout never means "wait forever". Every field is a positive, finite
number of seconds; a field that is not given takes its default, and ``None``
given for the whole setting restores the defaults (it does not disable
timeouts, as ``timeout=None`` does in :mod:`requests`).
"""

import math
from typing import Any, Optional, Tuple, Union

__all__ = ["DEFAULT_CONNECT", "DEFAULT_READ", "DEFAULT_TIMEOUT", "Timeout", "TimeoutLike"]

#: Seconds to wait for a connection to open.
DEFAULT_CONNECT = 10.0
#: Seconds to wait for the server to start (or go on) answering.
DEFAULT_READ = 300.0

#: What the ``timeout`` settings accept: a :class:`Timeout`, a number of
#: seconds, a ``(connect, read)`` pair, or ``None`` for the defaults.
TimeoutLike = Union["Timeout", float, int, Tuple[Optional[float], Optional[float]], None]


def _seconds(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"timeout {name} must be a number of seconds, not {value!r}")
    if not (value > 0 and math.isfinite(value)):
        raise ValueError(
            f"timeout {name} must be a positive, finite number of seconds, not {value!r} "
            "(pydas never waits forever)"
        )
    return float(value)


class Timeout:
    """The time limits of the requests of one transport, in seconds.

    :param timeout: one number for ``connect``, ``read`` and ``stall`` at once
        (as in ``Timeout(30)``); the keyword arguments override it.
    :param connect: longest wait for a connection to open (default 10).
    :param read: longest wait for the server to start answering, and for any
        single read of an answer (default 300).
    :param total: whole-call deadline of an ordinary call: connecting,
        sending, waiting and reading the answer together (default
        ``connect + read``). A server that drips its answer byte by byte is
        cut off at this point. Streamed uploads and downloads are bounded by
        ``stall`` instead, so that big files need no total deadline.
    :param stall: longest time a streamed upload or download may go without
        moving a piece of data (256 KiB, or the rest of the file; default
        ``read``). The server's wait before its answer is bounded by ``read``.
    :raises TypeError: for a value that is not a number.
    :raises ValueError: for zero, a negative, an infinite or a NaN value.

    Instances are immutable. They compare equal to a :class:`Timeout` with
    the same four fields, and to the number or ``(connect, read)`` pair they
    were made from (``Timeout(30) == 30``), so code written for the old forms
    of the setting keeps working.
    """

    __slots__ = ("connect", "read", "total", "stall")

    connect: float
    read: float
    total: float
    stall: float

    def __init__(
        self,
        timeout: Optional[float] = None,
        *,
        connect: Optional[float] = None,
        read: Optional[float] = None,
        total: Optional[float] = None,
        stall: Optional[float] = None,
    ) -> None:
        base = None if timeout is None else _seconds("", timeout)
        fields = {
            "connect": DEFAULT_CONNECT if base is None else base,
            "read": DEFAULT_READ if base is None else base,
        }
        for name, value in (("connect", connect), ("read", read)):
            if value is not None:
                fields[name] = _seconds(name, value)
        fields["total"] = (
            fields["connect"] + fields["read"] if total is None else _seconds("total", total)
        )
        fields["stall"] = (
            (fields["read"] if base is None else base)
            if stall is None
            else _seconds("stall", stall)
        )
        for name, value in fields.items():
            object.__setattr__(self, name, value)

    @classmethod
    def coerce(cls, value: TimeoutLike) -> "Timeout":
        """Turn any accepted form of a timeout setting into a :class:`Timeout`.

        :param value: a :class:`Timeout`; ``None`` (the defaults); a number
            (``Timeout(number)``); or a ``(connect, read)`` pair as
            :mod:`requests` takes it, where ``None`` stands for the default.
        :raises TypeError: for any other type.
        :raises ValueError: for values that are not positive and finite.
        """
        if isinstance(value, Timeout):
            return value
        if value is None:
            return cls()
        if isinstance(value, tuple):
            if len(value) != 2:
                raise TypeError(f"a timeout pair is (connect, read), not {value!r}")
            return cls(connect=value[0], read=value[1])
        return cls(value)

    def as_requests(self) -> Tuple[float, float]:
        """The ``(connect, read)`` pair handed to :mod:`requests`."""
        return (self.connect, self.read)

    def replace(self, **changes: float) -> "Timeout":
        """Return a copy with some fields changed; derived defaults are kept as they were."""
        fields = {name: getattr(self, name) for name in self.__slots__}
        fields.update(changes)
        return Timeout(**fields)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("Timeout is immutable; use replace() or make a new one")

    def _fields(self) -> Tuple[float, float, float, float]:
        return (self.connect, self.read, self.total, self.stall)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, (int, float, tuple)) and not isinstance(other, bool):
            try:
                other = Timeout.coerce(other)
            except (TypeError, ValueError):
                return False
        if not isinstance(other, Timeout):
            return NotImplemented
        return self._fields() == other._fields()

    def __hash__(self) -> int:
        return hash(self._fields())

    def __reduce__(self) -> Any:
        return (_rebuild, self._fields())

    def __repr__(self) -> str:
        return (
            f"Timeout(connect={self.connect:g}, read={self.read:g}, "
            f"total={self.total:g}, stall={self.stall:g})"
        )


def _rebuild(connect: float, read: float, total: float, stall: float) -> Timeout:
    return Timeout(connect=connect, read=read, total=total, stall=stall)


#: The default limits: 10 s to connect, 300 s to read, 310 s per call.
DEFAULT_TIMEOUT = Timeout()
