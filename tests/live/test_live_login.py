"""Logging in on a real server: API key, password, one-time password, and refusals."""

import pytest

import pydas
from pydas import exceptions

covers = pytest.mark.covers


@pytest.fixture
def prompts(monkeypatch):
    """Answer the prompts of ``pydas.login`` from a script; record what was asked."""
    asked = []
    answers = {}

    def answer(prompt=""):
        asked.append(prompt)
        return answers[prompt]

    monkeypatch.setattr("builtins.input", answer)
    monkeypatch.setattr("getpass.getpass", answer)
    return asked, answers


def _home_names(token):
    return [f["name"] for f in pydas.session.communicator.list_user_folders(token)]


def test_login_with_the_api_key_asks_nothing(live, prompts):
    asked, _ = prompts
    token = pydas.login(email=live["MIDAS_EMAIL"], api_key=live["MIDAS_API_KEY"],
                        url=live["MIDAS_URL"])
    assert asked == [] and len(token) == 32
    assert pydas.session.token == token and _home_names(token) == ["Private", "Public"]


def test_login_with_the_password(live, prompts):
    asked, _ = prompts
    token = pydas.login(email=live["MIDAS_EMAIL"], password=live["MIDAS_PASSWORD"],
                        url=live["MIDAS_URL"])
    assert asked == [] and pydas.session.api_key == live["MIDAS_API_KEY"]
    assert _home_names(token) == ["Private", "Public"]


def test_login_without_arguments_asks_for_everything(live, prompts):
    asked, answers = prompts
    answers.update({"Server URL: ": live["MIDAS_URL"], "Email: ": live["MIDAS_EMAIL"],
                    "Password: ": live["MIDAS_PASSWORD"]})
    token = pydas.login()
    assert asked == ["Server URL: ", "Email: ", "Password: "]
    assert _home_names(token) == ["Private", "Public"]


def test_login_of_the_otp_user_asks_for_the_one_time_password(live, prompts):
    asked, answers = prompts
    answers.update({"Password: ": live["MIDAS_OTP_PASSWORD"], "One-Time Password: ": "123456"})
    token = pydas.login(email=live["MIDAS_OTP_EMAIL"], url=live["MIDAS_URL"])
    assert asked == ["Password: ", "One-Time Password: "]
    assert len(token) == 32 and _home_names(token) == ["Private", "Public"]
    owner = pydas.session.communicator.get_user_by_email(live["MIDAS_OTP_EMAIL"])
    home = pydas.session.communicator.list_user_folders(token)
    assert {folder["parent_id"] for folder in home} == {owner["folder_id"]}


def test_login_of_the_otp_user_with_the_api_key_asks_only_for_the_otp(live, prompts):
    asked, answers = prompts
    answers["One-Time Password: "] = "654321"
    pydas.login(email=live["MIDAS_OTP_EMAIL"], api_key=live["MIDAS_OTP_API_KEY"],
                url=live["MIDAS_URL"])
    assert asked == ["One-Time Password: "]


def test_renewing_while_the_token_is_valid_gives_the_same_token(live, prompts):
    token = pydas.login(email=live["MIDAS_EMAIL"], api_key=live["MIDAS_API_KEY"],
                        url=live["MIDAS_URL"])
    # midas.login hands out the token still valid for the key rather than a new one.
    assert pydas.renew_token() == token == pydas.verify_credentials()


@pytest.mark.parametrize(
    "changes, error",
    [
        ({"api_key": "x" * 32}, exceptions.ServerCheckFailed),
        ({"application": "No such application"}, exceptions.ServerCheckFailed),
        ({"password": "not the password", "api_key": None}, exceptions.InvalidParameter),
        ({"email": "nobody-at-all@example.com"}, exceptions.InvalidParameter),
    ],
    ids=["wrong-api-key", "wrong-application", "wrong-password", "unknown-email"],
)
def test_a_refused_login_raises_its_class_and_keeps_no_session(live, prompts, changes, error):
    arguments = {"email": live["MIDAS_EMAIL"], "api_key": live["MIDAS_API_KEY"],
                 "url": live["MIDAS_URL"], **changes}
    with pytest.raises(error) as refused:
        pydas.login(**arguments)
    assert pydas.session.token is None
    for secret in (live["MIDAS_API_KEY"], live["MIDAS_PASSWORD"], "x" * 32, "not the password"):
        assert secret not in str(refused.value) and secret not in repr(refused.value)


@covers("BaseDriver.request_login", "BaseDriver.login_with_api_key")
def test_the_answer_of_midas_login_tells_token_from_second_factor(live, live_user):
    communicator = live_user.communicator
    assert set(communicator.request_login(live["MIDAS_EMAIL"], live["MIDAS_API_KEY"])) == {"token"}
    answer = communicator.request_login(live["MIDAS_OTP_EMAIL"], live["MIDAS_OTP_API_KEY"])
    assert set(answer) == {"mfa_token_id"} and answer["mfa_token_id"].isdigit()
    assert communicator.login_with_api_key(live["MIDAS_EMAIL"], live["MIDAS_API_KEY"]) == (
        live_user.token
    )
    mfa_id = communicator.login_with_api_key(live["MIDAS_OTP_EMAIL"], live["MIDAS_OTP_API_KEY"])
    assert mfa_id.isdigit()


@covers("MultiFactorAuthenticationDriver.mfa_otp_login")
def test_an_mfa_token_id_is_good_for_one_login(live, live_user):
    communicator = live_user.communicator
    mfa_id = communicator.request_login(live["MIDAS_OTP_EMAIL"], live["MIDAS_OTP_API_KEY"])
    token = communicator.mfa_otp_login(mfa_id["mfa_token_id"], "123456")
    assert len(token) == 32
    with pytest.raises(exceptions.ModuleError, match="Invalid MFA token id"):
        communicator.mfa_otp_login(mfa_id["mfa_token_id"], "123456")


@covers("MultiFactorAuthenticationDriver.mfa_otp_login")
def test_the_server_accepts_any_one_time_password(live, live_user):
    # Upstream's HOTP check is a TODO: whatever is typed logs the user in.
    communicator = live_user.communicator
    for otp in ("000000", "not even digits"):
        mfa_id = communicator.request_login(live["MIDAS_OTP_EMAIL"], live["MIDAS_OTP_API_KEY"])
        assert len(communicator.mfa_otp_login(mfa_id["mfa_token_id"], otp)) == 32
