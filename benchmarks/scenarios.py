"""The measurements of issue 11, one run at a time.

One run (:meth:`Bench.run`) makes a scratch folder on the target and, in
this order:

* ``calls.*``: ``Sizes.calls`` calls of ``folder_get`` on one Communicator,
  through the latency proxy;
* ``upload.*``: a tree of ``Sizes.files`` files of ``Sizes.file_kib`` KiB in
  ``Sizes.folders`` folders, uploaded through the proxy, each variant with a
  tree of its own (fresh random bytes); ``rerun.*`` uploads the same tree
  again, unchanged, with ``reuse_existing=True``;
* ``download.*``: the tree pydas uploaded with one worker, downloaded through
  the proxy into a new directory; ``redownload.new.w1`` downloads it again into
  the same directory (``allow_existing_download_paths``);
* ``big_up.*`` / ``big_down.*``: one file of ``Sizes.big_mib`` MiB uploaded
  and downloaded directly (no proxy: the loopback is the floor), by pydas, by
  the old client and by ``curl``; ``big_md5.new`` times ``hashlib``'s MD5 of
  that file alone, the floor of any client that verifies what it moves.

Each measurement is a dict: ``seconds`` (the measured part only, see
:mod:`task_protocol`; for curl the whole process), ``peak_rss_mib``, and
through the proxy ``connections``, ``requests``, ``by_method`` and
``upload_bytes`` (body bytes of ``upload.perform``), plus ``files``.
"""

import os
import shutil
import sys
import time
from dataclasses import asdict, dataclass
from typing import Any, Dict, List, Optional, Tuple
from urllib.parse import urlencode, urlsplit

from http_tally import Tally
from latency_proxy import LatencyProxy
from local_data import make_big_file, make_tree, restamp
from procs import ChildFailed, run_program, run_task
from targets import Target

__all__ = ["FULL", "GROUPS", "QUICK", "STEPS", "Bench", "Sizes"]

HERE = os.path.dirname(os.path.abspath(__file__))
NEW_TASKS = os.path.join(HERE, "client_tasks.py")
OLD_TASKS = os.path.join(HERE, "old_client.py")


@dataclass(frozen=True)
class Sizes:
    calls: int
    files: int
    folders: int
    file_kib: int
    big_mib: int
    rtt_ms: float


FULL = Sizes(calls=1000, files=2000, folders=10, file_kib=4, big_mib=1024, rtt_ms=10.0)
QUICK = Sizes(calls=100, files=100, folders=10, file_kib=4, big_mib=32, rtt_ms=10.0)

# (key, who, what): the order of a run, for --dry and for the results file
STEPS: List[Tuple[str, str, str]] = [
    ("calls.old", "old", "folder_get x N, proxy"),
    ("calls.new", "new", "folder_get x N, proxy"),
    ("upload.old.w1", "old", "upload tree, 1 worker, proxy"),
    ("upload.new.w1", "new", "upload tree, workers=1, proxy"),
    ("upload.new.w8", "new", "upload tree, workers=8, proxy"),
    ("rerun.old.w1", "old", "upload same tree again, reuse_existing, proxy"),
    ("rerun.new.w1", "new", "upload same tree again, reuse_existing, workers=1, proxy"),
    ("rerun.new.w8", "new", "upload same tree again, reuse_existing, workers=8, proxy"),
    ("download.old.w1", "old", "download the tree, proxy"),
    ("download.new.w1", "new", "download the tree, workers=1, proxy"),
    ("redownload.new.w1", "new", "download again into the same place, workers=1, proxy"),
    ("big_up.new", "new", "pydas.upload of the big file, direct"),
    ("big_up.old", "old", "old upload of the big file, direct"),
    ("big_up.curl", "curl", "curl -T of the big file (upload.perform), direct"),
    ("big_down.new", "new", "pydas.download of the big item, direct"),
    ("big_down.old", "old", "old download of the big item, direct"),
    ("big_down.curl", "curl", "curl of bitstream.download (following the redirect), direct"),
    ("big_md5.new", "new", "hashlib MD5 of the big file (page cache): the hashing floor"),
]

#: Groups of steps for ``run.py --only``: a change to one side measured alone. What a
#: step needs (the tree or big file pydas uploads) is still made, but not measured.
GROUPS: Dict[str, Tuple[str, ...]] = {
    "downloads": ("download.old.w1", "download.new.w1", "redownload.new.w1", "big_down.new",
                  "big_down.old", "big_down.curl", "big_md5.new"),
}


class Bench:
    """Runs the steps against one target, with the given clients."""

    def __init__(self, target: Target, sizes: Sizes, workdir: str,
                 old_python: Optional[str], curl: Optional[str],
                 steps: Optional[Tuple[str, ...]] = None) -> None:
        self.target = target
        self.wanted = frozenset(steps if steps is not None else (key for key, _, _ in STEPS))
        self.sizes = sizes
        self.workdir = workdir
        self.old_python = old_python
        self.curl = curl
        self.tally = Tally()
        split = urlsplit(target.url)
        self.proxy = LatencyProxy(
            (split.hostname or "127.0.0.1", split.port or 80), sizes.rtt_ms / 2000, self.tally
        )
        self.proxy.start()
        self.proxied_url = self.proxy.url + split.path
        self.big_file = os.path.join(workdir, "big.bin")
        make_big_file(self.big_file, sizes.big_mib << 20)

    def close(self) -> None:
        self.proxy.stop()

    def settings(self) -> Dict[str, Any]:
        return asdict(self.sizes)

    # -- one measurement -------------------------------------------------

    def _task(self, who: str, task: str, proxied: bool, files: int = 0,
              **args: Any) -> Dict[str, Any]:
        python, script = (sys.executable, NEW_TASKS) if who == "new" else (
            self.old_python or "", OLD_TASKS)
        url = self.proxied_url if proxied else self.target.url
        self.tally.reset()
        report = run_task(python, script, task, {**self.target.credentials(url), **args})
        if proxied:
            report.update(self.tally.snapshot())
        report["files"] = files
        return report

    # -- a run -------------------------------------------------------------

    def run(self, index: int) -> Dict[str, Dict[str, Any]]:
        """Do every step once; returns the measurements by key."""
        scratch = self.target.scratch_folder(f"r{index}")
        home = os.path.join(self.workdir, f"run{index}")
        os.mkdir(home)
        results: Dict[str, Dict[str, Any]] = {}
        try:
            self._calls(results, scratch)
            self._trees(results, scratch, home)
            self._big(results, scratch, home)
            for key in set(results) - self.wanted:  # made only for the steps that need them
                del results[key]
        finally:
            self.target.delete_folder(scratch["folder_id"])
            shutil.rmtree(home, ignore_errors=True)
        return results

    @property
    def with_old(self) -> bool:
        return self.old_python is not None

    def _wants(self, *keys: str) -> bool:
        return not self.wanted.isdisjoint(keys)

    def _calls(self, out: Dict[str, Any], scratch: Dict[str, Any]) -> None:
        count = self.sizes.calls
        if not self._wants("calls.old", "calls.new"):
            return
        if self.with_old:
            out["calls.old"] = self._task("old", "calls", True, folder_id=scratch["folder_id"],
                                          count=count)
        out["calls.new"] = self._task("new", "calls", True, folder_id=scratch["folder_id"],
                                      count=count)

    def _trees(self, out: Dict[str, Any], scratch: Dict[str, Any], home: str) -> None:
        sizes = self.sizes
        files = sizes.files
        destination = f"Private/{scratch['name']}"
        variants = [("old", 1)] if self.with_old else []
        variants += [("new", 1), ("new", 8)]
        trees = {}
        for who, workers in variants:
            tree = os.path.join(home, f"up-{who}-w{workers}")
            make_tree(tree, files, sizes.folders, sizes.file_kib << 10)
            trees[who, workers] = tree
        downloads = ("download.old.w1", "download.new.w1", "redownload.new.w1")
        for rerun in (False, True):
            for who, workers in variants:
                key = f"{'rerun' if rerun else 'upload'}.{who}.w{workers}"
                tree = trees[who, workers]
                if not (self._wants(key) or key == "upload.new.w1" and self._wants(*downloads)):
                    continue
                if who == "old":
                    out[key] = self._task("old", "upload_tree", True, files, path=tree,
                                          folder_id=scratch["folder_id"], reuse_existing=rerun)
                else:
                    out[key] = self._task("new", "upload", True, files, path=tree,
                                          destination=destination, workers=workers,
                                          reuse_existing=rerun)
        uploaded = f"{destination}/up-new-w1"
        if not self._wants(*downloads):
            return
        if self.with_old:
            folder = self.target.child(scratch["folder_id"], "up-new-w1")
            out["download.old.w1"] = self._task(
                "old", "download_tree", True, files, folder_id=folder["folder_id"],
                local_path=self._fresh_dir(home, "down-old"))
        local = self._fresh_dir(home, "down-new")
        out["download.new.w1"] = self._task("new", "download", True, files,
                                            server_path=uploaded, local_path=local)
        out["redownload.new.w1"] = self._task("new", "download", True, files,
                                              server_path=uploaded, local_path=local,
                                              existing=True)

    @staticmethod
    def _fresh_dir(home: str, name: str) -> str:
        path = os.path.join(home, name)
        os.mkdir(path)
        return path

    def _named_copy(self, home: str, name: str) -> str:
        """A hard link to the big file under another name, freshly restamped."""
        path = os.path.join(home, name)
        if not os.path.exists(path):
            os.link(self.big_file, path)
        restamp(path)
        return path

    def _big(self, out: Dict[str, Any], scratch: Dict[str, Any], home: str) -> None:
        folder_id = scratch["folder_id"]
        out["big_up.new"] = self._task("new", "upload", False, 1,
                                       path=self._named_copy(home, "pydas.bin"),
                                       destination=f"Private/{scratch['name']}")
        if self.with_old and self._wants("big_up.old"):
            out["big_up.old"] = self._task("old", "upload_file", False, 1,
                                           path=self._named_copy(home, "old.bin"),
                                           folder_id=folder_id)
        if self.curl and self._wants("big_up.curl"):
            out["big_up.curl"] = self._curl_upload(self._named_copy(home, "curl.bin"), folder_id)
        item = self.target.child(folder_id, "pydas.bin")
        down = self._fresh_dir(home, "big-down")
        out["big_down.new"] = self._task("new", "download", False, 1,
                                         server_path=f"Private/{scratch['name']}/pydas.bin",
                                         local_path=os.path.join(down, "new"))
        self._check_and_remove(os.path.join(down, "new", "pydas.bin"))
        if self.with_old:
            target = self._fresh_dir(down, "old")
            out["big_down.old"] = self._task("old", "download_file", False, 1,
                                             item_id=item["item_id"], local_path=target)
            self._check_and_remove(os.path.join(target, "pydas.bin"))
        if self.curl:
            out["big_down.curl"] = self._curl_download(item, os.path.join(down, "curl.bin"))
            self._check_and_remove(os.path.join(down, "curl.bin"))
        out["big_md5.new"] = self._task("new", "md5", False, 1, path=self.big_file)

    def _check_and_remove(self, path: str) -> None:
        size = os.path.getsize(path)
        os.remove(path)
        if size != os.path.getsize(self.big_file):
            raise ChildFailed(f"{path}: {size} bytes downloaded, not {self.sizes.big_mib} MiB")

    # -- curl --------------------------------------------------------------

    def _curl_upload(self, path: str, folder_id: Any) -> Dict[str, Any]:
        """``curl -T`` to ``upload.perform`` with a token made beforehand (not timed)."""
        communicator, token = self.target.communicator, self.target.token
        name = os.path.basename(path)
        item = communicator.create_item(token, name, folder_id)
        upload_token = communicator.generate_upload_token(token, item["item_id"], name)
        query = urlencode({
            "method": "midas.upload.perform", "uploadtoken": upload_token, "filename": name,
            "length": os.path.getsize(path), "revision": "head",
        })
        done = run_program([self.curl or "curl", "-sS", "-T", path,
                            f"{self.target.url}/api/json?{query}"])
        if b'"stat":"ok"' not in done["stdout"].replace(b" ", b""):
            raise ChildFailed(f"curl upload: {done['stdout'][:300]!r}")
        return {"seconds": done["seconds"], "peak_rss_mib": done["peak_rss_mib"], "files": 1}

    def _curl_download(self, item: Dict[str, Any], target: str) -> Dict[str, Any]:
        """``curl -L`` of ``bitstream.download``; id and token go in a POST body from stdin."""
        communicator, token = self.target.communicator, self.target.token
        revisions = communicator.item_get(token, item["item_id"])["revisions"]
        head = max(revisions, key=lambda revision: int(revision["revision"]))
        bitstream = head["bitstreams"][0]
        body = urlencode({"id": bitstream["bitstream_id"], "token": token}).encode()
        done = run_program([self.curl or "curl", "-sS", "-f", "-L", "-o", target,
                            "--data-binary", "@-",
                            f"{self.target.url}/api/json?method=midas.bitstream.download"],
                           stdin=body)
        return {"seconds": done["seconds"], "peak_rss_mib": done["peak_rss_mib"], "files": 1}


def timestamp() -> str:
    return time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
