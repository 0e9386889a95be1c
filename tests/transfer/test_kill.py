"""``kill -9`` in the middle of a transfer, then a re-run: exact results, nothing left over.

The transfer runs in a subprocess, through a throttling proxy so that it is
still running when the test kills it with SIGKILL (no handler, no cleanup);
the emulator runs in the test process and survives. The re-run happens in
the test process.
"""

import os
import random
import signal
import subprocess
import sys
import textwrap
import time

import pytest
from support.processes import killable, sigkill
from support.proxy import CuttingProxy
from support.servertree import local_tree, md5, methods, server_tree
from support.sessions import log_in

import pydas
from pydas._transfer.download import MARKER
from pydas._transfer.parts import SUFFIX
from pydas.api import TransferSummary

SIZE = 4 * 1024 * 1024
RATE = 4 * 1024 * 1024  # bytes per second through the proxy

UPLOAD = textwrap.dedent("""
    import sys
    import pydas
    url, email, key, pattern = sys.argv[1:5]
    pydas.login(email=email, api_key=key, url=url)
    pydas.upload(pattern, reuse_existing=True, quiet=True)
""")
DOWNLOAD = textwrap.dedent("""
    import sys
    import pydas
    url, email, key, server_path, target = sys.argv[1:6]
    pydas.login(email=email, api_key=key, url=url)
    pydas.download(server_path, target, quiet=True)
""")

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")


def _wait_for(condition, what, process, seconds=30.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"the transfer ended (status {process.returncode}) before {what}: "
                        f"{process.stderr.read().decode(errors='replace')}")
        if condition():
            return
        time.sleep(0.02)
    process.kill()
    pytest.fail(f"timed out waiting for {what}")


def _killed_midway(script, arguments, condition, what):
    with killable([sys.executable, "-c", script, *arguments],
                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE) as process:
        _wait_for(condition, what, process)
        sigkill(process)


def _partial_uploads(server):
    sizes = []
    for directory, _, files in os.walk(server.store.upload_dir):
        sizes += [os.path.getsize(os.path.join(directory, name)) for name in files]
    return sizes


def test_an_upload_killed_midway_is_resumed_by_the_next_run(midas_server, midas_user, tmp_path,
                                                            journal_dir):
    data = random.Random(5).randbytes(SIZE)
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "scan.bin").write_bytes(data)
    pattern = str(tmp_path / "data")
    with CuttingProxy(midas_server.url, rate=RATE) as proxy:
        _killed_midway(
            UPLOAD, [proxy.url, midas_user.email, midas_user.api_key, pattern],
            lambda: sum(_partial_uploads(midas_server)) >= SIZE // 8,
            "the server held part of the file",
        )
        assert [name for name in os.listdir(journal_dir) if name.endswith(".json")]
        # what the killed client had sent still trickles in: the re-run must wait for it
        proxy.rate = None  # the same server URL as the killed run, at full speed
        log_in(midas_server, midas_user, url=proxy.url)
        summary = TransferSummary()
        pydas.upload(pattern, reuse_existing=True, quiet=True, summary=summary)
        assert methods(midas_server).count("midas.upload.generatetoken") == 0
    log_in(midas_server, midas_user)
    assert server_tree(midas_user.private_folder_id) == {"data/": {"scan.bin": {
        "scan.bin": md5(data)}}}
    assert summary.resumed == 1 and 0 < summary.bytes_sent < SIZE  # not sent from byte 0
    assert _partial_uploads(midas_server) == []  # the partial data was used up
    assert os.listdir(journal_dir) == []


def test_a_download_killed_midway_is_continued_by_the_next_run(logged_in, midas_server,
                                                               midas_user, tmp_path):
    data = random.Random(6).randbytes(SIZE)
    (tmp_path / "source" / "data").mkdir(parents=True)
    (tmp_path / "source" / "data" / "scan.bin").write_bytes(data)
    (tmp_path / "source" / "data" / "small.txt").write_bytes(b"small")
    pydas.upload(str(tmp_path / "source" / "data"), quiet=True)
    target = tmp_path / "target"
    target.mkdir()

    def parts():
        found = []
        for directory, _, files in os.walk(target):
            found += [os.path.join(directory, n) for n in files if n.endswith(SUFFIX)]
        return found

    with CuttingProxy(midas_server.url, rate=RATE) as proxy:
        _killed_midway(
            DOWNLOAD,
            [proxy.url, midas_user.email, midas_user.api_key, "Private/data", str(target)],
            lambda: any(os.path.getsize(p) >= SIZE // 8 for p in parts()),
            "part of the file was written",
        )
        [part] = parts()
        kept = os.path.getsize(part)
        assert (target / "data" / MARKER).exists()

        proxy.rate = None  # the same server URL as the killed run, at full speed
        log_in(midas_server, midas_user, url=proxy.url)
        summary = TransferSummary()
        # no allow_existing_download_paths(): the directory is an interrupted run of this download
        pydas.download("Private/data", str(target), quiet=True, summary=summary)
        [request] = [r for r in midas_server.request_log
                     if r.path == "/download/" and r.params.get("offset")]
    log_in(midas_server, midas_user)
    assert local_tree(target) == local_tree(tmp_path / "source")
    assert parts() == []
    assert int(request.params["offset"]) == kept  # continued, not fetched again
    assert summary.bytes_received in (SIZE - kept, SIZE - kept + len(b"small"))
    assert summary.resumed == 1 and "resumed" in str(summary)
    with pytest.raises(FileExistsError):  # a finished download is not re-entered unasked
        pydas.download("Private/data", str(target), quiet=True)
