"""Reading an answer (size-capped) and decoding the Midas JSON envelope.

Every answer of the JSON API is ``{"stat": "ok"|"fail", "code": "...",
"message": "...", "data": ...}`` with HTTP 200. Anything else is sorted out
here: a failure envelope becomes the mapped :mod:`pydas.exceptions` class; an
HTTP error status without an envelope the class of that status; an answer
showing that no Midas API answers at the address (an HTML page, 404/405/501,
JSON of another kind) :class:`~pydas.exceptions.NotAMidasServer`; any other
body :class:`~pydas.exceptions.ParseError` with a short, secret-free excerpt.
"""

import html
import json
import re
from typing import Any, Callable, Iterable, Optional

import requests

from pydas import exceptions
from pydas._transport.bodies import CHUNK_SIZE
from pydas._transport.redaction import excerpt, scrub

__all__ = ["DEFAULT_MAX_ANSWER_SIZE", "decode", "read_answer"]

#: Largest answer of an ordinary call that is read (64 MiB).
DEFAULT_MAX_ANSWER_SIZE = 64 * 1024 * 1024
#: Statuses meaning that no API exists at the address.
_NO_API_STATUSES = frozenset({404, 405, 501})
_TITLE = re.compile(r"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)
_TAG = re.compile(r"<[^>]*>")


def read_answer(
    response: requests.Response,
    limit: int,
    method: str,
    late: Optional[Callable[[], bool]] = None,
) -> bytes:
    """Read a streamed answer whole, up to ``limit`` bytes, and keep it on the response.

    :param response: a response requested with ``stream=True``.
    :param limit: the largest body accepted, in bytes (after decompression).
    :param method: the API method, for the error message.
    :param late: tells whether the deadline has passed; reading stops then
        (the caller reports it).
    :returns: the body read; ``response.content`` returns it as well.
    :raises pydas.exceptions.ResponseTooLarge: if the body is longer than ``limit``.
    :raises requests.RequestException: if the connection breaks while reading.
    """
    announced = response.headers.get("Content-Length")
    if announced is not None and announced.isdigit() and int(announced) > limit:
        response.close()
        raise _too_large(method, limit, response, f"{int(announced)} bytes announced")
    body = bytearray()
    for piece in response.iter_content(CHUNK_SIZE):
        body += piece
        if len(body) > limit:
            response.close()
            raise _too_large(method, limit, response, "still growing")
        if late is not None and late():
            response.close()
            break
    content = bytes(body)
    response._content = content  # what response.content and .text return
    return content


def _too_large(
    method: str, limit: int, response: requests.Response, detail: str
) -> exceptions.ResponseTooLarge:
    return exceptions.ResponseTooLarge(
        f"{method}: the server's answer is larger than the limit of {limit} bytes ({detail}); "
        "a Midas answer is never that large unless the server is broken (raise "
        "max_answer_size of the communicator if you expect it)",
        method=method,
        response=response,
    )


def _looks_like_html(text: str) -> bool:
    start = text.lstrip().lower()
    return start.startswith(("<!doctype html", "<html"))


def _what_html(text: str) -> str:
    title = _TITLE.search(text)
    words = title.group(1) if title else _TAG.sub(" ", text)
    words = " ".join(html.unescape(words).split())
    if len(words) > 80:
        words = words[:80] + "..."
    return f"an HTML page titled {words!r}" if title else f"an HTML page: {words}"


def _not_a_midas_server(
    method: str, response: requests.Response, base_url: str, what: str
) -> exceptions.NotAMidasServer:
    return exceptions.NotAMidasServer(
        f"{base_url} is not a Midas server (no JSON web API at {base_url}/api/json): "
        f"{method} got HTTP {response.status_code}, {what}",
        method=method,
        code=response.status_code,
        response=response,
    )


def decode(
    method: str,
    response: requests.Response,
    body: bytes,
    *,
    secrets: Iterable[str],
    base_url: str,
    at_api: bool = True,
) -> Any:
    """Decode a Midas envelope and return ``data``, or raise the mapped error.

    :param method: the API method, for messages.
    :param response: the response the body belongs to.
    :param body: the whole body.
    :param secrets: values to mask in any quoted text.
    :param base_url: the server URL, to name in the error of a non-Midas answer.
    :param at_api: whether the answer came from ``/api/json`` itself (not from
        the download controller a download was redirected to).
    :raises pydas.exceptions.PydasException: for anything but a success envelope.
    """
    secrets = tuple(secrets)
    status = response.status_code
    text = body.decode("utf-8-sig", errors="replace")  # a BOM printed by PHP is harmless
    envelope: Optional[Any]
    try:
        envelope = json.loads(text)
    except ValueError:
        envelope = None
    is_envelope = isinstance(envelope, dict) and "stat" in envelope
    if not is_envelope:
        if at_api and status in _NO_API_STATUSES:
            what = _what_html(text) if _looks_like_html(text) else excerpt(body, secrets)
            raise _not_a_midas_server(method, response, base_url, what)
        if status >= 400:
            raise exceptions.exception_for_status(
                status, excerpt(body, secrets), method=method, response=response
            )
        if at_api and envelope is not None:
            what = f"JSON that is not a Midas envelope: {excerpt(body, secrets)}"
            raise _not_a_midas_server(method, response, base_url, what)
        if at_api and _looks_like_html(text):
            raise _not_a_midas_server(method, response, base_url, scrub(_what_html(text), secrets))
        raise exceptions.ParseError(
            f"{method}: the server's answer is not a Midas JSON envelope "
            f"(HTTP {status}): {excerpt(body, secrets)}",
            method=method,
            response=response,
        )
    assert isinstance(envelope, dict)
    if envelope.get("stat") == "ok" and status < 400:
        return envelope.get("data")
    message = scrub(str(envelope.get("message") or ""), secrets)
    if envelope.get("stat") == "ok":
        raise exceptions.exception_for_status(status, message, method=method, response=response)
    raise exceptions.exception_for(
        envelope.get("code", ""), message, method=method, response=response
    )
