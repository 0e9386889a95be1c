"""A clock for the client and the emulator that moves only when told (or slept on).

Re-run tests depend on time: Midas stamps changes to the second, an entry of
the re-run record is trusted only once its item was read two seconds after
its last change, and a file changed less than two seconds before its state
was read is hashed again. :func:`use_clock` replaces ``time.time`` and
``time.time_ns`` and ``time.gmtime`` (which the client and the in-process
emulator read) and the
monotonic clock and sleep of the transfer engine's deferred work, so tests
put seconds between events without waiting for them.
"""

import importlib
import time
import types

__all__ = ["Clock", "use_clock"]


class Clock:
    """A wall and a monotonic clock that stand still until :meth:`advance`.

    Both move by a microsecond each time the monotonic one is read, as the
    time a transfer has taken is never zero.
    """

    def __init__(self) -> None:
        self.now = time.time()
        self.mono = time.monotonic()

    def time(self) -> float:
        return self.now

    def time_ns(self) -> int:
        return int(self.now * 1_000_000_000)

    def monotonic(self) -> float:
        self.advance(0.000_001)
        return self.mono

    def advance(self, seconds: float) -> None:
        """Let ``seconds`` pass."""
        self.now += seconds
        self.mono += seconds

    sleep = advance


def use_clock(monkeypatch, clock: Clock) -> Clock:
    """Make the client, the emulator and the engine's deferred work run on ``clock``."""
    real_gmtime = time.gmtime
    monkeypatch.setattr(time, "time", clock.time)
    monkeypatch.setattr(time, "time_ns", clock.time_ns)
    # the emulator stamps changes with time.gmtime(), which reads the C clock
    monkeypatch.setattr(time, "gmtime",
                        lambda when=None: real_gmtime(clock.now if when is None else when))
    engine_time = types.SimpleNamespace(time=clock.time, time_ns=clock.time_ns,
                                        monotonic=clock.monotonic, sleep=clock.sleep)
    for name in ("pydas._transfer.deferred", "pydas._transfer.upload"):
        monkeypatch.setattr(importlib.import_module(name), "time", engine_time)
    return clock
