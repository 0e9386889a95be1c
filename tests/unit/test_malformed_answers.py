"""Envelopes whose data is not what the driver method unwraps: MalformedResponse, never a raw error.

Each case is an answer a broken or hostile server could send. The error names
the API method and what was wrong, and never shows the value (it could be a
secret); no method returns a wrong value such as the text ``'None'``.
"""

import pytest
import responses
from support.wire import BASE, ENDPOINT, envelope

from pydas import drivers, exceptions

SECRET = "S3cretVALUEthatMustNotShow0123"
T = "t" * 32

Base = drivers.BaseDriver
Core = drivers.CoreDriver
Mfa = drivers.MultiFactorAuthenticationDriver


def login(driver):
    return driver.login_with_api_key("a@b.c", "KEY")


CASES = [
    # (id, driver class, call, data, words in the message)
    ("login-list", Base, login, [SECRET], "midas.login: the answer is a list"),
    ("login-string", Base, login, SECRET, "midas.login: the answer is a string"),
    ("login-token-null", Base, login, {"token": None}, "midas.login: the answer's 'token' is null"),
    ("login-token-empty", Base, login, {"token": ""}, "'token' is an empty string"),
    ("login-token-object", Base, login, {"token": {"value": SECRET}}, "'token' is an object"),
    ("login-token-number", Base, login, {"token": 12345}, "'token' is a number"),
    ("login-token-list", Base, login, {"token": [SECRET]}, "'token' is a list"),
    ("login-mfa-null", Base, login, {"mfa_token_id": None}, "'mfa_token_id' is null"),
    ("login-mfa-empty", Base, login, {"mfa_token_id": ""}, "'mfa_token_id' is an empty string"),
    ("login-mfa-object", Base, login, {"mfa_token_id": {"id": SECRET}}, "is an object"),
    ("login-mfa-bool", Base, login, {"mfa_token_id": True}, "is a boolean"),
    ("login-neither", Base, login, {"other": SECRET}, "neither a token nor an mfa_token_id"),
    ("apikey-missing", Core, lambda d: d.get_default_api_key("a@b.c", "pw"), {"key": SECRET},
     "midas.user.apikey.default: the answer has no 'apikey' member (the data is an object)"),
    ("apikey-number", Core, lambda d: d.get_default_api_key("a@b.c", "pw"), {"apikey": 7},
     "'apikey' is a number"),
    ("apikey-empty", Core, lambda d: d.get_default_api_key("a@b.c", "pw"), {"apikey": ""},
     "'apikey' is an empty string"),
    ("upload-token-missing", Core, lambda d: d.generate_upload_token(T, 7, "a"), {},
     "midas.upload.generatetoken: the answer has no 'token' member"),
    ("upload-token-null", Core, lambda d: d.generate_upload_token(T, 7, "a"), {"token": None},
     "'token' is null"),
    ("upload-token-object", Core, lambda d: d.generate_upload_token(T, 7, "a"),
     {"token": {"t": SECRET}}, "'token' is an object"),
    ("otp-token-null", Mfa, lambda d: d.mfa_otp_login("7", "123456"), {"token": None},
     "midas.mfa.otp.login: the answer's 'token' is null"),
    ("otp-token-empty", Mfa, lambda d: d.mfa_otp_login("7", "123456"), {"token": ""},
     "'token' is an empty string"),
    ("version-number", Core, lambda d: d.get_server_version(), {"version": 3.4},
     "midas.version: the answer's 'version' is a number"),
    ("modules-string", Core, lambda d: d.list_modules(), {"modules": "api,mfa"},
     "midas.modules.list: the answer's 'modules' is a string"),
    ("items-object", Core, lambda d: d.search_item_by_name("a"), {"items": {"0": {}}},
     "midas.item.searchbyname: the answer's 'items' is an object"),
    ("items-folder-null", Core, lambda d: d.search_item_by_name_and_folder("a", 3),
     {"items": None}, "'items' is null"),
    ("items-folder-name", Core, lambda d: d.search_item_by_name_and_folder_name("a", "f"),
     [], "has no 'items' member (the data is a list)"),
    ("offset-negative", Core, lambda d: d.get_upload_offset("1/2/u"), {"offset": "-5"},
     "midas.upload.getoffset: the offset '-5' is not a byte count"),
    ("offset-unit", Core, lambda d: d.get_upload_offset("1/2/u"), {"offset": "12 kB"},
     "the offset '12 kB' is not a byte count"),
    ("offset-fraction", Core, lambda d: d.get_upload_offset("1/2/u"), {"offset": "1.5"},
     "not a byte count"),
    ("offset-negative-number", Core, lambda d: d.get_upload_offset("1/2/u"), {"offset": -3},
     "not a byte count"),
    ("offset-bool", Core, lambda d: d.get_upload_offset("1/2/u"), {"offset": True},
     "not a byte count"),
    ("offset-list", Core, lambda d: d.get_upload_offset("1/2/u"), {"offset": [1]},
     "not a byte count"),
    ("offset-superscript", Core, lambda d: d.get_upload_offset("1/2/u"), {"offset": "²"},
     "not a byte count"),
    ("offset-data-list", Core, lambda d: d.get_upload_offset("1/2/u"), [4000],
     "midas.upload.getoffset: the answer is a list, not an object"),
    ("dicom-text", drivers.DicomextractorDriver, lambda d: d.extract_dicommetadata(T, 7),
     "{not json", "midas.dicomextractor.extract: the returned revision is not JSON"),
]


@pytest.mark.parametrize(
    "cls, call, data, words", [case[1:] for case in CASES], ids=[case[0] for case in CASES]
)
def test_a_malformed_answer_is_a_typed_error(mocked, cls, call, data, words):
    mocked.add(responses.POST, ENDPOINT, body=envelope(data))
    with pytest.raises(exceptions.MalformedResponse) as caught:
        call(cls(BASE))
    error = caught.value
    assert words in str(error)
    assert error.method and str(error).startswith(error.method + ":")
    assert SECRET not in str(error) + repr(error)
    assert isinstance(error, exceptions.ParseError) and isinstance(error, ValueError)


@pytest.mark.parametrize(
    "data, offset",
    [({"offset": ""}, None), ({}, None), ("", None), ({"offset": None}, None),
     ({"offset": "0"}, 0), ({"offset": "4000"}, 4000), ({"offset": 4000}, 4000)],
    ids=["empty", "missing", "no-data", "null", "zero", "text", "number"],
)
def test_an_unknown_offset_is_none_and_a_count_is_an_int(mocked, data, offset):
    mocked.add(responses.POST, ENDPOINT, body=envelope(data))
    assert drivers.CoreDriver(BASE).get_upload_offset("1/2/u") == offset


@pytest.mark.parametrize(
    "data, returned",
    [({"token": "abc"}, "abc"), ({"mfa_token_id": "17"}, "17"), ({"mfa_token_id": 17}, "17")],
)
def test_good_login_answers_are_returned_as_text(mocked, data, returned):
    mocked.add(responses.POST, ENDPOINT, body=envelope(data))
    assert drivers.BaseDriver(BASE).login_with_api_key("a@b.c", "KEY") == returned


def test_an_empty_upload_token_still_means_the_server_had_the_content(mocked):
    mocked.add(responses.POST, ENDPOINT, body=envelope({"token": ""}))
    assert drivers.CoreDriver(BASE).generate_upload_token(T, 7, "a", checksum="0" * 32) == ""
