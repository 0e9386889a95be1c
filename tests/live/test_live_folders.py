"""Folders on a real server: create (with every option), read, list, move, delete."""

import uuid

import pytest

from pydas import exceptions

covers = pytest.mark.covers


@covers("CoreDriver.create_folder", "CoreDriver.folder_get")
def test_a_folder_keeps_its_description_privacy_and_uuid(live_user, scratch):
    communicator, token = live_user.communicator, live_user.token
    wanted = uuid.uuid4().hex
    created = communicator.create_folder(
        token, "results", scratch["folder_id"], description="run 7", uuid=wanted, privacy="Public"
    )
    folder = communicator.folder_get(token, created["folder_id"])
    assert (folder["name"], folder["description"], folder["uuid"]) == ("results", "run 7", wanted)
    assert folder["privacy_status"] == "0"
    assert folder["parent_id"] == scratch["folder_id"] == folder["parent"]["folder_id"]
    private = communicator.create_folder(token, "closed", scratch["folder_id"], privacy="Private")
    assert communicator.folder_get(token, private["folder_id"])["privacy_status"] == "2"


@covers("CoreDriver.create_folder", "CoreDriver.folder_get")
def test_a_folder_given_by_uuid_is_updated_not_duplicated(live_user, scratch):
    communicator, token = live_user.communicator, live_user.token
    wanted = uuid.uuid4().hex
    first = communicator.create_folder(
        token, "before", scratch["folder_id"], uuid=wanted, description="kept"
    )
    again = communicator.create_folder(token, "after", scratch["folder_id"], uuid=wanted)
    assert again["folder_id"] == first["folder_id"]
    folder = communicator.folder_get(token, first["folder_id"])
    assert folder["name"] == "after"
    # pydas sends no description when none is given, so the old one stays.
    assert folder["description"] == "kept"


@covers("CoreDriver.create_folder", "CoreDriver.folder_children")
def test_a_taken_name_is_refused_unless_reused(live_user, scratch):
    communicator, token = live_user.communicator, live_user.token
    first = communicator.create_folder(token, "twice", scratch["folder_id"])
    with pytest.raises(exceptions.InvalidParameter, match="already exists"):
        communicator.create_folder(token, "twice", scratch["folder_id"])
    reused = communicator.create_folder(token, "twice", scratch["folder_id"], reuse_existing=True)
    assert reused["folder_id"] == first["folder_id"]
    children = communicator.folder_children(token, scratch["folder_id"])
    assert [folder["name"] for folder in children["folders"]] == ["twice"]


@covers("CoreDriver.folder_children", "CoreDriver.create_item")
def test_children_are_folders_and_items_sorted_by_name(live_user, scratch):
    communicator, token = live_user.communicator, live_user.token
    for name in ("b", "a", "c"):
        communicator.create_folder(token, f"folder {name}", scratch["folder_id"])
        communicator.create_item(token, f"item {name}", scratch["folder_id"])
    children = communicator.folder_children(token, scratch["folder_id"])
    assert [f["name"] for f in children["folders"]] == ["folder a", "folder b", "folder c"]
    assert [i["name"] for i in children["items"]] == ["item a", "item b", "item c"]


@covers("CoreDriver.move_folder", "CoreDriver.folder_children", "CoreDriver.folder_get")
def test_a_moved_folder_has_its_new_parent(live_user, scratch):
    communicator, token = live_user.communicator, live_user.token
    source = communicator.create_folder(token, "source", scratch["folder_id"])
    target = communicator.create_folder(token, "target", scratch["folder_id"])
    moved = communicator.move_folder(token, source["folder_id"], target["folder_id"])
    assert moved["folder_id"] == source["folder_id"]
    assert communicator.folder_get(token, source["folder_id"])["parent_id"] == target["folder_id"]
    inside = communicator.folder_children(token, target["folder_id"])["folders"]
    assert [folder["folder_id"] for folder in inside] == [source["folder_id"]]
    top = communicator.folder_children(token, scratch["folder_id"])["folders"]
    assert [folder["name"] for folder in top] == ["target"]


@covers("CoreDriver.delete_folder", "CoreDriver.folder_get", "CoreDriver.item_get")
def test_a_deleted_folder_takes_its_contents_with_it(live_user, scratch):
    communicator, token = live_user.communicator, live_user.token
    doomed = communicator.create_folder(token, "doomed", scratch["folder_id"])
    inner = communicator.create_folder(token, "inner", doomed["folder_id"])
    item = communicator.create_item(token, "thing", inner["folder_id"])
    communicator.delete_folder(token, doomed["folder_id"])
    for folder_id in (doomed["folder_id"], inner["folder_id"]):
        with pytest.raises(exceptions.InvalidPolicy, match="doesn't exist"):
            communicator.folder_get(token, folder_id)
    with pytest.raises(exceptions.InvalidPolicy):
        communicator.item_get(token, item["item_id"])
    assert communicator.folder_children(token, scratch["folder_id"])["folders"] == []
