"""Re-runs of unchanged data move no bytes; changed files become new revisions."""

import collections

import pytest
from support.servertree import item_files, md5, methods, server_tree, write_tree

import pydas
from pydas._transfer.lookahead import DEPTH

TREE = {
    "data/a.txt": b"a",
    "data/b.txt": b"bb",
    "data/sub/c.txt": b"ccc",
    "data/sub/series/1.dcm": b"one",
    "data/sub/series/2.dcm": b"two",
}


def _upload(**kwargs):
    pydas.upload("data", reuse_existing=True, leaf_folders_as_items=True, quiet=True, **kwargs)


def test_rerun_of_an_unchanged_upload_sends_nothing(logged_in, tmp_path, monkeypatch,
                                                    midas_server, midas_user):
    write_tree(tmp_path, TREE)
    monkeypatch.chdir(tmp_path)
    _upload()
    before = server_tree(midas_user.private_folder_id)
    midas_server.clear_request_log()
    _upload()
    assert collections.Counter(methods(midas_server)) == {
        "midas.user.folders": 1,
        "midas.folder.children": 3,  # Private, data, data/sub: once each
        "midas.item.get": 4,  # a.txt, b.txt, sub/c.txt, sub/series
    }
    assert server_tree(midas_user.private_folder_id) == before


def test_rerun_of_an_unchanged_download_fetches_no_file(logged_in, tmp_path, monkeypatch,
                                                        midas_server):
    write_tree(tmp_path / "source", TREE)
    monkeypatch.chdir(tmp_path / "source")
    _upload()
    target = tmp_path / "target"
    pydas.download("Private/data", str(target), quiet=True)
    with pytest.raises(FileExistsError, match="allow_existing_download_paths"):
        pydas.download("Private/data", str(target), quiet=True)
    pydas.allow_existing_download_paths()
    midas_server.clear_request_log()
    pydas.download("Private/data", str(target), quiet=True)
    log = methods(midas_server)
    assert None not in log  # no /download/ request
    assert collections.Counter(log) == {
        "midas.user.folders": 1,
        "midas.folder.children": 3,  # one per folder, including the resolution of the path
        "midas.item.get": 4,
    }


def test_download_replaces_a_changed_local_file(logged_in, tmp_path, monkeypatch, midas_server):
    write_tree(tmp_path / "source", TREE)
    monkeypatch.chdir(tmp_path / "source")
    _upload()
    target = tmp_path / "target"
    pydas.download("Private/data", str(target), quiet=True)
    (target / "data" / "a.txt").write_bytes(b"z")  # same size, other content
    pydas.allow_existing_download_paths()
    midas_server.clear_request_log()
    pydas.download("Private/data", str(target), quiet=True)
    assert methods(midas_server).count(None) == 1  # one POST /download/
    assert (target / "data" / "a.txt").read_bytes() == b"a"


def test_a_changed_file_becomes_a_new_revision(logged_in, tmp_path, monkeypatch, midas_server,
                                               midas_user):
    write_tree(tmp_path, TREE)
    monkeypatch.chdir(tmp_path)
    _upload()
    (tmp_path / "data" / "a.txt").write_bytes(b"A changed")
    midas_server.clear_request_log()
    _upload()
    tokens = [r for r in midas_server.request_log if r.api_method == "midas.upload.generatetoken"]
    performs = [r for r in midas_server.request_log if r.api_method == "midas.upload.perform"]
    assert len(tokens) == 1 and "checksum" not in tokens[0].params
    assert len(performs) == 1 and "revision" not in performs[0].params
    data = server_tree(midas_user.private_folder_id)["data/"]
    assert data["a.txt"] == {"a.txt": md5(b"A changed")}
    assert data["b.txt"] == {"b.txt": md5(b"bb")}
    children = pydas.session.communicator.folder_children(
        pydas.session.token,
        pydas.session.communicator.folder_children(
            pydas.session.token, midas_user.private_folder_id
        )["folders"][0]["folder_id"],
    )
    item = next(i for i in children["items"] if i["name"] == "a.txt")
    revisions = pydas.session.communicator.item_get(pydas.session.token, item["item_id"])
    assert sorted(int(r["revision"]) for r in revisions["revisions"]) == [1, 2]


def test_a_changed_file_in_a_leaf_item_keeps_the_others_without_resending(
    logged_in, tmp_path, monkeypatch, midas_server, midas_user
):
    write_tree(tmp_path, TREE)
    monkeypatch.chdir(tmp_path)
    _upload()
    (tmp_path / "data" / "sub" / "series" / "2.dcm").write_bytes(b"TWO")
    (tmp_path / "data" / "sub" / "series" / "3.dcm").write_bytes(b"three")
    midas_server.clear_request_log()
    _upload()
    performs = [r for r in midas_server.request_log if r.api_method == "midas.upload.perform"]
    # 2.dcm starts the new revision, 3.dcm is new content; 1.dcm goes by checksum
    assert len(performs) == 2
    assert sum(r.body_bytes for r in performs) == len(b"TWO") + len(b"three")
    series = server_tree(midas_user.private_folder_id)["data/"]["sub/"]["series"]
    assert series == {"1.dcm": md5(b"one"), "2.dcm": md5(b"TWO"), "3.dcm": md5(b"three")}


def test_without_reuse_existing_items_are_uploaded_again(logged_in, tmp_path, monkeypatch,
                                                         midas_user):
    write_tree(tmp_path, {"x.txt": b"x"})
    monkeypatch.chdir(tmp_path)
    pydas.upload("x.txt", quiet=True)
    pydas.upload("x.txt", quiet=True)
    assert sorted(server_tree(midas_user.private_folder_id)) == ["x.txt", "x.txt (1)"]
    for item in pydas.session.communicator.folder_children(
        pydas.session.token, midas_user.private_folder_id
    )["items"]:
        assert item_files(item["item_id"]) == {"x.txt": md5(b"x")}


def test_uploading_a_folder_again_without_reuse_says_what_to_do(logged_in, tmp_path,
                                                                monkeypatch, midas_user):
    write_tree(tmp_path, {"data/a.txt": b"a"})
    monkeypatch.chdir(tmp_path)
    pydas.upload("data", quiet=True)
    with pytest.raises(pydas.exceptions.InvalidParameter,
                       match="already holds a folder named 'data'; pass reuse_existing=True"):
        pydas.upload("data", quiet=True)
    assert server_tree(midas_user.private_folder_id) == {"data/": {"a.txt": {"a.txt": md5(b"a")}}}


def test_one_worker_looks_a_few_items_up_ahead_of_their_downloads(logged_in, tmp_path,
                                                                  monkeypatch, midas_server):
    write_tree(tmp_path, {f"many/{n:02}.txt": bytes([65 + n]) for n in range(12)})
    monkeypatch.chdir(tmp_path)
    pydas.upload("many", quiet=True)
    midas_server.clear_request_log()
    pydas.download("Private/many", str(tmp_path / "copy"), quiet=True)
    sent = [m for m in methods(midas_server) if m in ("midas.item.get", None)]
    assert sent.count("midas.item.get") == 12 and sent.count(None) == 12
    # output starts at once: the first file comes after a few lookups, not all of them
    assert sent.index(None) <= DEPTH + 1
    for downloads in range(1, 13):  # every file was looked up before it was fetched
        prefix = sent[:[i for i, m in enumerate(sent) if m is None][downloads - 1]]
        assert prefix.count("midas.item.get") >= downloads
