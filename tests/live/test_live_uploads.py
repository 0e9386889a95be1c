"""Uploads with the driver methods on a real server, with their optional arguments."""

import hashlib
import os

import pytest
import requests

from pydas import exceptions

covers = pytest.mark.covers


def _write(path, data):
    path.write_bytes(data)
    return path


def _prepared(live_user, scratch, tmp_path, name, data):
    """A local file, a new item for it and an upload token; returns (path, item id, token)."""
    path = _write(tmp_path / name, data)
    item = live_user.communicator.create_item(live_user.token, name, scratch["folder_id"])
    upload_token = live_user.communicator.generate_upload_token(
        live_user.token, item["item_id"], name
    )
    return path, item["item_id"], upload_token


def _bitstreams(revision):
    return {b["name"]: (int(b["sizebytes"]), b["checksum"]) for b in revision["bitstreams"]}


@covers(
    "CoreDriver.generate_upload_token",
    "CoreDriver.get_upload_offset",
    "CoreDriver.perform_upload",
)
def test_an_upload_stores_the_bytes_with_its_changes_note(live_user, scratch, tmp_path):
    communicator = live_user.communicator
    data = os.urandom(300_000)
    path, item, upload_token = _prepared(live_user, scratch, tmp_path, "scan.raw", data)
    assert communicator.get_upload_offset(upload_token) == 0
    pieces = []
    answer = communicator.perform_upload(
        upload_token, "scan.raw", filepath=str(path), changes="first scan", progress=pieces.append
    )
    assert answer["item_id"] == item and answer["sizebytes"] == str(len(data))
    assert sum(pieces) == len(data)
    # After completion the token is gone: the server answers an empty offset.
    assert communicator.get_upload_offset(upload_token) is None
    head = live_user.head(item)
    assert (head["revision"], head["changes"]) == ("1", "first scan")
    assert _bitstreams(head) == {"scan.raw": (len(data), hashlib.md5(data).hexdigest())}


@covers("CoreDriver.generate_upload_token")
def test_known_content_is_added_without_sending_it(live_user, scratch, tmp_path):
    communicator, token = live_user.communicator, live_user.token
    data = os.urandom(5000)
    path = _write(tmp_path / "known.bin", data)
    first = communicator.create_item(token, "first", scratch["folder_id"])["item_id"]
    live_user.upload(first, path)
    second = communicator.create_item(token, "second", scratch["folder_id"])["item_id"]
    checksum = hashlib.md5(data).hexdigest()
    assert communicator.generate_upload_token(token, second, "copy.bin", checksum=checksum) == ""
    assert _bitstreams(live_user.head(second)) == {"copy.bin": (len(data), checksum)}


@covers("CoreDriver.perform_upload")
def test_revision_options_choose_where_a_file_goes(live_user, scratch, tmp_path):
    communicator, token = live_user.communicator, live_user.token
    item = communicator.create_item(token, "series", scratch["folder_id"])["item_id"]
    files = {name: _write(tmp_path / name, os.urandom(100)) for name in "abcd"}
    live_user.upload(item, files["a"])  # revision=head by default: creates revision 1
    live_user.upload(item, files["b"])  # and adds to it
    live_user.upload(item, files["c"], create_additional_revision=True, changes="redo")
    live_user.upload(item, files["d"], revision=1)

    revisions = {r["revision"]: r for r in communicator.item_get(token, item)["revisions"]}
    assert sorted(revisions) == ["1", "2"]
    assert sorted(_bitstreams(revisions["1"])) == ["a", "b", "d"]
    assert sorted(_bitstreams(revisions["2"])) == ["c"]  # earlier files are not carried over
    assert revisions["2"]["changes"] == "redo"


@covers("CoreDriver.perform_upload")
def test_stream_mode_and_ignored_ids_are_accepted(live_user, scratch, tmp_path):
    data = os.urandom(1000)
    path, item, upload_token = _prepared(live_user, scratch, tmp_path, "plain.bin", data)
    live_user.communicator.perform_upload(
        upload_token, "plain.bin", filepath=str(path), mode="stream",
        folder_id=scratch["folder_id"], item_id=item,
    )
    assert _bitstreams(live_user.head(item)) == {
        "plain.bin": (len(data), hashlib.md5(data).hexdigest())
    }
    # The server's multipart mode does not check whether the token was used up
    # (only its user and item ids): the used token still stores a new bitstream.
    live_user.communicator.perform_upload(upload_token, "again.bin", filepath=str(path),
                                          mode="multipart")
    assert _bitstreams(live_user.head(item)) == {
        "plain.bin": (len(data), hashlib.md5(data).hexdigest()),
        "again.bin": (len(data), hashlib.md5(data).hexdigest()),
    }


@covers("CoreDriver.perform_upload", "CoreDriver.get_upload_offset")
def test_multipart_mode_stores_the_one_byte_zero_file(live_user, scratch, tmp_path):
    # The server's stream mode cannot receive a body that is the single character 0.
    path, item, upload_token = _prepared(live_user, scratch, tmp_path, "zero.txt", b"0")
    pieces = []
    live_user.communicator.perform_upload(upload_token, "zero.txt", filepath=str(path),
                                          mode="multipart", progress=pieces.append)
    assert _bitstreams(live_user.head(item)) == {"zero.txt": (1, hashlib.md5(b"0").hexdigest())}
    assert sum(pieces) == 1
    # A multipart upload does not use its token up: the server still knows it.
    assert live_user.communicator.get_upload_offset(upload_token) == 0
    with pytest.raises(ValueError, match="cannot resume"):
        live_user.communicator.perform_upload(upload_token, "zero.txt", filepath=str(path),
                                              mode="multipart", offset=1)


@covers("CoreDriver.perform_upload")
def test_an_empty_file_is_stored_as_an_empty_bitstream(live_user, scratch, tmp_path):
    path = _write(tmp_path / "empty.txt", b"")
    item = live_user.communicator.create_item(live_user.token, "empty", scratch["folder_id"])
    live_user.upload(item["item_id"], path)
    head = live_user.head(item["item_id"])
    assert _bitstreams(head) == {"empty.txt": (0, hashlib.md5(b"").hexdigest())}
    # The server detects the mime type from the content.
    assert head["bitstreams"][0]["mimetype"] == "application/x-empty"


@covers("CoreDriver.get_upload_offset", "CoreDriver.perform_upload")
def test_an_upload_continues_from_the_offset_the_server_holds(live_user, scratch, tmp_path):
    communicator = live_user.communicator
    data = os.urandom(10_000)
    path, item, upload_token = _prepared(live_user, scratch, tmp_path, "halves.bin", data)
    # A first request that ends early (sent by hand: pydas always sends the whole rest).
    short = requests.put(
        f"{communicator.url}/api/json",
        params={"method": "midas.upload.perform", "uploadtoken": upload_token,
                "filename": "halves.bin", "length": len(data), "revision": "head"},
        data=data[:4000], timeout=30,
    ).json()
    assert (short["stat"], short["code"]) == ("fail", "-105")
    assert communicator.get_upload_offset(upload_token) == 4000
    communicator.perform_upload(upload_token, "halves.bin", filepath=str(path), offset=4000)
    assert _bitstreams(live_user.head(item)) == {
        "halves.bin": (len(data), hashlib.md5(data).hexdigest())
    }


def _reuse_an_upload_token(live_user, scratch, tmp_path):
    """Upload a file, then send it again with the same upload token; return the error."""
    communicator = live_user.communicator
    path, _, upload_token = _prepared(live_user, scratch, tmp_path, "once.bin", os.urandom(100))
    communicator.perform_upload(upload_token, "once.bin", filepath=str(path))
    with pytest.raises(exceptions.InvalidUploadToken) as refused:
        communicator.perform_upload(upload_token, "once.bin", filepath=str(path))
    return upload_token, refused.value


@covers("CoreDriver.perform_upload")
def test_a_used_upload_token_is_refused_without_quoting_it(live_user, scratch, tmp_path):
    # The server's -141 message quotes the upload token; pydas masks it.
    upload_token, error = _reuse_an_upload_token(live_user, scratch, tmp_path)
    assert error.code == -141 and error.method == "midas.upload.perform"
    assert upload_token not in str(error) and upload_token not in repr(error)
