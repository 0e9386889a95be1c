"""Upload re-runs with the re-run record, on a real server.

An unchanged re-run asks for folder listings only; a local change that keeps
the size and modification time, a new revision uploaded by another client and
a metadata change are each handled as the content says; what
``midas.bitstream.delete`` and ``midas.bitstream.edit`` leave in a listing is
measured (nothing moves, so only a full check notices them).
"""

import hashlib
import math
import os
import time
from urllib.parse import urlsplit

import pytest
from support.counting_proxy import CountingProxy

import pydas
from pydas._transfer import deferred
from pydas._transfer.summary import TransferSummary

LISTINGS = {"midas.user.folders", "midas.folder.children"}
TREE = {
    "a.txt": b"alpha",
    "b.txt": b"bravo!",
    "series/1.dcm": b"one-1",
    "series/2.dcm": b"two-22",
}
LISTED = ("item_id", "uuid", "date_update", "sizebytes")


def _md5(data):
    return hashlib.md5(data).hexdigest()


@pytest.fixture
def proxy(live):
    upstream = urlsplit(live["MIDAS_URL"])
    with CountingProxy(upstream.hostname, upstream.port or 80) as counting:
        yield counting


@pytest.fixture
def data(tmp_path, live, proxy, monkeypatch):
    """``TREE`` under ``data``, and pydas logged in through the counting proxy."""
    for relative, content in TREE.items():
        path = tmp_path / "data" / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(deferred, "TAIL_SHARE", math.inf)  # a run waits for its record
    pydas.login(email=live["MIDAS_EMAIL"], api_key=live["MIDAS_API_KEY"],
                url=proxy.url + urlsplit(live["MIDAS_URL"]).path)
    return tmp_path / "data"


def _upload(scratch, **options):
    summary = TransferSummary()
    pydas.upload("data", destination=f"Private/{scratch['name']}", reuse_existing=True,
                 leaf_folders_as_items=True, quiet=True, summary=summary, **options)
    return summary


def _settled_upload(scratch):
    """Upload, and upload again after 2 s so the leaf item's record settles too."""
    _upload(scratch)
    time.sleep(2.1)
    _upload(scratch)


def _items(login, scratch):
    """The listing entries of the uploaded ``data`` folder by name."""
    children = login.communicator.folder_children(login.token, scratch["folder_id"])
    [folder] = [f for f in children["folders"] if f["name"] == "data"]
    children = login.communicator.folder_children(login.token, folder["folder_id"])
    return {item["name"]: item for item in children["items"]}


def _head(login, item_id):
    item = login.communicator.item_get(login.token, item_id)
    return {b["name"]: b["checksum"] for b in item["revisions"][-1]["bitstreams"]}


def _asked(proxy):
    return [r.api_method for r in proxy.requests if r.api_method not in LISTINGS]


def test_an_unchanged_rerun_asks_only_for_listings(data, scratch, proxy):
    _settled_upload(scratch)
    proxy.clear()
    summary = _upload(scratch)
    assert (summary.uploaded, summary.unchanged, summary.bytes_sent) == (0, 4, 0)
    assert proxy.requests and _asked(proxy) == []
    assert not [r for r in proxy.requests if r.verb == "PUT"]


def test_a_change_that_keeps_size_and_mtime_is_uploaded(data, scratch, proxy, live_user):
    _settled_upload(scratch)
    before = os.stat(data / "a.txt")
    (data / "a.txt").write_bytes(b"ALPHA")
    os.utime(data / "a.txt", ns=(before.st_atime_ns, before.st_mtime_ns))
    summary = _upload(scratch)
    assert (summary.uploaded, summary.bytes_sent) == (1, 5)
    assert _head(live_user, _items(live_user, scratch)["a.txt"]["item_id"]) == {
        "a.txt": _md5(b"ALPHA")}


@pytest.mark.parametrize("theirs", [b"ALIEN", b"alpha"], ids=["other-content", "same-content"])
def test_a_new_revision_by_another_client_is_compared(data, scratch, proxy, live_user,
                                                      tmp_path, theirs):
    _settled_upload(scratch)
    item_id = _items(live_user, scratch)["a.txt"]["item_id"]
    (tmp_path / "theirs").mkdir()
    (tmp_path / "theirs" / "a.txt").write_bytes(theirs)
    live_user.upload(item_id, tmp_path / "theirs" / "a.txt", create_additional_revision=True)
    proxy.clear()
    summary = _upload(scratch)
    assert _asked(proxy).count("midas.item.get") >= 1
    assert summary.uploaded == (1 if theirs != b"alpha" else 0)
    assert _head(live_user, item_id) == {"a.txt": _md5(b"alpha")}


def test_a_metadata_change_leaves_the_files_alone(data, scratch, proxy, live_user):
    _settled_upload(scratch)
    item_id = _items(live_user, scratch)["b.txt"]["item_id"]
    time.sleep(1.1)  # a later second: the change moves date_update (Midas 3.4.2)
    live_user.communicator.set_item_metadata(live_user.token, item_id, "Modality", "MR")
    proxy.clear()
    summary = _upload(scratch)
    assert (summary.uploaded, summary.bytes_sent) == (0, 0)
    assert _asked(proxy) == ["midas.item.get"]  # b.txt looked changed: checked, then left


@pytest.mark.parametrize("change", ["delete", "rename"])
def test_a_changed_bitstream_moves_nothing_a_listing_shows(data, scratch, proxy, live_user,
                                                          change):
    _settled_upload(scratch)
    listed = _items(live_user, scratch)["series"]
    item = live_user.communicator.item_get(live_user.token, listed["item_id"])
    [bitstream] = [b for b in item["revisions"][-1]["bitstreams"] if b["name"] == "2.dcm"]
    time.sleep(1.1)  # a later second: any save of the item would move date_update
    if change == "delete":
        live_user.call("midas.bitstream.delete", id=bitstream["bitstream_id"])
        left = {"1.dcm": _md5(b"one-1")}
    else:
        live_user.call("midas.bitstream.edit", id=bitstream["bitstream_id"], name="x.dcm")
        left = {"1.dcm": _md5(b"one-1"), "x.dcm": _md5(b"two-22")}
    after = _items(live_user, scratch)["series"]
    assert {k: after[k] for k in LISTED} == {k: listed[k] for k in LISTED}
    assert _upload(scratch).uploaded == 0  # the documented gap
    assert _head(live_user, listed["item_id"]) == left
    summary = _upload(scratch, check_all=True)
    assert summary.uploaded == 1
    assert _head(live_user, listed["item_id"]) == dict(left, **{"2.dcm": _md5(b"two-22")})
