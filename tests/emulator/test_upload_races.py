"""One writer per upload token, and the real server's late-bytes race on demand (real sockets)."""

import hashlib
import os
import socket
import threading
import time
from urllib.parse import urlencode

import pytest
import requests


def _new_token(api, token, folder_id, name="f.bin"):
    item = api.ok("midas.item.create", token=token, name=name, parentid=folder_id)["item_id"]
    upload_token = api.ok("midas.upload.generatetoken", token=token, itemid=item,
                          filename=name)["token"]
    return item, upload_token


def _put(url, upload_token, body, length, name="f.bin"):
    query = {"method": "midas.upload.perform", "uploadtoken": upload_token, "filename": name,
             "length": length, "revision": "head"}
    return requests.put(f"{url}/api/json", params=query, data=body, timeout=10)


def _offset(api, upload_token):
    return api.ok("midas.upload.getoffset", uploadtoken=upload_token)["offset"]


def _wait_until(condition, seconds=5.0):
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.01)


class _SlowUpload:
    """A ``upload.perform`` on a raw socket whose body is sent in two halves."""

    def __init__(self, server, upload_token, content):
        self.content = content
        self.half = len(content) // 2
        query = urlencode({"method": "midas.upload.perform", "uploadtoken": upload_token,
                           "filename": "f.bin", "length": len(content), "revision": "head"})
        self.sock = socket.create_connection((server.host, server.port), timeout=10)
        self.sock.sendall(f"PUT {server.base_path}/api/json?{query} HTTP/1.1\r\nHost: x\r\n"
                          f"Content-Length: {len(content)}\r\n\r\n".encode()
                          + content[:self.half])

    def finish(self):
        self.sock.sendall(self.content[self.half:])
        answer = b""
        while not answer.endswith(b"}"):
            block = self.sock.recv(65536)
            assert block, answer
            answer += block
        self.sock.close()
        return answer.split(b"\r\n\r\n", 1)[1]


def _in_thread(function):
    results = []
    thread = threading.Thread(target=lambda: results.append(function()), daemon=True)
    thread.start()
    return thread, results


def test_getoffset_waits_for_a_running_perform_on_the_same_token(midas_server, api, jane,
                                                                   jane_token):
    _item, upload_token = _new_token(api, jane_token, jane.private_folder_id)
    _other_item, other_token = _new_token(api, jane_token, jane.private_folder_id, "g.bin")
    content = os.urandom(200_000)
    partial = midas_server.store.uploads.path(upload_token)
    upload = _SlowUpload(midas_server, upload_token, content)
    _wait_until(lambda: os.path.exists(partial) and os.path.getsize(partial) == upload.half)
    waiting, answers = _in_thread(lambda: _offset(api, upload_token))
    waiting.join(0.3)
    assert waiting.is_alive() and answers == []
    assert _offset(api, other_token) == "0"  # other tokens do not wait
    assert b'"stat":"ok"' in upload.finish()
    waiting.join(5)
    assert answers == [""]  # the finished token, not the half-written size


def test_a_second_perform_waits_and_then_finds_the_token_used(midas_server, api, jane,
                                                              jane_token):
    item, upload_token = _new_token(api, jane_token, jane.private_folder_id)
    content = os.urandom(200_000)
    partial = midas_server.store.uploads.path(upload_token)
    upload = _SlowUpload(midas_server, upload_token, content)
    _wait_until(lambda: os.path.exists(partial) and os.path.getsize(partial) == upload.half)
    second, answers = _in_thread(
        lambda: _put(midas_server.url, upload_token, b"y" * 100, len(content)).json())
    second.join(0.3)
    assert second.is_alive()
    assert b'"stat":"ok"' in upload.finish()
    second.join(5)
    assert answers[0]["code"] == "-141"
    bitstream = api.ok("midas.item.get", token=jane_token, id=item)["revisions"][0][
        "bitstreams"]
    assert [b["checksum"] for b in bitstream] == [hashlib.md5(content).hexdigest()]


def test_late_bytes_land_after_the_client_saw_the_cut(midas_server, api, jane, jane_token):
    _item, upload_token = _new_token(api, jane_token, jane.private_folder_id)
    midas_server.faults.cut_request_after(20_000, match="midas.upload.perform",
                                          late_bytes=10_000, late_seconds=60)
    with pytest.raises(requests.exceptions.ConnectionError):
        _put(midas_server.url, upload_token, os.urandom(50_000), 50_000)
    assert _offset(api, upload_token) == "20000"  # stale: 10,000 bytes are still in flight
    assert _offset(api, upload_token) == "20000"
    # The next perform on the token lands them before it writes (here: nothing more).
    assert _put(midas_server.url, upload_token, b"", 50_000).json()["code"] == "-105"
    assert _offset(api, upload_token) == "30000"


def test_late_bytes_land_by_themselves_after_their_delay(midas_server, api, jane, jane_token):
    _item, upload_token = _new_token(api, jane_token, jane.private_folder_id)
    midas_server.faults.cut_request_after(20_000, match="midas.upload.perform",
                                          late_bytes=10_000, late_seconds=0.1)
    with pytest.raises(requests.exceptions.ConnectionError):
        _put(midas_server.url, upload_token, os.urandom(50_000), 50_000)
    _wait_until(lambda: _offset(api, upload_token) == "30000")


def test_resuming_from_the_stale_offset_stores_wrong_bytes(midas_server, api, jane,
                                                           jane_token):
    item, upload_token = _new_token(api, jane_token, jane.private_folder_id)
    content = os.urandom(50_000)
    midas_server.faults.cut_request_after(20_000, match="midas.upload.perform",
                                          late_bytes=10_000, late_seconds=60)
    with pytest.raises(requests.exceptions.ConnectionError):
        _put(midas_server.url, upload_token, content, len(content))
    stale = int(_offset(api, upload_token))
    assert stale == 20_000
    answer = _put(midas_server.url, upload_token, content[stale:], len(content)).json()
    assert answer["stat"] == "ok"
    bitstream = api.ok("midas.item.get", token=jane_token, id=item)["revisions"][0][
        "bitstreams"][0]
    assert bitstream["checksum"] != hashlib.md5(content).hexdigest()
    stored = midas_server.store.asset_path(bitstream["checksum"])
    with open(stored, "rb") as handle:
        data = handle.read()
    # The late bytes landed first, then the resumed body (its first read may overshoot).
    size = int(bitstream["sizebytes"])
    assert 50_000 <= size <= 60_000 and len(data) == size
    assert data == content[:30_000] + content[20_000:20_000 + size - 30_000]
    assert hashlib.md5(data).hexdigest() == bitstream["checksum"]


def test_a_client_that_lets_the_offset_settle_resumes_exactly(midas_server, api, jane,
                                                               jane_token):
    item, upload_token = _new_token(api, jane_token, jane.private_folder_id)
    content = os.urandom(50_000)
    midas_server.faults.cut_request_after(20_000, match="midas.upload.perform",
                                          late_bytes=10_000, late_seconds=0.2)
    with pytest.raises(requests.exceptions.ConnectionError):
        _put(midas_server.url, upload_token, content, len(content))
    answers = [_offset(api, upload_token)]
    while len(answers) < 3 or len(set(answers[-3:])) > 1:
        assert len(answers) < 100
        time.sleep(0.1)
        answers.append(_offset(api, upload_token))
    settled = int(answers[-1])
    assert settled == 30_000
    answer = _put(midas_server.url, upload_token, content[settled:], len(content)).json()
    assert answer["stat"] == "ok"
    bitstream = api.ok("midas.item.get", token=jane_token, id=item)["revisions"][0][
        "bitstreams"][0]
    assert bitstream["checksum"] == hashlib.md5(content).hexdigest()


def test_late_bytes_of_a_body_shorter_than_the_budget(midas_server, api, jane, jane_token):
    _item, upload_token = _new_token(api, jane_token, jane.private_folder_id)
    midas_server.faults.cut_request_after(1000, match="midas.upload.perform",
                                          late_bytes=1_000_000, late_seconds=0.1)
    with pytest.raises(requests.exceptions.ConnectionError):
        _put(midas_server.url, upload_token, os.urandom(5000), 9000)
    _wait_until(lambda: _offset(api, upload_token) == "5000")


def test_late_fault_arguments_are_checked(midas_server):
    with pytest.raises(ValueError, match="late_bytes"):
        midas_server.faults.cut_request_after(10, late_bytes=-1)
    with pytest.raises(ValueError, match="late_seconds"):
        midas_server.faults.cut_request_after(10, late_bytes=5, late_seconds=-1)
