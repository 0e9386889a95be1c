"""Refusals on a real server: invalid tokens, missing objects, unknown methods, PHP errors.

Each is raised as the :mod:`pydas.exceptions` class of the server's answer,
with the method named and no secret quoted.
"""

import pytest

from pydas import exceptions

covers = pytest.mark.covers

INVALID_TOKEN = "Q" * 32
MISSING = 987654321


def _assert_clean(error, *secrets):
    for secret in secrets:
        assert secret not in str(error) and secret not in repr(error)


@covers("CoreDriver.folder_get", "CoreDriver.list_user_folders", "CoreDriver.item_get",
        "CoreDriver.download_item", "CoreDriver.download_bitstream",
        "CoreDriver.generate_upload_token", "CoreDriver.create_folder")
def test_an_invalid_token_is_refused_even_where_anonymous_calls_work(live_user):
    communicator = live_user.communicator
    calls = {
        "midas.folder.get": lambda token: communicator.folder_get(token, live_user.public_id),
        "midas.user.folders": communicator.list_user_folders,
        "midas.item.get": lambda token: communicator.item_get(token, MISSING),
        "midas.item.download": lambda token: communicator.download_item(MISSING, token),
        "midas.bitstream.download": lambda token: communicator.download_bitstream(MISSING, token),
        "midas.upload.generatetoken": lambda token: communicator.generate_upload_token(
            token, MISSING, "x.bin"),
        "midas.folder.create": lambda token: communicator.create_folder(
            token, "x", live_user.private_id),
    }
    for method, call in calls.items():
        # An empty token is a token too: only a missing one is anonymous.
        for token in (INVALID_TOKEN, ""):
            with pytest.raises(exceptions.InvalidToken, match="Invalid token") as refused:
                call(token)
            assert (refused.value.method, refused.value.code) == (method, -101)
            _assert_clean(refused.value, INVALID_TOKEN)


@covers("CoreDriver.folder_get", "CoreDriver.item_get", "CoreDriver.delete_folder",
        "CoreDriver.delete_item", "CoreDriver.download_item", "CoreDriver.get_item_metadata",
        "CoreDriver.move_item", "CoreDriver.share_item", "CoreDriver.move_folder",
        "CoreDriver.set_item_metadata", "CoreDriver.get_community_by_id")
def test_a_missing_object_is_invalid_policy(live_user):
    communicator, token = live_user.communicator, live_user.token
    calls = [
        lambda: communicator.folder_get(token, MISSING),
        lambda: communicator.item_get(token, MISSING),
        lambda: communicator.delete_folder(token, MISSING),
        lambda: communicator.delete_item(token, MISSING),
        lambda: communicator.download_item(MISSING, token),
        lambda: communicator.get_item_metadata(MISSING, token),
        lambda: communicator.move_item(token, MISSING, live_user.private_id, live_user.public_id),
        lambda: communicator.share_item(token, MISSING, live_user.public_id),
        lambda: communicator.move_folder(token, MISSING, live_user.public_id),
        lambda: communicator.set_item_metadata(token, MISSING, "note", "x"),
        lambda: communicator.get_community_by_id(MISSING, token),
    ]
    for call in calls:
        with pytest.raises(exceptions.InvalidPolicy, match="doesn't exist"):
            call()


@covers("CoreDriver.download_bitstream", "CoreDriver.create_item", "CoreDriver.create_folder",
        "CoreDriver.get_upload_offset")
def test_other_missing_objects_have_their_own_answers(live_user):
    communicator, token = live_user.communicator, live_user.token
    with pytest.raises(exceptions.InvalidParameter, match="bitstream does not exist"):
        communicator.download_bitstream(MISSING, token)
    with pytest.raises(exceptions.InvalidParameter, match="Parent folder doesn't exist"):
        communicator.create_item(token, "orphan", MISSING)
    with pytest.raises(exceptions.InvalidParameter, match="Parent doesn't exist"):
        communicator.create_folder(token, "orphan", MISSING)
    assert communicator.get_upload_offset(f"{live_user.user_id}/{MISSING}/unknown") is None


@covers("CoreDriver.folder_children")
def test_the_children_of_a_missing_folder_crash_the_server(live_user):
    # PHP dies on a null folder; pydas reports the HTTP 500 page, not a parse failure.
    with pytest.raises(exceptions.InternalError) as crashed:
        live_user.communicator.folder_children(live_user.token, MISSING)
    assert crashed.value.code == 500 and crashed.value.method == "midas.folder.children"
    _assert_clean(crashed.value, live_user.token)


def test_item_search_is_broken_upstream(live_user):
    # midas.item.search calls a method that SearchComponent lacks: HTTP 500 (pydas has no
    # driver method for it; this shows how pydas reports such a crash).
    with pytest.raises(exceptions.InternalError, match="HTTP 500") as crashed:
        live_user.call("midas.item.search", search="anything")
    _assert_clean(crashed.value, live_user.token)


@covers("CoreDriver.create_folder", "CoreDriver.delete_folder", "CoreDriver.folder_get")
def test_anonymous_changes_are_refused(live_user):
    communicator = live_user.communicator
    with pytest.raises(exceptions.InvalidPolicy, match="anonymously"):
        communicator.create_folder(None, "anonymous", live_user.public_id)
    # The delete methods say it differently.
    with pytest.raises(exceptions.InvalidToken, match="Unable to find user"):
        communicator.delete_folder(None, live_user.public_id)
    assert communicator.folder_get(live_user.token, live_user.public_id)["name"] == "Public"


def test_an_unknown_method_and_a_missing_parameter(live_user):
    with pytest.raises(exceptions.UnknownMethod, match="does not exist"):
        live_user.call("midas.no.such.method")
    with pytest.raises(exceptions.InvalidParameter, match="Parameter id is not defined"):
        live_user.call("midas.folder.get")
