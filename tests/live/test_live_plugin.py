"""The pytest plugin's ``midas_account`` and ``midas_scratch_folder``: one user suite, two servers.

A user's test file is run by an inner pytest, once on the emulator (no option:
this runs offline too) and once on the real server (``--midas-credentials``
or ``--midas-url``); it reports what it saw in a JSON file.
"""

import json
import textwrap

import pytest

from pydas import exceptions

USERS_TEST = textwrap.dedent('''
    import json
    import os

    import pydas


    def test_upload_into_the_scratch_folder(midas_account, midas_scratch_folder, tmp_path):
        midas_account.login()
        (tmp_path / "result.txt").write_bytes(b"42\\n")
        pydas.upload(str(tmp_path / "result.txt"), destination=midas_scratch_folder.path,
                     quiet=True)
        with midas_account.communicator() as communicator:
            token = midas_account.token(communicator)
            children = communicator.folder_children(token, midas_scratch_folder.folder_id)
        with open(os.environ["REPORT"], "w") as report:
            json.dump({"real": midas_account.real, "url": midas_account.url,
                       "email": midas_account.email, "folder": midas_scratch_folder.folder_id,
                       "name": midas_scratch_folder.name,
                       "items": [item["name"] for item in children["items"]]}, report)
''')


def _run_users_suite(tmp_path, monkeypatch, *options):
    (tmp_path / "suite").mkdir()
    (tmp_path / "suite" / "test_users_suite.py").write_text(USERS_TEST)
    report = tmp_path / "report.json"
    monkeypatch.setenv("REPORT", str(report))
    status = pytest.main(["-q", "-p", "no:cacheprovider", "--import-mode=importlib",
                          str(tmp_path / "suite"), *options])
    return int(status), (json.loads(report.read_text()) if report.exists() else None)


@pytest.mark.serverless
def test_without_options_the_users_suite_runs_on_the_emulator(tmp_path, monkeypatch):
    status, seen = _run_users_suite(tmp_path, monkeypatch)
    assert status == 0
    assert seen["real"] is False and seen["url"].startswith("http://127.0.0.1:")
    assert seen["name"].startswith("pydas-test-test_upload_into_the_scratch_folder-")
    assert seen["items"] == ["result.txt"]


def _gone(live_user, folder_id):
    with pytest.raises(exceptions.InvalidPolicy):
        live_user.communicator.folder_get(live_user.token, folder_id)
    return True


@pytest.mark.parametrize("given_by", ["option", "environment"])
def test_with_a_credentials_file_the_users_suite_runs_on_the_real_server(
        live, live_user, tmp_path, monkeypatch, given_by):
    credentials = tmp_path / "server.env"
    credentials.write_text("".join(f"{key}={live[key]}\n"
                                   for key in ("MIDAS_URL", "MIDAS_EMAIL", "MIDAS_API_KEY")))
    if given_by == "option":
        options = ["--midas-credentials", str(credentials)]
    else:
        monkeypatch.setenv("PYDAS_TEST_CREDENTIALS", str(credentials))
        options = []
    status, seen = _run_users_suite(tmp_path, monkeypatch, *options)
    assert status == 0
    assert (seen["real"], seen["url"], seen["email"]) == (True, live["MIDAS_URL"],
                                                          live["MIDAS_EMAIL"])
    assert seen["items"] == ["result.txt"]
    # The scratch folder was in the account's Private folder, and is gone now.
    assert _gone(live_user, seen["folder"])


def test_with_a_url_the_account_comes_from_the_environment(live, live_user, tmp_path,
                                                           monkeypatch):
    monkeypatch.setenv("MIDAS_EMAIL", live["MIDAS_EMAIL"])
    monkeypatch.setenv("MIDAS_PASSWORD", live["MIDAS_PASSWORD"])
    status, seen = _run_users_suite(tmp_path, monkeypatch, "--midas-url", live["MIDAS_URL"])
    assert status == 0 and seen["real"] is True and seen["items"] == ["result.txt"]
    assert _gone(live_user, seen["folder"])


@pytest.mark.serverless
@pytest.mark.parametrize(
    "lines, complaint",
    [
        (["MIDAS_URL=ftp://example.org"], "MIDAS_URL"),
        (["MIDAS_URL=http://127.0.0.1:9"], "MIDAS_EMAIL"),
        (["MIDAS_URL=http://127.0.0.1:9", "MIDAS_EMAIL=jane@example.org"], "MIDAS_API_KEY"),
    ],
    ids=["not-http", "no-email", "no-key"],
)
def test_an_incomplete_credentials_file_is_a_usage_error(tmp_path, monkeypatch, capsys, lines,
                                                         complaint):
    credentials = tmp_path / "server.env"
    credentials.write_text("\n".join(lines) + "\n")
    status, seen = _run_users_suite(tmp_path, monkeypatch, "--midas-credentials",
                                    str(credentials))
    assert status == pytest.ExitCode.USAGE_ERROR and seen is None
    assert complaint in capsys.readouterr().err
