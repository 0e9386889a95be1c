"""Status lines, logging, the progress bar, and memory use of large transfers."""

import logging
import os
import tracemalloc

from support.servertree import write_tree

import pydas

LINES = ["Creating Folder from myfiles", "Uploading Item from myfiles/file1.txt"]


def test_status_lines_are_logged_and_can_be_silenced(logged_in, tmp_path, monkeypatch, capsys,
                                                    caplog):
    write_tree(tmp_path, {"myfiles/file1.txt": b"1"})
    monkeypatch.chdir(tmp_path)
    caplog.set_level(logging.INFO, logger="pydas")
    pydas.upload("myfiles", quiet=True)
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""
    status = [r for r in caplog.records if r.name == "pydas" and r.getMessage() in LINES]
    assert [r.getMessage() for r in status] == LINES
    assert all(r.levelno == logging.INFO for r in status)


def test_progress_bar_goes_to_stderr_and_lines_stay_whole(logged_in, tmp_path, monkeypatch,
                                                         capsys):
    write_tree(tmp_path, {"myfiles/file1.txt": b"x" * 300_000})
    monkeypatch.chdir(tmp_path)
    pydas.upload("myfiles", progress=True)
    captured = capsys.readouterr()
    assert captured.out.splitlines() == LINES
    assert "1/1 files" in captured.err and "293k" in captured.err.replace("K", "k")


def test_no_progress_bar_when_stderr_is_not_a_terminal(logged_in, tmp_path, monkeypatch, capsys):
    write_tree(tmp_path, {"myfiles/file1.txt": b"x"})
    monkeypatch.chdir(tmp_path)
    pydas.upload("myfiles")
    assert capsys.readouterr().err == ""


def test_memory_does_not_grow_with_the_file(logged_in, tmp_path):
    size = 24 * 1024 * 1024
    with open(tmp_path / "large.bin", "wb") as handle:
        for _ in range(size // (1024 * 1024)):
            handle.write(os.urandom(1024 * 1024))
    tracemalloc.start()
    try:
        pydas.upload(str(tmp_path / "large.bin"), quiet=True)
        upload_peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.reset_peak()
        pydas.download("Private/large.bin", str(tmp_path / "copy"), quiet=True)
        download_peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    # the emulator runs in this process too; both stay far below the file size
    assert upload_peak < size / 4 and download_peak < size / 4
    assert os.path.getsize(tmp_path / "copy" / "large.bin") == size
