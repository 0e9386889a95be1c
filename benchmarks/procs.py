"""Child processes of the benchmarks: the emulator, and measured clients.

Every client runs in a fresh process, so that its time and memory are its
own. Peak memory is the child's ``VmHWM`` (the high-water mark of its resident
set, from ``/proc/PID/status``), not ``ru_maxrss``: on Linux a child started
from Python inherits the parent's high-water mark into ``ru_maxrss`` at
``exec``, which would count the harness's pages as the client's. ``VmHWM``
belongs to the image the child runs, so it starts afresh at ``exec``.

A Python task reports its own ``VmHWM`` at its end (exact, see
:mod:`task_protocol`); for other programs (``curl``) the harness samples it
every few milliseconds while the child runs, which gives a lower bound that is
exact for a program whose memory stays flat.
"""

import json
import os
import subprocess
import sys
import time
from contextlib import contextmanager
from typing import Any, Dict, Iterator, List, Optional

from task_protocol import peak_rss_mib

__all__ = ["ChildFailed", "emulator_process", "run_program", "run_task"]

_EMULATOR = r"""
import json, sys
from pydas.testing import MidasServer
server = MidasServer()
server.start()
user = server.create_user(sys.argv[1], sys.argv[2], "Bench", "Mark")
print(json.dumps({"url": server.url, "email": user.email, "api_key": user.api_key}), flush=True)
sys.stdin.read()
server.stop()
"""


class ChildFailed(RuntimeError):
    """A measured child exited with a non-zero status."""


@contextmanager
def emulator_process(python: str = sys.executable) -> Iterator[Dict[str, str]]:
    """Run ``pydas.testing.MidasServer`` in its own process, with one user.

    :yields: ``{"url", "email", "api_key", "pid"}``; the server stops when the block ends.
    """
    proc = subprocess.Popen(
        [python, "-c", _EMULATOR, "bench@example.com", "bench-password"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        line = proc.stdout.readline() if proc.stdout else ""
        if not line:
            raise ChildFailed("the emulator did not start")
        yield {**json.loads(line), "pid": proc.pid}
    finally:
        if proc.stdin:
            proc.stdin.close()
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def run_task(python: str, script: str, task: str, args: Dict[str, Any],
             env: Optional[Dict[str, str]] = None, timeout: float = 3600) -> Dict[str, Any]:
    """Run one task of a task script (see :mod:`task_protocol`) and return its report.

    :param python: the interpreter (the new client's or the old client's virtualenv)
    :param script: the task script
    :param task: the task's name
    :param args: its arguments (passed as JSON)
    :raises ChildFailed: if the task fails; its standard error is in the message
    """
    started = time.perf_counter()
    done = subprocess.run(
        [python, script, task, json.dumps(args)],
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise ChildFailed(f"{task} failed ({done.returncode}):\n{done.stderr[-3000:]}")
    report = json.loads(done.stdout.strip().splitlines()[-1])
    report["wall_seconds"] = wall
    return report


def run_program(argv: List[str], stdin: Optional[bytes] = None, timeout: float = 3600,
                sample_every: float = 0.005) -> Dict[str, Any]:
    """Run a program (``curl``), timing it and sampling its peak memory.

    :returns: ``{"seconds", "peak_rss_mib", "stdout"}``
    :raises ChildFailed: on a non-zero exit status
    """
    started = time.perf_counter()
    proc = subprocess.Popen(
        argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    if proc.stdin:
        proc.stdin.write(stdin or b"")
        proc.stdin.close()
    peak = 0.0
    deadline = started + timeout
    while proc.poll() is None:
        sample = peak_rss_mib(proc.pid)
        if sample is not None:
            peak = max(peak, sample)
        if time.perf_counter() > deadline:
            proc.kill()
        time.sleep(sample_every)
    seconds = time.perf_counter() - started
    stdout = proc.stdout.read() if proc.stdout else b""
    stderr = proc.stderr.read() if proc.stderr else b""
    if proc.returncode != 0:
        raise ChildFailed(f"{argv[0]} failed ({proc.returncode}): {stderr[-2000:]!r}")
    return {"seconds": seconds, "peak_rss_mib": peak, "stdout": stdout}
