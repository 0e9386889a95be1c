"""Uploads through a real TCP proxy that cuts them: byte-exact results, one bitstream each.

The proxy (``support.proxy``) forwards part of an ``upload.perform`` body, then
sends FIN to the server and RST to the client. The emulator then goes on
appending what it had buffered while the client already asks for the offset:
the race that corrupted uploads before they were resumed from a settled
offset and checked against the server's record.
"""

import random
import time

import pytest
from support.proxy import CuttingProxy
from support.servertree import md5, methods
from support.sessions import log_in, no_sleep

import pydas
from pydas.api import TransferSummary
from pydas.core import RetryPolicy

SIZE = 8 * 1024 * 1024


def _scaled_sleep(seconds):
    """Real waits, ten times shorter: the settling of offsets still takes real time."""
    time.sleep(seconds / 10)


@pytest.fixture
def proxy(midas_server, midas_user):
    with CuttingProxy(midas_server.url) as running:
        log_in(midas_server, midas_user, url=running.url, sleep=_scaled_sleep)
        yield running


def _bitstreams(item_id):
    communicator, token = pydas.session.communicator, pydas.session.token
    item = communicator.item_get(token, item_id)
    return [b for revision in item["revisions"] for b in revision["bitstreams"]]


def _items(folder_id):
    communicator, token = pydas.session.communicator, pydas.session.token
    return communicator.folder_children(token, folder_id)["items"]


def test_uploads_cut_at_random_offsets_end_byte_exact(proxy, midas_user, tmp_path):
    # no pause before asking for the offset: the race with the server's late writes
    # is at its worst, as with the client before offsets were settled and checked
    pydas.session.communicator.retry = RetryPolicy(sleep=no_sleep)
    rng = random.Random(20240601)
    expected = {}
    summary = TransferSummary()
    for number in range(6):
        data = rng.randbytes(SIZE)
        path = tmp_path / f"scan{number}.bin"
        path.write_bytes(data)
        expected[path.name] = md5(data)
        proxy.cut_request(rng.randrange(1, SIZE))
        pydas.upload(str(path), quiet=True, summary=summary)
    print(summary)
    assert len(proxy.records) == 6 and proxy.pending == 0
    items = _items(midas_user.private_folder_id)
    assert sorted(item["name"] for item in items) == sorted(expected)
    for item in items:
        [bitstream] = _bitstreams(item["item_id"])
        assert bitstream["checksum"] == expected[item["name"]]
        assert int(bitstream["sizebytes"]) == SIZE
    assert summary.uploaded == 6 and summary.resumed >= 1
    assert SIZE * 6 <= summary.bytes_sent < SIZE * 12  # resumed, not sent again


def test_a_cut_that_loses_only_the_answer_is_not_sent_again(proxy, midas_server, midas_user,
                                                           tmp_path):
    data = random.Random(3).randbytes(300_000)
    (tmp_path / "whole.bin").write_bytes(data)
    proxy.cut_request(len(data))  # the body arrives whole, the answer is lost
    summary = TransferSummary()
    pydas.upload(str(tmp_path / "whole.bin"), quiet=True, summary=summary)
    [item] = _items(midas_user.private_folder_id)
    [bitstream] = _bitstreams(item["item_id"])
    assert bitstream["checksum"] == md5(data)
    assert summary.bytes_sent == len(data)
    assert methods(midas_server).count("midas.upload.perform") == 1


def test_several_cuts_of_one_upload(proxy, midas_user, tmp_path):
    data = random.Random(4).randbytes(SIZE)
    (tmp_path / "big.bin").write_bytes(data)
    for after in (900_000, 1, 2_000_000):
        proxy.cut_request(after)
    pydas.upload(str(tmp_path / "big.bin"), quiet=True)
    [item] = _items(midas_user.private_folder_id)
    [bitstream] = _bitstreams(item["item_id"])
    assert bitstream["checksum"] == md5(data) and int(bitstream["sizebytes"]) == SIZE
