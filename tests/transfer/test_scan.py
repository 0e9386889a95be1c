"""The local input, scanned and checked before anything is sent: pydas._transfer.local."""

import os

import pytest

from pydas._transfer import local
from pydas._transfer.local import LocalDirectory, LocalFile
from pydas.exceptions import LocalInputError


def _tree(root, files):
    for relative, content in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        if content is None:
            path.mkdir()
        else:
            path.write_bytes(content)


def test_scan_walks_sorted_and_builds_the_tree(tmp_path, monkeypatch):
    _tree(tmp_path, {"data/b.txt": b"bb", "data/a.txt": b"a", "data/sub/c.txt": b"",
                     "data/empty": None})
    monkeypatch.chdir(tmp_path)
    entries, skipped = local.scan("data")
    assert skipped == []
    [top] = entries
    assert isinstance(top, LocalDirectory) and top.path == "data"
    assert [e.path for e in top.entries] == [
        os.path.join("data", name) for name in ("a.txt", "b.txt", "empty", "sub")
    ]
    assert [e.size for e in top.files] == [1, 2]
    assert not top.is_leaf
    assert top.entries[2].is_leaf and top.entries[2].entries == []


def test_scan_expands_globs_in_sorted_order(tmp_path, monkeypatch):
    _tree(tmp_path, {"x2.txt": b"2", "x1.txt": b"1", "y.txt": b"y"})
    monkeypatch.chdir(tmp_path)
    entries, _ = local.scan("x*.txt")
    assert [e.path for e in entries] == ["x1.txt", "x2.txt"]
    assert all(isinstance(e, LocalFile) for e in entries)


def test_scan_rejects_a_pattern_that_matches_nothing(tmp_path):
    with pytest.raises(LocalInputError, match="no file or directory matches"):
        local.scan(str(tmp_path / "nothing*"))


def test_scan_skips_and_reports_symlinks(tmp_path, monkeypatch):
    _tree(tmp_path, {"data/real.txt": b"r", "outside/secret.txt": b"s"})
    (tmp_path / "data" / "link_dir").symlink_to(tmp_path / "outside")
    (tmp_path / "data" / "link_file").symlink_to(tmp_path / "outside" / "secret.txt")
    (tmp_path / "data" / "dangling").symlink_to(tmp_path / "missing")
    monkeypatch.chdir(tmp_path)
    entries, skipped = local.scan("data")
    assert [e.name for e in entries[0].entries] == ["real.txt"]
    assert skipped == [
        f"Skipping broken symbolic link {os.path.join('data', 'dangling')}",
        f"Skipping symbolic link {os.path.join('data', 'link_dir')}",
        f"Skipping symbolic link {os.path.join('data', 'link_file')}",
    ]


def test_scan_rejects_a_symlink_loop(tmp_path):
    (tmp_path / "data").mkdir()
    loop = tmp_path / "data" / "loop"
    loop.symlink_to(loop)
    with pytest.raises(LocalInputError, match="symbolic link loop"):
        local.scan(str(tmp_path / "data"))


def test_scan_rejects_an_unreadable_file(tmp_path, monkeypatch):
    _tree(tmp_path, {"data/locked.bin": b"x"})
    real_open = open

    def refusing_open(path, *args, **kwargs):
        if str(path).endswith("locked.bin"):
            raise PermissionError(13, "Permission denied", str(path))
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(local, "open", refusing_open, raising=False)
    with pytest.raises(LocalInputError, match="cannot read .*locked.bin.*Permission denied"):
        local.scan(str(tmp_path / "data"))


def test_scan_skips_special_files(tmp_path):
    (tmp_path / "data").mkdir()
    os.mkfifo(tmp_path / "data" / "pipe")
    entries, skipped = local.scan(str(tmp_path / "data"))
    assert entries[0].entries == []
    assert skipped == [f"Skipping special file {tmp_path / 'data' / 'pipe'}"]


def test_scan_names_the_current_directory_after_itself(tmp_path, monkeypatch):
    _tree(tmp_path, {"project/a.txt": b"a"})
    monkeypatch.chdir(tmp_path / "project")
    [top], _ = local.scan(".")
    assert top.path == "." and top.name == "project"
    assert top.entries[0].path == os.path.join(".", "a.txt")


def test_scan_follows_a_link_the_pattern_names(tmp_path, monkeypatch):
    _tree(tmp_path, {"runs/2024/a.txt": b"a", "runs/2024/inner/b.txt": b"b"})
    (tmp_path / "latest").symlink_to(tmp_path / "runs" / "2024")
    (tmp_path / "runs" / "2024" / "inner" / "back").symlink_to(tmp_path / "runs")
    (tmp_path / "gone").symlink_to(tmp_path / "missing")
    monkeypatch.chdir(tmp_path)
    [top], skipped = local.scan("latest")
    assert top.path == "latest" and top.name == "latest"
    assert [e.name for e in top.entries] == ["a.txt", "inner"]
    assert skipped == [f"Skipping symbolic link {os.path.join('latest', 'inner', 'back')}"]
    with pytest.raises(LocalInputError, match="'gone' is a broken symbolic link"):
        local.scan("gone")


def test_scan_rejects_a_name_that_is_not_utf8(tmp_path):
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "ok.txt").write_bytes(b"ok")
    with open(os.path.join(os.fsencode(tmp_path / "data"), b"caf\xe9.txt"), "wb") as handle:
        handle.write(b"x")
    with pytest.raises(LocalInputError, match=r"caf\\udce9.txt'?: its name is not valid UTF-8"):
        local.scan(str(tmp_path / "data"))


def test_scan_takes_an_existing_path_literally(tmp_path, monkeypatch):
    _tree(tmp_path, {"scan[1].nii": b"x", "scan1.nii": b"y"})
    monkeypatch.chdir(tmp_path)
    assert [e.path for e in local.scan("scan[1].nii")[0]] == ["scan[1].nii"]
    assert [e.path for e in local.scan("scan[0-9].nii")[0]] == ["scan1.nii"]
