"""The three quick-start examples of the manual, and its login, against the emulator."""

import getpass

from support.servertree import md5, methods, server_tree, write_tree

import pydas


def test_login_prompts_exactly_like_the_manual(monkeypatch, midas_server, midas_user):
    prompts = []
    answers = {"Server URL: ": midas_server.url, "Email: ": midas_user.email}

    def fake_input(prompt=""):
        prompts.append(prompt)
        return answers[prompt]

    def fake_getpass(prompt="Password: ", stream=None):
        prompts.append(prompt)
        return midas_user.password

    monkeypatch.setattr("builtins.input", fake_input)
    monkeypatch.setattr(getpass, "getpass", fake_getpass)
    token = pydas.login()
    assert prompts == ["Server URL: ", "Email: ", "Password: "]
    assert isinstance(token, str) and len(token) == 32
    assert pydas.session.token == token
    assert pydas.session.email == midas_user.email
    assert pydas.session.api_key == midas_user.api_key
    assert pydas.session.url == midas_server.url
    assert methods(midas_server) == ["midas.user.apikey.default", "midas.login"]


def test_login_prompts_only_for_what_is_missing(monkeypatch, midas_server, midas_user):
    monkeypatch.setattr("builtins.input", lambda prompt="": midas_user.email)
    monkeypatch.setattr(getpass, "getpass", lambda prompt="", stream=None: 1 / 0)
    token = pydas.login(api_key=midas_user.api_key, url=midas_server.url)
    assert len(token) == 32
    assert methods(midas_server) == ["midas.login"]


def test_simple_upload(logged_in, tmp_path, monkeypatch, capsys, midas_user):
    write_tree(tmp_path, {"myfiles/file1.txt": b"one\n", "myfiles/file2.txt": b"two\n"})
    monkeypatch.chdir(tmp_path)
    pydas.upload("myfiles")
    assert capsys.readouterr().out == (
        "Creating Folder from myfiles\n"
        "Uploading Item from myfiles/file1.txt\n"
        "Uploading Item from myfiles/file2.txt\n"
    )
    assert server_tree(midas_user.private_folder_id) == {
        "myfiles/": {
            "file1.txt": {"file1.txt": md5(b"one\n")},
            "file2.txt": {"file2.txt": md5(b"two\n")},
        }
    }


def test_leaf_folders_as_items(logged_in, tmp_path, monkeypatch, capsys, midas_user):
    files = {
        "folders_as_items/item1/bitstream1_1.txt": b"1.1",
        "folders_as_items/item1/bitstream1_2.txt": b"1.2",
        "folders_as_items/item2/bitstream2_1.txt": b"2.1",
        "folders_as_items/item2/bitstream2_2.txt": b"2.2",
    }
    write_tree(tmp_path, files)
    monkeypatch.chdir(tmp_path)
    pydas.upload("folders_as_items", leaf_folders_as_items=True)
    assert capsys.readouterr().out == (
        "Creating Folder from folders_as_items\n"
        "Creating Item from folders_as_items/item1.\n"
        "Uploading Bitstream from folders_as_items/item1/bitstream1_1.txt (1 of 2)\n"
        "Uploading Bitstream from folders_as_items/item1/bitstream1_2.txt (2 of 2)\n"
        "Creating Item from folders_as_items/item2.\n"
        "Uploading Bitstream from folders_as_items/item2/bitstream2_1.txt (1 of 2)\n"
        "Uploading Bitstream from folders_as_items/item2/bitstream2_2.txt (2 of 2)\n"
    )
    assert server_tree(midas_user.private_folder_id) == {
        "folders_as_items/": {
            "item1": {"bitstream1_1.txt": md5(b"1.1"), "bitstream1_2.txt": md5(b"1.2")},
            "item2": {"bitstream2_1.txt": md5(b"2.1"), "bitstream2_2.txt": md5(b"2.2")},
        }
    }


def test_dicom_example_with_an_upload_callback(logged_in, tmp_path, monkeypatch, capsys,
                                              midas_user):
    files = {}
    for series, prefix in (("series1", "0038"), ("series2", "0050")):
        for number in (2, 4, 1, 3):
            files[f"dicom_data/{series}/{prefix}000{number}.dcm"] = f"{series}{number}".encode()
    write_tree(tmp_path, files)
    monkeypatch.chdir(tmp_path)
    calls = []
    pydas.add_item_upload_callback(
        lambda communicator, token, item_id: calls.append((communicator, token, item_id))
    )
    pydas.upload("dicom_data", leaf_folders_as_items=True)
    lines = capsys.readouterr().out.splitlines()
    # the manual shows the raw directory order; pydas walks sorted by name
    assert lines == [
        "Creating Folder from dicom_data",
        "Creating Item from dicom_data/series1.",
        "Uploading Bitstream from dicom_data/series1/00380001.dcm (1 of 4)",
        "Uploading Bitstream from dicom_data/series1/00380002.dcm (2 of 4)",
        "Uploading Bitstream from dicom_data/series1/00380003.dcm (3 of 4)",
        "Uploading Bitstream from dicom_data/series1/00380004.dcm (4 of 4)",
        "Creating Item from dicom_data/series2.",
        "Uploading Bitstream from dicom_data/series2/00500001.dcm (1 of 4)",
        "Uploading Bitstream from dicom_data/series2/00500002.dcm (2 of 4)",
        "Uploading Bitstream from dicom_data/series2/00500003.dcm (3 of 4)",
        "Uploading Bitstream from dicom_data/series2/00500004.dcm (4 of 4)",
    ]
    expected = {"series1": {}, "series2": {}}
    for relative, content in files.items():
        _, series, name = relative.split("/")
        expected[series][name] = md5(content)
    assert server_tree(midas_user.private_folder_id) == {"dicom_data/": expected}
    children = pydas.session.communicator.folder_children(
        pydas.session.token,
        pydas.session.communicator.folder_children(
            pydas.session.token, midas_user.private_folder_id
        )["folders"][0]["folder_id"],
    )
    item_ids = sorted(item["item_id"] for item in children["items"])
    assert sorted(str(call[2]) for call in calls) == sorted(str(i) for i in item_ids)
    assert all(call[0] is pydas.session.communicator for call in calls)
    assert all(call[1] == pydas.session.token for call in calls)
