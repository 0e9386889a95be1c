"""Server description, users and API keys on a real server."""

import pytest

from pydas import exceptions
from pydas.core import Communicator

covers = pytest.mark.covers


@covers("CoreDriver.get_server_version", "CoreDriver.get_server_info", "CoreDriver.list_modules")
def test_server_describes_itself(live_user):
    communicator = live_user.communicator
    version = communicator.get_server_version()
    info = communicator.get_server_info()
    modules = communicator.list_modules()
    assert version.split(".")[0] == "3" and version.count(".") == 2
    assert info["version"] == version
    assert info["name"] == "Midas Platform - Digital Archiving System"
    # In the order the modules were enabled; scheduler is there because others need it.
    assert info["modules"] == modules
    assert {"api", "scheduler", "mfa", "thumbnailcreator", "dicomextractor"} <= set(modules)
    assert "solr" not in modules and "batchmake" not in modules
    # The REST resources are absolute URLs of this server.
    assert info["resources"]["/item"] == f"{communicator.url}/rest/item"


@covers("BaseDriver.request", "BaseDriver.close")
def test_a_communicator_closes_and_sends_any_method(live_url):
    communicator = Communicator(live_url)
    names = {entry["name"] for entry in communicator.request("midas.methods.list")["methods"]}
    communicator.close()
    assert {"item.get", "upload.perform", "mfa.otp.login"} <= names


@covers("CoreDriver.list_user_folders")
def test_the_home_folder_lists_private_and_public(live_user):
    folders = live_user.communicator.list_user_folders(live_user.token)
    assert [folder["name"] for folder in folders] == ["Private", "Public"]
    assert {folder["parent_id"] for folder in folders} == {live_user.user["folder_id"]}
    assert [folder["privacy_status"] for folder in folders] == ["2", "0"]


@covers("CoreDriver.list_user_folders")
def test_without_a_token_the_home_is_empty(live_user):
    assert live_user.communicator.list_user_folders(None) == []


@covers("CoreDriver.get_default_api_key")
def test_the_default_api_key_comes_with_the_password(live, live_user):
    communicator = live_user.communicator
    assert communicator.get_default_api_key(live["MIDAS_EMAIL"], live["MIDAS_PASSWORD"]) == (
        live["MIDAS_API_KEY"]
    )
    with pytest.raises(exceptions.InvalidParameter, match="Login failed"):
        communicator.get_default_api_key(live["MIDAS_EMAIL"], "not the password")


@covers("CoreDriver.list_users")
def test_list_users_honours_the_limit(live, live_user):
    communicator = live_user.communicator
    everyone = communicator.list_users()
    assert {live["MIDAS_EMAIL"], live["MIDAS_ADMIN_EMAIL"]} <= {user["email"] for user in everyone}
    assert len(communicator.list_users(limit=1)) == 1
    assert "password" not in everyone[0] and "salt" not in everyone[0]


@covers("CoreDriver.get_user_by_name", "CoreDriver.get_user_by_id", "CoreDriver.get_user_by_email")
def test_a_user_is_found_by_name_id_and_email(live, live_user):
    communicator = live_user.communicator
    by_email = communicator.get_user_by_email(live["MIDAS_EMAIL"])
    by_id = communicator.get_user_by_id(by_email["user_id"])
    by_name = communicator.get_user_by_name(by_email["firstname"], by_email["lastname"])
    assert by_email == by_id == by_name
    assert by_email["email"] == live["MIDAS_EMAIL"] and by_email["admin"] == "0"


@covers("CoreDriver.get_user_by_name", "CoreDriver.get_user_by_id", "CoreDriver.get_user_by_email")
def test_an_unknown_user_is_an_empty_answer(live_user):
    communicator = live_user.communicator
    assert communicator.get_user_by_email("nobody-at-all@example.com") == ""
    assert communicator.get_user_by_id(987654321) == ""
    assert communicator.get_user_by_name("Nobody", "Atall") == ""
