"""Pure parts of the transfer engine: names, local scanning, output, workers."""

import io
import logging
import os
import sys
import threading
import time

import pytest

from pydas import _transfer
from pydas._transfer import LocalDirectory, LocalFile, LocalInputError, Reporter, Runner


@pytest.mark.parametrize(
    "name, expected",
    [
        ("plain.txt", "plain.txt"),
        ("with space é.nii", "with space é.nii"),
        ("../../etc/passwd", ".._.._etc_passwd"),
        ("/etc/passwd", "_etc_passwd"),
        ("..", "__"),
        (".", "_"),
        ("", "_"),
        ("a\\b", "a_b"),
        ("C:\\Windows", "C__Windows"),
        ("c:evil", "c_evil"),
        ("nul\x00byte", "nul_byte"),
        ("...", "___"),
    ],
)
def test_safe_name_is_one_harmless_component(name, expected):
    safe = _transfer.safe_name(name)
    assert safe == expected
    assert os.sep not in safe and "/" not in safe and safe not in (".", "..", "")


@pytest.mark.parametrize(
    "name, expected",
    [
        ("report:v2.txt", "report_v2.txt"),
        ('a<b>c"d|e?f*g\x01.txt', "a_b_c_d_e_f_g_.txt"),
        ("trailing. ", "trailing__"),
        ("CON", "_CON"),
        ("nul.txt", "_nul.txt"),
        ("com1.tar.gz", "_com1.tar.gz"),
        ("CONSOLE.txt", "CONSOLE.txt"),
        ("..", "__"),
        ("C:\\x", "C__x"),
        ("plain é.nii", "plain é.nii"),
    ],
)
def test_safe_name_on_windows_also_avoids_streams_and_devices(name, expected):
    assert _transfer.safe_name(name, windows=True) == expected


def test_safe_name_keeps_colons_elsewhere():
    assert _transfer.safe_name("12:30 scan.nii", windows=False) == "12:30 scan.nii"


def test_repair_text_undoes_double_encoding_only_when_it_applies():
    assert _transfer.repair_text("cafÃ©") == "café"
    assert _transfer.repair_text("café") == "café"  # not double encoded: kept
    assert _transfer.repair_text("plain") == "plain"
    assert _transfer.repair_text("数据") == "数据"
    assert _transfer.repair_text(42) == 42


def test_name_book_keeps_clashing_names_apart():
    book = _transfer._NameBook()
    assert book.claim("a/b.txt") == "a_b.txt"
    assert book.claim("a_b.txt") == "a_b (1).txt"
    assert book.claim("A_B.txt") == "A_B (2).txt"
    assert book.claim("other") == "other"


def test_inside_refuses_a_symlink_that_leads_out(tmp_path):
    root = tmp_path / "root"
    root.mkdir()
    (root / "escape").symlink_to(tmp_path)
    assert _transfer._inside(str(root), "fine") == str(root / "fine")
    with pytest.raises(_transfer.UnsafePathError):
        _transfer._inside(str(root), "escape")


def test_head_revision_is_the_largest_number_not_the_last():
    item = {"revisions": [{"revision": "2", "x": "b"}, {"revision": "10", "x": "c"},
                          {"revision": "1", "x": "a"}]}
    assert _transfer.head_revision(item)["x"] == "c"
    assert _transfer.head_revision({"revisions": []}) is None


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
    entries, skipped = _transfer.scan("data")
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
    entries, _ = _transfer.scan("x*.txt")
    assert [e.path for e in entries] == ["x1.txt", "x2.txt"]
    assert all(isinstance(e, LocalFile) for e in entries)


def test_scan_rejects_a_pattern_that_matches_nothing(tmp_path):
    with pytest.raises(LocalInputError, match="no file or directory matches"):
        _transfer.scan(str(tmp_path / "nothing*"))


def test_scan_skips_and_reports_symlinks(tmp_path, monkeypatch):
    _tree(tmp_path, {"data/real.txt": b"r", "outside/secret.txt": b"s"})
    (tmp_path / "data" / "link_dir").symlink_to(tmp_path / "outside")
    (tmp_path / "data" / "link_file").symlink_to(tmp_path / "outside" / "secret.txt")
    (tmp_path / "data" / "dangling").symlink_to(tmp_path / "missing")
    monkeypatch.chdir(tmp_path)
    entries, skipped = _transfer.scan("data")
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
        _transfer.scan(str(tmp_path / "data"))


def test_scan_rejects_an_unreadable_file(tmp_path, monkeypatch):
    _tree(tmp_path, {"data/locked.bin": b"x"})
    real_open = open

    def refusing_open(path, *args, **kwargs):
        if str(path).endswith("locked.bin"):
            raise PermissionError(13, "Permission denied", str(path))
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(_transfer, "open", refusing_open, raising=False)
    with pytest.raises(LocalInputError, match="cannot read .*locked.bin.*Permission denied"):
        _transfer.scan(str(tmp_path / "data"))


def test_scan_skips_special_files(tmp_path):
    (tmp_path / "data").mkdir()
    os.mkfifo(tmp_path / "data" / "pipe")
    entries, skipped = _transfer.scan(str(tmp_path / "data"))
    assert entries[0].entries == []
    assert skipped == [f"Skipping special file {tmp_path / 'data' / 'pipe'}"]


def test_file_md5_streams(tmp_path, monkeypatch):
    monkeypatch.setattr(_transfer, "CHUNK_SIZE", 3)
    path = tmp_path / "f"
    path.write_bytes(b"hello world")
    assert _transfer.file_md5(str(path)) == "5eb63bbbe01eeed093cb22bb8f5acdc3"


def test_reporter_prints_whole_lines_logs_them_and_can_be_quiet(capsys, caplog):
    caplog.set_level(logging.INFO, logger="pydas")
    loud = Reporter(quiet=False, progress=False)
    loud.status("Creating Folder from x")
    loud.warn("Skipping symbolic link y")
    quiet = Reporter(quiet=True, progress=False)
    quiet.status("Uploading Item from z")
    assert capsys.readouterr().out == "Creating Folder from x\nSkipping symbolic link y\n"
    assert [(r.levelname, r.getMessage()) for r in caplog.records] == [
        ("INFO", "Creating Folder from x"),
        ("WARNING", "Skipping symbolic link y"),
        ("INFO", "Uploading Item from z"),
    ]


def test_reporter_lines_from_threads_are_never_mixed(capsys):
    reporter = Reporter(progress=False)
    lines = [f"Uploading Item from worker{n}/" + "x" * 200 for n in range(8)]

    def emit(line):
        for _ in range(50):
            reporter.status(line)

    threads = [threading.Thread(target=emit, args=(line,)) for line in lines]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 400 and set(out) == set(lines)


def test_reporter_progress_bar_counts_bytes_and_files(capsys):
    reporter = Reporter(progress=True)
    reporter.expect(100)
    reporter.expect(50)
    reporter.advance(120)
    reporter.advance(-20)
    reporter.file_done()
    assert reporter._bar.total == 150 and reporter._bar.n == 100
    reporter.status("a line")
    reporter.close()
    captured = capsys.readouterr()
    assert captured.out == "a line\n"
    assert "1/2 files" in captured.err


def test_runner_inline_runs_at_once_and_raises_at_once():
    runner = Runner(1)
    seen = []
    runner.submit(seen.append, 1)
    assert seen == [1]
    with pytest.raises(ZeroDivisionError):
        runner.submit(lambda: 1 / 0)


def test_runner_pool_raises_the_first_failure_and_stops():
    runner = Runner(3)
    started = []
    gate = threading.Event()

    def job(n):
        started.append(n)
        if n == 0:
            raise OSError("boom")
        gate.wait(5)

    try:
        runner.submit(job, 0)
        with pytest.raises(OSError, match="boom"):
            for n in range(1, 100):
                runner.submit(job, n)
            runner.wait()
    finally:
        gate.set()
        runner.close()
    assert len(started) < 100


@pytest.mark.parametrize("workers", [0, -1, 1.5, True])
def test_runner_rejects_bad_worker_counts(workers):
    with pytest.raises(ValueError, match="workers"):
        Runner(workers)


def test_scan_names_the_current_directory_after_itself(tmp_path, monkeypatch):
    _tree(tmp_path, {"project/a.txt": b"a"})
    monkeypatch.chdir(tmp_path / "project")
    [top], _ = _transfer.scan(".")
    assert top.path == "." and top.name == "project"
    assert top.entries[0].path == os.path.join(".", "a.txt")


def test_runner_result_of_a_job_cancelled_by_a_failure_raises_that_failure():
    runner = Runner(2)
    fail_now, finish = threading.Event(), threading.Event()

    def fail():
        fail_now.wait(5)
        raise OSError("boom")

    try:
        runner.submit(finish.wait, 5)
        runner.submit(fail)
        runner.submit(finish.wait, 5)  # takes the worker that failed
        queued = runner.submit(len, "never started")
        fail_now.set()
        assert runner._stop.wait(5)
        threading.Timer(0.1, finish.set).start()
        with pytest.raises(OSError, match="boom"):
            runner.result(queued)
        assert queued.cancelled()
    finally:
        finish.set()
        runner.close()


def test_scan_follows_a_link_the_pattern_names(tmp_path, monkeypatch):
    _tree(tmp_path, {"runs/2024/a.txt": b"a", "runs/2024/inner/b.txt": b"b"})
    (tmp_path / "latest").symlink_to(tmp_path / "runs" / "2024")
    (tmp_path / "runs" / "2024" / "inner" / "back").symlink_to(tmp_path / "runs")
    (tmp_path / "gone").symlink_to(tmp_path / "missing")
    monkeypatch.chdir(tmp_path)
    [top], skipped = _transfer.scan("latest")
    assert top.path == "latest" and top.name == "latest"
    assert [e.name for e in top.entries] == ["a.txt", "inner"]
    assert skipped == [f"Skipping symbolic link {os.path.join('latest', 'inner', 'back')}"]
    with pytest.raises(LocalInputError, match="'gone' is a broken symbolic link"):
        _transfer.scan("gone")


def test_the_temporary_file_fits_beside_a_long_non_ascii_name(tmp_path):
    target = tmp_path / ("\U0001f600" * 60 + ".txt")  # 244 bytes: a legal name
    handle, temporary = _transfer._temporary_beside(str(target))
    os.close(handle)
    assert os.path.dirname(temporary) == str(tmp_path) and os.path.exists(temporary)


def test_scan_rejects_a_name_that_is_not_utf8(tmp_path):
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "ok.txt").write_bytes(b"ok")
    with open(os.path.join(os.fsencode(tmp_path / "data"), b"caf\xe9.txt"), "wb") as handle:
        handle.write(b"x")
    with pytest.raises(LocalInputError, match=r"caf\\udce9.txt'?: its name is not valid UTF-8"):
        _transfer.scan(str(tmp_path / "data"))


def test_reporter_escapes_what_the_console_cannot_show(monkeypatch):
    raw = io.BytesIO()
    console = io.TextIOWrapper(raw, encoding="ascii", errors="strict")
    monkeypatch.setattr(sys, "stdout", console)
    Reporter().status("Uploading Item from données/数据.txt")
    console.flush()
    assert raw.getvalue() == b"Uploading Item from donn\\xe9es/\\u6570\\u636e.txt\n"


def test_scan_takes_an_existing_path_literally(tmp_path, monkeypatch):
    _tree(tmp_path, {"scan[1].nii": b"x", "scan1.nii": b"y"})
    monkeypatch.chdir(tmp_path)
    assert [e.path for e in _transfer.scan("scan[1].nii")[0]] == ["scan[1].nii"]
    assert [e.path for e in _transfer.scan("scan[0-9].nii")[0]] == ["scan1.nii"]


def _checking(runner, started, stopped):
    """A job that works in small pieces, checking between them, for at most 5 s."""

    def job():
        started.set()
        deadline = time.monotonic() + 5
        try:
            while time.monotonic() < deadline:
                runner.check()
                time.sleep(0.001)
        except _transfer._Stopped:
            stopped.set()
            raise

    return job


def test_runner_failure_stops_running_jobs_and_is_the_error_raised():
    runner = Runner(2)
    started, stopped = threading.Event(), threading.Event()
    try:
        runner.submit(_checking(runner, started, stopped))
        assert started.wait(5)
        runner.submit(lambda: 1 / 0)
        start = time.monotonic()
        with pytest.raises(ZeroDivisionError):
            runner.wait()
        assert stopped.wait(1) and time.monotonic() - start < 2
    finally:
        runner.close()


def test_runner_close_stops_running_jobs():
    runner = Runner(2)
    started, stopped = threading.Event(), threading.Event()
    runner.submit(_checking(runner, started, stopped))
    assert started.wait(5)
    start = time.monotonic()
    runner.close()
    assert stopped.is_set() and time.monotonic() - start < 2
