"""The library calls the command is built on: excludes, dry runs, folder ids, listings."""

import os

import pytest
from support.servertree import write_tree

import pydas
from pydas import exceptions
from pydas.api import TransferSummary

WRITING = {"midas.folder.create", "midas.item.create", "midas.upload.generatetoken",
           "midas.upload.perform", "midas.item.delete", "midas.folder.delete"}




def _methods(server):
    return {record.params.get("method") for record in server.request_log}


def _server_tree(folder_id=None, prefix=""):
    """Every folder, item and head file below a folder, as sorted paths."""
    listing = pydas.api.list_folder(folder_id)
    paths = []
    for folder in listing["folders"]:
        paths.append(f"{prefix}{folder['name']}/")
        paths.extend(_server_tree(folder["folder_id"], f"{prefix}{folder['name']}/"))
    for item in listing["items"]:
        for bitstream in pydas.api.list_item(item["item_id"]):
            paths.append(f"{prefix}{item['name']}:{bitstream['name']}")
    return sorted(paths)


def _local_tree(root):
    return sorted(
        os.path.relpath(os.path.join(directory, name), root).replace(os.sep, "/")
        for directory, _dirs, names in os.walk(root) for name in names
    )


@pytest.fixture
def private(logged_in, midas_user):
    return midas_user.private_folder_id


def test_exclude_works_at_every_level_and_inside_leaf_items(private, tmp_path, monkeypatch):
    write_tree(tmp_path, {
        "scans/a.dcm": b"a", "scans/a.tmp": b"t",
        "scans/series1/x.dcm": b"x", "scans/series1/x.tmp": b"t",
        "scans/series2/raw/r.dcm": b"r", "scans/series2/y.dcm": b"y",
    })
    os.symlink("loop", tmp_path / "scans" / "series1" / "loop")  # an error unless excluded
    monkeypatch.chdir(tmp_path)
    with pytest.raises(exceptions.LocalInputError, match="loop"):
        pydas.upload("scans", leaf_folders_as_items=True, quiet=True)
    summary = TransferSummary()
    pydas.upload("scans", leaf_folders_as_items=True, quiet=True, summary=summary,
                 exclude=["*.tmp", "series1/loop", "raw/"])
    assert summary.uploaded == 3
    # series2 lost its only sub-directory: a leaf, so one item
    assert _server_tree(private) == ["scans/", "scans/a.dcm:a.dcm", "scans/series1:x.dcm",
                                     "scans/series2:y.dcm"]


def test_several_patterns_are_all_checked_before_anything_is_sent(private, tmp_path,
                                                                  midas_server):
    write_tree(tmp_path, {"a.dat": b"a"})
    with pytest.raises(exceptions.LocalInputError, match="missing"):
        pydas.upload([str(tmp_path / "a.dat"), str(tmp_path / "missing")], quiet=True)
    assert not _methods(midas_server) & WRITING
    pydas.upload([str(tmp_path / "a.dat")], destination="Public", quiet=True)
    assert _server_tree() == ["Private/", "Public/", "Public/a.dat:a.dat"]


def test_an_upload_dry_run_says_and_counts_what_it_would_do(private, tmp_path, midas_server,
                                                            capsys):
    root = tmp_path
    write_tree(tmp_path, {"d/same.txt": b"same", "d/changed.txt": b"old",
                            "d/leaf/one.txt": b"1"})
    pydas.upload(str(root / "d"), quiet=True)
    (root / "d" / "changed.txt").write_bytes(b"new content")
    (root / "d" / "leaf" / "two.txt").write_bytes(b"22")
    (root / "d" / "added.txt").write_bytes(b"+")
    before = _server_tree(private)
    midas_server.clear_request_log()
    summary = TransferSummary()
    pydas.upload(str(root / "d"), reuse_existing=True, leaf_folders_as_items=True,
                 summary=summary, dry_run=True)
    assert not _methods(midas_server) & WRITING
    assert _server_tree(private) == before
    d = root / "d"
    assert capsys.readouterr().out.splitlines() == [
        f"Would upload {d / 'added.txt'} (1 byte)",
        f"Would upload {d / 'changed.txt'} as a new revision (11 bytes)",
        f"Would create Item from {d / 'leaf'}",
        f"Would upload {d / 'leaf' / 'one.txt'} (1 byte)",
        f"Would upload {d / 'leaf' / 'two.txt'} (2 bytes)",
        f"Would skip {d / 'same.txt'} (unchanged)",
    ]
    assert summary.as_dict() == {"uploaded": 4, "downloaded": 0, "unchanged": 1, "resumed": 0,
                                 "repaired": 0, "bytes_sent": 15, "bytes_received": 0}


def test_an_existing_folder_is_a_folder_exists_error_also_in_a_dry_run(private, tmp_path,
                                                                       midas_server):
    write_tree(tmp_path, {"d/f.txt": b"f"})
    pydas.upload(str(tmp_path / "d"), quiet=True)
    midas_server.clear_request_log()
    with pytest.raises(exceptions.FolderExists) as dry:
        pydas.upload(str(tmp_path / "d"), quiet=True, dry_run=True)
    assert not _methods(midas_server) & WRITING
    with pytest.raises(exceptions.InvalidParameter) as real:  # the class old code catches
        pydas.upload(str(tmp_path / "d"), quiet=True)
    for caught in (dry.value, real.value):
        assert isinstance(caught, exceptions.FolderExists)
        assert caught.folder_name == "d"
        assert str(caught) == ("the destination already holds a folder named 'd'; "
                               "pass reuse_existing=True to upload into it")
    assert real.value.code == -150 and real.value.method == "midas.folder.create"


def test_upload_into_a_folder_given_by_id(private, midas_user, tmp_path):
    write_tree(tmp_path, {"f.txt": b"f"})
    pydas.upload(str(tmp_path / "f.txt"), folder_id=midas_user.public_folder_id, quiet=True)
    assert _server_tree() == ["Private/", "Public/", "Public/f.txt:f.txt"]
    with pytest.raises(ValueError, match="not both"):
        pydas.upload(str(tmp_path / "f.txt"), "Public", folder_id=private, quiet=True)
    with pytest.raises(exceptions.PathNotFound, match="no folder with id 424242"):
        pydas.upload(str(tmp_path / "f.txt"), folder_id=424242, quiet=True)


def test_bad_exclude_patterns_are_refused_before_any_request(private, tmp_path, midas_server):
    write_tree(tmp_path, {"f.txt": b"f"})
    midas_server.clear_request_log()
    for bad in ([""], ["/"], [None]):
        with pytest.raises(ValueError, match="exclude pattern"):
            pydas.upload(str(tmp_path / "f.txt"), exclude=bad, quiet=True)
    assert midas_server.request_log == []


@pytest.fixture
def scans(private, tmp_path):
    """``Private/scans``: files, an item of two files, items of one, a sub-folder."""
    write_tree(tmp_path / "src", {
        "scans/a.dcm": b"A" * 10, "scans/notes.tmp": b"t",
        "scans/series/1.dcm": b"1", "scans/series/2.dcm": b"22",
        "scans/single/only.dcm": b"o",
        "scans/sub/b.dcm": b"B", "scans/sub/deeper/c.dcm": b"C",
    })
    pydas.upload(str(tmp_path / "src" / "scans"), leaf_folders_as_items=True, quiet=True)
    return tmp_path / "copy"


def test_download_excludes_by_name_and_by_relative_path_keeping_the_layout(scans):
    everything = pydas.download("Private/scans", str(scans / "all"), quiet=True)
    assert _local_tree(everything) == ["a.dcm", "notes.tmp", "only.dcm", "series/1.dcm",
                                       "series/2.dcm", "sub/b.dcm", "sub/c.dcm"]
    summary = TransferSummary()
    path = pydas.download("Private/scans", str(scans), quiet=True, summary=summary,
                          exclude=["*.tmp", "series/1.dcm", "scans/sub/deeper", "single"])
    assert path == str(scans / "scans")
    # the item of two files stays a directory holding the file left in it
    assert _local_tree(path) == ["a.dcm", "series/2.dcm", "sub/b.dcm"]
    assert summary.downloaded == 3
    other = pydas.download("Private/scans", str(scans / "other"), quiet=True,
                           exclude=["series/*", "only.dcm", "sub"])
    assert _local_tree(other) == ["a.dcm", "notes.tmp"]
    # no empty directory for an item whose files are all left out
    assert sorted(os.listdir(other)) == ["a.dcm", "notes.tmp"]


def test_download_dry_run_compares_by_size_and_md5_and_writes_nothing(scans, capsys):
    scans.mkdir()
    (scans / "scans").write_bytes(b"in the way")
    with pytest.raises(FileExistsError):
        pydas.download("Private/scans", str(scans), quiet=True, dry_run=True)
    (scans / "scans").unlink()
    pydas.download("Private/scans", str(scans), quiet=True)
    with pytest.raises(FileExistsError):  # as the real download would
        pydas.download("Private/scans", str(scans), quiet=True, dry_run=True)
    pydas.allow_existing_download_paths()
    (scans / "scans" / "a.dcm").write_bytes(b"X" * 10)  # same size, other content
    (scans / "scans" / "sub" / "b.dcm").unlink()
    before = {name: (scans / "scans" / name).stat().st_mtime_ns
              for name in _local_tree(scans / "scans")}
    summary = TransferSummary()
    capsys.readouterr()
    path = pydas.download("Private/scans", str(scans), summary=summary, dry_run=True)
    lines = capsys.readouterr().out.splitlines()
    assert f"Would download {scans / 'scans' / 'a.dcm'} (10 bytes)" in lines
    assert f"Would download {scans / 'scans' / 'sub' / 'b.dcm'} (1 byte)" in lines
    assert f"Would skip {scans / 'scans' / 'series' / '2.dcm'} (unchanged)" in lines
    assert len(lines) == 7
    assert (summary.downloaded, summary.unchanged, summary.bytes_received) == (2, 5, 11)
    assert path == str(scans / "scans")
    after = {name: (scans / "scans" / name).stat().st_mtime_ns
             for name in _local_tree(scans / "scans")}
    assert after == before  # nothing written, nothing removed, no part or marker file
    nowhere = scans.parent / "nowhere"
    pydas.download("Private/scans", str(nowhere), quiet=True, dry_run=True)
    assert not nowhere.exists()


def test_resolve_and_list_give_repaired_names(private, tmp_path):
    write_tree(tmp_path, {"Données/évaluation.txt": b"e"})
    pydas.upload(str(tmp_path / "Données"), quiet=True)
    kind, folder = pydas.api.resolve_path("Private/Données")
    assert kind == "folder" and folder["name"] == "Données"
    (item,) = pydas.api.list_folder(folder["folder_id"])["items"]
    assert item["name"] == "évaluation.txt"
    kind, found = pydas.api.resolve_path("/users/Jane_Doe/Private/Données/évaluation.txt")
    assert kind == "item" and found["item_id"] == item["item_id"]
    (bitstream,) = pydas.api.list_item(item["item_id"])
    assert bitstream["name"] == "évaluation.txt" and int(bitstream["sizebytes"]) == 1
    assert [f["name"] for f in pydas.api.list_folder()["folders"]] == ["Private", "Public"]
    with pytest.raises(exceptions.PathNotFound):
        pydas.api.resolve_path("Private/nothing")


def test_listing_needs_a_login():
    with pytest.raises(exceptions.NotLoggedIn):
        pydas.api.list_folder()


def test_login_refused_means_login_failed(midas_server, midas_user):
    for kwargs in ({"api_key": "wrong"}, {"password": "wrong"}):
        with pytest.raises(exceptions.LoginFailed) as caught:
            pydas.login(email=midas_user.email, url=midas_server.url, **kwargs)
        assert pydas.api.login_refused(caught.value)
    assert not pydas.api.login_refused(exceptions.InvalidParameter("x", method="midas.login"))
