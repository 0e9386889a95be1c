"""The summary of a transfer: what was uploaded, downloaded, skipped, resumed and repaired."""

import pytest
from support.servertree import write_tree

import pydas
from pydas.api import TransferSummary

TREE = {"data/a.txt": b"a", "data/b.txt": b"bb", "data/sub/c.txt": b"ccc"}


def test_uploads_and_re_runs_are_counted(logged_in, tmp_path, monkeypatch):
    write_tree(tmp_path, TREE)
    monkeypatch.chdir(tmp_path)
    first = TransferSummary()
    assert pydas.upload("data", reuse_existing=True, quiet=True, summary=first) is None
    assert (first.uploaded, first.unchanged, first.bytes_sent) == (3, 0, 6)
    again = TransferSummary()
    pydas.upload("data", reuse_existing=True, quiet=True, summary=again)
    assert (again.uploaded, again.unchanged, again.bytes_sent) == (0, 3, 0)
    assert str(again) == "3 files unchanged; no bytes moved"
    (tmp_path / "data" / "b.txt").write_bytes(b"BBBB")
    changed = TransferSummary()
    pydas.upload("data", reuse_existing=True, quiet=True, summary=changed)
    assert (changed.uploaded, changed.unchanged, changed.bytes_sent) == (1, 2, 4)
    assert str(changed) == "1 file uploaded, 2 unchanged; 4 bytes sent"


def test_downloads_and_re_runs_are_counted(logged_in, tmp_path, monkeypatch):
    write_tree(tmp_path / "source", TREE)
    monkeypatch.chdir(tmp_path / "source")
    pydas.upload("data", quiet=True)
    first = TransferSummary()
    path = pydas.download("Private/data", str(tmp_path / "copy"), quiet=True, summary=first)
    assert path == str(tmp_path / "copy" / "data")
    assert (first.downloaded, first.unchanged, first.bytes_received) == (3, 0, 6)
    pydas.allow_existing_download_paths()
    again = TransferSummary()
    pydas.download("Private/data", str(tmp_path / "copy"), quiet=True, summary=again)
    assert (again.downloaded, again.unchanged, again.bytes_received) == (0, 3, 0)
    assert again.as_dict() == {"uploaded": 0, "downloaded": 0, "unchanged": 3, "resumed": 0,
                               "repaired": 0, "bytes_sent": 0, "bytes_received": 0}


def test_a_failed_transfer_counts_what_it_did_before(logged_in, midas_server, tmp_path,
                                                    monkeypatch):
    write_tree(tmp_path, {"data/a.txt": b"a", "data/b.txt": b"b" * 300_000})
    monkeypatch.chdir(tmp_path)
    # every upload is cut after 1000 bytes: a.txt arrives whole (only its answer is
    # lost, and its upload is verified), b.txt never does
    midas_server.faults.cut_request_after(1000, match="midas.upload.perform", times=100)
    summary = TransferSummary()
    with pytest.raises(pydas.exceptions.TransferError, match="b.txt"):
        pydas.upload("data", quiet=True, summary=summary)
    assert summary.uploaded == 1 and summary.bytes_sent >= 1 + 1000
