"""Items on a real server: create, read, share, move, delete, metadata, search, links."""

import uuid

import pytest

from pydas import exceptions

covers = pytest.mark.covers


def _item_names(communicator, token, folder_id):
    return [item["name"] for item in communicator.folder_children(token, folder_id)["items"]]


@covers("CoreDriver.create_item", "CoreDriver.item_get")
def test_an_item_keeps_its_description_privacy_and_uuid(live_user, scratch):
    communicator, token = live_user.communicator, live_user.token
    wanted = uuid.uuid4().hex
    created = communicator.create_item(
        token, "scan", scratch["folder_id"], description="T1", uuid=wanted, privacy="Public"
    )
    # A fresh item has no revision, and its counters are empty strings.
    assert (created["sizebytes"], created["view"], created["download"]) == ("", "", "")
    item = communicator.item_get(token, created["item_id"])
    assert (item["name"], item["description"], item["uuid"]) == ("scan", "T1", wanted)
    assert item["privacy_status"] == "0" and item["revisions"] == []
    private = communicator.create_item(token, "hidden", scratch["folder_id"], privacy="Private")
    assert communicator.item_get(token, private["item_id"])["privacy_status"] == "2"


@covers("CoreDriver.create_item")
def test_a_taken_item_name_gets_a_number(live_user, scratch):
    communicator, token = live_user.communicator, live_user.token
    names = [communicator.create_item(token, "same", scratch["folder_id"])["name"] for _ in "abc"]
    assert names == ["same", "same (1)", "same (2)"]


@covers("CoreDriver.create_item", "CoreDriver.item_get")
def test_an_item_given_by_uuid_is_updated_not_duplicated(live_user, scratch):
    communicator, token = live_user.communicator, live_user.token
    wanted = uuid.uuid4().hex
    first = communicator.create_item(token, "old", scratch["folder_id"], uuid=wanted)
    again = communicator.create_item(token, "new", scratch["folder_id"], uuid=wanted,
                                     description="second")
    assert again["item_id"] == first["item_id"]
    item = communicator.item_get(token, first["item_id"])
    assert (item["name"], item["description"]) == ("new", "second")
    assert _item_names(communicator, token, scratch["folder_id"]) == ["new"]


@covers("CoreDriver.share_item", "CoreDriver.move_item", "CoreDriver.delete_item")
def test_share_move_and_delete_change_where_an_item_is(live_user, scratch):
    communicator, token = live_user.communicator, live_user.token
    one = communicator.create_folder(token, "one", scratch["folder_id"])["folder_id"]
    two = communicator.create_folder(token, "two", scratch["folder_id"])["folder_id"]
    three = communicator.create_folder(token, "three", scratch["folder_id"])["folder_id"]
    item = communicator.create_item(token, "travelling", one)["item_id"]

    communicator.share_item(token, item, two)
    assert _item_names(communicator, token, one) == _item_names(communicator, token, two) == [
        "travelling"
    ]
    communicator.move_item(token, item, one, three)
    assert _item_names(communicator, token, one) == []
    assert _item_names(communicator, token, three) == ["travelling"]
    assert _item_names(communicator, token, two) == ["travelling"]

    communicator.delete_item(token, item)
    with pytest.raises(exceptions.InvalidPolicy):
        communicator.item_get(token, item)
    assert _item_names(communicator, token, two) == _item_names(communicator, token, three) == []


@covers("CoreDriver.set_item_metadata", "CoreDriver.get_item_metadata")
def test_metadata_is_set_per_revision_with_and_without_qualifier(live_user, scratch, tmp_path):
    communicator, token = live_user.communicator, live_user.token
    item = communicator.create_item(token, "measured", scratch["folder_id"])["item_id"]
    (tmp_path / "v1.txt").write_bytes(uuid.uuid4().bytes)
    (tmp_path / "v2.txt").write_bytes(uuid.uuid4().bytes)
    live_user.upload(item, tmp_path / "v1.txt")
    communicator.set_item_metadata(token, item, "contributor", "Jane", qualifier="author")
    communicator.set_item_metadata(token, item, "contributor", "Joan", qualifier="author")
    communicator.set_item_metadata(token, item, "note", "first revision", qualifier="")
    live_user.upload(item, tmp_path / "v2.txt", create_additional_revision=True)
    communicator.set_item_metadata(token, item, "note", "second revision")

    def values(entries):
        return {(entry["element"], entry["qualifier"]): entry["value"] for entry in entries}

    assert values(communicator.get_item_metadata(item, token, revision=1)) == {
        ("contributor", "author"): "Joan",  # set again: overwritten
        ("note", ""): "first revision",
    }
    assert values(communicator.get_item_metadata(item, token)) == {("note", ""): "second revision"}
    with pytest.raises(exceptions.InvalidParameter, match="revision number is invalid"):
        communicator.get_item_metadata(item, token, revision=3)


@covers(
    "CoreDriver.search_item_by_name",
    "CoreDriver.search_item_by_name_and_folder",
    "CoreDriver.search_item_by_name_and_folder_name",
)
def test_items_are_found_by_name_and_folder(live_user, scratch):
    communicator, token = live_user.communicator, live_user.token
    name = f"needle-{uuid.uuid4().hex[:8]}"
    here = communicator.create_folder(token, "here", scratch["folder_id"])
    there = communicator.create_folder(token, "there", scratch["folder_id"])
    first = communicator.create_item(token, name, here["folder_id"])["item_id"]
    second = communicator.create_item(token, name, there["folder_id"])["item_id"]

    assert sorted(i["item_id"] for i in communicator.search_item_by_name(name, token)) == sorted(
        [first, second]
    )
    found = communicator.search_item_by_name_and_folder(name, there["folder_id"], token)
    assert [item["item_id"] for item in found] == [second]
    found = communicator.search_item_by_name_and_folder_name(name, "here", token)
    assert [item["item_id"] for item in found] == [first]
    # A private item is not found by someone else.
    assert communicator.search_item_by_name(name) == []


@covers("CoreDriver.search")
def test_resource_search_finds_a_readable_item(live_user, scratch):
    communicator, token = live_user.communicator, live_user.token
    name = f"findme{uuid.uuid4().hex[:10]}"
    item = communicator.create_item(token, name, scratch["folder_id"])["item_id"]
    answer = communicator.search(name, token)
    assert answer["nitems"] == "1"
    assert [(r["resultType"], r["item_id"]) for r in answer["results"]] == [("item", item)]
    assert communicator.search(name)["results"] == []


@covers("CoreDriver.create_link", "CoreDriver.item_get")
def test_a_link_is_an_item_whose_bitstream_is_the_url(live_user, scratch):
    communicator, token = live_user.communicator, live_user.token
    url = "http://127.0.0.1:9/reference/atlas.nii"
    checksum = "0123456789abcdef0123456789abcdef"
    link = communicator.create_link(
        token, scratch["folder_id"], url, item_name="atlas link", length=4096, checksum=checksum
    )
    # As for item.create, the fresh counters are empty strings.
    assert (link["name"], link["view"], link["download"]) == ("atlas link", "", "")
    bitstreams = live_user.head(link["item_id"])["bitstreams"]
    assert [(b["path"], b["sizebytes"], b["checksum"]) for b in bitstreams] == [
        (url, "4096", checksum)
    ]
    plain = communicator.create_link(token, scratch["folder_id"], url)
    assert plain["name"] == url
    assert [b["checksum"] for b in live_user.head(plain["item_id"])["bitstreams"]] == [" "]
