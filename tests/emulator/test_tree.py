"""Folders, items, communities, sharing, search and permissions (§3-4.6)."""

import pytest

from pydas import exceptions

NO_ITEM = "This item doesn't exist or you don't have the permissions."
NO_FOLDER = "This folder doesn't exist or you don't have the permissions."


def test_new_user_has_home_with_private_and_public(core, jane, jane_token):
    folders = core.list_user_folders(jane_token)
    assert [folder["name"] for folder in folders] == ["Private", "Public"]
    assert [folder["privacy_status"] for folder in folders] == ["2", "0"]
    home = core.folder_get(jane_token, jane.folder_id)
    assert home["name"] == f"user_{jane.user_id}" and home["parent_id"] == "-1"
    assert home["parent"] == ""
    assert core.folder_get(jane_token, jane.private_folder_id)["parent"]["folder_id"] == (
        jane.folder_id)


def test_create_get_children_and_delete_folder(core, api, jane, jane_token):
    folder = core.create_folder(jane_token, "data", jane.private_folder_id, description="d")
    assert folder["parent_id"] == jane.private_folder_id and folder["description"] == "d"
    core.create_folder(jane_token, "b-sub", folder["folder_id"])
    core.create_folder(jane_token, "a-sub", folder["folder_id"])
    core.create_item(jane_token, "z-item", folder["folder_id"])
    core.create_item(jane_token, "m-item", folder["folder_id"])
    children = core.folder_children(jane_token, folder["folder_id"])
    assert [child["name"] for child in children["folders"]] == ["a-sub", "b-sub"]
    assert [child["name"] for child in children["items"]] == ["m-item", "z-item"]
    assert children["items"][0]["extraFields"] == []
    assert core.delete_folder(jane_token, folder["folder_id"]) == ""
    assert api.fail("midas.folder.get", token=jane_token, id=folder["folder_id"]) == (
        "-151", NO_FOLDER)


def test_folder_name_clash_and_reuse_existing(core, api, jane, jane_token):
    first = core.create_folder(jane_token, "dup", jane.private_folder_id)
    with pytest.raises(exceptions.InvalidParameter, match="reuseExisting"):
        core.create_folder(jane_token, "dup", jane.private_folder_id)
    again = core.create_folder(jane_token, "dup", jane.private_folder_id, reuse_existing=True)
    assert again["folder_id"] == first["folder_id"]
    top = core.create_folder(jane_token, "top", -1)
    assert top["parent_id"] == jane.folder_id
    assert core.create_folder(jane_token, "top", -1)["folder_id"] == top["folder_id"]
    assert api.fail("midas.folder.create", token=jane_token, name=" ",
                    parentid=jane.private_folder_id) == ("0", "Name cannot be empty.")


def test_folder_update_by_uuid_and_privacy(core, jane, jane_token):
    folder = core.create_folder(jane_token, "old", jane.private_folder_id, description="keep")
    renamed = core.create_folder(jane_token, "new", jane.private_folder_id,
                                 uuid=folder["uuid"], privacy="Public")
    assert renamed["folder_id"] == folder["folder_id"] and renamed["name"] == "new"
    assert renamed["privacy_status"] == "0"
    with pytest.raises(exceptions.InvalidParameter, match="privacy"):
        core.create_folder(jane_token, "bad", jane.private_folder_id, privacy="Secret")


def test_move_folder(core, api, jane, jane_token):
    a = core.create_folder(jane_token, "a", jane.private_folder_id)
    b = core.create_folder(jane_token, "b", jane.private_folder_id)
    moved = core.move_folder(jane_token, a["folder_id"], b["folder_id"])
    assert moved["parent_id"] == b["folder_id"]
    assert api.fail("midas.folder.move", token=jane_token, id=b["folder_id"],
                    dstfolderid=a["folder_id"]) == ("0", "Parent is a child of Folder")
    assert api.fail("midas.folder.move", token=jane_token, id=a["folder_id"],
                    dstfolderid="99999") == ("0", "Error in params when checking Folder Policy.")


def test_item_names_are_made_unique_per_folder(core, jane, jane_token):
    names = [core.create_item(jane_token, "scan", jane.private_folder_id)["name"]
             for _ in range(3)]
    assert names == ["scan", "scan (1)", "scan (2)"]
    assert core.create_item(jane_token, "scan", jane.public_folder_id)["name"] == "scan"


def test_item_get_delete_and_metadata(core, api, jane, jane_token):
    item = core.create_item(jane_token, "item", jane.private_folder_id, description="x")
    got = core.item_get(jane_token, item["item_id"])
    assert got["revisions"] == [] and got["folder_id"] == jane.private_folder_id
    assert api.fail("midas.item.getmetadata", token=jane_token, id=item["item_id"]) == (
        "-151", "The item must have at least one revision to have metadata")
    api.upload(jane_token, item["item_id"], "f.txt", b"data")
    assert core.set_item_metadata(jane_token, item["item_id"], "contributor", "Jane",
                                  qualifier="author") == "1"
    core.set_item_metadata(jane_token, item["item_id"], "contributor", "Joan",
                           qualifier="author")
    metadata = core.get_item_metadata(item["item_id"], jane_token)
    assert [(m["element"], m["qualifier"], m["value"]) for m in metadata] == [
        ("contributor", "author", "Joan")]
    assert api.fail("midas.item.getmetadata", token=jane_token, id=item["item_id"],
                    revision="0") == ("-150", "Revision Numbers must be integers greater than 0.0")
    assert api.fail("midas.item.getmetadata", token=jane_token, id=item["item_id"],
                    revision="7") == ("-150", "This revision number is invalid for this item.")
    assert core.delete_item(jane_token, item["item_id"]) == ""
    assert api.fail("midas.item.get", token=jane_token, id=item["item_id"]) == ("-151", NO_ITEM)


def test_item_update_by_uuid_sets_metadata_and_renames_bitstream(api, core, jane, jane_token):
    item = core.create_item(jane_token, "old", jane.private_folder_id)
    api.upload(jane_token, item["item_id"], "old.txt", b"1")
    api.ok("midas.item.create", token=jane_token, name="new", uuid=item["uuid"],
           _subject="brain", updatebitstream="1")
    got = core.item_get(jane_token, item["item_id"])
    assert got["name"] == "new"
    assert got["revisions"][0]["bitstreams"][0]["name"] == "new"
    assert core.get_item_metadata(item["item_id"], jane_token)[0]["value"] == "brain"


def test_share_and_move_items(core, api, jane, jane_token):
    source = core.create_folder(jane_token, "src", jane.private_folder_id)
    target = core.create_folder(jane_token, "dst", jane.private_folder_id)
    core.create_item(jane_token, "thing", target["folder_id"])
    item = core.create_item(jane_token, "thing", source["folder_id"])
    shared = core.share_item(jane_token, item["item_id"], jane.public_folder_id)
    assert [f["name"] for f in shared["owningfolders"]] == ["src", "Public"]
    assert shared["name"] == "thing"
    moved = core.move_item(jane_token, item["item_id"], source["folder_id"], target["folder_id"])
    assert moved["name"] == "thing (1)"
    assert sorted(f["name"] for f in moved["owningfolders"]) == ["Public", "dst"]
    assert core.folder_children(jane_token, source["folder_id"])["items"] == []
    assert api.fail("midas.item.move", token=jane_token, id=item["item_id"],
                    srcfolderid="99999", dstfolderid=target["folder_id"]) == (
        "-151", "Unable to load source or destination folder.")


def test_private_data_is_invisible_to_others_and_anonymous(api, core, jane, jane_token,
                                                           bob_token):
    private = core.create_item(jane_token, "secret", jane.private_folder_id)
    public = core.create_item(jane_token, "open", jane.public_folder_id)
    for token in (bob_token, None):
        assert api.fail("midas.item.get", token=token, id=private["item_id"]) == (
            "-151", NO_ITEM)
        assert api.fail("midas.folder.get", token=token, id=jane.private_folder_id) == (
            "-151", NO_FOLDER)
        assert api.ok("midas.item.get", token=token, id=public["item_id"])["name"] == "open"
    assert api.fail("midas.item.get", token=bob_token, id="99999") == ("-151", NO_ITEM)
    home = api.ok("midas.folder.children", token=bob_token, id=jane.folder_id)
    assert [folder["name"] for folder in home["folders"]] == ["Public"]


def test_others_cannot_write_delete_or_move(api, core, jane, jane_token, bob, bob_token):
    public = core.create_item(jane_token, "open", jane.public_folder_id)
    assert api.fail("midas.item.create", token=bob_token, name="x",
                    parentid=jane.public_folder_id) == (
        "-151", "Invalid permissions on parent folder")
    assert api.fail("midas.folder.create", token=bob_token, name="x",
                    parentid=jane.public_folder_id) == ("-151", "Invalid policy")
    assert api.fail("midas.item.delete", token=bob_token, id=public["item_id"]) == (
        "-151", NO_ITEM)
    assert api.fail("midas.item.delete", id=public["item_id"]) == ("-101", "Unable to find user")
    assert api.fail("midas.folder.delete", id=jane.public_folder_id) == (
        "-101", "Unable to find user")
    assert api.fail("midas.item.setmetadata", token=bob_token, itemId=public["item_id"],
                    element="a", value="b") == (
        "-151", "This item doesn't exist or you don't have write permission.")
    assert api.fail("midas.upload.generatetoken", token=bob_token, itemid=public["item_id"],
                    filename="f") == ("-151", "Invalid policy or itemid")
    assert api.fail("midas.item.create", name="x", parentid=bob.private_folder_id) == (
        "-151", "Cannot create item anonymously")
    assert api.fail("midas.item.move", token=bob_token, id=public["item_id"],
                    srcfolderid=jane.public_folder_id, dstfolderid=bob.private_folder_id) == (
        "-151", NO_ITEM)
    # Bob may share Jane's public item into his own folder (Read there, Write here).
    assert core.share_item(bob_token, public["item_id"], bob.private_folder_id)["item_id"]
    assert api.fail("midas.item.share", token=bob_token, id=public["item_id"],
                    dstfolderid=jane.public_folder_id) == ("-151", "Invalid policy")


def test_item_privacy_switch(api, core, jane, jane_token, bob_token):
    item = core.create_item(jane_token, "flip", jane.public_folder_id, privacy="Private")
    assert item["privacy_status"] == "2"
    assert api.fail("midas.item.get", token=bob_token, id=item["item_id"])[0] == "-151"
    core.create_item(jane_token, "flip", jane.public_folder_id, uuid=item["uuid"],
                     privacy="Public")
    assert api.ok("midas.item.get", token=bob_token, id=item["item_id"])["privacy_status"] == "0"


def test_communities(api, core, midas_server, admin, jane, jane_token, bob_token):
    admin_token = api.login(admin)
    assert api.fail("midas.community.create", token=jane_token, name="x") == (
        "-151", "Only admins can create communities")
    community = core.create_community(admin_token, "lab", description="d")
    assert community["name"] == "Lab" and community["privacy"] == "0"
    assert api.fail("midas.community.create", token=admin_token, name="lab") == (
        "0", "Community already exists.")
    assert api.fail("midas.community.children", id="999") == ("-150", "Invalid community id")
    assert api.fail("midas.community.get") == ("-150", "Parameter id or name is not defined")
    children = core.get_community_children(community["community_id"], admin_token)
    assert [folder["name"] for folder in children["folders"]] == ["Private", "Public"]
    assert [folder["name"] for folder in core.get_community_children(
        community["community_id"])["folders"]] == ["Public"]
    hidden = midas_server.create_community("hidden", jane.email, privacy="Private")
    assert hidden.public_folder_id is None
    assert core.get_community_by_name("Hidden", jane_token)["community_id"] == (
        hidden.community_id)
    assert api.fail("midas.community.get", token=bob_token, id=hidden.community_id) == (
        "-151", "This community doesn't exist or you don't have the permissions.")
    midas_server.add_community_member(hidden.community_id, "bob@example.com")
    assert core.get_community_by_id(hidden.community_id, bob_token)["name"] == "Hidden"
    assert [c["name"] for c in core.list_communities(bob_token)] == ["Hidden", "Lab"]
    assert [c["name"] for c in core.list_communities()] == ["Lab"]
    assert api.fail("midas.item.create", token=bob_token, name="x",
                    parentid=hidden.private_folder_id)[0] == "-151"
    midas_server.add_community_member(hidden.community_id, "bob@example.com", "moderator")
    assert core.create_item(bob_token, "x", hidden.private_folder_id)["name"] == "x"
    with pytest.raises(ValueError, match="role"):
        midas_server.add_community_member(hidden.community_id, "bob@example.com", "king")


def test_search_methods(api, core, jane, jane_token, bob_token):
    folder = core.create_folder(jane_token, "scans", jane.public_folder_id)
    core.create_item(jane_token, "brain", folder["folder_id"], description="a T1 image")
    core.create_item(jane_token, "brain", jane.private_folder_id)
    assert len(core.search_item_by_name("brain", jane_token)) == 2
    found = core.search_item_by_name("brain", bob_token)
    assert len(found) == 1 and found[0]["folder_id"] == folder["folder_id"]
    assert len(core.search_item_by_name_and_folder("brain", folder["folder_id"],
                                                   jane_token)) == 1
    assert len(core.search_item_by_name_and_folder_name("brain", "scans", jane_token)) == 1
    results = core.search("T1", jane_token)
    assert results["nitems"] == "1" and results["results"][0]["resultType"] == "item"
    assert api.fail("midas.resource.search", search="x", order="weird")[0] == "0"
    assert core.search("brain", bob_token)["nitems"] == "1"
    users = core.search("Doe")
    assert users["nusers"] == "1" and "email" not in users["results"][0]


def test_links(api, core, jane, jane_token):
    item = core.create_link(jane_token, jane.private_folder_id, "https://example.org/f.nii",
                            item_name="remote", length=10)
    got = core.item_get(jane_token, item["item_id"])
    bitstream = got["revisions"][0]["bitstreams"][0]
    assert (bitstream["mimetype"], bitstream["path"], bitstream["sizebytes"],
            bitstream["checksum"]) == ("url", "https://example.org/f.nii", "10", " ")
    for url in ("not a url", "http://x.org/a b", "http://x.org/\r\nX-Injected: 1",
                "http://x.org/caf\u00e9"):
        assert api.fail("midas.link.create", token=jane_token, folderid=jane.private_folder_id,
                        url=url) == ("-150", "Invalid URL")
    for length in ("-1", "\u00b2", "9" * 30):
        assert api.fail("midas.link.create", token=jane_token, folderid=jane.private_folder_id,
                        url="http://x.org", length=length) == ("-150", "Invalid length")
    assert api.fail("midas.link.create", verb="GET", token=jane_token,
                    folderid=jane.private_folder_id, url="http://x.org") == (
        "-153", "POST method required")
