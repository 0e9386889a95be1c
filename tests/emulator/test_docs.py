"""The example of docs/testing.rst, kept runnable: the fixtures with the high-level API."""

import pydas
from pydas.drivers import CoreDriver


def test_upload_and_list(midas_server, midas_user, tmp_path):
    (tmp_path / "scan.nii").write_bytes(b"...")
    pydas.login(email=midas_user.email, api_key=midas_user.api_key,
                url=midas_server.url)
    pydas.upload(str(tmp_path / "scan.nii"))

    with CoreDriver(midas_server.url) as core:
        token = core.login_with_api_key(midas_user.email, midas_user.api_key)
        private = core.folder_children(token, midas_user.private_folder_id)
        assert [item["name"] for item in private["items"]] == ["scan.nii"]
