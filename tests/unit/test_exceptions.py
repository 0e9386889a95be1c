"""The exception tree and the mapping of Midas codes and HTTP statuses to it."""

import pytest
import responses
from _core_helpers import BASE, ENDPOINT, failure

from pydas import drivers, exceptions
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

OLD_TREE = [
    (RequestError, PydasException),
    (SSLVerificationFailed, RequestError),
    (ResponseError, PydasException),
    (ParseError, ResponseError),
    (HTTPError, ResponseError),
    (BadRequest, HTTPError),
    (InternalError, BadRequest),
    (InvalidParameter, BadRequest),
    (InvalidPolicy, BadRequest),
    (UploadFailed, BadRequest),
    (UploadTokenGenerationFailed, BadRequest),
    (Unauthorized, HTTPError),
    (InvalidToken, Unauthorized),
    (InvalidUploadToken, Unauthorized),
    (Forbidden, HTTPError),
    (NotFound, HTTPError),
    (MethodNotAllowed, HTTPError),
]


@pytest.mark.parametrize("child, parent", OLD_TREE, ids=[c.__name__ for c, _ in OLD_TREE])
def test_old_tree_is_kept(child, parent):
    assert child.__bases__ == (parent,)


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
    assert (message or "no message") in str(error)
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
