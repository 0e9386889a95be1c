"""Subprocesses that tests kill: started, killed with SIGKILL, never left running."""

import contextlib
import os
import signal
import subprocess
from typing import Iterator, List

__all__ = ["killable", "sigkill"]


@contextlib.contextmanager
def killable(arguments: List[str], **options) -> Iterator[subprocess.Popen]:
    """Start a process; on leaving, kill it if it still runs and close its pipes."""
    process = subprocess.Popen(arguments, **options)
    try:
        yield process
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(30)
        for pipe in (process.stdin, process.stdout, process.stderr):
            if pipe is not None:
                pipe.close()


def sigkill(process: subprocess.Popen) -> None:
    """Kill ``process`` with SIGKILL (no handler, no cleanup) and check that it died of it."""
    os.kill(process.pid, signal.SIGKILL)
    assert process.wait(30) == -signal.SIGKILL
