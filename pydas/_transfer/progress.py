"""Progress reporting: the faithful status lines, warnings and the progress bar."""

from __future__ import annotations

import logging
import sys
import threading
import time
from typing import Any, Optional

__all__ = ["BAR_DELAY", "Reporter"]

logger = logging.getLogger("pydas")

#: Seconds a transfer runs before its progress bar appears (when not asked for explicitly):
#: quick transfers show their status lines only.
BAR_DELAY = 2.0


def _stderr_is_terminal() -> bool:
    stream = sys.stderr
    try:
        return bool(stream is not None and stream.isatty())
    except (AttributeError, ValueError):
        return False


def _printable(line: str, stream: Any) -> str:
    """Escape what ``stream`` cannot encode (a non-UTF-8 console or redirected output)."""
    encoding = getattr(stream, "encoding", None) or "utf-8"
    errors = getattr(stream, "errors", None) or "strict"
    try:
        line.encode(encoding, errors)
    except UnicodeEncodeError:
        return line.encode(encoding, "backslashreplace").decode(encoding)
    except LookupError:
        pass
    return line


class Reporter:
    """Status lines, warnings and the progress bar of one transfer.

    Status lines go to standard output as whole lines (a lock keeps lines of
    parallel workers apart) unless ``quiet`` is set, and always to the
    ``pydas`` logger at INFO. Warnings (renamed names, skipped links) are
    status lines too, logged at WARNING.

    The progress bar counts bytes and files (``3/10 files``). By default
    (``bar=None``) it is shown only when standard error is a terminal, and
    only once the transfer has run for :data:`BAR_DELAY` seconds.

    :param quiet: do not print status lines
    :param bar: ``True`` shows a progress bar on standard error at once,
        ``False`` never does, ``None`` shows one when standard error is a
        terminal and the transfer takes a while
    """

    def __init__(self, quiet: bool = False, bar: Optional[bool] = None) -> None:
        self.quiet = quiet
        self._lock = threading.Lock()
        self._bar: Any = None
        self._files_total = 0
        self._files_done = 0
        delay = 0.0
        if bar is None:
            bar, delay = _stderr_is_terminal(), BAR_DELAY
        #: until then the bar is not on the screen: lines are printed as they are
        self._bar_from = time.monotonic() + delay
        self._timer: Optional[threading.Timer] = None
        if bar:
            from tqdm import tqdm  # type: ignore[import-untyped,unused-ignore]

            self._bar = tqdm(
                total=0,
                unit="B",
                unit_scale=True,
                unit_divisor=1024,
                file=sys.stderr,
                dynamic_ncols=True,
                delay=delay,
            )
            if delay > 0:
                # tqdm draws a delayed bar only when bytes move: draw it at the
                # delay also while the transfer waits for the server
                self._timer = threading.Timer(delay, self._appear)
                self._timer.daemon = True
                self._timer.start()

    def _appear(self) -> None:
        with self._lock:
            if self._bar is not None:
                self._bar.refresh()

    def status(self, line: str) -> None:
        """Print and log one status line."""
        logger.info(line)
        self._print(line)

    def warn(self, line: str) -> None:
        """Print one status line and log it as a warning."""
        logger.warning(line)
        self._print(line)

    def _print(self, line: str) -> None:
        if self.quiet:
            return
        line = _printable(line, sys.stdout)
        with self._lock:
            if self._bar is not None and time.monotonic() >= self._bar_from:
                self._bar.write(line, file=sys.stdout)  # above the bar, which is redrawn
            else:
                print(line, flush=True)

    def expect(self, nbytes: int, nfiles: int = 1) -> None:
        """Add work to the totals of the progress bar."""
        if self._bar is None:
            return
        with self._lock:
            self._files_total += nfiles
            self._bar.total += nbytes
            self._bar.set_postfix_str(f"{self._files_done}/{self._files_total} files",
                                      refresh=False)

    def advance(self, nbytes: int) -> None:
        """Count bytes moved (negative to take back bytes that are sent again)."""
        if self._bar is None or not nbytes:
            return
        with self._lock:
            self._bar.update(nbytes)

    def file_done(self) -> None:
        """Count one file as finished (transferred or found unchanged)."""
        if self._bar is None:
            return
        with self._lock:
            self._files_done += 1
            self._bar.set_postfix_str(f"{self._files_done}/{self._files_total} files",
                                      refresh=False)

    def close(self) -> None:
        """Remove the progress bar."""
        if self._timer is not None:
            self._timer.cancel()
        with self._lock:
            if self._bar is not None:
                self._bar.close()
                self._bar = None
