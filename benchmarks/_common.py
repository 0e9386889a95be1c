"""Helpers shared by the benchmark scripts (not part of the package).

The emulator always runs in a separate process, so that the client's peak
memory (``ru_maxrss`` of the measuring process) counts the client only.
"""

import json
import os
import subprocess
import sys
import time
from contextlib import contextmanager
from typing import Iterator, Tuple

_SERVER_SCRIPT = r"""
import json, sys, threading
from pydas.testing import MidasServer
server = MidasServer()
server.start()
user = server.create_user("bench@example.com", "bench-password", "Bench", "Mark")
print(json.dumps({"url": server.url, "email": user.email, "api_key": user.api_key,
                  "folder_id": user.private_folder_id}), flush=True)
sys.stdin.read()
server.stop()
"""


@contextmanager
def emulator_process() -> Iterator[dict]:
    """Start the emulator in a child process; yield its URL and a user's credentials."""
    proc = subprocess.Popen(
        [sys.executable, "-c", _SERVER_SCRIPT],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        info = json.loads(proc.stdout.readline())
        yield info
    finally:
        proc.stdin.close()
        proc.wait(timeout=30)


def run_measured(code: str, env: dict) -> Tuple[float, float]:
    """Run ``code`` in a fresh interpreter; return (seconds, peak RSS in MiB) it reports."""
    wrapper = (
        "import resource, time, json\n"
        "t0 = time.perf_counter()\n"
        f"{code}\n"
        "elapsed = time.perf_counter() - t0\n"
        "rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024\n"
        "print(json.dumps([elapsed, rss]))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", wrapper],
        env={**os.environ, **env},
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    elapsed, rss = json.loads(out.strip().splitlines()[-1])
    return elapsed, rss


def make_file(path: str, size: int) -> None:
    """Write ``size`` bytes of non-repeating data (not sparse: the server dedupes zeros)."""
    block = os.urandom(1 << 20)
    with open(path, "wb") as handle:
        written = 0
        counter = 0
        while written < size:
            chunk = counter.to_bytes(8, "little") + block[8:]
            chunk = chunk[: size - written]
            handle.write(chunk)
            written += len(chunk)
            counter += 1


def timestamp() -> str:
    return time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
