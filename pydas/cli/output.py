"""What the ``pydas`` command prints, and where.

Results (listings, the closing summary of a transfer) go to standard output,
messages and log records to standard error. ``-q`` silences everything but
results and errors, ``-v`` adds the library's log at INFO, ``-vv`` at DEBUG.
"""

import contextlib
import json
import logging
import sys
from typing import Any, Iterable, Iterator, List, Optional, Sequence

__all__ = ["Output", "human_size", "logging_to_stderr"]


def human_size(nbytes: int) -> str:
    """Format a byte count for people: ``512 B``, ``1.5 KiB``, ``3.2 GiB``."""
    value = float(nbytes)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if value < 1024 or unit == "TiB":
            return f"{int(value)} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")


class _NotStatusLines(logging.Filter):
    """Drop the library's status lines from the log: they are printed already."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.funcName in ("status", "warn") and "_transfer" in record.pathname)


@contextlib.contextmanager
def logging_to_stderr(verbosity: int, status_lines_printed: bool) -> Iterator[None]:
    """Send the ``pydas`` logger to standard error at the level ``-v`` asks for, meanwhile.

    :param verbosity: the number of ``-v``
    :param status_lines_printed: whether status lines go to standard output
        (then they are not repeated in the log)
    """
    if verbosity <= 0:
        yield
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    if status_lines_printed:
        handler.addFilter(_NotStatusLines())
    logger = logging.getLogger("pydas")
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO if verbosity == 1 else logging.DEBUG)
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


class Output:
    """The command's printing: results always, chatter unless quiet.

    :param quiet: silence everything but results and errors
    """

    def __init__(self, quiet: bool = False) -> None:
        self.quiet = quiet

    def result(self, line: str = "") -> None:
        """Print a line of the command's result."""
        print(line, flush=True)

    def info(self, line: str) -> None:
        """Print a line of progress or of the closing summary (not with ``-q``)."""
        if not self.quiet:
            print(line, flush=True)

    def message(self, line: str) -> None:
        """Print a line for the user on standard error (not with ``-q``)."""
        if not self.quiet:
            print(line, file=sys.stderr, flush=True)

    def error(self, lines: Iterable[str]) -> None:
        """Print an error, always, on standard error."""
        for line in lines:
            print(f"pydas: {line}", file=sys.stderr, flush=True)

    def json(self, value: Any) -> None:
        """Print a JSON document."""
        print(json.dumps(value, indent=2, ensure_ascii=False), flush=True)

    def table(self, rows: Sequence[Sequence[str]], right: Optional[List[int]] = None) -> None:
        """Print rows as aligned columns (the columns in ``right`` aligned right)."""
        if not rows:
            return
        right = right or []
        widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))]
        for row in rows:
            cells = [
                cell.rjust(widths[index]) if index in right else cell.ljust(widths[index])
                for index, cell in enumerate(row)
            ]
            self.result("  ".join(cells).rstrip())
