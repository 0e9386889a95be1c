"""The progress bar on a real (pseudo-)terminal: only for transfers that take a while.

The transfer runs in a subprocess whose standard error is a pseudo-terminal
(or a pipe), against the emulator of the test process; a throttling proxy
makes a download take a while. Standard output, where the faithful status
lines go, is a pipe.
"""

import os
import select
import struct
import subprocess
import sys
import textwrap
import time

import pytest
from support.proxy import CuttingProxy

import pydas

pty = pytest.importorskip("pty")
fcntl = pytest.importorskip("fcntl")
termios = pytest.importorskip("termios")

SCRIPT = textwrap.dedent("""
    import sys
    import pydas
    from pydas._transfer import progress
    url, email, key, what, path, delay = sys.argv[1:7]
    progress.BAR_DELAY = float(delay)
    pydas.login(email=email, api_key=key, url=url)
    if what == "upload":
        pydas.upload(path)
    else:
        pydas.download("Private/scan.bin", path)
""")


def _run(url, user, what, path, delay, terminal):
    """Run a transfer; returns its standard output and what reached standard error."""
    arguments = [sys.executable, "-c", SCRIPT, url, user.email, user.api_key, what, str(path),
                 str(delay)]
    if not terminal:
        done = subprocess.run(arguments, capture_output=True, timeout=60, check=True)
        return done.stdout.decode(), done.stderr.decode()
    master, slave = pty.openpty()
    # a terminal of 24 lines of 100 columns (a new pseudo-terminal has none)
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))
    process = subprocess.Popen(arguments, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                               stderr=slave)
    os.close(slave)
    seen = b""
    deadline = time.monotonic() + 60
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.1)
            if ready:
                try:
                    data = os.read(master, 65536)
                except OSError:  # the other side is closed: the process ended
                    break
                if not data:
                    break
                seen += data
            elif process.poll() is not None:
                break
        out = process.stdout.read().decode()
        assert process.wait(30) == 0, seen.decode(errors="replace")
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(30)
        process.stdout.close()
        os.close(master)
    return out, seen.decode(errors="replace")


@pytest.fixture
def slow(midas_server):
    with CuttingProxy(midas_server.url, rate=2 * 1024 * 1024) as proxy:
        yield proxy.url


@pytest.fixture
def payload(tmp_path):
    path = tmp_path / "scan.bin"
    path.write_bytes(os.urandom(512 * 1024))
    return path


def test_a_transfer_that_takes_a_while_shows_a_bar_of_files_and_bytes(
    logged_in, slow, midas_user, payload, tmp_path
):
    pydas.upload(str(payload), quiet=True)
    out, terminal = _run(slow, midas_user, "download", tmp_path / "copy", delay=0.1,
                         terminal=True)
    assert out.splitlines() == [f"Creating File at {tmp_path / 'copy' / 'scan.bin'}"]
    assert "1/1 files" in terminal and "512k/512k" in terminal


def test_a_quick_transfer_shows_no_bar(midas_server, midas_user, payload):
    out, terminal = _run(midas_server.url, midas_user, "upload", payload, delay=2.0,
                         terminal=True)
    assert out.splitlines() == [f"Uploading Item from {payload}"]
    assert terminal == ""


def test_no_bar_when_standard_error_is_not_a_terminal(logged_in, slow, midas_user, payload,
                                                       tmp_path):
    pydas.upload(str(payload), quiet=True)
    out, err = _run(slow, midas_user, "download", tmp_path / "copy", delay=0.1, terminal=False)
    assert out.splitlines() == [f"Creating File at {tmp_path / 'copy' / 'scan.bin'}"]
    assert err == ""
