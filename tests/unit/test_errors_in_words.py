"""Errors people can act on: a failed login, no connection, an address without Midas.

The login answers are those of the real server (Midas 3.4.2, checked on the
kit in ``../shared/midas-server``), which the emulator gives as well.
"""

import socket

import pytest
import requests
import responses
import urllib3
from support.raw_server import RawServer, read_request_head
from support.wire import BASE, ENDPOINT, core, envelope, failure

from pydas import drivers, exceptions
from pydas.core import Communicator

PASSWORD = "Pw-secret-123"
WRONG_KEY = "WrongKEYsecret0123456789abcdefXY"


# -- failed logins, against the emulator -----------------------------------------------


def test_a_wrong_password_is_a_login_failure(midas_server, midas_user):
    driver = drivers.CoreDriver(midas_server.url)
    with pytest.raises(exceptions.InvalidParameter) as caught:
        driver.get_default_api_key(midas_user.email, PASSWORD)
    error = caught.value
    assert type(error) is exceptions.LoginFailed
    assert str(error) == (
        f"login failed for {midas_user.email} at {midas_server.url}: the e-mail address or the "
        "password is incorrect (midas.user.apikey.default answered code -150: Login failed)")
    assert (error.method, error.code) == ("midas.user.apikey.default", -150)
    assert error.response.status_code == 200 and error.request is not None
    assert PASSWORD not in str(error) + repr(error)


def test_an_unknown_email_with_a_password_reads_the_same(midas_server):
    with pytest.raises(exceptions.LoginFailed, match="the e-mail address or the password"):
        drivers.CoreDriver(midas_server.url).get_default_api_key("nobody@example.com", PASSWORD)


@pytest.mark.parametrize("application", ["Default", "ci"])
def test_a_wrong_api_key_or_application_is_a_login_failure(midas_server, midas_user, application):
    key = WRONG_KEY if application == "Default" else midas_user.api_key
    communicator = Communicator(midas_server.url)
    with pytest.raises(exceptions.ServerCheckFailed) as caught:
        communicator.login_with_api_key(midas_user.email, key, application=application)
    error = caught.value
    assert type(error) is exceptions.LoginFailed
    assert str(error) == (
        f"login failed for {midas_user.email} at {midas_server.url}: wrong API key for "
        f"{midas_user.email!r}, or no key for the application {application!r} "
        "(midas.login answered code 0)")
    assert key not in str(error) + repr(error)


def test_an_unknown_email_with_a_key_is_a_login_failure(midas_server):
    with pytest.raises(exceptions.InvalidParameter) as caught:
        drivers.BaseDriver(midas_server.url).request_login("nobody@example.com", WRONG_KEY)
    assert type(caught.value) is exceptions.LoginFailed
    assert str(caught.value) == (
        f"login failed for nobody@example.com at {midas_server.url}: no account has this e-mail "
        "address (midas.login answered code -150: Unable to authenticate. Please check "
        "credentials.)")


@pytest.mark.parametrize(
    "call, message",
    [(lambda d: d.get_default_api_key("a@b.c", PASSWORD), "User has no default API key"),
     (lambda d: d.get_default_api_key("a@b.c", PASSWORD), "Parameter email is not defined"),
     (lambda d: d.login_with_api_key("a@b.c", WRONG_KEY), "Parameter appname is not defined")],
)
def test_other_refusals_keep_their_class(mocked, call, message):
    mocked.add(responses.POST, ENDPOINT, body=failure("-150", message))
    with pytest.raises(exceptions.InvalidParameter) as caught:
        call(drivers.CoreDriver(BASE))
    assert type(caught.value) is exceptions.InvalidParameter
    assert message in str(caught.value)


def test_the_login_failure_names_the_url_without_its_credentials(mocked):
    url = "http://user:url-secret@127.0.0.1:9/midas"
    mocked.add(responses.POST, url + "/api/json", body=envelope(None, stat="fail", code="0"))
    with pytest.raises(exceptions.LoginFailed) as caught:
        drivers.BaseDriver(url).login_with_api_key("a@b.c", WRONG_KEY)
    assert "at http://127.0.0.1:9/midas:" in str(caught.value)
    assert "url-secret" not in str(caught.value)


# -- no connection, in words -----------------------------------------------------------------


def _wrapped(cause):
    return urllib3.exceptions.MaxRetryError(None, "/midas/api/json?method=x&token=T0K", cause)


def _unknown_host():
    reason = socket.gaierror(socket.EAI_NONAME, "Name or service not known")
    cause = urllib3.exceptions.NameResolutionError("midas.example", None, reason)
    return requests.exceptions.ConnectionError(_wrapped(cause))


def _connect_timeout():
    cause = urllib3.exceptions.ConnectTimeoutError(None, "Connection to 127.0.0.1 timed out")
    return requests.exceptions.ConnectTimeout(_wrapped(cause))


def _reset_after_sending():
    cause = urllib3.exceptions.ProtocolError(
        "Connection aborted.", ConnectionResetError(104, "Connection reset by peer"))
    return requests.exceptions.ConnectionError(cause)


@pytest.mark.parametrize(
    "error, cls, text",
    [(_unknown_host(), exceptions.CannotConnect,
      f"cannot connect to {BASE} (unknown host name) for midas.version"),
     (_connect_timeout(), exceptions.CannotConnect,
      f"cannot connect to {BASE} (no connection within the connect timeout) for midas.version"),
     (_reset_after_sending(), exceptions.RequestError,
      f"midas.version: the connection to {BASE} was lost (connection reset by the server)")],
    ids=["unknown-host", "connect-timeout", "reset"],
)
def test_connection_failures_are_said_in_words(mocked, sleeps, error, cls, text):
    mocked.add(responses.POST, ENDPOINT, body=error)
    with pytest.raises(exceptions.RequestError) as caught:
        core(sleeps, attempts=1).get_server_version()
    assert type(caught.value) is cls
    assert str(caught.value) == text
    for noise in ("HTTPConnectionPool", "Max retries", "NewConnectionError", "T0K"):
        assert noise not in str(caught.value)


def test_a_tls_failure_is_said_in_words(local_server, sleeps):
    https_url = local_server.url.replace("http://", "https://")
    with pytest.raises(exceptions.SSLVerificationFailed) as caught:
        core(sleeps, url=https_url).get_server_version()
    text = str(caught.value)
    assert text.startswith(f"cannot connect to {https_url} (TLS handshake failed: ")
    assert "Max retries" not in text and "HTTPSConnectionPool" not in text


# -- not a Midas server -------------------------------------------------------------------


def _answering(status, content_type, body):
    head = (f"HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n").encode()

    def handle(conn):
        read_request_head(conn)
        conn.sendall(head + body)

    return handle


NOT_FOUND_PAGE = (b"<!DOCTYPE HTML PUBLIC \"-//IETF//DTD HTML 2.0//EN\">\n<html><head>\n"
                  b"<title>404 Not Found</title>\n</head><body><h1>Not Found</h1></body></html>")


@pytest.mark.parametrize(
    "status, content_type, body, what",
    [("404 Not Found", "text/html", NOT_FOUND_PAGE,
      "HTTP 404, an HTML page titled '404 Not Found'"),
     ("501 Unsupported method ('POST')", "text/html",
      b"<!DOCTYPE HTML>\n<html><head><title>Error response</title></head><body>501</body></html>",
      "HTTP 501, an HTML page titled 'Error response'"),
     ("405 Method Not Allowed", "text/plain", b"POST not allowed", "HTTP 405, POST not allowed"),
     ("200 OK", "text/html",
      b"<!doctype html><html><head><title>Welcome to nginx!</title></head></html>",
      "HTTP 200, an HTML page titled 'Welcome to nginx!'"),
     ("200 OK", "application/json", b'{"hello": "world"}',
      'HTTP 200, JSON that is not a Midas envelope: {"hello": "world"}')],
    ids=["404-page", "501", "405", "html-200", "other-json"],
)
def test_an_address_without_the_midas_api_says_so(status, content_type, body, what):
    server = RawServer(_answering(status, content_type, body))
    try:
        with pytest.raises(exceptions.ParseError) as caught:
            core(url=server.url, attempts=1).get_server_version()
    finally:
        server.close()
    error = caught.value
    assert type(error) is exceptions.NotAMidasServer
    assert isinstance(error, ValueError)
    assert str(error) == (
        f"{server.url} is not a Midas server (no JSON web API at {server.url}/api/json): "
        f"midas.version got {what}")
    assert error.code == int(status.split()[0])


def test_a_midas_that_crashes_is_still_a_midas(mocked):
    mocked.add(responses.POST, ENDPOINT, status=500, body="<html><body>Fatal error</body></html>")
    with pytest.raises(exceptions.InternalError):
        core(attempts=1).get_server_version()


def test_a_download_page_not_found_is_not_taken_for_a_missing_api(mocked):
    mocked.add(responses.GET, ENDPOINT, status=302,
               headers={"Location": "/midas/download/?items=7"})
    mocked.add(responses.GET, BASE + "/download/", status=404, body=NOT_FOUND_PAGE)
    with pytest.raises(exceptions.NotFound) as caught:
        core().download_item(7)
    assert not isinstance(caught.value, exceptions.NotAMidasServer)


def test_a_login_at_a_wrong_address_says_there_is_no_midas(midas_server):
    with pytest.raises(exceptions.NotAMidasServer, match="is not a Midas server"):
        drivers.BaseDriver(midas_server.url + "/wrong").login_with_api_key("a@b.c", WRONG_KEY)
