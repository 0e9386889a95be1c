"""Core methods added after comparing with the real server (tests/live/test_differential.py)."""

import requests


def _item(api, token, folder_id, name="item"):
    return api.ok("midas.item.create", token=token, name=name, parentid=folder_id)["item_id"]


def _bitstreams(api, token, item_id):
    return api.ok("midas.item.get", token=token, id=item_id)["revisions"][-1]["bitstreams"]


def test_item_exists(api, jane, jane_token, bob_token):
    item = _item(api, jane_token, jane.private_folder_id, "here")
    found = api.ok("midas.item.exists", token=jane_token, parentid=jane.private_folder_id,
                   name="here")
    assert found["exists"] == "1" and found["item"]["item_id"] == item
    assert api.ok("midas.item.exists", token=jane_token, parentid=jane.private_folder_id,
                  name="absent") == {"exists": ""}
    assert api.fail("midas.item.exists", token=jane_token, parentid="999", name="x") == (
        "-150", "Invalid parentid")
    assert api.fail("midas.item.exists", token=bob_token, parentid=jane.private_folder_id,
                    name="here") == ("-151", "Read permission required on folder")


def test_multiple_metadata_and_deleting_it(api, jane, jane_token):
    item = _item(api, jane_token, jane.private_folder_id)
    api.upload(jane_token, item, "f", b"x")
    assert api.fail("midas.item.setmultiplemetadata", token=jane_token, id=item,
                    count="1") == ("-150", "Parameter itemid is not defined")
    assert api.ok("midas.item.setmultiplemetadata", token=jane_token, itemid=item, count="2",
                  element_1="a", value_1="1", element_2="b", qualifier_2="q",
                  value_2="2") == "1"
    assert api.fail("midas.item.setmultiplemetadata", token=jane_token, itemid=item,
                    count="2", element_1="a", value_1="1") == (
        "-150", "Count was 1 but param element_2 is missing.")
    assert api.fail("midas.item.setmultiplemetadata", token=jane_token, itemid=item,
                    count="1", element_1="a", value_1="1", type_1="0") == (
        "-150", "param type_1 must be an integer between 0 and 6.")
    metadata = api.ok("midas.item.getmetadata", token=jane_token, id=item)
    assert [(m["element"], m["qualifier"], m["value"]) for m in metadata] == [
        ("a", "", "1"), ("b", "q", "2")]
    assert api.ok("midas.item.deletemetadata", token=jane_token, itemid=item, element="a") == "1"
    assert api.ok("midas.item.deletemetadata", token=jane_token, itemid=item,
                  element="never") == ""
    assert [m["element"] for m in api.ok("midas.item.getmetadata", token=jane_token,
                                         id=item)] == ["b"]
    assert api.ok("midas.item.deletemetadata.all", token=jane_token, itemid=item) == "1"
    assert api.ok("midas.item.getmetadata", token=jane_token, id=item) == []


def test_duplicate_copies_revisions_metadata_and_bitstreams(api, jane, jane_token, bob_token):
    item = _item(api, jane_token, jane.private_folder_id, "orig")
    api.upload(jane_token, item, "f.txt", b"hello\n")
    api.ok("midas.item.setmetadata", token=jane_token, itemId=item, element="k", value="v")
    copy = api.ok("midas.item.duplicate", token=jane_token, id=item,
                  dstfolderid=jane.private_folder_id)
    assert copy["name"] == "orig (1)" and copy["sizebytes"] == "6"
    assert (copy["view"], copy["download"]) == ("", "")
    assert [b["name"] for b in _bitstreams(api, jane_token, copy["item_id"])] == ["f.txt"]
    assert [m["value"] for m in api.ok("midas.item.getmetadata", token=jane_token,
                                       id=copy["item_id"])] == ["v"]
    assert api.fail("midas.item.duplicate", token=bob_token, id=item,
                    dstfolderid=jane.private_folder_id)[0] == "-151"
    assert api.fail("midas.item.duplicate", id=item, dstfolderid=jane.private_folder_id) == (
        "-151", "Cannot duplicate item anonymously")


def test_move_renames_against_the_destination_and_share_answers_the_item_as_it_was(
        api, jane, jane_token):
    item = _item(api, jane_token, jane.private_folder_id, "n")
    shared = api.ok("midas.item.share", token=jane_token, id=item,
                    dstfolderid=jane.public_folder_id)
    assert shared["privacy_status"] == "2"  # before the share made it readable by anyone
    assert [f["name"] for f in shared["owningfolders"]] == ["Private", "Public"]
    moved = api.ok("midas.item.move", token=jane_token, id=item,
                   srcfolderid=jane.private_folder_id, dstfolderid=jane.public_folder_id)
    assert moved["name"] == "n (1)"  # the item itself already had the name there
    assert [f["name"] for f in moved["owningfolders"]] == ["Public"]


def test_bitstream_get_edit_count_delete(api, jane, jane_token, bob_token):
    item = _item(api, jane_token, jane.private_folder_id)
    api.upload(jane_token, item, "a.txt", b"text\n")
    api.upload(jane_token, item, "b.bin", b"\x00\x01binary")
    first = _bitstreams(api, jane_token, item)[0]["bitstream_id"]
    got = api.ok("midas.bitstream.get", token=jane_token, id=first)
    assert (got["name"], got["size"], got["mimetype"], got["item_id"]) == (
        "a.txt", "5", "text/plain", item)
    assert api.fail("midas.bitstream.get", token=jane_token, id="999") == (
        "-150", "Invalid bitstream id")
    edited = api.ok("midas.bitstream.edit", token=jane_token, id=first, name="c.txt",
                    mimetype="text/x-note")
    assert (edited["name"], edited["mimetype"]) == ("c.txt", "text/x-note")
    uuid = api.ok("midas.item.get", token=jane_token, id=item)["uuid"]
    assert api.ok("midas.bitstream.count", token=jane_token, uuid=uuid) == {
        "size": "13", "count": "2"}
    assert api.ok("midas.bitstream.count", token=jane_token,
                  uuid=api.ok("midas.folder.get", token=jane_token,
                              id=jane.private_folder_id)["uuid"])["count"] == "2"
    assert api.fail("midas.bitstream.delete", token=bob_token, id=first) == (
        "-151", "Admin privileges required on the containing item")
    assert api.ok("midas.bitstream.delete", token=jane_token, id=first) == ""
    assert [b["name"] for b in _bitstreams(api, jane_token, item)] == ["b.bin"]


def test_community_delete_and_groups(api, admin, jane_token):
    admin_token = api.login(admin)
    community = api.ok("midas.community.create", token=admin_token, name="Lab")
    groups = api.ok("midas.community.list.groups", token=admin_token,
                    community_id=community["community_id"])["groups"]
    assert list(groups.values()) == ["Administrator", "Moderators", "Members"]
    assert api.fail("midas.community.delete", token=jane_token,
                    id=community["community_id"]) == (
        "-151", "This community doesn't exist  or you don't have the permissions.")
    assert api.ok("midas.community.delete", token=admin_token,
                  id=community["community_id"]) == ""
    assert api.fail("midas.community.get", token=admin_token,
                    id=community["community_id"])[0] == "-151"
    assert api.fail("midas.folder.get", token=admin_token,
                    id=community["folder_id"])[0] == "-151"


def test_paths_and_resources_by_uuid(api, jane, jane_token):
    folder = api.ok("midas.folder.create", token=jane_token, name="deep",
                    parentid=jane.private_folder_id)
    item = api.ok("midas.item.create", token=jane_token, name="leaf",
                  parentid=folder["folder_id"])
    names = [entry["name"] for entry in api.ok("midas.path.to.root", uuid=item["uuid"])]
    assert names == ["leaf", "deep", "Private", f"user_{jane.user_id}"]
    names = [entry["name"] for entry in api.ok("midas.path.from.root", uuid=folder["uuid"])]
    assert names == [f"user_{jane.user_id}", "Private", "deep"]
    assert api.ok("midas.resource.get", uuid=item["uuid"]) == {"type": "1",
                                                               "id": item["item_id"]}
    assert api.ok("midas.resource.get", uuid=folder["uuid"])["type"] == "4"
    assert api.fail("midas.resource.get", uuid="nothing") == (
        "-150", "No resource for the given UUID.")


def test_permissions(api, jane, jane_token, bob, bob_token):
    folder = api.ok("midas.folder.create", token=jane_token, name="shared",
                    parentid=jane.private_folder_id)["folder_id"]
    item = _item(api, jane_token, folder, "inside")
    listing = api.ok("midas.folder.list.permissions", token=jane_token, folder_id=folder)
    assert listing["privacy"] == "Private"
    assert listing["user"] == [{"user_id": jane.user_id, "policy": "Admin",
                                "email": jane.email}]
    assert api.fail("midas.folder.list.permissions", token=bob_token, folder_id=folder) == (
        "-151", "Admin privileges required on the folder to list permissions.")
    assert api.fail("midas.item.get", token=bob_token, id=item)[0] == "-151"
    assert api.ok("midas.folder.add.policyuser", token=jane_token, folder_id=folder,
                  user_id=bob.user_id, policy="Read", recursive="1") == {
        "success": "2", "failure": "0"}
    assert api.ok("midas.item.get", token=bob_token, id=item)["name"] == "inside"
    assert api.fail("midas.item.add.policyuser", token=jane_token, item_id=item,
                    user_id=bob.user_id, policy="Owner") == (
        "-150", "policy should be one of [Admin|Write|Read]")
    assert api.ok("midas.item.remove.policyuser", token=jane_token, item_id=item,
                  user_id=bob.user_id) == {"success": "true"}
    assert api.fail("midas.item.get", token=bob_token, id=item)[0] == "-151"
    assert api.ok("midas.folder.set.privacy.recursive", token=jane_token, folder_id=folder,
                  privacy="Public") == {"success": "2", "failure": "0"}
    assert api.ok("midas.item.get", id=item)["privacy_status"] == "0"
    groups = api.ok("midas.item.list.permissions", token=jane_token, item_id=item)["group"]
    assert {"group_id": "0", "policy": "Read", "name": "Anonymous"} in groups


def test_mime_types_come_from_the_content(api, jane, jane_token):
    item = _item(api, jane_token, jane.private_folder_id)
    contents = {"empty.bin": b"", "notes.dat": "café\n".encode("latin-1"),
                "page.txt": b"<!DOCTYPE html><html></html>", "data.txt": b'{"a": [1, 2]}',
                "blob.txt": b"\x00\x01\x02\x03", "image.txt": b"\x89PNG\r\n\x1a\n....",
                "scan.bin": bytes(128) + b"DICM" + bytes(16), "short.txt": b"ab"}
    for name, content in contents.items():
        api.upload(jane_token, item, name, content)
    assert {b["name"]: b["mimetype"] for b in _bitstreams(api, jane_token, item)} == {
        "empty.bin": "application/x-empty", "notes.dat": "text/plain",
        "page.txt": "text/html", "data.txt": "application/json",
        "blob.txt": "application/octet-stream", "image.txt": "image/png",
        "scan.bin": "application/dicom", "short.txt": "application/octet-stream"}


def test_every_download_counts_for_its_items(api, jane, jane_token):
    item = _item(api, jane_token, jane.private_folder_id)
    api.upload(jane_token, item, "f.txt", b"abc")
    bitstream = _bitstreams(api, jane_token, item)[0]["bitstream_id"]
    download = f"{api.url}/download/"
    for params in ({"items": item}, {"bitstream": bitstream},
                   {"folders": jane.private_folder_id}):
        assert requests.get(download, params={**params, "authToken": jane_token},
                            timeout=10).status_code == 200
    assert api.ok("midas.item.get", token=jane_token, id=item)["download"] == "3"


def test_search_lists_folders_before_items(api, jane, jane_token):
    folder = api.ok("midas.folder.create", token=jane_token, name="term-folder",
                    parentid=jane.private_folder_id)
    api.ok("midas.item.create", token=jane_token, name="term-item", parentid=folder["folder_id"])
    found = api.ok("midas.resource.search", token=jane_token, search="term")["results"]
    assert [entry["resultType"] for entry in found] == ["folder", "item"]
    by_name = api.ok("midas.resource.search", token=jane_token, search="term", order="name")
    assert [entry["name"] for entry in by_name["results"]] == ["term-folder", "term-item"]
