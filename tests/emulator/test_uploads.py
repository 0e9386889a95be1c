"""Uploads: tokens, de-duplication, revision rules, length semantics, resume (§4.7, §6)."""

import hashlib
import os
import re
import socket
import threading
import time
from urllib.parse import urlencode

import pytest
import requests

from pydas import exceptions
from pydas.drivers import CoreDriver
from pydas.testing.backend.items import Items


def _put(api, upload_token, name, body, length=None, **params):
    query = {"method": "midas.upload.perform", "uploadtoken": upload_token, "filename": name,
             "length": len(body) if length is None else length, **params}
    return requests.put(f"{api.url}/api/json", params=query, data=body, timeout=10).json()


def _new_item(api, token, folder_id, name="item"):
    return api.ok("midas.item.create", token=token, name=name, parentid=folder_id)["item_id"]


def _revisions(api, token, item_id):
    data = api.ok("midas.item.get", token=token, id=item_id)
    return [(r["revision"], [b["name"] for b in r["bitstreams"]], r["changes"])
            for r in data["revisions"]]


def test_upload_token_format_and_driver_round_trip(core, jane, jane_token, tmp_path):
    item = core.create_item(jane_token, "file", jane.private_folder_id)
    upload_token = core.generate_upload_token(jane_token, item["item_id"], "f.bin")
    assert re.fullmatch(rf"{jane.user_id}/{item['item_id']}/[0-9A-Za-z]{{64}}", upload_token)
    source = tmp_path / "f.bin"
    source.write_bytes(os.urandom(3000))
    result = core.perform_upload(upload_token, "f.bin", filepath=str(source))
    assert result["item_id"] == item["item_id"] and result["sizebytes"] == "3000"
    bitstream = core.item_get(jane_token, item["item_id"])["revisions"][0]["bitstreams"][0]
    assert bitstream["checksum"] == hashlib.md5(source.read_bytes()).hexdigest()
    assert bitstream["path"] == (
        f"{bitstream['checksum'][:2]}/{bitstream['checksum'][2:4]}/{bitstream['checksum']}")
    name, chunks = core.download_item(item["item_id"], jane_token)
    assert name == "f.bin" and b"".join(chunks) == source.read_bytes()


def test_checksum_dedupe_returns_blank_token_and_adds_the_bitstream(api, jane, jane_token):
    content = b"same content"
    first = _new_item(api, jane_token, jane.private_folder_id, "first")
    api.upload(jane_token, first, "a.txt", content)
    second = _new_item(api, jane_token, jane.private_folder_id, "second")
    checksum = hashlib.md5(content).hexdigest()
    data = api.ok("midas.upload.generatetoken", token=jane_token, itemid=second,
                  filename="b.txt", checksum=checksum)
    assert data == {"token": ""}
    assert _revisions(api, jane_token, second) == [("1", ["b.txt"], "Initial revision")]
    api.ok("midas.upload.generatetoken", token=jane_token, itemid=second, filename="b.txt",
           checksum=checksum)
    assert _revisions(api, jane_token, second) == [("1", ["b.txt"], "Initial revision")]
    unknown = api.ok("midas.upload.generatetoken", token=jane_token, itemid=second,
                     filename="c.txt", checksum="0" * 32)["token"]
    assert unknown != ""


def test_dedupe_needs_read_access_to_the_existing_copy(api, jane, jane_token, bob, bob_token):
    content = b"jane's private bytes"
    api.upload(jane_token, _new_item(api, jane_token, jane.private_folder_id), "p", content)
    item = _new_item(api, bob_token, bob.private_folder_id)
    token = api.ok("midas.upload.generatetoken", token=bob_token, itemid=item, filename="p",
                   checksum=hashlib.md5(content).hexdigest())["token"]
    assert token.startswith(f"{bob.user_id}/{item}/")


def test_revision_rules(api, jane, jane_token):
    item = _new_item(api, jane_token, jane.private_folder_id)
    api.upload(jane_token, item, "a", b"1")  # head on an empty item: revision 1
    api.upload(jane_token, item, "b", b"2")  # head: added to revision 1
    api.upload(jane_token, item, "c", b"3", revision=None)  # absent: new revision 2
    api.upload(jane_token, item, "d", b"4", revision="1")  # a number: that revision
    assert _revisions(api, jane_token, item) == [("1", ["a", "b", "d"], ""), ("2", ["c"], "")]
    upload_token = api.ok("midas.upload.generatetoken", token=jane_token, itemid=item,
                          filename="e")["token"]
    assert _put(api, upload_token, "e", b"5", revision="9") == {
        "code": "-150", "data": "", "message": "Unable to find revision", "stat": "fail"}
    assert api.ok("midas.item.get", token=jane_token, id=item, head="1")["revisions"][0][
        "revision"] == "2"
    changed = _put(api, upload_token, "e", b"5", revision="HEAD", changes="fix")
    assert changed["stat"] == "ok"
    assert _revisions(api, jane_token, item)[1] == ("2", ["c", "e"], "fix")


def test_length_semantics(api, jane, jane_token):
    item = _new_item(api, jane_token, jane.private_folder_id)
    token = api.ok("midas.upload.generatetoken", token=jane_token, itemid=item,
                   filename="long")["token"]
    assert _put(api, token, "long", b"0123456789", length=4, revision="head")["stat"] == "ok"
    token = api.ok("midas.upload.generatetoken", token=jane_token, itemid=item,
                   filename="zero")["token"]
    assert _put(api, token, "zero", b"ignored", length="abc", revision="head")["stat"] == "ok"
    sizes = {b["name"]: b["sizebytes"] for b in
             api.ok("midas.item.get", token=jane_token, id=item)["revisions"][0]["bitstreams"]}
    assert sizes == {"long": "4", "zero": "0"}
    token = api.ok("midas.upload.generatetoken", token=jane_token, itemid=item,
                   filename="x")["token"]
    query = {"method": "midas.upload.perform", "uploadtoken": token, "filename": "x"}
    answer = requests.put(f"{api.url}/api/json", params=query, data=b"x", timeout=10).json()
    assert answer["message"] == "Parameter length is not defined"


def test_a_resumed_body_may_overshoot_only_in_its_first_chunk(api, jane, jane_token):
    item = _new_item(api, jane_token, jane.private_folder_id)
    for total, first_part in ((20, 10), (600_000, 100_000)):
        token = api.ok("midas.upload.generatetoken", token=jane_token, itemid=item,
                       filename="r")["token"]
        content = os.urandom(total)
        assert _put(api, token, "r", content[:first_part], length=total)["code"] == "-105"
        assert _put(api, token, "r", content[first_part:] + b"extra", length=total,
                    revision="head")["stat"] == "ok"
    bitstreams = api.ok("midas.item.get", token=jane_token, id=item)["revisions"][0][
        "bitstreams"]
    assert [b["sizebytes"] for b in bitstreams] == ["25", "600000"]


def test_short_body_keeps_data_and_resumes(api, jane, jane_token):
    content = os.urandom(10000)
    item = _new_item(api, jane_token, jane.private_folder_id)
    token = api.ok("midas.upload.generatetoken", token=jane_token, itemid=item,
                   filename="big")["token"]
    assert api.ok("midas.upload.getoffset", uploadtoken=token) == {"offset": "0"}
    short = _put(api, token, "big", content[:4000], length=len(content))
    assert short == {"code": "-105", "data": "", "stat": "fail",
                     "message": "Failed to upload file - 4000/10000 bytes transferred"}
    assert api.ok("midas.upload.getoffset", uploadtoken=token) == {"offset": "4000"}
    done = _put(api, token, "big", content[4000:], length=len(content))
    assert done["stat"] == "ok" and done["data"]["sizebytes"] == "10000"
    assert api.ok("midas.upload.getoffset", uploadtoken=token) == {"offset": ""}
    assert _put(api, token, "big", b"again") == {
        "code": "-141", "data": "", "stat": "fail", "message": f"Invalid upload token {token}"}
    bitstream = api.ok("midas.item.get", token=jane_token, id=item)["revisions"][0][
        "bitstreams"][0]
    assert bitstream["checksum"] == hashlib.md5(content).hexdigest()


def test_an_item_deleted_during_its_upload_gets_an_error_and_keeps_nothing(midas_server, api,
                                                                           jane, jane_token):
    item = _new_item(api, jane_token, jane.private_folder_id)
    token = api.ok("midas.upload.generatetoken", token=jane_token, itemid=item,
                   filename="f")["token"]
    query = urlencode({"method": "midas.upload.perform", "uploadtoken": token, "filename": "f",
                       "length": 2 * 65536})
    half = b"%x\r\n" % 65536 + b"x" * 65536 + b"\r\n"
    port = int(api.url.split(":")[2].split("/")[0])
    with socket.create_connection(("127.0.0.1", port), timeout=5) as raw:
        raw.sendall(f"PUT /midas/api/json?{query} HTTP/1.1\r\nHost: x\r\n"
                    "Transfer-Encoding: chunked\r\n\r\n".encode() + half)
        partial = os.path.join(midas_server.store.upload_dir, token.replace("/", "_"))
        deadline = time.monotonic() + 5
        while not (os.path.exists(partial) and os.path.getsize(partial)) and (
                time.monotonic() < deadline):
            time.sleep(0.01)
        api.ok("midas.item.delete", token=jane_token, id=item)
        raw.sendall(half + b"0\r\n\r\n")
        answer = b""
        while not answer.endswith(b"}"):
            block = raw.recv(4096)
            assert block, answer
            answer += block
    assert answer.endswith(b'{"code":"-150","data":"","message":"Unable to find item",'
                           b'"stat":"fail"}')
    assert api.ok("midas.upload.getoffset", uploadtoken=token) == {"offset": ""}
    assert midas_server.store.db.all("SELECT * FROM itemrevision") == []


def test_resume_through_the_driver_after_a_cut_connection(midas_server, jane, jane_token,
                                                          tmp_path):
    source = tmp_path / "data.bin"
    source.write_bytes(os.urandom(50000))
    with CoreDriver(midas_server.url) as core:
        item = core.create_item(jane_token, "resumed", jane.private_folder_id)
        upload_token = core.generate_upload_token(jane_token, item["item_id"], "data.bin")
        midas_server.faults.cut_request_after(20000, match="midas.upload.perform")
        with pytest.raises(exceptions.PydasException):
            core.perform_upload(upload_token, "data.bin", filepath=str(source))
        assert core.get_upload_offset(upload_token) == 20000
        with open(source, "rb") as handle:
            handle.seek(20000)
            rest = handle.read()
        query = {"method": "midas.upload.perform", "uploadtoken": upload_token,
                 "filename": "data.bin", "length": 50000, "revision": "head"}
        answer = requests.put(f"{midas_server.url}/api/json", params=query, data=rest,
                              timeout=10).json()
        assert answer["stat"] == "ok"
        name, chunks = core.download_item(item["item_id"], jane_token)
        assert name == "data.bin" and b"".join(chunks) == source.read_bytes()


def test_generatetoken_errors_and_folder_mode(api, jane, jane_token):
    assert api.fail("midas.upload.generatetoken", token=jane_token, filename="f") == (
        "-150", "Parameter itemid or folderid must be defined")
    assert api.fail("midas.upload.generatetoken", token=jane_token, filename="f", itemid="1",
                    folderid="1") == ("-150",
                                      "Parameter itemid or folderid must be defined, but not both")
    assert api.fail("midas.upload.generatetoken", filename="f", itemid="1") == (
        "-151", "Anonymous users may not upload")
    assert api.fail("midas.upload.generatetoken", token=jane_token, filename="f",
                    itemid="999") == (
        "0", "Error in parameter itemdao or policy when checking Item policy.")
    token = api.ok("midas.upload.generatetoken", token=jane_token, filename="f.txt",
                   folderid=jane.private_folder_id, itemname="made")["token"]
    assert _put(api, token, "f.txt", b"abc")["data"]["name"] == "made"


def test_perform_token_errors(api, jane):
    assert _put(api, "junk", "f", b"x")["message"] == "Invalid user id from upload token"
    assert _put(api, f"{jane.user_id}/999/abc", "f", b"x")["message"] == "Unable to find item"


def test_multipart_mode(api, midas_server, jane, jane_token, monkeypatch):
    item = _new_item(api, jane_token, jane.private_folder_id)
    token = api.ok("midas.upload.generatetoken", token=jane_token, itemid=item,
                   filename="ignored")["token"]
    query = {"method": "midas.upload.perform", "uploadtoken": token, "filename": "ignored",
             "length": "1", "mode": "multipart"}
    answer = requests.post(f"{api.url}/api/json", params=query,
                           files={"file": ("real.txt", b"multi")}, data={"file": "1"},
                           timeout=10).json()
    assert answer["stat"] == "ok", answer
    assert _revisions(api, jane_token, item) == [("1", ["real.txt"], "")]
    assert os.listdir(midas_server.store.upload_dir) == []
    monkeypatch.setattr(Items, "create_revision", lambda *args: 1 / 0)
    broken = requests.post(f"{api.url}/api/json", params=query,
                           files={"file": ("real.txt", b"multi")}, data={"file": "1"}, timeout=10)
    assert broken.status_code == 500
    assert os.listdir(midas_server.store.upload_dir) == []
    monkeypatch.undo()
    missing = requests.post(f"{api.url}/api/json", params=query, data={"x": "1"},
                            timeout=10).json()
    assert missing["message"] == "Parameter file is not defined"
    query["mode"] = "other"
    assert requests.put(f"{api.url}/api/json", params=query, data=b"x",
                        timeout=10).json()["message"] == "Invalid upload mode"


def test_eight_concurrent_uploaders_into_one_folder(midas_server, jane, jane_token):
    url = f"{midas_server.url}/api/json"
    folder = jane.private_folder_id
    expected = {}
    errors = []
    lock = threading.Lock()

    def worker(number):
        session = requests.Session()
        try:
            for index in range(50):
                name = f"w{number}-{index}.bin"
                content = os.urandom(64 + (number * 50 + index) % 700) + name.encode()
                item = session.post(url, params={"method": "midas.item.create"},
                                    data={"token": jane_token, "name": name,
                                          "parentid": folder}, timeout=20).json()["data"]
                upload_token = session.post(
                    url, params={"method": "midas.upload.generatetoken"},
                    data={"token": jane_token, "itemid": item["item_id"], "filename": name},
                    timeout=20).json()["data"]["token"]
                answer = session.put(url, params={
                    "method": "midas.upload.perform", "uploadtoken": upload_token,
                    "filename": name, "length": len(content), "revision": "head"},
                    data=content, timeout=20).json()
                if answer["stat"] != "ok":
                    raise AssertionError(answer)
                with lock:
                    expected[item["item_id"]] = (name, content)
        except Exception as error:  # reported below
            errors.append(error)
        finally:
            session.close()

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(expected) == 400
    with CoreDriver(midas_server.url) as core:
        items = core.folder_children(jane_token, folder)["items"]
        assert len(items) == 400
        for item_id, (name, content) in expected.items():
            got_name, chunks = core.download_item(item_id, jane_token)
            assert got_name == name
            assert b"".join(chunks) == content
