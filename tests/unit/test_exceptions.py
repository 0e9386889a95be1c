"""The exception tree and the mapping of Midas codes and HTTP statuses to it."""

import pytest
import requests
import responses
from support.wire import BASE, ENDPOINT, failure

from pydas import drivers, exceptions
from pydas._transport import scrub
from pydas.core import RetryPolicy
from pydas.exceptions import (
    BadRequest,
    DatabaseError,
    DispatcherError,
    Forbidden,
    HTTPError,
    InternalError,
    InvalidParameter,
    InvalidPolicy,
    InvalidToken,
    InvalidUploadToken,
    MethodNotAllowed,
    ModuleError,
    NotFound,
    ParseError,
    PydasException,
    RequestError,
    ResponseError,
    ServerCheckFailed,
    SSLVerificationFailed,
    Unauthorized,
    UnknownMethod,
    UploadFailed,
    UploadStorageFailed,
    UploadTokenGenerationFailed,
)

# The bases of the classes of pydas 0.3, standard and requests bases included.
OLD_BASES = [
    (RequestError, (PydasException, requests.exceptions.ConnectionError)),
    (SSLVerificationFailed, (RequestError, requests.exceptions.SSLError)),
    (ResponseError, (PydasException,)),
    (ParseError, (ResponseError, ValueError)),
    (HTTPError, (ResponseError, requests.exceptions.HTTPError)),
    (BadRequest, (HTTPError,)),
    (InternalError, (BadRequest,)),
    (InvalidParameter, (BadRequest, ValueError)),
    (InvalidPolicy, (BadRequest, ValueError)),
    (UploadFailed, (BadRequest,)),
    (UploadTokenGenerationFailed, (BadRequest,)),
    (Unauthorized, (HTTPError,)),
    (InvalidToken, (Unauthorized, ValueError)),
    (InvalidUploadToken, (Unauthorized, ValueError)),
    (Forbidden, (HTTPError,)),
    (NotFound, (HTTPError,)),
    (MethodNotAllowed, (HTTPError,)),
]


@pytest.mark.parametrize("child, bases", OLD_BASES, ids=[c.__name__ for c, _ in OLD_BASES])
def test_old_bases_are_kept(child, bases):
    assert child.__bases__ == bases


@pytest.mark.parametrize(
    "child, parents",
    [(exceptions.LoginFailed, (InvalidParameter, ServerCheckFailed, ValueError)),
     (exceptions.NotAMidasServer, (ParseError, ValueError)),
     (exceptions.MalformedResponse, (ParseError, ValueError)),
     (exceptions.CannotConnect, (RequestError, requests.exceptions.ConnectionError)),
     (exceptions.TimedOut, (RequestError, requests.exceptions.Timeout)),
     (exceptions.ResponseTooLarge, (ResponseError,))],
    ids=lambda value: getattr(value, "__name__", ""),
)
def test_new_classes_keep_the_bases_old_clauses_catch(child, parents):
    assert all(issubclass(child, parent) for parent in parents)


def test_every_exported_name_exists_and_every_class_is_exported():
    exported = set(exceptions.__all__)
    assert all(hasattr(exceptions, name) for name in exported)
    classes = {name for name, value in vars(exceptions).items()
               if isinstance(value, type) and issubclass(value, PydasException)}
    assert classes <= exported
    for name in classes:  # each class is drawn in the module docstring
        assert f" {name}" in exceptions.__doc__


def test_old_except_clauses_catch_real_failures(mocked, closed_port_url):
    mocked.add(responses.POST, ENDPOINT, body=failure("-150", "Parameter id is not defined"))
    with pytest.raises(ValueError):
        drivers.CoreDriver(BASE).folder_get("t" * 32, 3)
    mocked.add(responses.POST, ENDPOINT, body="<p>not json</p>")
    with pytest.raises(ValueError):
        drivers.CoreDriver(BASE).folder_get("t" * 32, 3)
    mocked.add_passthru(closed_port_url)
    driver = drivers.CoreDriver(closed_port_url, retry=RetryPolicy(attempts=1))
    with pytest.raises(requests.exceptions.ConnectionError) as caught:
        driver.get_server_version()
    assert isinstance(caught.value, exceptions.CannotConnect)


def test_request_is_taken_from_the_response_as_requests_does():
    response = requests.Response()
    response.request = requests.Request("POST", BASE).prepare()
    error = exceptions.InternalError("boom", response=response)
    assert error.request is response.request
    assert exceptions.exception_for("-150", "x", response=response).request is response.request
    assert exceptions.exception_for_status(502, "x", response=response).request is (
        response.request)
    # the requests base keeps its attributes too
    assert isinstance(error, requests.exceptions.RequestException)
    assert (error.response, error.request) == (response, response.request)


def test_with_context_keeps_class_and_attributes():
    response = requests.Response()
    response.request = requests.Request("POST", BASE).prepare()
    original = exceptions.exception_for(
        "-151", "Invalid policy", method="midas.folder.create", response=response)
    original.extra = "kept"
    added = exceptions.with_context(original, "uploading into 'x'")
    assert type(added) is InvalidPolicy
    assert str(added) == (
        "midas.folder.create failed (code -151): Invalid policy (uploading into 'x')")
    assert (added.method, added.code, added.request, added.response, added.extra) == (
        "midas.folder.create", -151, response.request, response, "kept")
    replaced = exceptions.with_context(original, message="the destination exists")
    assert str(replaced) == "the destination exists" and replaced.args == (str(replaced),)
    login = exceptions.with_context(original, "why", message="login failed",
                                    cls=exceptions.LoginFailed)
    assert isinstance(login, InvalidPolicy) is False and type(login) is exceptions.LoginFailed
    assert login.request is response.request


# Every code of the wire reference (section 1.6), with a realistic message.
CODES = [
    ("0", "", ServerCheckFailed),
    ("0", "Community already exists.", ServerCheckFailed),
    ("-1", "Parameter otp must be set.", ModuleError),
    ("-100", "Create folder failed", InternalError),
    ("-101", "Invalid token", InvalidToken),
    ("-101", "Unable to find user", InvalidToken),
    ("-101", "Server error. Requested method midas.foo.bar does not exist.", UnknownMethod),
    ("-102", 'Server error. Requested class method "x" does not exist.', DispatcherError),
    ("-103", 'Server error. Requested function "x" does not exist.', DispatcherError),
    ("-105", "Failed to upload file - 3/10 bytes transferred", UploadFailed),
    ("-140", "Failed to generate upload token", UploadTokenGenerationFailed),
    ("-141", "Invalid upload token 1/2/abc", InvalidUploadToken),
    ("-142", "Failed to open source", UploadStorageFailed),
    ("-143", "Failed to open output", UploadStorageFailed),
    ("-144", "Failed to create temporary upload dir", UploadStorageFailed),
    ("-150", "Parameter id is not defined", InvalidParameter),
    ("-151", "This folder doesn't exist or you don't have the permissions.", InvalidPolicy),
    ("-153", "POST method required", MethodNotAllowed),
    ("-154", "Group not found", NotFound),
    ("403", "Write permission required on community", Forbidden),
    ("404", "Invalid itemId", NotFound),
    ("42P01", "SQLSTATE relation does not exist", DatabaseError),
    ("1064", "You have an error in your SQL syntax", DatabaseError),
]


@pytest.mark.parametrize(
    "code, message, cls", CODES, ids=[f"{c}-{k.__name__}" for c, _, k in CODES]
)
def test_every_code_maps_to_a_class(mocked, code, message, cls):
    mocked.add(responses.POST, ENDPOINT, body=failure(code, message))
    with pytest.raises(PydasException) as caught:
        drivers.CoreDriver(BASE).folder_get("t" * 32, 3)
    error = caught.value
    assert type(error) is cls
    assert error.method == "midas.folder.get"
    assert error.response is not None and error.response.status_code == 200
    assert error.request is not None
    try:
        assert error.code == int(code)
    except ValueError:
        assert error.code == code
    assert str(error).startswith(f"midas.folder.get failed (code {code}): ")
    assert (scrub(message) or "no message") in str(error)
    assert "1/2/abc" not in str(error)  # an upload token quoted by the server is masked
    assert error.value == str(error)


def test_message_format_quotes_the_server():
    error = exceptions.exception_for(
        "-151",
        "This folder doesn't exist or you don't have the permissions.",
        method="midas.folder.get",
    )
    assert str(error) == (
        "midas.folder.get failed (code -151): "
        "This folder doesn't exist or you don't have the permissions."
    )
    assert repr(error) == f"InvalidPolicy({str(error)!r})"


def test_no_permanent_error_is_an_unauthorized_unknown_method():
    assert not issubclass(UnknownMethod, Unauthorized)
    assert issubclass(UnknownMethod, NotFound)


@pytest.mark.parametrize(
    "status, cls",
    [(400, BadRequest), (401, Unauthorized), (403, Forbidden), (404, NotFound),
     (405, MethodNotAllowed), (409, HTTPError), (500, InternalError), (599, InternalError)],
)
def test_status_mapping(status, cls):
    error = exceptions.exception_for_status(status, "page", method="midas.item.get")
    assert type(error) is cls
    assert error.code == status
    assert str(error) == f"midas.item.get failed (HTTP {status}): page"


def test_old_helper_prefers_the_midas_code():
    assert type(exceptions.get_exception_from_status_and_error_codes(200, "-150", "x")) is (
        InvalidParameter
    )
    assert type(exceptions.get_exception_from_status_and_error_codes(403, None, "x")) is (
        Forbidden
    )


def test_code_table_covers_every_documented_code():
    documented = {0, -1, -100, -101, -102, -103, -105, -140, -141, -142, -143, -144, -150,
                  -151, -153, -154, 403, 404}
    assert set(exceptions.CODE_EXCEPTIONS) == documented


def test_exception_attributes_default_to_none():
    error = PydasException("boom")
    assert (error.value, error.method, error.code, error.request, error.response) == (
        "boom", None, None, None, None
    )
