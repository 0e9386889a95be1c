"""The command as a real process: exit codes, messages, Ctrl-C, end of input, terminals."""

import fcntl
import os
import pty
import select
import signal
import socket
import struct
import subprocess
import sys
import termios
import time

import pytest

from pydas.cli import errors as codes


def _env(home, **extra):
    env = {name: value for name, value in os.environ.items()
           if not name.startswith(("MIDAS_", "PYDAS_"))}
    env.update(HOME=str(home), XDG_CONFIG_HOME=str(home / ".config"),
               PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring", COLUMNS="80")
    env.update(extra)
    return env


def _run(args, home, stdin=subprocess.DEVNULL, **extra):
    return subprocess.run([sys.executable, "-m", "pydas", *args], env=_env(home, **extra),
                          stdin=stdin, capture_output=True, text=True, timeout=120)


def test_version_in_a_process(home):
    result = _run(["--version"], home)
    assert result.returncode == 0 and result.stdout.startswith("pydas ")


def test_end_of_input_at_a_prompt_is_a_clean_failure(home):
    result = _run(["ls"], home)
    assert result.returncode == codes.AUTHENTICATION
    assert "end of input at the prompt 'Server URL:'" in result.stderr
    assert "Traceback" not in result.stderr and "EOFError" not in result.stderr


def test_debug_shows_the_traceback(home):
    result = _run(["ls", "--debug"], home)
    assert result.returncode == codes.AUTHENTICATION
    assert "Traceback" in result.stderr


def _default_sigint():
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_ctrl_c_exits_130_with_advice(home):
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)
        port = silent.getsockname()[1]
        process = subprocess.Popen(
            [sys.executable, "-m", "pydas", "whoami", "--url", f"http://127.0.0.1:{port}",
             "--email", "a@b.c"], env=_env(home, MIDAS_API_KEY="k"),
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            # as at a terminal: a shell ignores SIGINT in what it starts in the background
            # (a CI job, say), and the child would inherit that
            preexec_fn=_default_sigint)
        try:
            silent.settimeout(60)
            connection, _ = silent.accept()
            connection.settimeout(60)
            request = b""
            while b"\r\n\r\n" not in request:  # the command is now waiting for an answer
                piece = connection.recv(4096)
                assert piece, "the command closed its connection before sending a request"
                request += piece
            process.send_signal(signal.SIGINT)
            _out, err = process.communicate(timeout=60)
            connection.close()
        finally:
            if process.poll() is None:
                process.kill()
                _out, err = process.communicate()
                pytest.fail(f"the command did not stop after SIGINT; it printed: {err!r}")
    assert process.returncode == codes.INTERRUPTED
    assert err.splitlines() == [
        "pydas: error: interrupted",
        "pydas: run the same command again to continue: finished files are kept",
    ]


def _upload_on_a_terminal(args, env):
    """Run the command with stdout and stderr on a pseudo-terminal; return what it showed."""
    pid, fd = pty.fork()
    if pid == 0:  # the child
        os.execvpe(sys.executable, [sys.executable, "-m", "pydas", *args], env)
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    output = b""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 1)
        if not ready:
            continue
        try:
            chunk = os.read(fd, 4096)
        except OSError:
            break
        if not chunk:
            break
        output += chunk
    _, status = os.waitpid(pid, 0)
    os.close(fd)
    return os.waitstatus_to_exitcode(status), output.decode("utf-8", "replace")


def test_the_progress_bar_shows_on_a_terminal_only(home, tmp_path, midas_server, midas_user):
    data = tmp_path / "data.bin"
    data.write_bytes(os.urandom(256 * 1024))
    env = _env(home, MIDAS_URL=midas_server.url, MIDAS_EMAIL=midas_user.email,
               MIDAS_API_KEY=midas_user.api_key)
    piped = subprocess.run([sys.executable, "-m", "pydas", "upload", str(data)], env=env,
                           stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120)
    assert piped.returncode == 0, piped.stderr
    assert "Uploading Item from" in piped.stdout
    assert "%|" not in piped.stderr + piped.stdout and "\r" not in piped.stderr
    # new content (not known to the server) that takes a while to send, so that
    # a bar shown only after a delay shows too
    other = tmp_path / "other.bin"
    other.write_bytes(os.urandom(256 * 1024))
    midas_server.faults.delay(2, match="midas.upload.perform")
    status, shown = _upload_on_a_terminal(["upload", str(other)], env)
    assert status == 0, shown
    assert "Uploading Item from" in shown
    assert "B/s" in shown
