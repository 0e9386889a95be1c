"""Every command through ``main(argv)``, against the emulator: output and exit codes."""

import json
import os

import pytest
from support.servertree import write_tree

import pydas
from pydas.cli import errors as codes
from pydas.cli import main


def _children(user, folder_id=None):
    communicator = pydas.session.communicator
    answer = communicator.folder_children(pydas.session.token, folder_id or user.private_folder_id)
    return answer


def _names(user, folder_id=None):
    answer = _children(user, folder_id)
    return sorted(f["name"] for f in answer["folders"]) + sorted(i["name"] for i in answer["items"])


def _folder(user, *names):
    folder_id = user.private_folder_id
    for name in names:
        folder_id = next(f["folder_id"] for f in _children(user, folder_id)["folders"]
                         if f["name"] == name)
    return folder_id


def test_version(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out.strip() == f"pydas {pydas.__version__}"


def test_every_option_has_help_text():
    from pydas.cli.parser import build_parser

    parser = build_parser()
    subparsers = next(a for a in parser._actions if a.dest == "command")
    for name, sub in [("pydas", parser)] + list(subparsers.choices.items()):
        for action in sub._actions:
            if name == "serve":
                continue
            assert action.help, f"{name} {action.option_strings or action.dest} has no help"


def test_serve_help_names_pydas_serve(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["serve", "--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: pydas serve")
    assert "--port" in out and "--data-dir" in out


def test_a_usage_error_exits_2(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["upload"])
    assert exit_info.value.code == codes.USAGE
    assert "the following arguments are required: PATH" in capsys.readouterr().err


def test_options_may_come_after_the_command(server_env, capsys):
    assert main(["ls", "-q"]) == 0
    assert capsys.readouterr().out == "Private/\nPublic/\n"


def test_upload_several_paths_with_excludes_at_every_level(server_env, tmp_path, capsys,
                                                           monkeypatch):
    user = server_env
    write_tree(tmp_path, {
        "a.dat": b"a", "b.dat": b"b", "skip.tmp": b"t",
        "scans/series1/x.dcm": b"x", "scans/series1/x.tmp": b"t", "scans/notes.tmp": b"t",
        "scans/raw/big.dcm": b"r",
    })
    monkeypatch.chdir(tmp_path)
    status = main(["upload", "a.dat", "b.dat", "skip.tmp", "scans", "--leaf-folders-as-items",
                   "--exclude", "*.tmp", "--exclude", "scans/raw"])
    assert status == 0
    out = capsys.readouterr().out
    assert "skip.tmp" not in out and "raw" not in out
    assert "Creating Item from scans/series1." in out.splitlines()
    assert out.splitlines()[-1] == "Done: 3 files uploaded; 3 bytes sent (to Private)."
    assert _names(user) == ["scans", "a.dat", "b.dat"]
    scans = _folder(user, "scans")
    assert _names(user, scans) == ["series1"]
    series = _children(user, scans)["items"][0]
    item = pydas.session.communicator.item_get(pydas.session.token, series["item_id"])
    assert [b["name"] for b in item["revisions"][-1]["bitstreams"]] == ["x.dcm"]


def test_upload_dry_run_sends_nothing(server_env, tmp_path, capsys, midas_server):
    write_tree(tmp_path, {"d/one.txt": b"12345", "d/two.txt": b"67"})
    midas_server.clear_request_log()
    assert main(["upload", str(tmp_path / "d"), "--dry-run", "--destination", "Public"]) == 0
    assert capsys.readouterr().out.splitlines() == [
        f"Would create Folder from {tmp_path / 'd'}",
        f"Would upload {tmp_path / 'd' / 'one.txt'} (5 bytes)",
        f"Would upload {tmp_path / 'd' / 'two.txt'} (2 bytes)",
        "Dry run: 2 files (7 B) would be uploaded to Public, 0 unchanged would be skipped; "
        "nothing was sent.",
    ]
    methods = {record.params.get("method") for record in midas_server.request_log}
    assert methods <= {"midas.login", "midas.user.folders", "midas.folder.children"}
    assert _names(server_env, server_env.public_folder_id) == []


def test_upload_into_a_folder_by_id(server_env, tmp_path, capsys):
    write_tree(tmp_path, {"f.txt": b"f"})
    status = main(["upload", str(tmp_path / "f.txt"), "--folder-id",
                   server_env.public_folder_id])
    assert status == 0
    assert capsys.readouterr().out.splitlines()[-1] == (
        f"Done: 1 file uploaded; 1 byte sent (to folder id {server_env.public_folder_id}).")
    assert _names(server_env, server_env.public_folder_id) == ["f.txt"]


def test_upload_into_an_unknown_folder_id(server_env, tmp_path, capsys):
    write_tree(tmp_path, {"f.txt": b"f"})
    assert main(["upload", str(tmp_path / "f.txt"), "--folder-id", "99999"]) == codes.NOT_FOUND
    assert capsys.readouterr().err.splitlines() == [
        "pydas: error: there is no folder with id '99999' (or you may not read it)",
        "pydas: `pydas ls` shows what exists",
    ]


def test_an_existing_folder_is_a_conflict_told_in_command_terms(server_env, tmp_path, capsys):
    write_tree(tmp_path, {"d/f.txt": b"f"})
    assert main(["upload", str(tmp_path / "d"), "-q"]) == 0
    status = main(["upload", str(tmp_path / "d")])
    err = capsys.readouterr().err
    assert status == codes.CONFLICT, err
    assert "--reuse-existing" in err and "reuse_existing=True" not in err
    assert main(["upload", str(tmp_path / "d"), "--reuse-existing", "-q"]) == 0


def test_a_local_path_that_does_not_exist_fails_before_any_request(server_env, tmp_path, capsys,
                                                                   midas_server):
    midas_server.clear_request_log()
    assert main(["upload", str(tmp_path / "missing")]) == codes.NOT_FOUND
    assert "no file or directory matches" in capsys.readouterr().err
    assert midas_server.request_log == []


def test_download_is_rerunnable_and_says_what_it_did(server_env, tmp_path, capsys):
    write_tree(tmp_path / "src", {"scans/a.dcm": b"A" * 100, "scans/sub/b.dcm": b"B" * 10})
    assert main(["upload", str(tmp_path / "src" / "scans"), "-q"]) == 0
    target = tmp_path / "copy"
    assert main(["download", "Private/scans", str(target)]) == 0
    first = capsys.readouterr().out.splitlines()
    assert first[-1] == f"Done: 2 files downloaded; 110 bytes received (in {target / 'scans'})."
    assert (target / "scans" / "sub" / "b.dcm").read_bytes() == b"B" * 10
    (target / "scans" / "a.dcm").write_bytes(b"changed")
    assert main(["download", "/users/Jane_Doe/Private/scans", str(target)]) == 0
    again = capsys.readouterr().out.splitlines()
    assert f"Unchanged File at {target / 'scans' / 'sub' / 'b.dcm'}" in again
    assert f"Creating File at {target / 'scans' / 'a.dcm'}" in again
    assert again[-1] == (
        f"Done: 1 file downloaded, 1 unchanged; 100 bytes received (in {target / 'scans'}).")
    assert (target / "scans" / "a.dcm").read_bytes() == b"A" * 100


def test_download_dry_run_writes_nothing(server_env, tmp_path, capsys):
    write_tree(tmp_path / "src", {"scans/a.dcm": b"A" * 100, "scans/item/b1": b"1",
                             "scans/item/b2": b"22"})
    assert main(["upload", str(tmp_path / "src" / "scans"), "-q", "--leaf-folders-as-items"]) == 0
    target = tmp_path / "copy"
    assert main(["download", "Private/scans", str(target), "--dry-run"]) == 0
    assert capsys.readouterr().out.splitlines() == [
        f"Would download {target / 'scans' / 'a.dcm'} (100 bytes)",
        f"Would download {target / 'scans' / 'item' / 'b1'} (1 byte)",
        f"Would download {target / 'scans' / 'item' / 'b2'} (2 bytes)",
        f"Dry run: 3 files (103 B) would be downloaded to {target / 'scans'}, 0 unchanged "
        "would be skipped; nothing was written.",
    ]
    assert not target.exists()


def test_download_of_a_missing_path(server_env, tmp_path, capsys):
    status = main(["download", "Private/no-such-thing", str(tmp_path)])
    err = capsys.readouterr().err
    assert status == codes.NOT_FOUND
    assert "no-such-thing" in err and "`pydas ls` shows what exists" in err
    assert server_env.api_key not in err
    assert "Traceback" not in err


def test_ls_plain_long_and_json(server_env, tmp_path, capsys):
    write_tree(tmp_path, {"d/f.txt": b"12345", "d/sub/g.txt": b"1"})
    assert main(["upload", str(tmp_path / "d"), "-q"]) == 0
    assert main(["ls", "Private/d"]) == 0
    assert capsys.readouterr().out == "sub/\nf.txt\n"
    assert main(["ls", "-l", "Private/d"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split()[0] == "folder" and lines[0].endswith("sub/")
    assert lines[1].split()[:3] == ["item", "5", "B"] and lines[1].endswith("f.txt")
    assert main(["ls", "--json", "Private/d/f.txt"]) == 0
    (bitstream,) = json.loads(capsys.readouterr().out)
    assert bitstream["type"] == "bitstream" and bitstream["name"] == "f.txt"
    assert bitstream["size"] == 5 and len(bitstream["checksum"]) == 32


def testwrite_tree(server_env, tmp_path, capsys):
    write_tree(tmp_path, {"d/f.txt": b"12345", "d/sub/g.txt": b"1", "d/sub/deeper/h.txt": b"1"})
    assert main(["upload", str(tmp_path / "d"), "-q"]) == 0
    assert main(["tree", "Private/d"]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "Private/d/",
        "├── sub/",
        "│   ├── deeper/",
        "│   │   └── h.txt  (1 B)",
        "│   └── g.txt  (1 B)",
        "└── f.txt  (5 B)",
        "2 folders, 3 items, 7 B",
    ]
    assert main(["tree", "Private/d", "--depth", "1", "-q"]) == 0
    assert capsys.readouterr().out.splitlines() == ["Private/d/", "├── sub/", "└── f.txt  (5 B)"]


def test_login_stores_the_key_then_every_command_uses_it(monkeypatch, midas_server, midas_user,
                                                         capsys, home):
    monkeypatch.setattr("getpass.getpass", lambda prompt="": midas_user.password)
    monkeypatch.setattr("sys.stdin.isatty", lambda: True, raising=False)
    assert main(["login", "--url", midas_server.url, "--email", midas_user.email]) == 0
    out = capsys.readouterr().out
    assert f"Logged in to {midas_server.url} as {midas_user.email}." in out
    assert "credentials.ini (readable by you only)" in out
    stored = (home / ".config" / "pydas" / "credentials.ini").read_text()
    assert midas_user.api_key in stored and midas_user.password not in stored
    monkeypatch.setattr("getpass.getpass", lambda prompt="": pytest.fail("asked again"))
    pydas.session.reset()
    assert main(["whoami"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines() == [f"{midas_user.email} (Jane Doe) on {midas_server.url}",
                                "Credentials from: the stored login (credentials file)"]
    assert main(["logout"]) == 0
    assert capsys.readouterr().out == (
        f"Removed the stored login of {midas_user.email} on {midas_server.url}.\n")
    assert midas_user.api_key not in (home / ".config" / "pydas" / "credentials.ini").read_text()
    assert main(["logout"]) == 0
    assert capsys.readouterr().out == "There is no stored login.\n"


def test_login_into_the_keyring_with_a_key_from_the_environment(monkeypatch, midas_server,
                                                               midas_user, memory_keyring,
                                                               capsys):
    monkeypatch.setenv("MY_KEY", midas_user.api_key)
    assert main(["login", "--url", midas_server.url, "--email", midas_user.email,
                 "--api-key-env", "MY_KEY", "--timeout", "30"]) == 0
    assert "the system keyring" in capsys.readouterr().out
    assert list(memory_keyring.entries.values()) == [midas_user.api_key]
    config = (pydas.credentials.config_path())
    text = open(config).read()
    assert "timeout = 30.0" in text and midas_user.api_key not in text


def test_api_key_env_naming_an_unset_variable(midas_server, capsys):
    status = main(["whoami", "--url", midas_server.url, "--email", "a@b.c",
                   "--api-key-env", "NOT_SET_ANYWHERE"])
    assert status == codes.USAGE
    assert "--api-key-env names NOT_SET_ANYWHERE, which is not set" in capsys.readouterr().err


def test_verbose_logs_requests_without_secrets_or_repeated_status_lines(server_env, tmp_path,
                                                                        capsys):
    write_tree(tmp_path, {"f.txt": b"f"})
    assert main(["upload", str(tmp_path / "f.txt"), "-vv"]) == 0
    captured = capsys.readouterr()
    assert "midas.login" in captured.err
    assert "Uploading Item from" in captured.out
    assert "Uploading Item from" not in captured.err
    assert server_env.api_key not in captured.err + captured.out


def test_demo_without_a_server_uses_an_emulator_and_cleans_up(capsys):
    assert main(["demo"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("No server configured: using a local Midas emulator at http://")
    for expected in (
        "Creating Folder from myfiles",
        "Uploading Item from myfiles/file1.txt",
        "Creating Item from folders_as_items/item1.",
        "Uploading Bitstream from folders_as_items/item1/bitstream1_2.txt (2 of 2)",
        "Verified myfiles: 2 files identical after the round trip",
        "Verified folders_as_items: 4 files identical after the round trip",
    ):
        assert expected in out
    assert out[-1].startswith("Deleted the scratch folder Private/pydas-demo-")
    assert "MIDAS_EMAIL" not in os.environ and "MIDAS_API_KEY" not in os.environ


def test_demo_on_a_configured_server_never_touches_existing_folders(server_env, tmp_path,
                                                                    capsys):
    user = server_env
    write_tree(tmp_path, {"myfiles/file1.txt": b"precious data\n"})
    assert main(["upload", str(tmp_path / "myfiles"), "-q"]) == 0
    myfiles = _folder(user, "myfiles")
    (item,) = _children(user, myfiles)["items"]
    before = pydas.session.communicator.item_get(pydas.session.token, item["item_id"])
    status = main(["demo"])
    assert status == codes.USAGE
    assert "re-run with --yes" in capsys.readouterr().err
    assert main(["demo", "--yes"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"The demo will log in to {user_url(server_env)}")
    after = pydas.session.communicator.item_get(pydas.session.token, item["item_id"])
    assert after == before
    assert _names(user) == ["myfiles"]
    assert _names(user, myfiles) == ["file1.txt"]


def user_url(user):
    return os.environ["MIDAS_URL"]


def test_demo_asks_on_a_terminal_and_a_no_creates_nothing(server_env, monkeypatch, capsys):
    monkeypatch.setattr("sys.stdin.isatty", lambda: True, raising=False)
    monkeypatch.setattr("builtins.input", lambda prompt="": "n")
    assert main(["demo"]) == codes.FAILED
    assert "nothing was created" in capsys.readouterr().err
    assert pydas.session.communicator is None  # not even logged in


def test_a_refused_connection_is_two_lines_and_exit_7(monkeypatch, capsys):
    import functools
    import socket

    from pydas.core import Communicator, RetryPolicy

    waits = []
    monkeypatch.setattr(pydas.api, "Communicator", functools.partial(
        Communicator, retry=RetryPolicy(sleep=waits.append)))
    monkeypatch.setenv("KEY", "secret-key-value")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    status = main(["ls", "--url", f"http://127.0.0.1:{port}", "--email", "a@b.c",
                   "--api-key-env", "KEY"])
    assert status == codes.NETWORK
    err = capsys.readouterr().err
    assert err.splitlines() == [
        f"pydas: error: cannot connect to http://127.0.0.1:{port} (connection refused)",
        "pydas: check --url (or MIDAS_URL) and that the server is running",
    ]
    assert "secret-key-value" not in err
    assert waits  # the transport's retries ran, without sleeping for real


def test_no_write_permission_names_the_destination(server_env, midas_server, tmp_path, capsys):
    midas_server.create_user("other@example.com", "pw", "Other", "User")
    write_tree(tmp_path, {"f.txt": b"f"})
    status = main(["upload", str(tmp_path / "f.txt"), "--destination",
                   "/users/Other_User/Public"])
    err = capsys.readouterr().err
    assert status == codes.PERMISSION, err
    assert err.splitlines()[0].startswith(
        "pydas: error: no write permission on '/users/Other_User/Public' (midas.item.create")
    assert err.splitlines()[1] == (
        "pydas: choose another --destination, or ask its owner for write access")


def test_connection_options_reach_the_connection(server_env, tmp_path, capsys):
    bundle = tmp_path / "ca.pem"
    bundle.write_text("not used over http")
    assert main(["whoami", "--ca-bundle", str(bundle), "--timeout", "12.5"]) == 0
    driver = pydas.session.communicator.drivers[0]
    assert driver.verify_ssl_certificate == str(bundle)
    assert driver.timeout == 12.5
    assert main(["whoami", "--no-verify"]) == 0
    assert pydas.session.communicator.drivers[0].verify_ssl_certificate is False


def test_demo_refuses_a_scratch_name_that_exists_and_leaves_that_folder_alone(
        server_env, tmp_path, capsys, monkeypatch):
    user = server_env
    write_tree(tmp_path, {"pydas-demo-taken/keep.txt": b"keep me"})
    assert main(["upload", str(tmp_path / "pydas-demo-taken"), "-q"]) == 0
    monkeypatch.setattr("pydas.cli.demo._scratch_name", lambda: "pydas-demo-taken")
    assert main(["demo", "--yes"]) == codes.CONFLICT
    assert "already holds a folder named 'pydas-demo-taken'" in capsys.readouterr().err
    taken = _folder(user, "pydas-demo-taken")
    assert _names(user, taken) == ["keep.txt"]
