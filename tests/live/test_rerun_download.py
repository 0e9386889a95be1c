"""Download re-runs with the re-run record on a real server (Midas 3.4.2).

An unchanged re-run asks only for folder listings; a new revision uploaded
by another run, a local change and a metadata change are each noticed. The
requests are counted by a proxy in front of the server. The server stamps
``date_update`` to the second with its own clock, so the runs here are
really 2 s apart where the record's settle rule needs it.
"""

import collections
import hashlib
import os
import time
from urllib.parse import urlsplit

import pytest
from support.counting_proxy import CountingProxy

import pydas
from pydas._transfer.record import SETTLE_SECONDS

SOURCE = {
    "tree/a.txt": b"first file\n",
    "tree/b.txt": b"second file\n",
    "tree/series/1.dcm": b"slice one",
    "tree/series/2.dcm": b"slice two",
}
ITEMS = 3  # a.txt, b.txt, series (a leaf folder uploaded as one item)


def _md5s(root):
    found = {}
    for directory, _, files in os.walk(str(root)):
        for name in files:
            path = os.path.join(directory, name)
            with open(path, "rb") as handle:
                found[os.path.relpath(path, str(root))] = hashlib.md5(handle.read()).hexdigest()
    return found


def _write(root, files):
    for relative, content in files.items():
        path = os.path.join(str(root), *relative.split("/"))
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as handle:
            handle.write(content)


@pytest.fixture
def proxy(live):
    upstream = urlsplit(live["MIDAS_URL"])
    with CountingProxy(upstream.hostname, upstream.port or 80) as counting:
        yield counting


class Run:
    """The uploaded tree, its download, and runs counted by the proxy."""

    def __init__(self, proxy, live, scratch, tmp_path):
        self.proxy = proxy
        self.source = tmp_path / "source"
        self.copy = tmp_path / "copy"
        self.destination = f"Private/{scratch['name']}"
        base = urlsplit(live["MIDAS_URL"])
        pydas.login(email=live["MIDAS_EMAIL"], api_key=live["MIDAS_API_KEY"],
                    url=proxy.url + base.path)
        _write(self.source, SOURCE)
        self.upload()
        pydas.allow_existing_download_paths()

    def upload(self):
        pydas.upload(str(self.source / "tree"), destination=self.destination,
                     leaf_folders_as_items=True, reuse_existing=True, quiet=True)

    def download(self):
        """Download the tree again: ``(API methods counted, file requests, summary)``."""
        self.proxy.clear()
        summary = pydas.TransferSummary()
        pydas.download(f"{self.destination}/tree", str(self.copy), quiet=True, summary=summary)
        requests = self.proxy.requests
        files = [r for r in requests if r.path.rstrip("/").endswith("/download")
                 or r.api_method in ("midas.bitstream.download", "midas.item.download")]
        return collections.Counter(r.api_method for r in requests), len(files), summary

    def settle(self):
        """Download until the record holds settled entries of every item."""
        for _ in range(2):
            time.sleep(SETTLE_SECONDS + 0.1)
            self.download()
        time.sleep(1.1)  # what the tests change next gets a later stamp

    def item_id(self, name):
        communicator, token = pydas.session.communicator, pydas.session.token
        folder = next(f for f in communicator.list_user_folders(token) if f["name"] == "Private")
        for part in (self.destination.split("/", 1)[1], "tree"):
            children = communicator.folder_children(token, folder["folder_id"])["folders"]
            folder = next(f for f in children if f["name"] == part)
        items = communicator.folder_children(token, folder["folder_id"])["items"]
        return next(i["item_id"] for i in items if i["name"] == name)


@pytest.fixture
def run(proxy, live, scratch, tmp_path):
    return Run(proxy, live, scratch, tmp_path)


def test_an_unchanged_rerun_costs_only_folder_listings(run):
    run.settle()
    methods, files, summary = run.download()
    assert files == 0 and methods["midas.item.get"] == 0
    # resolving the path (user folders, then Private and the scratch folder) and the tree's folder
    assert set(methods) <= {"midas.user.folders", "midas.folder.children"}
    assert methods["midas.folder.children"] == 3
    assert (summary.downloaded, summary.unchanged) == (0, 4)
    assert _md5s(run.copy / "tree") == _md5s(run.source / "tree")


def test_a_new_revision_by_another_upload_is_downloaded(run):
    run.settle()
    _write(run.source, {"tree/series/2.dcm": b"slice TWO, changed"})
    run.upload()
    methods, files, summary = run.download()
    assert methods["midas.item.get"] == 1 and files == 1
    assert (summary.downloaded, summary.unchanged) == (1, 3)
    assert _md5s(run.copy / "tree") == _md5s(run.source / "tree")


def test_a_local_change_keeping_size_and_mtime_is_downloaded_again(run):
    run.settle()
    path = run.copy / "tree" / "a.txt"
    info = os.stat(path)
    path.write_bytes(b"FIRST FILE\n")
    os.utime(path, ns=(info.st_atime_ns, info.st_mtime_ns))
    methods, files, summary = run.download()
    assert methods["midas.item.get"] == 1 and files == 1
    assert (summary.downloaded, summary.unchanged) == (1, 3)
    assert path.read_bytes() == SOURCE["tree/a.txt"]


def test_a_metadata_change_makes_the_item_checked_again(run):
    run.settle()
    pydas.session.communicator.set_item_metadata(pydas.session.token, run.item_id("b.txt"),
                                                 "pydas-note", "checked")
    methods, files, summary = run.download()
    assert methods["midas.item.get"] == 1 and files == 0
    assert (summary.downloaded, summary.unchanged) == (0, 4)
