"""Server names can never make a download write outside the chosen directory."""

import os

import pytest
from support.servertree import local_tree, methods

import pydas
from pydas.exceptions import UnsafePathError

EVIL_NAMES = ["../escape.txt", "/abs.txt", "..", ".", "a\\b.txt", "C:drive.txt", "sub/../../x"]


def _snapshot(root, skip):
    seen = set()
    for directory, dirs, files in os.walk(root):
        if os.path.abspath(directory).startswith(os.path.abspath(skip)):
            continue
        for name in dirs + files:
            seen.add(os.path.join(directory, name))
    return seen


def test_malicious_names_stay_inside_the_target(logged_in, tmp_path, midas_user, capsys):
    communicator, token = pydas.session.communicator, pydas.session.token
    root = communicator.create_folder(token, "evil", midas_user.private_folder_id)
    payload = tmp_path / "payload"
    payload.write_bytes(b"gotcha")
    for name in EVIL_NAMES:
        item = communicator.create_item(token, name, root["folder_id"])
        upload_token = communicator.generate_upload_token(token, item["item_id"], name)
        communicator.perform_upload(upload_token, name, filepath=str(payload))
    communicator.create_folder(token, "../up", root["folder_id"])
    work = tmp_path / "work"
    target = work / "target"
    target.mkdir(parents=True)
    before = _snapshot(str(tmp_path), str(target))
    pydas.download("Private/evil", str(target))
    assert _snapshot(str(tmp_path), str(target)) == before
    assert local_tree(target / "evil") == {
        ".._escape.txt": local_tree(tmp_path)["payload"],
        "_abs.txt": local_tree(tmp_path)["payload"],
        "__": local_tree(tmp_path)["payload"],
        "_": local_tree(tmp_path)["payload"],
        "a_b.txt": local_tree(tmp_path)["payload"],
        "C_drive.txt": local_tree(tmp_path)["payload"],
        "sub_.._.._x": local_tree(tmp_path)["payload"],
        ".._up/": None,
    }
    out = capsys.readouterr().out
    assert "Renaming unsafe or clashing server name '../escape.txt' to '.._escape.txt'" in out
    assert "Renaming unsafe or clashing server name '../up' to '.._up'" in out


def test_a_symlink_in_the_target_is_not_followed(logged_in, tmp_path, monkeypatch):
    (tmp_path / "source" / "docs").mkdir(parents=True)
    (tmp_path / "source" / "docs" / "a.txt").write_bytes(b"a")
    monkeypatch.chdir(tmp_path / "source")
    pydas.upload("docs", quiet=True)
    outside = tmp_path / "outside"
    outside.mkdir()
    target = tmp_path / "target"
    target.mkdir()
    (target / "docs").symlink_to(outside)
    pydas.allow_existing_download_paths()
    with pytest.raises(UnsafePathError, match="resolves outside"):
        pydas.download("Private/docs", str(target), quiet=True)
    assert os.listdir(outside) == []


def test_links_are_reported_not_followed(logged_in, tmp_path, midas_user, midas_server, capsys):
    communicator, token = pydas.session.communicator, pydas.session.token
    folder = communicator.create_folder(token, "refs", midas_user.private_folder_id)
    communicator.create_link(token, folder["folder_id"], "http://example.invalid/x.nii",
                             item_name="remote scan")
    (tmp_path / "local.txt").write_bytes(b"l")
    pydas.upload(str(tmp_path / "local.txt"), destination="Private/refs", quiet=True)
    midas_server.clear_request_log()
    target = tmp_path / "target"
    pydas.download("Private/refs", str(target))
    assert os.listdir(target / "refs") == ["local.txt"]
    out = capsys.readouterr().out
    assert "Skipping link http://example.invalid/x.nii in item remote scan" in out
    assert methods(midas_server).count(None) == 1  # one POST /download/
