"""How a task script reports to the harness (shared by the new and old client scripts).

A task script is run as ``python SCRIPT TASK JSON-ARGS``. Its task function
does any set-up it does not want timed, then calls ``timer.start()``, does the
measured work, and may return a dict of extra figures. The script prints one
JSON line: the seconds between ``timer.start()`` and the return, the CPU
seconds (user + system, all threads) the process used in that time, its peak
resident memory (``VmHWM``, see :mod:`procs`), and the extra figures.

This module must import nothing from pydas: the old client's virtualenv loads it
too.
"""

import json
import resource
import sys
import time
from typing import Any, Callable, Dict, Optional

__all__ = ["Timer", "main", "peak_rss_mib"]


class Timer:
    """Marks where the measured part of a task begins."""

    def __init__(self) -> None:
        self.start()

    def start(self) -> None:
        self.started = time.perf_counter()
        self.cpu_started = _cpu_seconds()


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def peak_rss_mib(pid: Any = "self") -> Optional[float]:
    """Return ``VmHWM`` of a process in MiB, or ``None`` once it is gone."""
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def main(tasks: Dict[str, Callable[..., Any]]) -> None:
    """Run the task named on the command line and print its report."""
    name, args = sys.argv[1], json.loads(sys.argv[2])
    timer = Timer()
    extra = tasks[name](timer, **args) or {}
    seconds = time.perf_counter() - timer.started
    cpu = _cpu_seconds() - timer.cpu_started
    print(json.dumps({"seconds": seconds, "cpu_seconds": cpu, "peak_rss_mib": peak_rss_mib(),
                      **extra}))
