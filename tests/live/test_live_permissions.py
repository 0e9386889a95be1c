"""Permissions with two users on a real server: read-only, writable and closed folders.

The normal user owns the folders and sets their policies; the OTP user is the
other account, refused with the exception class of the server's answer.
"""

import os

import pytest

import pydas
from pydas import exceptions

covers = pytest.mark.covers

READ, WRITE = "Read", "Write"


@pytest.fixture
def shared(live_user, live_otp, make_scratch, tmp_path):
    """Private folders ``read``, ``write`` and ``closed``, each holding an item with one file.

    The OTP user gets Read on ``read`` and Write on ``write`` (pushed down to
    the items), and nothing on ``closed``. They are in a scratch folder in the
    owner's ``Public`` folder, so that the other user can reach them by a
    server path (every folder on the way must be readable).
    """
    communicator, token = live_user.communicator, live_user.token
    scratch = make_scratch(live_user, parent_id=live_user.public_id)
    folders = {}
    for name, policy in (("read", READ), ("write", WRITE), ("closed", None)):
        folder = communicator.create_folder(token, name, scratch["folder_id"], privacy="Private")
        item = communicator.create_item(token, f"{name} item", folder["folder_id"])
        data = os.urandom(2000)
        (tmp_path / f"{name}.bin").write_bytes(data)
        live_user.upload(item["item_id"], tmp_path / f"{name}.bin")
        if policy:
            live_user.call("midas.folder.add.policyuser", folder_id=folder["folder_id"],
                           user_id=live_otp.user_id, policy=policy, recursive="1")
        folders[name] = {"folder": folder, "item": item, "data": data}
    return folders


def test_the_owner_sees_the_policies_it_set(live_user, live_otp, shared):
    permissions = live_user.call("midas.folder.list.permissions",
                                 folder_id=shared["read"]["folder"]["folder_id"])
    assert {(entry["email"], entry["policy"]) for entry in permissions["user"]} >= {
        (live_otp.email, "Read")
    }
    assert permissions["privacy"] == "Private"


@covers("CoreDriver.folder_get", "CoreDriver.folder_children", "CoreDriver.item_get",
        "CoreDriver.download_item", "CoreDriver.get_item_metadata")
def test_a_read_only_folder_can_be_read(live_otp, shared):
    communicator, token = live_otp.communicator, live_otp.token
    folder, item = shared["read"]["folder"], shared["read"]["item"]
    assert communicator.folder_get(token, folder["folder_id"])["name"] == "read"
    children = communicator.folder_children(token, folder["folder_id"])
    assert [entry["item_id"] for entry in children["items"]] == [item["item_id"]]
    assert communicator.item_get(token, item["item_id"])["name"] == "read item"
    assert communicator.get_item_metadata(item["item_id"], token) == []
    name, chunks = communicator.download_item(item["item_id"], token)
    assert (name, b"".join(chunks)) == ("read.bin", shared["read"]["data"])


@covers("CoreDriver.create_folder", "CoreDriver.create_item", "CoreDriver.generate_upload_token",
        "CoreDriver.set_item_metadata", "CoreDriver.delete_item", "CoreDriver.move_folder",
        "CoreDriver.delete_folder")
def test_a_read_only_folder_refuses_every_change(live_user, live_otp, shared, make_scratch):
    communicator, token = live_otp.communicator, live_otp.token
    folder_id = shared["read"]["folder"]["folder_id"]
    item_id = shared["read"]["item"]["item_id"]
    own = make_scratch(live_otp)["folder_id"]
    refusals = [
        lambda: communicator.create_folder(token, "mine", folder_id),
        lambda: communicator.create_item(token, "mine", folder_id),
        lambda: communicator.generate_upload_token(token, item_id, "more.bin"),
        lambda: communicator.set_item_metadata(token, item_id, "note", "mine"),
        lambda: communicator.delete_item(token, item_id),
        lambda: communicator.move_folder(token, folder_id, own),
        lambda: communicator.delete_folder(token, folder_id),
    ]
    for refused in refusals:
        with pytest.raises(exceptions.InvalidPolicy):
            refused()
    # Nothing changed.
    children = live_user.communicator.folder_children(live_user.token, folder_id)
    assert (children["folders"], [i["item_id"] for i in children["items"]]) == ([], [item_id])
    assert live_user.communicator.get_item_metadata(item_id, live_user.token) == []


@covers("CoreDriver.create_item", "CoreDriver.delete_folder", "CoreDriver.set_item_metadata")
def test_a_writable_folder_takes_new_items_but_not_deletion(live_user, live_otp, shared,
                                                           tmp_path):
    communicator, token = live_otp.communicator, live_otp.token
    folder_id = shared["write"]["folder"]["folder_id"]
    item = communicator.create_item(token, "added by the other user", folder_id)
    (tmp_path / "theirs.bin").write_bytes(b"theirs")
    live_otp.upload(item["item_id"], tmp_path / "theirs.bin")
    communicator.set_item_metadata(token, shared["write"]["item"]["item_id"], "note", "seen")
    with pytest.raises(exceptions.InvalidPolicy):
        communicator.delete_folder(token, folder_id)
    names = [i["name"] for i in
             live_user.communicator.folder_children(live_user.token, folder_id)["items"]]
    assert names == ["added by the other user", "write item"]


@covers("CoreDriver.folder_get", "CoreDriver.folder_children", "CoreDriver.item_get",
        "CoreDriver.download_item", "CoreDriver.download_bitstream",
        "CoreDriver.search_item_by_name")
def test_a_closed_folder_looks_as_if_it_did_not_exist(live_user, live_otp, shared):
    communicator, token = live_otp.communicator, live_otp.token
    folder_id = shared["closed"]["folder"]["folder_id"]
    item_id = shared["closed"]["item"]["item_id"]
    bitstream_id = live_user.head(item_id)["bitstreams"][0]["bitstream_id"]
    with pytest.raises(exceptions.InvalidPolicy, match="doesn't exist or you don't have"):
        communicator.folder_get(token, folder_id)
    # The children of an unreadable folder are not refused: they are empty.
    assert communicator.folder_children(token, folder_id) == {"folders": [], "items": []}
    with pytest.raises(exceptions.InvalidPolicy, match="doesn't exist or you don't have"):
        communicator.item_get(token, item_id)
    with pytest.raises(exceptions.InvalidPolicy):
        communicator.download_item(item_id, token)
    with pytest.raises(exceptions.InvalidPolicy, match="Read permission required"):
        communicator.download_bitstream(bitstream_id, token)
    assert communicator.search_item_by_name("closed item", token) == []


@covers("CoreDriver.folder_get", "CoreDriver.download_item")
def test_public_content_is_read_without_a_token(live_user, make_scratch, tmp_path):
    communicator, token = live_user.communicator, live_user.token
    public = make_scratch(live_user, parent_id=live_user.public_id)
    item = communicator.create_item(token, "open data", public["folder_id"])
    (tmp_path / "open.txt").write_bytes(b"for everyone\n")
    live_user.upload(item["item_id"], tmp_path / "open.txt")
    assert communicator.folder_get(None, public["folder_id"])["privacy_status"] == "0"
    name, chunks = communicator.download_item(item["item_id"])
    assert (name, b"".join(chunks)) == ("open.txt", b"for everyone\n")
    with pytest.raises(exceptions.InvalidPolicy):
        communicator.folder_get(None, live_user.private_id)


def _other_users_path(live_user, shared, name):
    first, last = live_user.user["firstname"], live_user.user["lastname"]
    scratch_name = live_user.communicator.folder_get(
        live_user.token, shared[name]["folder"]["parent_id"]
    )["name"]
    return f"/users/{first}_{last}/Public/{scratch_name}/{name}"


def _log_in_as_the_other_user(live, live_otp, monkeypatch):
    monkeypatch.setattr("getpass.getpass", lambda prompt="": "123456")
    pydas.login(email=live_otp.email, api_key=live_otp.api_key, url=live["MIDAS_URL"])


def test_uploading_into_a_read_only_folder_names_the_destination(live, live_user, live_otp,
                                                                 shared, tmp_path, monkeypatch):
    _log_in_as_the_other_user(live, live_otp, monkeypatch)
    destination = _other_users_path(live_user, shared, "read")
    (tmp_path / "refused.txt").write_bytes(b"no")
    with pytest.raises(exceptions.InvalidPolicy, match="no write permission on") as refused:
        pydas.upload(str(tmp_path / "refused.txt"), destination=destination, quiet=True)
    assert destination in str(refused.value)


def test_downloading_a_closed_folder_is_path_not_found(live, live_user, live_otp, shared,
                                                       tmp_path, monkeypatch):
    _log_in_as_the_other_user(live, live_otp, monkeypatch)
    with pytest.raises(exceptions.PathNotFound):
        pydas.download(_other_users_path(live_user, shared, "closed"), str(tmp_path / "out"),
                       quiet=True)
    assert not (tmp_path / "out" / "closed").exists()
