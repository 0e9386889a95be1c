"""``pydas upload`` and ``pydas download`` through ``main(argv)``: summaries, excludes, dry runs."""

import json

from support.clock import Clock, use_clock
from support.servertree import write_tree

import pydas
from pydas.cli import errors as codes
from pydas.cli import main


def test_a_rerun_says_what_it_skipped_and_what_it_moved(server_env, tmp_path, capsys):
    write_tree(tmp_path, {"d/a.txt": b"aaaa", "d/b.txt": b"bb"})
    d = tmp_path / "d"
    assert main(["upload", str(d)]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == (
        "Done: 2 files uploaded; 6 bytes sent (to Private).")
    assert main(["upload", str(d), "--reuse-existing"]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == (
        "Done: 2 files unchanged; no bytes moved (to Private).")
    (d / "b.txt").write_bytes(b"changed")
    assert main(["upload", str(d), "--reuse-existing", "--dry-run", "-q"]) == 0
    assert capsys.readouterr().out.splitlines() == [  # -q: the dry run's lines, no summary
        f"Would skip {d / 'a.txt'} (unchanged)",
        f"Would upload {d / 'b.txt'} as a new revision (7 bytes)",
    ]
    assert main(["upload", str(d), "--reuse-existing", "--dry-run"]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == (
        "Dry run: 1 file (7 B) would be uploaded to Private, 1 unchanged would be skipped; "
        "nothing was sent.")
    assert main(["upload", str(d), "--reuse-existing", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {
        "destination": "Private", "dry_run": False, "uploaded": 1, "downloaded": 0,
        "unchanged": 1, "resumed": 0, "repaired": 0, "bytes_sent": 7, "bytes_received": 0}


def test_a_dry_run_reports_the_conflict_the_real_upload_would_meet(server_env, tmp_path, capsys,
                                                                   midas_server):
    write_tree(tmp_path, {"d/f.txt": b"f"})
    assert main(["upload", str(tmp_path / "d"), "-q"]) == 0
    midas_server.clear_request_log()
    assert main(["upload", str(tmp_path / "d"), "--dry-run"]) == codes.CONFLICT
    assert capsys.readouterr().err.splitlines() == [
        "pydas: error: Private already holds a folder named 'd'",
        "pydas: add --reuse-existing to upload into it (unchanged files are not sent again)",
    ]
    methods = {record.params.get("method") for record in midas_server.request_log}
    assert "midas.folder.create" not in methods


def test_download_excludes_and_json(server_env, tmp_path, capsys):
    write_tree(tmp_path / "src", {"scans/a.dcm": b"A", "scans/a.tmp": b"t",
                             "scans/raw/r.dcm": b"r", "scans/sub/b.dcm": b"B"})
    assert main(["upload", str(tmp_path / "src" / "scans"), "-q"]) == 0
    target = tmp_path / "copy"
    assert main(["download", "Private/scans", str(target), "--exclude", "*.tmp",
                 "--exclude", "raw", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {
        "path": str(target / "scans"), "dry_run": False, "uploaded": 0, "downloaded": 2,
        "unchanged": 0, "resumed": 0, "repaired": 0, "bytes_sent": 0, "bytes_received": 2}
    assert sorted(p.name for p in (target / "scans").rglob("*")) == ["a.dcm", "b.dcm", "sub"]
    (target / "scans" / "a.dcm").write_bytes(b"X")
    assert main(["download", "Private/scans", str(target), "--dry-run"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out == [
        f"Would download {target / 'scans' / 'a.dcm'} (1 byte)",
        f"Would download {target / 'scans' / 'a.tmp'} (1 byte)",
        f"Would download {target / 'scans' / 'raw' / 'r.dcm'} (1 byte)",
        f"Would skip {target / 'scans' / 'sub' / 'b.dcm'} (unchanged)",
        f"Dry run: 3 files (3 B) would be downloaded to {target / 'scans'}, 1 unchanged would "
        "be skipped; nothing was written.",
    ]
    assert (target / "scans" / "a.dcm").read_bytes() == b"X"
    assert not (target / "scans" / "raw").exists()


def test_a_failure_part_way_says_what_was_done_before(server_env, tmp_path, capsys,
                                                      midas_server):
    write_tree(tmp_path, {"d/1.txt": b"1", "d/2.txt": b"22"})
    # once the first item is complete, the server answers the next item's token with an error page
    pydas.add_item_upload_callback(
        lambda communicator, token, item_id: midas_server.faults.garbage_next(
            match="midas.upload.generatetoken", status=500))
    status = main(["upload", str(tmp_path / "d")])
    err = capsys.readouterr().err.splitlines()
    assert status == codes.SERVER, err
    assert err[0].startswith("pydas: error: the server failed: ")
    assert err[-1] == "pydas: done before the failure: 1 file uploaded; 1 byte sent"


def test_check_all_asks_about_every_item_the_record_would_skip(server_env, tmp_path,
                                                               midas_server, monkeypatch):
    clock = use_clock(monkeypatch, Clock())
    write_tree(tmp_path, {"d/a.txt": b"aaaa", "d/b.txt": b"bb"})
    clock.advance(3)
    assert main(["upload", str(tmp_path / "d"), "--reuse-existing", "-q"]) == 0
    clock.advance(3)
    assert main(["upload", str(tmp_path / "d"), "--reuse-existing", "-q"]) == 0
    clock.advance(3)
    midas_server.clear_request_log()
    assert main(["upload", str(tmp_path / "d"), "--reuse-existing", "-q"]) == 0
    assert "midas.item.get" not in [r.api_method for r in midas_server.request_log]
    midas_server.clear_request_log()
    assert main(["upload", str(tmp_path / "d"), "--reuse-existing", "--check-all", "-q"]) == 0
    assert [r.api_method for r in midas_server.request_log].count("midas.item.get") == 2


def test_download_check_all_reads_every_item_the_record_would_skip(server_env, tmp_path,
                                                                   midas_server, monkeypatch):
    clock = use_clock(monkeypatch, Clock())
    write_tree(tmp_path, {"d/a.txt": b"aaaa", "d/b.txt": b"bb"})
    assert main(["upload", str(tmp_path / "d"), "-q"]) == 0
    for _ in range(2):  # the second run settles the record of the first
        clock.advance(3)
        assert main(["download", "Private/d", str(tmp_path / "copy"), "-q"]) == 0
    clock.advance(3)
    midas_server.clear_request_log()
    assert main(["download", "Private/d", str(tmp_path / "copy"), "-q"]) == 0
    assert "midas.item.get" not in [r.api_method for r in midas_server.request_log]
    midas_server.clear_request_log()
    assert main(["download", "Private/d", str(tmp_path / "copy"), "--check-all", "-q"]) == 0
    assert [r.api_method for r in midas_server.request_log].count("midas.item.get") == 2
