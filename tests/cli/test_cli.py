"""The ``pydas`` command, run in-process against the emulator."""

import os
import socket
import threading
import time

import pytest
import requests

import pydas
from pydas.cli import main


def _use_server(monkeypatch, server, user):
    monkeypatch.setenv("MIDAS_URL", server.url)
    monkeypatch.setenv("MIDAS_EMAIL", user.email)
    monkeypatch.setenv("MIDAS_API_KEY", user.api_key)


def test_version_flag(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out.strip() == f"pydas {pydas.__version__}"


def test_serve_passes_its_options_to_the_emulator(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["serve", "--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert "--port" in out and "--data-dir" in out


def test_serve_runs_the_emulator_on_the_given_port(monkeypatch, capsys, tmp_path):
    import pydas.testing.__main__ as serve_module

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    stop = threading.Event()
    original = serve_module.main
    monkeypatch.setattr(serve_module, "main", lambda argv: original(argv, stop_event=stop))
    result = {}
    thread = threading.Thread(
        target=lambda: result.update(
            status=main(["serve", "--port", str(port), "--data-dir", str(tmp_path)])
        )
    )
    thread.start()
    try:
        url = f"http://127.0.0.1:{port}/midas/api/json"
        for _ in range(200):
            try:
                answer = requests.post(url, params={"method": "midas.version"}, timeout=5)
                break
            except requests.ConnectionError:
                time.sleep(0.05)
        assert answer.json()["stat"] == "ok"
    finally:
        stop.set()
        thread.join(10)
    assert result["status"] == 0
    assert f"http://127.0.0.1:{port}/midas" in capsys.readouterr().out
    assert os.listdir(tmp_path), "the emulator kept its data in the given directory"


def test_demo_without_configuration_starts_an_emulator_and_verifies(capsys):
    assert main(["demo"]) == 0
    out = capsys.readouterr().out
    assert "No MIDAS_URL configured: using a local Midas emulator at http://127.0.0.1:" in out
    lines = out.splitlines()
    for expected in (
        "Creating Folder from myfiles",
        "Uploading Item from myfiles/file1.txt",
        "Uploading Item from myfiles/file2.txt",
        "Creating Item from folders_as_items/item1.",
        "Uploading Bitstream from folders_as_items/item1/bitstream1_2.txt (2 of 2)",
        "Verified myfiles: 2 files identical after the round trip",
        "Verified folders_as_items: 4 files identical after the round trip",
    ):
        assert expected in lines
    # the demo restores the environment it borrowed for the embedded server
    assert "MIDAS_EMAIL" not in os.environ and "MIDAS_API_KEY" not in os.environ


def test_demo_uses_the_configured_server(monkeypatch, capsys, midas_server, midas_user):
    _use_server(monkeypatch, midas_server, midas_user)
    assert main(["demo"]) == 0
    out = capsys.readouterr().out
    assert "local Midas emulator" not in out
    children = pydas.session.communicator.folder_children(
        pydas.session.token, midas_user.private_folder_id
    )
    assert sorted(f["name"] for f in children["folders"]) == ["folders_as_items", "myfiles"]
    # a second run reuses what the first left behind and still verifies
    assert main(["demo"]) == 0
    children = pydas.session.communicator.folder_children(
        pydas.session.token, midas_user.private_folder_id
    )
    assert sorted(f["name"] for f in children["folders"]) == ["folders_as_items", "myfiles"]


def test_upload_then_download_commands(monkeypatch, tmp_path, capsys, midas_server, midas_user):
    _use_server(monkeypatch, midas_server, midas_user)
    source = tmp_path / "scans"
    (source / "series1").mkdir(parents=True)
    (source / "series1" / "a.dcm").write_bytes(b"A" * 1000)
    (source / "series1" / "b.dcm").write_bytes(b"B" * 10)
    monkeypatch.chdir(tmp_path)
    assert main(["upload", "scans", "--leaf-folders-as-items", "--quiet"]) == 0
    assert capsys.readouterr().out == ""
    target = tmp_path / "copy"
    target.mkdir()
    assert main(["download", "/users/Jane_Doe/Private/scans", str(target), "--quiet"]) == 0
    assert (target / "scans" / "series1" / "a.dcm").read_bytes() == b"A" * 1000
    assert (target / "scans" / "series1" / "b.dcm").read_bytes() == b"B" * 10


def test_failure_is_reported_on_stderr_with_status_1(monkeypatch, tmp_path, capsys,
                                                     midas_server, midas_user):
    _use_server(monkeypatch, midas_server, midas_user)
    status = main(["download", "/users/Jane_Doe/Private/no-such-thing", str(tmp_path)])
    assert status == 1
    err = capsys.readouterr().err
    assert err.startswith("pydas: error: ")
    assert "no-such-thing" in err
    assert midas_user.api_key not in err
