"""Upload a generated tree, download it back: the same files, MD5 by MD5."""

import os
import random
import stat

import pytest
from support.servertree import local_tree, md5, write_tree

import pydas

BIG = random.Random(4).randbytes(5 * 1024 * 1024)

# leaf directories hold several files (or none): those come back as directories
TREE = {
    "data/readme.txt": b"hello\n",
    "data/empty.bin": b"",
    "data/big.bin": BIG,
    "data/nested/top.txt": b"top",
    "data/nested/deeper/deepest/file.txt": b"deep",
    "data/nested/deeper/deepest/other.txt": b"other",
    "data/empty_dir": None,
    "data/données été/résumé ü.txt": "naïve café".encode(),
    "data/données été/ça.txt": b"ca",
    "data/with space/a file.txt": b"spaced out",
    "data/with space/b file.txt": b"",
    "data/series/one.dcm": b"1" * 100,
    "data/series/two.dcm": b"2" * 200,
    "data/series/zero.dcm": b"",
    "data/数据/文件.txt": "内容".encode(),
    "data/数据/另一个.txt": "更多".encode(),
}


@pytest.mark.parametrize("leaf_folders_as_items", [False, True])
def test_round_trip_is_identical(logged_in, tmp_path, monkeypatch, leaf_folders_as_items):
    source = tmp_path / "source"
    write_tree(source, TREE)
    monkeypatch.chdir(source)
    pydas.upload("data", leaf_folders_as_items=leaf_folders_as_items, quiet=True)
    target = tmp_path / "target"
    result = pydas.download("/users/Jane_Doe/Private/data", str(target), quiet=True)
    assert result == str(target / "data")
    assert local_tree(target / "data") == local_tree(source / "data")
    assert (target / "data" / "big.bin").read_bytes() == BIG


def test_an_item_with_one_file_arrives_as_that_file(logged_in, tmp_path, monkeypatch):
    write_tree(tmp_path / "source", {"scan/brain.nii": b"brain", "scan/atlas/left.nii": b"L"})
    monkeypatch.chdir(tmp_path / "source")
    pydas.upload("scan", leaf_folders_as_items=True, quiet=True)
    target = tmp_path / "target"
    pydas.download("Private/scan", str(target), quiet=True)
    # item "atlas" holds only left.nii: it arrives as that file, not as a directory
    assert local_tree(target / "scan") == {
        "brain.nii": md5(b"brain"),
        "left.nii": md5(b"L"),
    }


def test_download_prints_what_it_creates(logged_in, tmp_path, monkeypatch, capsys):
    write_tree(tmp_path / "source", {"pair/a.txt": b"a", "pair/b/c.txt": b"c"})
    monkeypatch.chdir(tmp_path / "source")
    pydas.upload("pair", quiet=True)
    monkeypatch.chdir(tmp_path)
    pydas.download("Private/pair")
    assert capsys.readouterr().out.splitlines() == [
        "Creating Folder at pair",
        "Creating File at pair/a.txt",
        "Creating Folder at pair/b",
        "Creating File at pair/b/c.txt",
    ]


def test_download_of_a_single_item_path(logged_in, tmp_path, monkeypatch):
    write_tree(tmp_path / "source", {"solo.txt": b"solo", "duo/x": b"x", "duo/y": b"y"})
    monkeypatch.chdir(tmp_path / "source")
    pydas.upload("solo.txt", quiet=True)
    pydas.upload("duo", leaf_folders_as_items=True, quiet=True)
    target = tmp_path / "target"
    assert pydas.download("Private/solo.txt", str(target), quiet=True) == str(target / "solo.txt")
    assert (target / "solo.txt").read_bytes() == b"solo"
    pydas.download("/users/Jane_Doe/Private/duo", str(target), quiet=True)
    assert local_tree(target / "duo") == local_tree(tmp_path / "source" / "duo")


def test_download_callbacks_get_the_item_and_the_local_path(logged_in, tmp_path, monkeypatch):
    write_tree(tmp_path / "source", {"cb/a.txt": b"a", "cb/sub/b.txt": b"b"})
    monkeypatch.chdir(tmp_path / "source")
    pydas.upload("cb", quiet=True)
    items, folders = [], []
    pydas.add_item_download_callback(lambda c, t, item, path: items.append((item["name"], path)))
    pydas.add_folder_download_callback(
        lambda c, t, folder, path: folders.append((folder["name"], path))
    )
    target = tmp_path / "target"
    pydas.download("Private/cb", str(target), quiet=True)
    assert items == [("a.txt", str(target / "cb" / "a.txt")),
                     ("b.txt", str(target / "cb" / "sub" / "b.txt"))]
    # a folder is reported after everything inside it
    assert folders == [("sub", str(target / "cb" / "sub")), ("cb", str(target / "cb"))]


def test_download_folder_recursive_by_id(logged_in, tmp_path, monkeypatch, midas_user):
    write_tree(tmp_path / "source", {"byid/a.txt": b"a"})
    monkeypatch.chdir(tmp_path / "source")
    pydas.upload("byid", quiet=True)
    target = tmp_path / "target"
    path = pydas.download_folder_recursive(midas_user.private_folder_id, str(target), quiet=True)
    assert path == str(target / "Private")
    assert (target / "Private" / "byid" / "a.txt").read_bytes() == b"a"


def test_downloaded_files_get_ordinary_permissions(logged_in, tmp_path):
    (tmp_path / "perm.txt").write_bytes(b"p")
    pydas.upload(str(tmp_path / "perm.txt"), quiet=True)
    old = os.umask(0o022)
    try:
        pydas.download("Private/perm.txt", str(tmp_path / "copy"), quiet=True)
    finally:
        os.umask(old)
    assert stat.S_IMODE(os.stat(tmp_path / "copy" / "perm.txt").st_mode) == 0o644
