"""Connection cuts during uploads and downloads: byte-exact results, nothing half-written."""

import os
import random

import pytest
from support.servertree import md5, methods, server_tree

import pydas
from pydas.core import RetryPolicy
from pydas.exceptions import TransferError

DATA = random.Random(7).randbytes(1024 * 1024)


@pytest.fixture
def source(tmp_path):
    path = tmp_path / "source" / "blob.bin"
    path.parent.mkdir()
    path.write_bytes(DATA)
    return path


def _bitstreams(private_folder_id):
    communicator, token = pydas.session.communicator, pydas.session.token
    [item] = communicator.folder_children(token, private_folder_id)["items"]
    item = communicator.item_get(token, item["item_id"])
    return [b for r in item["revisions"] for b in r["bitstreams"]]


@pytest.mark.parametrize("cut, times", [(0, 1), (1, 1), (65536, 1), (700_000, 1), (300_000, 3)])
def test_upload_resumes_from_the_server_offset(logged_in, source, midas_server, midas_user,
                                               cut, times):
    midas_server.faults.cut_request_after(cut, match="midas.upload.perform", times=times)
    pydas.upload(str(source), quiet=True)
    [bitstream] = _bitstreams(midas_user.private_folder_id)
    assert bitstream["checksum"] == md5(DATA)
    assert int(bitstream["sizebytes"]) == len(DATA)
    log = methods(midas_server)
    assert log.count("midas.upload.perform") == times + 1
    # each resume asks until two answers agree
    assert log.count("midas.upload.getoffset") >= 2 * times
    assert log.count("midas.upload.generatetoken") == 1
    assert log[-1] == "midas.item.get"  # the upload is checked against the server


@pytest.mark.parametrize("cut, times", [(0, 1), (1, 1), (100_000, 1), (len(DATA) - 1, 1),
                                        (200_000, 3)])
def test_download_resumes_and_verifies(logged_in, source, tmp_path, midas_server, cut, times):
    pydas.upload(str(source), quiet=True)
    midas_server.faults.cut_response_after(cut, match="/download", times=times)
    target = tmp_path / "target"
    pydas.download("Private/blob.bin", str(target), quiet=True)
    assert (target / "blob.bin").read_bytes() == DATA
    assert os.listdir(target) == ["blob.bin"]


def test_a_download_that_keeps_failing_leaves_the_old_file_and_a_part_to_continue(
    logged_in, source, tmp_path, midas_server
):
    pydas.upload(str(source), quiet=True)
    target = tmp_path / "target"
    target.mkdir()
    (target / "blob.bin").write_bytes(b"previous version")
    pydas.session.communicator.retry = RetryPolicy(attempts=2, sleep=lambda seconds: None)
    midas_server.faults.cut_response_after(300_000, match="/download", times=100)
    with pytest.raises(TransferError, match="blob.bin.*a later run continues from there"):
        pydas.download("Private/blob.bin", str(target), quiet=True)
    assert (target / "blob.bin").read_bytes() == b"previous version"
    [part] = [name for name in os.listdir(target) if name.endswith(".pydas-part")]
    kept = (target / part).read_bytes()
    assert kept and DATA.startswith(kept)
    midas_server.faults.clear()
    midas_server.clear_request_log()
    pydas.download("Private/blob.bin", str(target), quiet=True)
    assert os.listdir(target) == ["blob.bin"]
    assert (target / "blob.bin").read_bytes() == DATA
    [request] = [r for r in midas_server.request_log if r.path == "/download/"]
    assert int(request.params["offset"]) == len(kept)  # continued, not fetched again


def test_an_upload_that_keeps_failing_is_reported(logged_in, source, midas_server, midas_user):
    midas_server.faults.cut_request_after(1000, match="midas.upload.perform", times=100)
    with pytest.raises(TransferError, match="blob.bin"):
        pydas.upload(str(source), quiet=True)
    # never more than the file on the server: the partial data is not a bitstream
    assert server_tree(midas_user.private_folder_id) == {"blob.bin": {}}


def test_a_corrupted_delivery_is_fetched_again(logged_in, source, tmp_path, monkeypatch,
                                               midas_server):
    pydas.upload(str(source), quiet=True)
    communicator = pydas.session.communicator
    real_open = communicator.download_bitstream
    deliveries = []

    def corrupt_first(*args, **kwargs):
        name, chunks = real_open(*args, **kwargs)
        deliveries.append(name)
        if len(deliveries) > 1:
            return name, chunks
        return name, (bytes(len(chunk)) for chunk in chunks)

    monkeypatch.setattr(communicator, "download_bitstream", corrupt_first)
    pydas.download("Private/blob.bin", str(tmp_path / "target"), quiet=True)
    assert len(deliveries) == 2
    assert (tmp_path / "target" / "blob.bin").read_bytes() == DATA


def test_content_that_never_matches_its_md5_is_not_kept(logged_in, source, tmp_path,
                                                       midas_server):
    pydas.upload(str(source), quiet=True)
    stored = midas_server.store.asset_path(md5(DATA))
    with open(stored, "r+b") as handle:  # same size, other bytes: rot on the server
        handle.write(b"rot")
    target = tmp_path / "target"
    with pytest.raises(TransferError, match="does not match the server's checksum"):
        pydas.download("Private/blob.bin", str(target), quiet=True)
    assert os.listdir(target) == []
    assert methods(midas_server).count(None) == 2  # two POST /download/


@pytest.mark.parametrize("content", [b"0", bytes(8192) + b"0"])
def test_a_file_the_stream_mode_cannot_take_goes_in_multipart_mode(
    logged_in, tmp_path, midas_server, midas_user, content
):
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "a.txt").write_bytes(b"fine")
    (tmp_path / "data" / "flag.txt").write_bytes(content)
    pydas.upload(str(tmp_path / "data"), quiet=True)
    assert server_tree(midas_user.private_folder_id) == {"data/": {
        "a.txt": {"a.txt": md5(b"fine")}, "flag.txt": {"flag.txt": md5(content)}}}
    performs = [(r.verb, r.params.get("mode")) for r in midas_server.request_log
                if r.api_method == "midas.upload.perform"]
    assert performs == [("PUT", None), ("POST", "multipart")]


def test_an_upload_survives_a_cut_while_asking_for_the_offset(logged_in, source, midas_server,
                                                              midas_user):
    midas_server.faults.cut_request_after(300_000, match="midas.upload.perform", times=2)
    midas_server.faults.cut_response_after(0, match="midas.upload.getoffset", times=1)
    pydas.upload(str(source), quiet=True)
    [bitstream] = _bitstreams(midas_user.private_folder_id)
    assert bitstream["checksum"] == md5(DATA)
    assert methods(midas_server).count("midas.upload.perform") == 3
