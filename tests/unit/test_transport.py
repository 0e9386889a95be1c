"""Envelope decoding, connection failures, retries, secrets and logging."""

import logging

import pytest
import requests
import responses
import urllib3
from support.local_server import answer
from support.wire import BASE, ENDPOINT, core, envelope, failure

from pydas import drivers, exceptions
from pydas._transport import RetryPolicy, Timeout, scrub, scrub_parameters

TOKEN = "Tk9secretTOKENvalue0123456789abc"
API_KEY = "ApiKEYsecret0123456789abcdefXYZ"
PASSWORD = "hunter2-secret-pw"




# -- bodies that are not an envelope ---------------------------------------------


@pytest.mark.parametrize(
    "body, fragment",
    [
        ("<html><body>Fatal error: Call to a member function</body></html>", "Fatal error"),
        ("", "(empty body)"),
        ('{"code": "0", "data": {"folders": [', '{"code": "0"'),
        ("<br />\n<b>Notice</b>: Undefined index" + envelope({}), "Notice"),
        ("Inconsistent request: please set a method parameter", "Inconsistent request"),
        ('["not", "an", "envelope"]', '["not"'),
        ("\xff\xfe garbage", "garbage"),
    ],
    ids=["html", "empty", "truncated", "php-notice", "plain-text", "json-list", "binary"],
)
def test_unparseable_answer_is_a_parse_error(mocked, body, fragment):
    mocked.add(responses.POST, ENDPOINT, body=body)
    with pytest.raises(exceptions.ParseError) as caught:
        core().folder_children(TOKEN, 3)
    error = caught.value
    assert error.method == "midas.folder.children"
    assert "midas.folder.children" in str(error)
    assert fragment in str(error)
    assert error.response.status_code == 200
    assert len(mocked.calls) == 1


def test_envelope_after_a_byte_order_mark_is_accepted(mocked):
    mocked.add(responses.POST, ENDPOINT, body=b"\xef\xbb\xbf" + envelope({"version": "3"}).encode())
    assert core().get_server_version() == "3"


def test_excerpt_is_short(mocked):
    mocked.add(responses.POST, ENDPOINT, body="<p>" + "x" * 5000 + "</p>")
    with pytest.raises(exceptions.ParseError) as caught:
        core().get_server_version()
    assert len(str(caught.value)) < 400
    assert str(caught.value).endswith("...")


@pytest.mark.parametrize(
    "status, cls",
    [(500, exceptions.InternalError), (403, exceptions.Forbidden),
     (401, exceptions.Unauthorized), (400, exceptions.BadRequest),
     (418, exceptions.HTTPError)],
)
def test_http_error_status_without_envelope(mocked, status, cls):
    mocked.add(responses.POST, ENDPOINT, body="<h1>Server Error</h1>", status=status)
    with pytest.raises(cls) as caught:
        core(attempts=1).item_get(TOKEN, 7)
    assert type(caught.value) is cls
    assert caught.value.code == status
    assert f"HTTP {status}" in str(caught.value)
    assert "Server Error" in str(caught.value)


def test_http_error_status_with_envelope_uses_the_midas_code(mocked):
    mocked.add(responses.POST, ENDPOINT, status=400, body=failure("-150", "Parameter id"))
    with pytest.raises(exceptions.InvalidParameter):
        core().item_get(TOKEN, 7)


# -- connection failures -----------------------------------------------------------


def _refused():
    return requests.exceptions.ConnectionError(
        urllib3.exceptions.MaxRetryError(
            None, "/midas/api/json", urllib3.exceptions.NewConnectionError(None, "refused")
        )
    )


@pytest.mark.parametrize(
    "error, cls",
    [
        (requests.exceptions.ConnectionError("Connection aborted: RemoteDisconnected"),
         exceptions.RequestError),
        (requests.exceptions.ReadTimeout("read timed out"), exceptions.TimedOut),
        (requests.exceptions.ChunkedEncodingError("broken"), exceptions.RequestError),
    ],
    ids=["reset", "read-timeout", "chunked"],
)
def test_failure_after_sending_is_not_retried(mocked, sleeps, error, cls):
    mocked.add(responses.POST, ENDPOINT, body=error)
    with pytest.raises(exceptions.RequestError) as caught:
        core(sleeps).create_item(TOKEN, "a", 3)
    assert type(caught.value) is cls
    assert caught.value.method == "midas.item.create"
    assert len(mocked.calls) == 1
    assert sleeps.waits == []


def test_ssl_error_is_ssl_verification_failed(mocked, sleeps):
    mocked.add(responses.POST, ENDPOINT, body=requests.exceptions.SSLError("CERTIFICATE_VERIFY"))
    with pytest.raises(exceptions.SSLVerificationFailed) as caught:
        core(sleeps).get_server_version()
    assert "midas.version" in str(caught.value)
    assert len(mocked.calls) == 1
    assert sleeps.waits == []


def test_real_tls_handshake_failure(local_server, sleeps):
    https_url = local_server.url.replace("http://", "https://")
    with pytest.raises(exceptions.SSLVerificationFailed):
        core(sleeps, url=https_url).get_server_version()
    assert sleeps.waits == []


def test_real_connection_refused_is_retried_then_reported(closed_port_url, sleeps):
    with pytest.raises(exceptions.RequestError) as caught:
        core(sleeps, url=closed_port_url).get_server_version()
    assert type(caught.value) is exceptions.CannotConnect
    assert str(caught.value) == (
        f"cannot connect to {closed_port_url} (connection refused) for midas.version")
    assert sleeps.waits == [0.5, 1.0, 2.0]
    assert caught.value.__cause__ is None


# -- retry sequences -----------------------------------------------------------------


def test_transient_connect_failure_then_success(mocked, sleeps):
    mocked.add(responses.POST, ENDPOINT, body=requests.exceptions.ConnectTimeout("slow"))
    mocked.add(responses.POST, ENDPOINT, body=_refused())
    mocked.add(responses.POST, ENDPOINT, body=envelope({"version": "3.4.2"}))
    assert core(sleeps).get_server_version() == "3.4.2"
    assert len(mocked.calls) == 3
    assert sleeps.waits == [0.5, 1.0]


def test_creates_are_retried_when_nothing_was_sent(mocked, sleeps):
    mocked.add(responses.POST, ENDPOINT, body=_refused())
    mocked.add(responses.POST, ENDPOINT, body=envelope({"item_id": "9"}))
    assert core(sleeps).create_item(TOKEN, "a", 3) == {"item_id": "9"}
    assert len(mocked.calls) == 2


@pytest.mark.parametrize("status", [429, 502, 503, 504])
def test_transient_status_then_success(mocked, sleeps, status):
    mocked.add(responses.POST, ENDPOINT, status=status, body="busy")
    mocked.add(responses.POST, ENDPOINT, body=envelope({"item_id": "7"}))
    assert core(sleeps).item_get(TOKEN, 7) == {"item_id": "7"}
    assert sleeps.waits == [0.5]


def test_retries_are_bounded(mocked, sleeps):
    mocked.add(responses.POST, ENDPOINT, status=503, body="down for maintenance")
    with pytest.raises(exceptions.InternalError) as caught:
        core(sleeps).item_get(TOKEN, 7)
    assert len(mocked.calls) == 4
    assert sleeps.waits == [0.5, 1.0, 2.0]
    assert "HTTP 503" in str(caught.value)


def test_retry_after_header_is_honoured(mocked, sleeps):
    mocked.add(responses.POST, ENDPOINT, status=429, body="", headers={"Retry-After": "3"})
    mocked.add(responses.POST, ENDPOINT, body=envelope("1"))
    core(sleeps).set_item_metadata(TOKEN, 7, "e", "v")
    assert sleeps.waits == [3.0]


@pytest.mark.parametrize("status", [502, 504])
def test_gateway_errors_do_not_repeat_a_create(mocked, sleeps, status):
    mocked.add(responses.POST, ENDPOINT, status=status, body="bad gateway")
    with pytest.raises(exceptions.InternalError):
        core(sleeps).create_folder(TOKEN, "f", 3)
    assert len(mocked.calls) == 1
    assert sleeps.waits == []


@pytest.mark.parametrize(
    "call",
    [
        lambda d: d.delete_item(TOKEN, 7),
        lambda d: d.delete_folder(TOKEN, 3),
        lambda d: d.request("midas.Item.Create", {"name": "i", "parentid": 3}),
        lambda d: d.request("midas.tracker.scalar.add", {"value": 1}),
        lambda d: d.request("midas.tracker.item.associate", {"itemId": 7}),
    ],
    ids=["delete-item", "delete-folder", "create-any-case", "scalar", "associate"],
)
def test_gateway_errors_do_not_repeat_other_unsafe_calls(mocked, sleeps, call):
    mocked.add(responses.POST, ENDPOINT, status=504, body="gateway timeout")
    with pytest.raises(exceptions.InternalError):
        call(core(sleeps))
    assert len(mocked.calls) == 1


def test_gateway_errors_repeat_a_create_made_idempotent(mocked, sleeps):
    mocked.add(responses.POST, ENDPOINT, status=502, body="bad gateway")
    mocked.add(responses.POST, ENDPOINT, body=envelope({"folder_id": "4"}))
    mocked.add(responses.POST, ENDPOINT, status=502, body="bad gateway")
    mocked.add(responses.POST, ENDPOINT, body=envelope({"item_id": "5"}))
    driver = core(sleeps)
    assert driver.create_folder(TOKEN, "f", 3, reuse_existing=True) == {"folder_id": "4"}
    assert driver.create_item(TOKEN, "i", 3, uuid="0123abcd") == {"item_id": "5"}
    assert len(mocked.calls) == 4


@pytest.mark.parametrize(
    "code, message, cls",
    [("-101", "Invalid token", exceptions.InvalidToken),
     ("-150", "Parameter id is not defined", exceptions.InvalidParameter),
     ("-151", "Invalid policy", exceptions.InvalidPolicy)],
)
def test_permanent_errors_surface_at_once(mocked, sleeps, code, message, cls):
    mocked.add(responses.POST, ENDPOINT, body=failure(code, message))
    with pytest.raises(cls):
        core(sleeps).item_get(TOKEN, 7)
    assert len(mocked.calls) == 1
    assert sleeps.waits == []


def test_backoff_jitter_and_cap():
    low = RetryPolicy(backoff=1.0, max_delay=5.0, random_source=lambda: 0.0)
    high = RetryPolicy(backoff=1.0, max_delay=5.0, random_source=lambda: 1.0)
    assert [low.delay(n) for n in (1, 2, 3, 4)] == [0.5, 1.0, 2.0, 2.5]
    assert [high.delay(n) for n in (1, 2, 3, 4)] == [1.0, 2.0, 4.0, 5.0]
    assert high.delay(1, retry_after=60) == 5.0
    with pytest.raises(ValueError):
        RetryPolicy(attempts=0)


# -- secrets ---------------------------------------------------------------------------


def test_secrets_travel_in_the_body_not_the_url(mocked):
    mocked.add(responses.POST, ENDPOINT, body=envelope({"apikey": API_KEY}))
    mocked.add(responses.POST, ENDPOINT, body=envelope({"token": TOKEN}))
    mocked.add(responses.POST, ENDPOINT, body=envelope({"folder_id": "1"}))
    driver = core()
    driver.get_default_api_key("a@b.c", PASSWORD)
    driver.login_with_api_key("a@b.c", API_KEY)
    driver.folder_get(TOKEN, 1)
    for call in mocked.calls:
        for secret in (PASSWORD, API_KEY, TOKEN):
            assert secret not in call.request.url
    assert PASSWORD in mocked.calls[0].request.body
    assert API_KEY in mocked.calls[1].request.body


def test_server_message_echoing_a_secret_is_scrubbed(mocked):
    mocked.add(responses.POST, ENDPOINT, body=failure("-150", f"Bad key {API_KEY} for x"))
    with pytest.raises(exceptions.InvalidParameter) as caught:
        core().login_with_api_key("a@b.c", API_KEY)
    assert API_KEY not in str(caught.value)
    assert API_KEY not in repr(caught.value)
    assert "Bad key *** for x" in str(caught.value)


def test_parse_error_excerpt_is_scrubbed(mocked):
    mocked.add(responses.POST, ENDPOINT, body=f"<pre>password={PASSWORD} crashed</pre>")
    with pytest.raises(exceptions.ParseError) as caught:
        core().get_default_api_key("a@b.c", PASSWORD)
    assert PASSWORD not in str(caught.value)


def test_connection_error_text_with_a_token_url_is_scrubbed(mocked):
    url_text = f"Max retries exceeded with url: /midas/api/json?method=x&id=1&token={TOKEN}"
    mocked.add(responses.GET, ENDPOINT, body=requests.exceptions.ConnectionError(url_text))
    with pytest.raises(exceptions.RequestError) as caught:
        core().download_item(1, token=TOKEN)
    assert TOKEN not in str(caught.value)
    assert TOKEN not in repr(caught.value)
    assert caught.value.__cause__ is None
    assert "token=***" in str(caught.value)


def test_scrub_helpers():
    assert scrub(f"a?token={TOKEN}&authToken=x&id=3") == "a?token=***&authToken=***&id=3"
    assert scrub("key is abc123 here", ("abc123",)) == "key is *** here"
    assert scrub_parameters({"token": TOKEN, "uploadtoken": "1/2/u", "apikey": "k", "id": 3}) == {
        "token": "***", "uploadtoken": "***", "apikey": "***", "id": 3,
    }


def test_driver_repr_has_no_secret():
    driver = core()
    driver.auth = ("user", PASSWORD)
    assert PASSWORD not in repr(driver)


# -- logging -----------------------------------------------------------------------------


def test_debug_logs_summaries_without_secrets(mocked, caplog):
    mocked.add(responses.POST, ENDPOINT, body=envelope({"token": TOKEN}))
    driver = core()
    driver.debug = True
    with caplog.at_level(logging.DEBUG, logger="pydas"):
        driver.login_with_api_key("a@b.c", API_KEY)
    text = caplog.text
    assert "midas.login" in text
    assert "HTTP 200" in text
    assert "apikey" in text
    assert API_KEY not in text
    assert TOKEN not in text
    assert any(record.levelno == logging.INFO for record in caplog.records)


def test_without_debug_only_debug_records(mocked, caplog):
    mocked.add(responses.POST, ENDPOINT, body=envelope({"version": "1"}))
    driver = core()
    assert driver.debug is False
    with caplog.at_level(logging.DEBUG, logger="pydas"):
        driver.get_server_version()
    assert caplog.records
    assert all(record.levelno == logging.DEBUG for record in caplog.records)
    assert all(record.name == "pydas" for record in caplog.records)


# -- real sockets: keep-alive and timeouts -----------------------------------------------


def test_calls_reuse_one_connection(local_server):
    clients = []

    def handler(h):
        clients.append(h.client_address)
        answer(h, envelope({"version": "3"}).encode())

    local_server.routes[("POST", "/midas/api/json")] = handler
    driver = drivers.CoreDriver(local_server.url)
    for _ in range(3):
        assert driver.get_server_version() == "3"
    driver.close()
    assert len(clients) == 3
    assert len(set(clients)) == 1


def test_cookies_are_not_sent_back(local_server):
    def handler(h):
        answer(h, envelope({"version": "3"}).encode(), headers=[("Set-Cookie", "PHPSESSID=abc")])

    local_server.routes[("POST", "/midas/api/json")] = handler
    driver = drivers.CoreDriver(local_server.url)
    driver.get_server_version()
    driver.get_server_version()
    assert "Cookie" not in local_server.seen[1][2]


def test_default_and_custom_timeouts():
    assert drivers.CoreDriver(BASE).timeout == Timeout(connect=10, read=300, total=310)
    driver = drivers.CoreDriver(BASE, timeout=(1, 2))
    assert driver.timeout.as_requests() == (1, 2)


# -- redirects -----------------------------------------------------------------------------


def test_redirected_call_is_reported_not_followed(mocked, sleeps):
    mocked.add(responses.POST, ENDPOINT, status=301, headers={
        "Location": "https://127.0.0.1:9/midas/api/json?method=midas.user.apikey.default"})
    with pytest.raises(exceptions.HTTPError) as caught:
        core(sleeps).get_default_api_key("a@b.c", PASSWORD)
    error = caught.value
    assert type(error) is exceptions.HTTPError
    assert error.code == 301
    assert "https://127.0.0.1:9/midas/api/json" in str(error)
    assert "method=" not in str(error)
    assert PASSWORD not in str(error)
    assert len(mocked.calls) == 1
    assert sleeps.waits == []


def test_ca_bundle_path_is_passed_to_requests(mocked, sent_kwargs):
    driver = core()
    driver.verify_ssl_certificate = "/etc/ssl/my-ca.pem"
    mocked.add(responses.POST, ENDPOINT, body=envelope({"version": "3"}))
    driver.get_server_version()
    assert sent_kwargs["verify"] == "/etc/ssl/my-ca.pem"
    driver.verify_ssl_certificate = 0
    assert driver.verify_ssl_certificate is False


def test_excerpt_never_shows_part_of_a_secret(mocked):
    body = "x" * 190 + PASSWORD + "y" * 100
    mocked.add(responses.POST, ENDPOINT, body=body)
    with pytest.raises(exceptions.ParseError) as caught:
        core().get_default_api_key("a@b.c", PASSWORD)
    assert PASSWORD[:10] not in str(caught.value)


def test_url_encoded_secrets_are_scrubbed():
    secret = "p@ss w&rd/1"
    for shown in ("p%40ss%20w%26rd%2F1", "p%40ss+w%26rd%2F1", secret):
        assert scrub(f"body echoes {shown} here", (secret,)) == "body echoes *** here"


def test_answer_cut_by_the_connection_is_a_request_error_and_not_repeated(local_server, sleeps):
    def handler(h):
        answer(h, b'{"code": "0", "data": {"item', length=1000)

    local_server.routes[("POST", "/midas/api/json")] = handler
    with pytest.raises(exceptions.RequestError) as caught:
        core(sleeps, url=local_server.url).create_item(TOKEN, "a", 3)
    assert type(caught.value) is exceptions.RequestError
    assert caught.value.method == "midas.item.create"
    assert len(local_server.seen) == 1
    assert sleeps.waits == []
