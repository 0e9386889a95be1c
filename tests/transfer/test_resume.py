"""What the offset after a cut says, and what the engine does with it."""

import os
import random

import pytest
from support.servertree import md5, methods, server_tree

import pydas
from pydas.core import RetryPolicy
from pydas.exceptions import TransferError, UploadFailed

DATA = random.Random(21).randbytes(600_000)


@pytest.fixture
def source(tmp_path):
    path = tmp_path / "scan.bin"
    path.write_bytes(DATA)
    return path


def _answer_offsets(monkeypatch, answers):
    """Answer ``getoffset`` from ``answers`` first (then as the server does)."""
    communicator = pydas.session.communicator
    real = communicator.get_upload_offset
    queue = list(answers)

    def offset(upload_token):
        real(upload_token)
        return queue.pop(0) if queue else real(upload_token)

    monkeypatch.setattr(communicator, "get_upload_offset", offset)


def test_an_empty_offset_after_a_cut_is_not_taken_for_done(logged_in, midas_server,
                                                          midas_user, source, monkeypatch):
    midas_server.faults.cut_request_after(200_000, match="midas.upload.perform")
    _answer_offsets(monkeypatch, [None])  # "unknown", although nothing was stored
    pydas.upload(str(source), quiet=True)
    assert server_tree(midas_user.private_folder_id) == {"scan.bin": {"scan.bin": md5(DATA)}}
    assert methods(midas_server).count("midas.upload.generatetoken") == 2  # a new token


def test_an_offset_beyond_the_file_is_a_spoiled_token(logged_in, midas_server, midas_user,
                                                      source, monkeypatch):
    midas_server.faults.cut_request_after(200_000, match="midas.upload.perform")
    _answer_offsets(monkeypatch, [len(DATA) + 5, len(DATA) + 5])
    pydas.upload(str(source), quiet=True)
    assert server_tree(midas_user.private_folder_id) == {"scan.bin": {"scan.bin": md5(DATA)}}
    log = methods(midas_server)
    assert log.count("midas.upload.generatetoken") == 2 and log.count("midas.upload.perform") == 2


def test_a_refusal_that_moves_nothing_is_not_repeated(logged_in, midas_server, source,
                                                     monkeypatch):
    sleeps = []
    pydas.session.communicator.retry = RetryPolicy(attempts=6, sleep=sleeps.append)
    communicator = pydas.session.communicator
    monkeypatch.setattr(communicator, "get_upload_offset", lambda upload_token: 0)

    real_request = communicator.request

    def refuse(method, parameters=None, file_payload=None):
        if method != "midas.upload.perform":
            return real_request(method, parameters, file_payload=file_payload)
        refuse.calls += 1
        raise UploadFailed("midas.upload.perform failed (code -105): Failed to upload file - "
                           "0/600000 bytes transferred", method="midas.upload.perform",
                           code=-105)

    refuse.calls = 0
    monkeypatch.setattr(communicator, "request", refuse)
    with pytest.raises(TransferError, match="was refused: the server took none of the 600000"):
        pydas.upload(str(source), quiet=True)
    assert refuse.calls == 1  # the server kept none of it: sending it again would not help
    assert sleeps and all(0 < s <= 8 for s in sleeps)  # the policy's waits, not real ones


def test_resumes_wait_as_the_retry_policy_says(logged_in, midas_server, source):
    sleeps = []
    pydas.session.communicator.retry = RetryPolicy(backoff=0.5, sleep=sleeps.append,
                                                   random_source=lambda: 0.0)
    midas_server.faults.cut_request_after(100_000, match="midas.upload.perform", times=2)
    pydas.upload(str(source), quiet=True)
    backoffs = [s for s in sleeps if s != 0.2]  # the rest are the settling pauses (0.2 s)
    assert backoffs == [0.25, 0.5]  # backoff * 2 ** (n - 1), with the jitter at its least


def test_a_bitstream_name_too_long_for_the_disk_is_shortened(logged_in, midas_user, tmp_path,
                                                             capsys):
    communicator, token = pydas.session.communicator, pydas.session.token
    name = "x" * 300 + ".nii"
    item = communicator.create_item(token, name, midas_user.private_folder_id)
    (tmp_path / "payload").write_bytes(b"payload")
    upload_token = communicator.generate_upload_token(token, item["item_id"], name)
    communicator.perform_upload(upload_token, name, filepath=str(tmp_path / "payload"))
    target = tmp_path / "target"
    path = pydas.download(f"Private/{name}", str(target))
    [local] = os.listdir(target)
    assert os.path.join(str(target), local) == path
    assert len(local.encode()) <= 255 and local.endswith(".nii") and local.startswith("x" * 200)
    assert (target / local).read_bytes() == b"payload"
    assert f"to {local!r}" in capsys.readouterr().out  # the rename is reported
