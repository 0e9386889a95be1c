"""What went wrong with a request that got no answer, said in words.

:mod:`requests` reports a refused connection as ``HTTPConnectionPool(host=...,
port=...): Max retries exceeded with url: ... (Caused by NewConnectionError(...))``.
This module finds the cause in that chain and turns it into the pydas
exception a user can act on: :class:`~pydas.exceptions.CannotConnect` naming
the address and the reason ("connection refused", "unknown host name"...),
:class:`~pydas.exceptions.SSLVerificationFailed`,
:class:`~pydas.exceptions.TimedOut`, or a plain
:class:`~pydas.exceptions.RequestError` for a connection lost on the way.
"""

import errno
import socket
import ssl
from http.client import HTTPException, RemoteDisconnected
from typing import Any, Iterator, List

import requests
import urllib3

from pydas import exceptions

__all__ = ["nothing_sent", "reason", "request_failure"]


def _causes(error: BaseException) -> Iterator[BaseException]:
    """The error and everything it wraps (``reason``, ``args``, ``__cause__``...)."""
    seen: List[int] = []
    stack: List[Any] = [error]
    while stack:
        current = stack.pop(0)
        if not isinstance(current, BaseException) or id(current) in seen:
            continue
        seen.append(id(current))
        yield current
        stack.append(getattr(current, "reason", None))
        stack.extend(arg for arg in current.args if isinstance(arg, BaseException))
        stack.extend((current.__cause__, current.__context__))


def nothing_sent(error: BaseException) -> bool:
    """Whether a :mod:`requests` exception proves the request never left the client.

    True when no connection could be opened (refused, unknown host, connect
    timeout); false for TLS and proxy failures and for anything after the
    connection was open.
    """
    if isinstance(error, (requests.exceptions.SSLError, requests.exceptions.ProxyError)):
        return False
    if isinstance(error, requests.exceptions.ConnectTimeout):
        return True
    if isinstance(error, requests.exceptions.ConnectionError):
        return any(
            isinstance(cause, urllib3.exceptions.NewConnectionError) for cause in _causes(error)
        )
    return False


_ERRNO_WORDS = {
    errno.ECONNREFUSED: "connection refused",
    errno.ECONNRESET: "connection reset by the server",
    errno.ECONNABORTED: "connection aborted",
    errno.EPIPE: "the server closed the connection while pydas was sending",
    errno.ENETUNREACH: "network unreachable",
    errno.EHOSTUNREACH: "host unreachable",
    errno.ETIMEDOUT: "the connection timed out",
}


def reason(error: BaseException) -> str:
    """Describe the cause of a failed request in a few plain words.

    :param error: a :mod:`requests`, :mod:`urllib3` or socket exception.
    :returns: e.g. ``"connection refused"``, ``"unknown host name"``,
        ``"TLS certificate not trusted: ..."``, ``"no answer within the read
        timeout"``.
    """
    causes = list(_causes(error))
    for cause in causes:
        if isinstance(cause, ssl.SSLCertVerificationError):
            return f"TLS certificate not trusted: {cause.verify_message or cause.reason}"
    for cause in causes:  # the socket's own error first: it is the most precise
        if isinstance(cause, socket.gaierror) or type(cause).__name__ == "NameResolutionError":
            return "unknown host name"
        if isinstance(cause, OSError) and cause.errno in _ERRNO_WORDS:
            return _ERRNO_WORDS[cause.errno]
    for cause in causes:
        # urllib3's NewConnectionError derives from ConnectTimeoutError: test
        # the exact class
        if type(cause) is urllib3.exceptions.ConnectTimeoutError or isinstance(
            cause, requests.exceptions.ConnectTimeout
        ):
            return "no connection within the connect timeout"
        if isinstance(
            cause, (urllib3.exceptions.ReadTimeoutError, requests.exceptions.ReadTimeout)
        ):
            return "no answer within the read timeout"
        if isinstance(cause, RemoteDisconnected):
            return "the server closed the connection without answering"
    for cause in causes:
        if isinstance(cause, ssl.SSLError):
            return f"TLS handshake failed: {cause.reason or cause.strerror or 'unknown reason'}"
        if isinstance(cause, requests.exceptions.ProxyError):
            return "the proxy refused or failed the connection"
        if isinstance(cause, (urllib3.exceptions.ProtocolError, HTTPException)):
            return "the connection broke while the answer arrived"
        if isinstance(cause, socket.timeout):
            return "the connection timed out"
    text = " ".join(str(error).split())
    return f"{type(error).__name__}: {text[:200]}" if text else type(error).__name__


def request_failure(
    error: requests.RequestException,
    *,
    method: str,
    where: str,
    scrub: Any,
) -> exceptions.PydasException:
    """Build the pydas exception for a request that got no (complete) answer.

    :param error: what :mod:`requests` raised.
    :param method: the API method, for the message and the ``method`` attribute.
    :param where: the address to name (the server URL, or a redirect target).
    :param scrub: a function removing secrets from a text.
    :returns: :class:`~pydas.exceptions.SSLVerificationFailed`,
        :class:`~pydas.exceptions.CannotConnect`,
        :class:`~pydas.exceptions.TimedOut` or
        :class:`~pydas.exceptions.RequestError` (not raised).
    """
    why = scrub(reason(error))
    request = getattr(error, "request", None)
    cls: type
    if isinstance(error, requests.exceptions.SSLError):
        cls = exceptions.SSLVerificationFailed
        text = f"cannot connect to {where} ({why}) for {method}"
    elif nothing_sent(error):
        cls = exceptions.CannotConnect
        text = f"cannot connect to {where} ({why}) for {method}"
    elif isinstance(error, requests.exceptions.Timeout):
        cls, text = exceptions.TimedOut, f"{method}: {where} did not answer in time ({why})"
    else:
        cls, text = exceptions.RequestError, f"{method}: the connection to {where} was lost ({why})"
    failure: exceptions.PydasException = cls(text, method=method, request=request)
    return failure
