"""The smallest live test: the configured server answers as a Midas Server 3."""

from pydas.core import Communicator


def test_server_answers_its_version(live):
    with Communicator(live["MIDAS_URL"]) as communicator:
        version = communicator.get_server_version()
    assert version.count(".") == 2 and version.split(".")[0] == "3"


def test_user_logs_in_with_the_api_key(live):
    with Communicator(live["MIDAS_URL"]) as communicator:
        token = communicator.login_with_api_key(live["MIDAS_EMAIL"], live["MIDAS_API_KEY"])
        folders = communicator.list_user_folders(token)
    assert len(token) == 32
    assert {"Private", "Public"} <= {folder["name"] for folder in folders}
