"""The retry policy: one decision (should_retry), one pause (delay), Retry-After."""

import email.utils
import time

import pytest
import requests
import responses
import urllib3
from support.wire import ENDPOINT, core, envelope

from pydas import exceptions
from pydas._transport import Outcome, RetryPolicy, parse_retry_after
from pydas._transport.retry import LOST, NOT_SENT, REFUSED, STATUS, TIMED_OUT

TOKEN = "Tk9secretTOKENvalue0123456789abc"


def _refused():
    return requests.exceptions.ConnectionError(
        urllib3.exceptions.MaxRetryError(
            None, "/midas/api/json", urllib3.exceptions.NewConnectionError(None, "refused")
        )
    )


def _answer(status, headers=None):
    response = requests.Response()
    response.status_code = status
    response.headers.update(headers or {})
    return response


@pytest.mark.parametrize(
    "outcome, repeatable, rewindable, expected",
    [
        (Outcome(NOT_SENT), False, True, True),
        (Outcome(NOT_SENT), False, False, False),
        (Outcome(LOST), True, True, True),
        (Outcome(LOST), False, True, False),
        (Outcome(TIMED_OUT), True, True, True),
        (Outcome(TIMED_OUT), False, True, False),
        (Outcome(STATUS, 429), False, True, True),
        (Outcome(STATUS, 503), False, True, True),
        (Outcome(STATUS, 503), True, False, False),
        (Outcome(STATUS, 502), True, True, True),
        (Outcome(STATUS, 504), False, True, False),
        (Outcome(STATUS, 500), True, True, False),
        (Outcome(STATUS, 404), True, True, False),
        (Outcome(REFUSED), True, True, False),
    ],
    ids=["not-sent", "not-sent-no-body", "lost-repeatable", "lost-create", "timeout-repeatable",
         "timeout-create", "429", "503", "503-body-gone", "502-repeatable", "504-create", "500",
         "404", "refused"],
)
def test_decision_table(outcome, repeatable, rewindable, expected):
    assert RetryPolicy().should_retry(1, outcome, repeatable, rewindable) is expected


def test_attempts_bound_every_decision():
    policy = RetryPolicy(attempts=3)
    outcome = Outcome(NOT_SENT)
    assert [policy.should_retry(n, outcome, True, True) for n in (1, 2, 3, 4)] == [
        True, True, False, False]


@pytest.mark.parametrize(
    "value, kind, status",
    [
        (_refused(), NOT_SENT, None),
        (requests.exceptions.ConnectTimeout("slow"), NOT_SENT, None),
        (requests.exceptions.ReadTimeout("slow"), TIMED_OUT, None),
        (requests.exceptions.ConnectionError("Connection aborted"), LOST, None),
        (requests.exceptions.ChunkedEncodingError("cut"), LOST, None),
        (requests.exceptions.SSLError("bad cert"), REFUSED, None),
        (_answer(503), STATUS, 503),
        (exceptions.CannotConnect("x"), NOT_SENT, None),
        (exceptions.TimedOut("x"), TIMED_OUT, None),
        (exceptions.RequestError("x"), LOST, None),
        (exceptions.UploadFailed("x", code=-105, response=_answer(200)), LOST, None),
        (exceptions.SSLVerificationFailed("x"), REFUSED, None),
        (exceptions.InternalError("x", code=503, response=_answer(503)), STATUS, 503),
        (exceptions.InternalError("x", code=-100, response=_answer(200)), REFUSED, None),
        (exceptions.InvalidPolicy("x", code=-151), REFUSED, None),
        (KeyboardInterrupt(), REFUSED, None),
    ],
    ids=["refused", "connect-timeout", "read-timeout", "reset", "chunked", "tls", "response-503",
         "pydas-cannot-connect", "pydas-timed-out", "pydas-lost", "pydas-upload-failed",
         "pydas-tls", "pydas-http-503", "pydas-code-100", "pydas-policy", "interrupt"],
)
def test_outcome_of_what_an_attempt_produced(value, kind, status):
    outcome = Outcome.of(value)
    assert (outcome.kind, outcome.status) == (kind, status)
    assert Outcome.of(outcome) is outcome


def test_transfer_loops_can_ask_with_pydas_errors():
    policy = RetryPolicy(attempts=5)
    cut = exceptions.RequestError("midas.upload.perform: the connection was lost")
    refusal = exceptions.InvalidUploadToken("midas.upload.perform failed (code -141)")
    assert policy.should_retry(1, cut, repeatable=True, rewindable=True)
    assert not policy.should_retry(1, refusal, repeatable=True, rewindable=True)
    assert not policy.should_retry(5, cut, repeatable=True, rewindable=True)


def test_retry_after_in_both_forms():
    now = 1_700_000_000.0
    in_ten = email.utils.formatdate(now + 10, usegmt=True)
    in_the_past = email.utils.formatdate(now - 100, usegmt=True)
    assert parse_retry_after("3") == 3.0
    assert parse_retry_after(" 120 ") == 120.0
    assert parse_retry_after(in_ten, now=now) == pytest.approx(10.0)
    assert parse_retry_after(in_the_past, now=now) == 0.0
    for unreadable in (None, "", "soon", "-5", "1.5e3", "Mon, 99 Foo 2024"):
        assert parse_retry_after(unreadable, now=now) is None
    soon = email.utils.formatdate(time.time() + 10, usegmt=True)
    outcome = Outcome.of(_answer(429, {"Retry-After": soon}))
    assert outcome.retry_after is not None and 0 < outcome.retry_after <= 10


def test_backoff_jitter_and_cap():
    low = RetryPolicy(backoff=1.0, max_delay=5.0, random_source=lambda: 0.0)
    high = RetryPolicy(backoff=1.0, max_delay=5.0, random_source=lambda: 1.0)
    assert [low.delay(n) for n in (1, 2, 3, 4)] == [0.5, 1.0, 2.0, 2.5]
    assert [high.delay(n) for n in (1, 2, 3, 4)] == [1.0, 2.0, 4.0, 5.0]
    assert high.delay(1, retry_after=60) == 5.0
    assert low.delay(1, retry_after=3) == 3.0


@pytest.mark.parametrize(
    "kwargs",
    [{"attempts": 0}, {"attempts": True}, {"attempts": 1.5}, {"backoff": -1},
     {"max_delay": float("inf")}],
)
def test_policy_values_are_checked(kwargs):
    with pytest.raises(ValueError):
        RetryPolicy(**kwargs)


def test_http_date_retry_after_is_honoured_and_capped(mocked, sleeps):
    soon = email.utils.formatdate(time.time() + 3, usegmt=True)
    late = email.utils.formatdate(time.time() + 3600, usegmt=True)
    mocked.add(responses.POST, ENDPOINT, status=503, headers={"Retry-After": soon})
    mocked.add(responses.POST, ENDPOINT, status=429, headers={"Retry-After": late})
    mocked.add(responses.POST, ENDPOINT, body=envelope({"item_id": "7"}))
    assert core(sleeps).item_get(TOKEN, 7) == {"item_id": "7"}
    first, second = sleeps.waits
    assert 1.5 <= first <= 3.0  # the date has a resolution of one second
    assert second == 8.0  # capped at max_delay


def test_a_lost_connection_repeats_reads_but_not_creates(mocked, sleeps):
    lost = requests.exceptions.ConnectionError("Connection aborted: RemoteDisconnected")
    mocked.add(responses.POST, ENDPOINT, body=lost)
    mocked.add(responses.POST, ENDPOINT, body=envelope({"folder_id": "3"}))
    assert core(sleeps).folder_get(TOKEN, 3) == {"folder_id": "3"}
    assert sleeps.waits == [0.5]
    mocked.add(responses.POST, ENDPOINT, body=lost)
    with pytest.raises(exceptions.RequestError):
        core(sleeps).create_item(TOKEN, "i", 3)
    assert len(mocked.calls) == 3
