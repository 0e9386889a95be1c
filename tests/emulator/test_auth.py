"""Logins, API keys, tokens and the multi-factor flow (midas-web-api.md §2)."""

import time
from types import SimpleNamespace

import pytest

from pydas import exceptions
from pydas.drivers import CoreDriver, MultiFactorAuthenticationDriver
from pydas.testing import MidasServer
from pydas.testing.backend import users


def test_login_returns_a_32_character_token(core, jane):
    token = core.login_with_api_key(jane.email, jane.api_key)
    assert len(token) == 32 and token.isalnum()


def test_login_returns_the_same_token_while_it_is_valid(core, jane):
    assert core.login_with_api_key(jane.email, jane.api_key) == core.login_with_api_key(
        jane.email, jane.api_key)


def test_expired_tokens_are_refused_and_a_new_login_gives_a_new_token(
        api, core, midas_server, jane):
    token = core.login_with_api_key(jane.email, jane.api_key)
    midas_server.expire_tokens(jane.email)
    assert api.fail("midas.user.folders", token=token) == ("-101", "Invalid token")
    with pytest.raises(exceptions.InvalidToken):
        core.list_user_folders(token)
    fresh = core.login_with_api_key(jane.email, jane.api_key)
    assert fresh != token
    assert [folder["name"] for folder in core.list_user_folders(fresh)] == ["Private", "Public"]


def test_tokens_live_for_their_key_lifetime(api, midas_server, jane, monkeypatch):
    short_key = midas_server.create_api_key(jane.email, "short", lifetime_minutes=5)
    default_token = api.login(jane)
    short_token = api.ok("midas.login", email=jane.email, apikey=short_key,
                         appname="short")["token"]
    start = time.time()

    def minutes_later(minutes):
        monkeypatch.setattr(users, "time", SimpleNamespace(time=lambda: start + 60 * minutes))

    minutes_later(4)
    assert api.ok("midas.user.folders", token=short_token)
    minutes_later(6)
    assert api.fail("midas.user.folders", token=short_token)[0] == "-101"
    minutes_later(99)
    assert api.ok("midas.user.folders", token=default_token)
    minutes_later(101)
    assert api.fail("midas.user.folders", token=default_token)[0] == "-101"


def test_expire_tokens_of_one_user_leaves_others_valid(api, midas_server, jane, bob):
    jane_token, bob_token = api.login(jane), api.login(bob)
    midas_server.expire_tokens(bob.email)
    assert api.ok("midas.user.folders", token=jane_token)
    assert api.fail("midas.user.folders", token=bob_token)[0] == "-101"


def test_wrong_key_gives_code_0_with_empty_message_and_unknown_email_minus_150(api, jane):
    assert api.fail("midas.login", email=jane.email, apikey="x" * 32, appname="Default") == (
        "0", "")
    assert api.fail("midas.login", email=jane.email, apikey=jane.api_key, appname="Other") == (
        "0", "")
    assert api.fail("midas.login", email="nobody@example.com", apikey=jane.api_key,
                    appname="Default") == (
        "-150", "Unable to authenticate. Please check credentials.")


def test_default_api_key_from_password(core, api, jane):
    assert core.get_default_api_key(jane.email, jane.password) == jane.api_key
    assert api.fail("midas.user.apikey.default", email=jane.email, password="wrong") == (
        "-150", "Login failed")


def test_application_keys_have_their_own_tokens(core, midas_server, jane):
    key = midas_server.create_api_key(jane.email, "scripts", lifetime_minutes=5)
    assert len(key) == 32 and key != jane.api_key
    token = core.login_with_api_key(jane.email, key, application="scripts")
    assert token != core.login_with_api_key(jane.email, jane.api_key)
    with pytest.raises(ValueError):
        midas_server.create_api_key("ghost@example.com", "x")


def test_an_invalid_token_fails_even_where_anonymous_access_works(api, jane):
    assert api.ok("midas.folder.get", id=jane.public_folder_id)["name"] == "Public"
    assert api.fail("midas.folder.get", id=jane.public_folder_id, token="bad") == (
        "-101", "Invalid token")
    assert api.fail("midas.folder.get", id=jane.public_folder_id, token="")[0] == "-101"


def test_methods_that_never_authenticate_ignore_a_bad_token(api):
    assert api.ok("midas.version", token="bad") == {"version": "3.4.2"}


def test_mfa_flow(midas_server, jane):
    midas_server.set_otp(jane.email, "123456")
    with CoreDriver(midas_server.url) as core, MultiFactorAuthenticationDriver(
            midas_server.url) as mfa:
        temporary = core.login_with_api_key(jane.email, jane.api_key)
        assert len(temporary) < 10 and temporary.isdigit()
        token = mfa.mfa_otp_login(temporary, "123456")
        assert len(token) == 32
        assert core.list_user_folders(token)
        with pytest.raises(exceptions.ModuleError, match="Invalid MFA token id"):
            mfa.mfa_otp_login(temporary, "123456")  # single use
        second = core.login_with_api_key(jane.email, jane.api_key)
        with pytest.raises(exceptions.ModuleError, match="Incorrect OTP"):
            mfa.mfa_otp_login(second, "000000")


def test_without_the_mfa_module_login_gives_the_token_directly():
    with MidasServer(modules=["tracker"]) as server:
        user = server.create_user("m@example.com", "p", "M", "N")
        server.set_otp(user.email, "1")
        with CoreDriver(server.url) as core:
            assert len(core.login_with_api_key(user.email, user.api_key)) == 32
            assert core.list_modules() == ["api", "scheduler", "tracker"]


def test_a_device_without_a_password_accepts_any_otp_like_the_real_server(midas_server, jane):
    midas_server.set_otp(jane.email)
    with CoreDriver(midas_server.url) as core, MultiFactorAuthenticationDriver(
            midas_server.url) as mfa:
        for otp in ("000000", "anything"):
            pending = core.login_with_api_key(jane.email, jane.api_key)
            assert core.list_user_folders(mfa.mfa_otp_login(pending, otp))


def test_user_lookups(api, core, jane, bob):
    assert core.get_user_by_email(jane.email)["user_id"] == jane.user_id
    assert core.get_user_by_id(bob.user_id)["email"] == bob.email
    found = core.get_user_by_name("Bob", "Builder")
    assert found["firstname"] == "Bob" and "password" not in found
    assert core.get_user_by_email("nobody@example.com") == ""
    assert api.fail("midas.user.get", firstname="Bob") == (
        "-150", "Please provide a user email or both first and last name")
    assert [user["lastname"] for user in core.list_users(limit=1)] == ["Builder"]
    assert [user["lastname"] for user in core.list_users()] == ["Builder", "Doe"]


def test_user_records_and_repr_hide_secrets(jane):
    assert jane.password not in repr(jane) and jane.api_key not in repr(jane)
    assert jane.email == "user@example.com" and jane.firstname == "Jane"


def test_duplicate_user_is_refused(midas_server, jane):
    with pytest.raises(ValueError, match="already exists"):
        midas_server.create_user(jane.email.upper(), "x", "A", "B")


def test_use_session_means_the_browser_session_which_is_anonymous_here(api, jane_token):
    assert api.ok("midas.user.folders", token=jane_token) != []
    assert api.ok("midas.user.folders", token=jane_token, useSession="1") == []
