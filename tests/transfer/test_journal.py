"""The upload journal: private, atomic, locked, and dropped when the file changed."""

import json
import os
import stat
import subprocess
import sys
import textwrap
import time

import pytest
from support.servertree import md5, methods, server_tree
from support.sessions import interrupt_uploads_after, log_in

import pydas
from pydas._transfer import journal as journal_module
from pydas._transfer.journal import UploadJournal
from pydas.api import TransferSummary

SERVER = "http://127.0.0.1:1/midas"


def _entries(directory):
    return sorted(name for name in os.listdir(directory) if name.endswith(".json"))


def test_an_entry_is_private_and_found_again_for_the_same_file(tmp_path, journal_dir):
    path = tmp_path / "f.bin"
    path.write_bytes(b"data")
    journal = UploadJournal()
    with journal.claim(SERVER, 7, str(path)) as claim:
        assert claim.token is None
        claim.record("1/7/abc")
    assert stat.S_IMODE(os.stat(journal_dir).st_mode) == 0o700
    [name] = _entries(journal_dir)
    assert stat.S_IMODE(os.stat(journal_dir / name).st_mode) == 0o600
    entry = json.loads((journal_dir / name).read_text())
    assert entry["upload_token"] == "1/7/abc" and entry["path"] == str(path)
    assert entry["size"] == 4 and entry["item_id"] == "7" and entry["server"] == SERVER
    assert os.listdir(journal_dir) == [name]  # no lock or temporary file left
    with UploadJournal().claim(SERVER, 7, str(path)) as claim:
        assert claim.token == "1/7/abc"
        claim.forget()
    assert os.listdir(journal_dir) == []


def test_an_entry_for_a_file_that_changed_is_dropped(tmp_path, journal_dir):
    path = tmp_path / "f.bin"
    path.write_bytes(b"data")
    with UploadJournal().claim(SERVER, 7, str(path)) as claim:
        claim.record("1/7/abc")
    path.write_bytes(b"other data")
    with UploadJournal().claim(SERVER, 7, str(path)) as claim:
        assert claim.token is None
    assert _entries(journal_dir) == []
    with UploadJournal().claim(SERVER, 8, str(path)) as claim:  # another item: another entry
        assert claim.token is None


def test_an_entry_held_by_another_process_is_not_used(tmp_path, journal_dir):
    path = tmp_path / "f.bin"
    path.write_bytes(b"data")
    with UploadJournal().claim(SERVER, 7, str(path)) as claim:
        claim.record("1/7/abc")
    script = textwrap.dedent(f"""
        from pydas._transfer.journal import UploadJournal
        with UploadJournal().claim({SERVER!r}, 7, {str(path)!r}) as claim:
            print(claim.token)
            claim.record("1/7/other")  # unjournaled: the entry is not overwritten
    """)
    with UploadJournal().claim(SERVER, 7, str(path)) as held:
        assert held.token == "1/7/abc"
        out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                             check=True, timeout=60, env=os.environ).stdout
        assert out.strip() == "None"
    with UploadJournal().claim(SERVER, 7, str(path)) as claim:
        assert claim.token == "1/7/abc"


def test_old_entries_are_swept(tmp_path, journal_dir):
    path = tmp_path / "f.bin"
    path.write_bytes(b"data")
    with UploadJournal().claim(SERVER, 7, str(path)) as claim:
        claim.record("1/7/abc")
    [name] = _entries(journal_dir)
    old = time.time() - journal_module.MAX_AGE - 60
    os.utime(journal_dir / name, (old, old))
    UploadJournal()
    assert _entries(journal_dir) == []


def test_an_unwritable_journal_only_costs_the_resume(tmp_path, monkeypatch, caplog):
    blocker = tmp_path / "not-a-directory"
    blocker.write_bytes(b"")
    monkeypatch.setenv("PYDAS_CACHE_DIR", str(blocker))
    path = tmp_path / "f.bin"
    path.write_bytes(b"data")
    with UploadJournal().claim(SERVER, 7, str(path)) as claim:
        claim.record("1/7/abc")
        assert claim.token == "1/7/abc"
    assert "Cannot use the upload journal" in caplog.text


def test_an_interrupted_upload_is_resumed_by_the_next_run(logged_in, midas_server, midas_user,
                                                         tmp_path, journal_dir):
    data = os.urandom(3 * 1024 * 1024)
    (tmp_path / "big.bin").write_bytes(data)
    interrupt_uploads_after(pydas.session.communicator, 1024 * 1024)
    with pytest.raises(KeyboardInterrupt):
        pydas.upload(str(tmp_path / "big.bin"), quiet=True)
    assert len(_entries(journal_dir)) == 1
    log_in(midas_server, midas_user)
    summary = TransferSummary()
    pydas.upload(str(tmp_path / "big.bin"), quiet=True, reuse_existing=True, summary=summary)
    assert server_tree(midas_user.private_folder_id) == {"big.bin": {"big.bin": md5(data)}}
    assert summary.resumed == 1 and summary.bytes_sent < len(data)
    assert "midas.upload.generatetoken" not in methods(midas_server)
    assert _entries(journal_dir) == []


def test_a_file_changed_since_the_interruption_is_uploaded_whole(logged_in, midas_server,
                                                                 midas_user, tmp_path,
                                                                 journal_dir):
    midas_server.faults.cut_request_after(1000, match="midas.upload.perform", times=100)
    (tmp_path / "f.bin").write_bytes(b"x" * 50_000)
    with pytest.raises(pydas.exceptions.TransferError):
        pydas.upload(str(tmp_path / "f.bin"), quiet=True)
    assert len(_entries(journal_dir)) == 1  # the network failed: the token is kept
    midas_server.faults.clear()
    (tmp_path / "f.bin").write_bytes(b"y" * 60_000)
    summary = TransferSummary()
    pydas.upload(str(tmp_path / "f.bin"), quiet=True, reuse_existing=True, summary=summary)
    assert server_tree(midas_user.private_folder_id) == {"f.bin": {"f.bin": md5(b"y" * 60_000)}}
    assert summary.resumed == 0 and summary.bytes_sent == 60_000
    assert _entries(journal_dir) == []
