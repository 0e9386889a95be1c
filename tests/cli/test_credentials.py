"""The order in which pydas finds credentials, for the library and the command alike."""

import getpass
import os
import stat

import pytest

import pydas
from pydas import _secret_store, credentials
from pydas.exceptions import InvalidParameter, ServerCheckFailed


def _no_prompts(monkeypatch):
    def refuse(prompt=""):
        raise AssertionError(f"unexpected prompt {prompt!r}")

    monkeypatch.setattr("builtins.input", refuse)
    monkeypatch.setattr(getpass, "getpass", refuse)


def _store(url, email, api_key, store=_secret_store.FILE, application="Default"):
    login = credentials.Login(url=url, email=email, application=application)
    return credentials.store_login(login, api_key, store=store)


def _netrc(home, text):
    path = home / ".netrc"
    path.write_text(text)
    path.chmod(0o600)
    return path


def test_explicit_arguments_win_over_everything(monkeypatch, home):
    _no_prompts(monkeypatch)
    monkeypatch.setenv("MIDAS_URL", "http://env.example:1/midas")
    monkeypatch.setenv("MIDAS_EMAIL", "env@example.org")
    monkeypatch.setenv("MIDAS_API_KEY", "env-key")
    found = credentials.resolve(url="http://arg.example:1/midas/", email="arg@example.org",
                                api_key="arg-key", application="App")
    assert (found.url, found.email, found.api_key, found.application) == (
        "http://arg.example:1/midas", "arg@example.org", "arg-key", "App")
    assert found.origin == {"url": "argument", "email": "argument", "application": "argument",
                            "secret": "argument"}


def test_environment_wins_over_the_stored_login_and_netrc(monkeypatch, home):
    _no_prompts(monkeypatch)
    _store("http://host.example/midas", "stored@example.org", "stored-key")
    _netrc(home, "machine host.example login env@example.org password netrc-key\n")
    monkeypatch.setenv("MIDAS_URL", "http://host.example/midas")
    monkeypatch.setenv("MIDAS_EMAIL", "env@example.org")
    monkeypatch.setenv("MIDAS_PASSWORD", "env-password")
    found = credentials.resolve()
    assert (found.email, found.api_key, found.password) == (
        "env@example.org", None, "env-password")
    assert found.origin["secret"] == "MIDAS_PASSWORD"


def test_the_stored_login_gives_server_email_and_key(monkeypatch, home):
    _no_prompts(monkeypatch)
    _store("http://host.example/midas", "stored@example.org", "stored-key", application="Lab")
    found = credentials.resolve()
    assert (found.url, found.email, found.api_key, found.application) == (
        "http://host.example/midas", "stored@example.org", "stored-key", "Lab")
    assert found.origin["secret"] == "the stored login (credentials file)"


def test_the_stored_key_is_only_used_for_its_own_email(monkeypatch, home):
    _store("http://host.example/midas", "stored@example.org", "stored-key")
    monkeypatch.setattr(getpass, "getpass", lambda prompt="": "typed")
    found = credentials.resolve(email="other@example.org")
    assert (found.api_key, found.password) == (None, "typed")


def test_the_stored_key_is_never_sent_to_another_server(monkeypatch, home):
    _store("http://host.example/midas", "stored@example.org", "stored-key")
    monkeypatch.setattr(getpass, "getpass", lambda prompt="": "typed")
    found = credentials.resolve(url="http://elsewhere.example/midas", email="stored@example.org")
    assert (found.api_key, found.password) == (None, "typed")


def test_netrc_comes_after_the_stored_login(monkeypatch, home):
    _no_prompts(monkeypatch)
    _netrc(home, "machine host.example login jane@example.org password netrc-key\n")
    found = credentials.resolve(url="http://host.example:8080/midas")
    assert (found.email, found.api_key, found.secret_may_be_password) == (
        "jane@example.org", "netrc-key", True)
    assert found.origin == {"url": "argument", "email": "~/.netrc", "secret": "~/.netrc"}
    _store("http://host.example:8080/midas", "jane@example.org", "stored-key")
    assert credentials.resolve(url="http://host.example:8080/midas").api_key == "stored-key"


def test_netrc_entries_for_other_hosts_or_default_are_ignored(monkeypatch, home):
    _netrc(home, "machine other.example login a@b.c password x\ndefault login d@e.f password y\n")
    answers = iter(["jane@example.org"])
    monkeypatch.setattr("builtins.input", lambda prompt="": next(answers))
    monkeypatch.setattr(getpass, "getpass", lambda prompt="": "typed")
    found = credentials.resolve(url="http://host.example/midas")
    assert (found.email, found.password) == ("jane@example.org", "typed")


def test_the_netrc_file_can_be_named_by_NETRC(monkeypatch, tmp_path):
    _no_prompts(monkeypatch)
    path = tmp_path / "my-netrc"
    path.write_text("machine host.example login jane@example.org password k\n")
    path.chmod(0o600)
    monkeypatch.setenv("NETRC", str(path))
    assert credentials.resolve(url="https://host.example/midas").api_key == "k"


def test_the_prompts_come_last_and_are_the_manuals(monkeypatch, home):
    asked = []

    def ask(prompt=""):
        asked.append(prompt)
        return {"Server URL: ": "http://host.example/midas", "Email: ": "jane@example.org"}[prompt]

    def ask_secret(prompt="Password: "):
        asked.append(prompt)
        return "secret"

    monkeypatch.setattr("builtins.input", ask)
    monkeypatch.setattr(getpass, "getpass", ask_secret)
    found = credentials.resolve()
    assert asked == ["Server URL: ", "Email: ", "Password: "]
    assert (found.url, found.email, found.password) == (
        "http://host.example/midas", "jane@example.org", "secret")


def test_connection_settings_follow_the_same_order(monkeypatch, home):
    config = home / ".config" / "pydas"
    config.mkdir(parents=True)
    (config / "config.ini").write_text(
        "[pydas]\ntimeout = 7\n\n[http://host.example/midas]\nca_bundle = ~/ca.pem\n"
    )
    found = credentials.resolve(url="http://host.example/midas", email="a@b.c", api_key="k")
    assert (found.verify, found.timeout) == (str(home / "ca.pem"), 7.0)
    monkeypatch.setenv("MIDAS_NO_VERIFY", "1")
    monkeypatch.setenv("MIDAS_TIMEOUT", "3")
    found = credentials.resolve(url="http://host.example/midas", email="a@b.c", api_key="k")
    assert (found.verify, found.timeout) == (False, 3.0)
    found = credentials.resolve(url="http://host.example/midas", email="a@b.c", api_key="k",
                                ca_bundle="/x.pem", timeout=1.5)
    assert (found.verify, found.timeout) == (False, 1.5)  # MIDAS_NO_VERIFY still applies
    monkeypatch.setenv("MIDAS_NO_VERIFY", "0")
    found = credentials.resolve(url="http://host.example/midas", email="a@b.c", api_key="k",
                                ca_bundle="/x.pem")
    assert found.verify == "/x.pem"


@pytest.mark.parametrize("name, value", [("MIDAS_TIMEOUT", "soon"), ("MIDAS_NO_VERIFY", "maybe"),
                                         ("MIDAS_URL", "host.example/midas")])
def test_bad_settings_are_named(monkeypatch, name, value):
    monkeypatch.setenv("MIDAS_URL", "http://host.example/midas")
    monkeypatch.setenv(name, value)
    with pytest.raises(credentials.ConfigurationError, match=name if name != "MIDAS_URL"
                       else "http:// or https://"):
        credentials.resolve(email="a@b.c", api_key="k")


def test_the_fallback_file_is_private(home):
    _store("http://host.example/midas", "jane@example.org", "stored-key")
    directory = home / ".config" / "pydas"
    for path in (directory / "credentials.ini", directory / "config.ini"):
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(directory).st_mode) == 0o700
    assert "stored-key" not in (directory / "config.ini").read_text()
    assert "stored-key" in (directory / "credentials.ini").read_text()


def test_a_credentials_file_readable_by_others_is_refused(home):
    _store("http://host.example/midas", "jane@example.org", "stored-key")
    path = home / ".config" / "pydas" / "credentials.ini"
    path.chmod(0o644)
    with pytest.raises(_secret_store.SecretStoreError, match="chmod 600"):
        credentials.resolve()


def test_the_keyring_is_used_when_it_has_a_backend(home, memory_keyring):
    assert _store("http://host.example/midas", "jane@example.org", "stored-key",
                  store=None) == _secret_store.KEYRING
    assert memory_keyring.entries == {("pydas:http://host.example/midas", "jane@example.org"):
                                      "stored-key"}
    assert not (home / ".config" / "pydas" / "credentials.ini").exists()
    found = credentials.resolve()
    assert found.api_key == "stored-key"
    assert found.origin["secret"] == "the stored login (system keyring)"
    assert credentials.forget_login() == ("http://host.example/midas", "jane@example.org", True)
    assert memory_keyring.entries == {}
    assert credentials.default_url() is None


def test_without_a_keyring_backend_the_file_is_used(home):
    assert _store("http://host.example/midas", "jane@example.org", "k", store=None) == (
        _secret_store.FILE)


def test_pydas_keyring_0_turns_the_keyring_off(monkeypatch, memory_keyring):
    monkeypatch.setenv("PYDAS_KEYRING", "0")
    assert not _secret_store.keyring_available()


def test_a_keyring_that_hangs_is_given_up_in_time(monkeypatch, memory_keyring):
    import threading

    release = threading.Event()
    monkeypatch.setattr(memory_keyring, "get_password", lambda *args: release.wait(30))
    monkeypatch.setenv("PYDAS_KEYRING_TIMEOUT", "0.2")
    _store("http://host.example/midas", "jane@example.org", "k", store=_secret_store.KEYRING)
    try:
        with pytest.raises(_secret_store.SecretStoreError, match="did not answer within 0.2 s"):
            credentials.resolve()
    finally:
        release.set()


def test_library_login_without_arguments_uses_the_environment(monkeypatch, midas_server,
                                                              midas_user):
    _no_prompts(monkeypatch)
    monkeypatch.setenv("MIDAS_URL", midas_server.url)
    monkeypatch.setenv("MIDAS_EMAIL", midas_user.email)
    monkeypatch.setenv("MIDAS_API_KEY", midas_user.api_key)
    assert pydas.login() == pydas.session.token
    assert pydas.session.email == midas_user.email


def test_library_login_without_arguments_uses_the_stored_login(monkeypatch, midas_server,
                                                               midas_user):
    _no_prompts(monkeypatch)
    _store(midas_server.url, midas_user.email, midas_user.api_key)
    assert pydas.login()
    assert pydas.session.url == midas_server.url


def test_library_login_still_prompts_when_nothing_is_configured(monkeypatch, midas_server,
                                                                midas_user):
    answers = {"Server URL: ": midas_server.url, "Email: ": midas_user.email}
    monkeypatch.setattr("builtins.input", lambda prompt="": answers[prompt])
    monkeypatch.setattr(getpass, "getpass", lambda prompt="Password: ": midas_user.password)
    assert pydas.login()
    assert pydas.session.api_key == midas_user.api_key


def test_a_netrc_password_is_tried_as_api_key_then_as_password(home, midas_server, midas_user):
    host = "127.0.0.1"
    _netrc(home, f"machine {host} login {midas_user.email} password {midas_user.password}\n")
    assert pydas.login(url=midas_server.url)
    assert pydas.session.api_key == midas_user.api_key
    methods = [record.params.get("method") for record in midas_server.request_log]
    assert methods[:3] == ["midas.login", "midas.user.apikey.default", "midas.login"]


def test_a_wrong_netrc_secret_is_a_login_refusal(home, midas_server, midas_user):
    _netrc(home, f"machine 127.0.0.1 login {midas_user.email} password wrong\n")
    with pytest.raises((InvalidParameter, ServerCheckFailed)) as caught:
        pydas.login(url=midas_server.url)
    assert pydas.api.login_refused(caught.value)
    assert "wrong" not in str(caught.value)
