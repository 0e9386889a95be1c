"""Status lines, warnings and the progress bar: pydas._transfer.progress."""

import io
import logging
import sys
import threading

from pydas._transfer.progress import Reporter


def test_reporter_prints_whole_lines_logs_them_and_can_be_quiet(capsys, caplog):
    caplog.set_level(logging.INFO, logger="pydas")
    loud = Reporter(quiet=False, bar=False)
    loud.status("Creating Folder from x")
    loud.warn("Skipping symbolic link y")
    quiet = Reporter(quiet=True, bar=False)
    quiet.status("Uploading Item from z")
    assert capsys.readouterr().out == "Creating Folder from x\nSkipping symbolic link y\n"
    assert [(r.levelname, r.getMessage()) for r in caplog.records] == [
        ("INFO", "Creating Folder from x"),
        ("WARNING", "Skipping symbolic link y"),
        ("INFO", "Uploading Item from z"),
    ]


def test_reporter_lines_from_threads_are_never_mixed(capsys):
    reporter = Reporter(bar=False)
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
    reporter = Reporter(bar=True)
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


def test_reporter_escapes_what_the_console_cannot_show(monkeypatch):
    raw = io.BytesIO()
    console = io.TextIOWrapper(raw, encoding="ascii", errors="strict")
    monkeypatch.setattr(sys, "stdout", console)
    Reporter().status("Uploading Item from données/数据.txt")
    console.flush()
    assert raw.getvalue() == b"Uploading Item from donn\\xe9es/\\u6570\\u636e.txt\n"
