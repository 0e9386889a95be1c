"""Mocked-wire helpers for the unit tests of the client core: envelopes, request parts."""

import json
from typing import Dict, List
from urllib.parse import parse_qsl, urlsplit

from pydas import drivers
from pydas._transport import RetryPolicy

BASE = "http://127.0.0.1:9/midas"
ENDPOINT = BASE + "/api/json"


def core(sleeps=None, url=BASE, attempts=4) -> drivers.CoreDriver:
    """A core driver whose retries wait through ``sleeps`` (no jitter), never for real."""
    policy = RetryPolicy(attempts=attempts, sleep=sleeps or (lambda s: None),
                         random_source=lambda: 1.0)
    return drivers.CoreDriver(url, retry=policy)


def envelope(data=None, *, code="0", message="", stat="ok") -> str:
    """A Midas answer as the server encodes it."""
    return json.dumps(
        {"code": code, "data": "" if data is None else data, "message": message, "stat": stat}
    )


def failure(code: str, message: str) -> str:
    """A Midas failure envelope."""
    return envelope(None, code=code, message=message, stat="fail")


def api_method(request) -> str:
    """The ``method`` query parameter of a request."""
    return dict(parse_qsl(urlsplit(request.url).query))["method"]


def query_params(request) -> Dict[str, str]:
    """The query parameters of a request, ``method`` excluded."""
    params = dict(parse_qsl(urlsplit(request.url).query, keep_blank_values=True))
    params.pop("method", None)
    return params


def form_params(request) -> Dict[str, str]:
    """The form-encoded body of a request."""
    body = request.body or ""
    if isinstance(body, bytes):
        body = body.decode("utf-8")
    return dict(parse_qsl(body, keep_blank_values=True))


class Recorder:
    """Records retry waits instead of sleeping."""

    def __init__(self) -> None:
        self.waits: List[float] = []

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)
