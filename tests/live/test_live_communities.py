"""Communities on a real server (created by the administrator)."""

import uuid

import pytest

from pydas import exceptions

covers = pytest.mark.covers


@covers("CoreDriver.create_community", "CoreDriver.get_community_by_name",
        "CoreDriver.get_community_by_id", "CoreDriver.get_community_children",
        "CoreDriver.list_communities")
def test_a_public_community_is_found_every_way(live_admin, live_user, make_community):
    communicator, token = live_admin.communicator, live_admin.token
    community = make_community(live_admin, description="brain atlas", privacy="Public",
                               can_join="Everyone")
    name = community["name"]
    assert name[0].isupper()  # the server upper-cases the first letter
    assert (community["privacy"], community["can_join"], community["view"]) == ("0", "1", "")
    by_name = communicator.get_community_by_name(name, token)
    by_id = communicator.get_community_by_id(community["community_id"])
    assert by_name["community_id"] == by_id["community_id"] == community["community_id"]
    assert by_id["description"] == "brain atlas"
    children = communicator.get_community_children(community["community_id"], token)["folders"]
    assert [folder["name"] for folder in children] == ["Private", "Public"]
    # Anyone sees a public community; the normal user is not a member.
    listed = live_user.communicator.list_communities(live_user.token)
    assert community["community_id"] in {c["community_id"] for c in listed}
    public = live_user.communicator.get_community_children(community["community_id"])["folders"]
    assert [folder["name"] for folder in public] == ["Public"]


@covers("CoreDriver.create_community", "CoreDriver.get_community_by_id",
        "CoreDriver.get_community_children", "CoreDriver.list_communities")
def test_a_private_community_is_hidden_from_others(live_admin, live_user, make_community):
    community = make_community(live_admin, privacy="Private", can_join="Invitation")
    assert (community["privacy"], community["can_join"]) == ("1", "0")
    children = live_admin.communicator.get_community_children(
        community["community_id"], live_admin.token
    )
    assert [folder["name"] for folder in children["folders"]] == ["Private"]
    for token in (live_user.token, None):
        with pytest.raises(exceptions.InvalidPolicy, match="doesn't exist"):
            live_user.communicator.get_community_by_id(community["community_id"], token)
    listed = live_user.communicator.list_communities(live_user.token)
    assert community["community_id"] not in {c["community_id"] for c in listed}


@covers("CoreDriver.create_community", "CoreDriver.get_community_by_id")
def test_a_community_given_by_uuid_is_updated(live_admin, make_community):
    communicator, token = live_admin.communicator, live_admin.token
    wanted = uuid.uuid4().hex
    community = make_community(live_admin, uuid=wanted, privacy="Private")
    renamed = f"renamed {wanted[:8]}"
    again = communicator.create_community(token, renamed, uuid=wanted, privacy="Public",
                                          can_join="Everyone")
    assert again["community_id"] == community["community_id"]
    stored = communicator.get_community_by_id(community["community_id"], token)
    # Renaming through the uuid keeps the name as given (no capital letter).
    assert (stored["name"], stored["privacy"], stored["uuid"]) == (renamed, "0", wanted)


@covers("CoreDriver.create_community", "CoreDriver.get_community_by_name")
def test_only_an_administrator_creates_communities(live_user):
    name = f"Not allowed {uuid.uuid4().hex[:8]}"
    with pytest.raises(exceptions.InvalidPolicy, match="Only admins"):
        live_user.communicator.create_community(live_user.token, name)
    with pytest.raises(exceptions.InvalidPolicy):
        live_user.communicator.get_community_by_name(name, live_user.token)
