"""Time to move a tree of small files, over an emulated network round trip.

A tree of ``--files`` files of ``--size-kb`` KiB each is uploaded and
downloaded with 1 and with 4 workers, through :class:`LatencyProxy` adding
``--rtt-ms`` of round-trip time in front of the emulator. A second upload of
the unchanged tree with ``reuse_existing=True`` shows what a re-run costs; the
number of API requests and of file bytes sent are taken from the emulator's
request log.

Usage::

    python benchmarks/tree_transfer.py [--files 200] [--size-kb 64] [--rtt-ms 20]

Results are written down in ``benchmarks/RESULTS.rst``.
"""

import argparse
import os
import tempfile
import time
from collections import Counter
from urllib.parse import urlsplit

from _common import timestamp
from latency_proxy import LatencyProxy

import pydas
from pydas.testing import MidasServer


def make_tree(root: str, files: int, size: int) -> None:
    for index in range(files):
        folder = os.path.join(root, f"series{index // 25:02d}")
        os.makedirs(folder, exist_ok=True)
        with open(os.path.join(folder, f"image{index:04d}.dcm"), "wb") as handle:
            handle.write(os.urandom(size))


def measure(server: MidasServer, label: str, function, *args, **kwargs) -> None:
    server.clear_request_log()
    started = time.perf_counter()
    function(*args, **kwargs)
    elapsed = time.perf_counter() - started
    log = list(server.request_log)
    kinds = Counter(record.api_method or "download" for record in log)
    uploaded = sum(r.body_bytes for r in log if r.api_method == "midas.upload.perform")
    print(
        f"  {label:<38} {elapsed:7.2f} s  {len(log):5d} requests  "
        f"{kinds['midas.upload.perform']:4d} upload.perform  "
        f"{uploaded / 1e6:7.2f} MB sent"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=200)
    parser.add_argument("--size-kb", type=int, default=64)
    parser.add_argument("--rtt-ms", type=float, default=20.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, MidasServer() as server:
        user = server.create_user("bench@example.com", "bench-password", "Bench", "Mark")
        split = urlsplit(server.url)
        proxy = LatencyProxy((split.hostname, split.port), args.rtt_ms / 2000).start()
        try:
            url = f"http://127.0.0.1:{proxy.port}{split.path}"
            pydas.login(email=user.email, api_key=user.api_key, url=url)
            print(
                f"{args.files} files x {args.size_kb} KiB, RTT {args.rtt_ms:g} ms, "
                f"{timestamp()}"
            )
            os.chdir(tmp)
            for workers in (1, 4):
                tree = f"tree_w{workers}"
                make_tree(tree, args.files, args.size_kb * 1024)
                measure(
                    server,
                    f"upload, workers={workers}",
                    pydas.upload,
                    tree,
                    workers=workers,
                    quiet=True,
                )
            measure(
                server,
                "re-run upload (unchanged, workers=4)",
                pydas.upload,
                "tree_w4",
                workers=4,
                reuse_existing=True,
                quiet=True,
            )
            for workers in (1, 4):
                target = os.path.join(tmp, f"down_w{workers}")
                os.mkdir(target)
                measure(
                    server,
                    f"download, workers={workers}",
                    pydas.download,
                    "/users/Bench_Mark/Private/tree_w4",
                    target,
                    workers=workers,
                    quiet=True,
                )
            pydas.allow_existing_download_paths()
            measure(
                server,
                "re-run download (unchanged, workers=4)",
                pydas.download,
                "/users/Bench_Mark/Private/tree_w4",
                os.path.join(tmp, "down_w4"),
                workers=4,
                quiet=True,
            )
        finally:
            pydas.session.reset()
            proxy.stop()


if __name__ == "__main__":
    main()
