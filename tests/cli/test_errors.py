"""Failures told in the command's terms, with their exit codes, through ``main(argv)``."""

import functools
import socket
import threading

import pytest

import pydas
from pydas.cli import errors as codes
from pydas.cli import main
from pydas.core import Communicator, RetryPolicy


@pytest.fixture
def no_waiting(monkeypatch):
    """Retries of the command's logins wait for no real time; the waits are recorded."""
    waits = []
    monkeypatch.setattr(pydas.api, "Communicator", functools.partial(
        Communicator, retry=RetryPolicy(sleep=waits.append)))
    return waits


@pytest.fixture
def silent_url():
    """A server that accepts connections and never answers."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    accepted = []
    stop = threading.Event()

    def accept():
        listener.settimeout(0.05)
        while not stop.is_set():
            try:
                accepted.append(listener.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}/midas"
    stop.set()
    thread.join(5)
    for connection in accepted:
        connection.close()
    listener.close()


def test_a_wrong_password_is_a_failed_login_with_advice(midas_server, midas_user, monkeypatch,
                                                        capsys):
    monkeypatch.setenv("MIDAS_PASSWORD", "not-the-password")
    status = main(["whoami", "--url", midas_server.url, "--email", midas_user.email])
    err = capsys.readouterr().err
    assert status == codes.AUTHENTICATION
    assert err.splitlines() == [
        f"pydas: error: login failed for {midas_user.email} on {midas_server.url}: "
        "wrong e-mail address or password",
        "pydas: check MIDAS_PASSWORD, or unset it to use the stored login or a prompt",
    ]
    assert "not-the-password" not in err


def test_a_wrong_api_key_and_an_unknown_account(midas_server, midas_user, monkeypatch, capsys):
    monkeypatch.setenv("MIDAS_API_KEY", "wrong-key")
    assert main(["ls", "--url", midas_server.url, "--email", midas_user.email]) == (
        codes.AUTHENTICATION)
    assert capsys.readouterr().err.startswith(
        f"pydas: error: login failed for {midas_user.email} on {midas_server.url}: wrong API key "
        "(or it belongs to another application: --application)\n")
    assert main(["ls", "--url", midas_server.url, "--email", "nobody@example.com"]) == (
        codes.AUTHENTICATION)
    assert "no account has this e-mail address" in capsys.readouterr().err


def test_a_url_without_midas_is_said_so(midas_server, monkeypatch, capsys):
    monkeypatch.setenv("MIDAS_API_KEY", "k")
    not_midas = midas_server.url.rsplit("/", 1)[0] + "/elsewhere"
    assert main(["whoami", "--url", not_midas, "--email", "a@b.c"]) == codes.SERVER
    lines = capsys.readouterr().err.splitlines()
    assert lines[0].startswith(
        f"pydas: error: {not_midas} is not a Midas server (no JSON web API at "
        f"{not_midas}/api/json)")
    assert lines[1] == (
        "pydas: check --url (or MIDAS_URL): it is the Midas root, e.g. https://host/midas")


def test_a_server_that_does_not_answer_is_a_timeout(silent_url, no_waiting, monkeypatch, capsys):
    monkeypatch.setenv("MIDAS_API_KEY", "k")
    status = main(["whoami", "--url", silent_url, "--email", "a@b.c", "--timeout", "0.2"])
    assert status == codes.NETWORK
    lines = capsys.readouterr().err.splitlines()
    assert lines[0].startswith(f"pydas: error: {silent_url} did not answer in time")
    assert lines[1] == (
        "pydas: --timeout SECONDS waits longer; run the same command again to continue")
    assert no_waiting  # retried, without sleeping for real


def test_an_error_page_in_the_middle_is_a_server_failure(server_env, midas_server, capsys):
    midas_server.faults.garbage_next(match="midas.folder.children")
    assert main(["ls", "Private"]) == codes.SERVER
    lines = capsys.readouterr().err.splitlines()
    assert lines[0].startswith("pydas: error: the server failed: midas.folder.children: ")
    assert lines[1].startswith("pydas: try again later")


def test_a_bug_is_reported_as_one(server_env, monkeypatch, capsys):
    monkeypatch.setattr(pydas.api, "list_folder", lambda *a: {}["folders"])
    assert main(["ls"]) == codes.FAILED
    assert capsys.readouterr().err.splitlines() == [
        "pydas: error: KeyError: 'folders'",
        "pydas: this is a bug in pydas; run again with --debug and report what it prints",
    ]
