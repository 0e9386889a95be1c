"""Exceptions raised by pydas, and the table that turns server answers into them.

Every error pydas raises on purpose derives from :class:`PydasException`.
The class names, bases and attributes of the original client are kept, so
``except pydas.exceptions.InvalidPolicy`` in an old script still works; the
classes added here fill the gaps of the old tree (every Midas error code now
has a class of its own, and an unknown API method is no longer reported as an
invalid token).

The hierarchy (Midas error codes and HTTP statuses in brackets)::

    PydasException
    +-- NotLoggedIn                       a high-level function was called before login()
    +-- PathNotFound                      a server path does not resolve
    +-- LocalInputError (ValueError)      local files that cannot be uploaded as they are
    +-- UnsafePathError                   a download would write outside its directory
    +-- TransferError                     a file could not be transferred intact
    +-- RequestError                      the server could not be reached
    |   +-- SSLVerificationFailed         TLS handshake / certificate failure
    +-- ResponseError                     the server answered, but not with success
        +-- ParseError                    the answer is not a JSON envelope
        |   +-- MalformedResponse         an envelope whose data has an unexpected shape
        +-- HTTPError                     [other HTTP statuses >= 400; a redirected API call]
            +-- BadRequest                [HTTP 400]
            |   +-- InternalError         [-100, any HTTP 5xx]
            |   |   +-- DispatcherError   [-102, -103]
            |   |   +-- UploadStorageFailed [-142, -143, -144]
            |   |   +-- DatabaseError     [any code not listed here]
            |   +-- InvalidParameter      [-150]
            |   +-- InvalidPolicy         [-151]
            |   +-- UploadFailed          [-105]
            |   +-- UploadTokenGenerationFailed [-140]
            |   +-- ServerCheckFailed     [0]
            |   +-- ModuleError           [-1]
            +-- Unauthorized              [HTTP 401]
            |   +-- InvalidToken          [-101]
            |   +-- InvalidUploadToken    [-141]
            +-- Forbidden                 [HTTP 403, tracker code 403]
            +-- NotFound                  [HTTP 404, -154, tracker code 404]
            |   +-- UnknownMethod         [-101 "Requested method ... does not exist"]
            +-- MethodNotAllowed          [HTTP 405, -153]

A note on HTTP statuses: the JSON API of Midas answers every call with
HTTP 200 and reports failures inside the envelope, so the HTTP-named classes
above are in practice raised for Midas error codes. A real HTTP status of 400
or more is only seen from the download endpoint, from a proxy, or when PHP
crashes; pydas then raises the class of that status, and for 5xx statuses
:class:`InternalError`.

Every exception carries ``value`` (the message), ``method`` (the API method
that failed, when known), ``code`` (the Midas error code as an ``int``, or the
HTTP status for transport-level failures), ``request`` and ``response``
(the :mod:`requests` objects, when there were any). Messages name the method
and quote the server, e.g.
``midas.folder.get failed (code -151): This folder doesn't exist or you don't
have the permissions.`` They never contain passwords, API keys or tokens.
"""

from typing import Any, Dict, Optional, Type

__all__ = [
    "PydasException",
    "NotLoggedIn",
    "PathNotFound",
    "LocalInputError",
    "UnsafePathError",
    "TransferError",
    "RequestError",
    "SSLVerificationFailed",
    "ResponseError",
    "ParseError",
    "MalformedResponse",
    "HTTPError",
    "BadRequest",
    "InternalError",
    "DispatcherError",
    "UploadStorageFailed",
    "DatabaseError",
    "InvalidParameter",
    "InvalidPolicy",
    "UploadFailed",
    "UploadTokenGenerationFailed",
    "ServerCheckFailed",
    "ModuleError",
    "Unauthorized",
    "InvalidToken",
    "InvalidUploadToken",
    "Forbidden",
    "NotFound",
    "UnknownMethod",
    "MethodNotAllowed",
    "CODE_EXCEPTIONS",
    "STATUS_EXCEPTIONS",
    "UNKNOWN_METHOD_MARKER",
    "exception_class_for",
    "exception_for",
    "exception_for_status",
    "get_exception_from_status_and_error_codes",
]


class PydasException(Exception):
    """Base class of every error raised by pydas.

    :param value: the human-readable message.
    :param method: the Midas API method that failed, if any.
    :param code: the Midas error code (``int``), or an HTTP status.
    :param request: the :class:`requests.PreparedRequest` that was sent, if any.
    :param response: the :class:`requests.Response` received, if any.
    """

    def __init__(
        self,
        value: str = "",
        *,
        method: Optional[str] = None,
        code: Optional[int] = None,
        request: Any = None,
        response: Any = None,
    ) -> None:
        super().__init__(value)
        self.value = value
        self.method = method
        self.code = code
        self.request = request
        self.response = response

    def __str__(self) -> str:
        return self.value

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.value!r})"


class NotLoggedIn(PydasException):
    """A high-level function was called before :func:`pydas.login`."""


class PathNotFound(PydasException):
    """A server path or destination does not name a readable folder or item."""


class LocalInputError(PydasException, ValueError):
    """The local files given to :func:`pydas.upload` cannot be uploaded as they are.

    Raised before any request is sent: a pattern matching nothing, an
    unreadable file or directory, a symbolic link loop.
    """


class UnsafePathError(PydasException):
    """A download would write outside the chosen local directory."""


class TransferError(PydasException):
    """A file could not be transferred intact after every allowed attempt."""


class RequestError(PydasException):
    """The request could not be completed: connection refused, timeout, cut."""


class SSLVerificationFailed(RequestError):
    """The TLS connection failed, usually because the certificate is not trusted."""


class ResponseError(PydasException):
    """The server answered, but not with a successful result."""


class ParseError(ResponseError):
    """The answer is not a Midas JSON envelope (HTML error page, truncated body...)."""


class MalformedResponse(ParseError):
    """The answer is a Midas envelope, but its data is not what the method returns.

    Raised where the data is used, e.g. a login answer without a token string,
    a folder listing that is not an object of lists, or an offset that is not a
    number. The message names the API method and what was wrong, never a
    secret.
    """


class HTTPError(ResponseError):
    """An error reported either by an HTTP status or by a Midas error code."""


class BadRequest(HTTPError):
    """HTTP 400; base of the Midas codes the REST variant reports as 400."""


class InternalError(BadRequest):
    """Midas code -100 (the server failed internally), and HTTP 5xx statuses."""


class DispatcherError(InternalError):
    """Midas codes -102 and -103: the server's API dispatcher is misconfigured."""


class UploadStorageFailed(InternalError):
    """Midas codes -142, -143, -144: the server could not store an upload."""


class DatabaseError(InternalError):
    """A code that Midas does not define itself; these come from the database driver."""


class InvalidParameter(BadRequest):
    """Midas code -150: a parameter is missing or has a bad value."""


class InvalidPolicy(BadRequest):
    """Midas code -151: no permission, or the object does not exist."""


class UploadFailed(BadRequest):
    """Midas code -105: the server received fewer bytes than announced."""


class UploadTokenGenerationFailed(BadRequest):
    """Midas code -140: the server could not create an upload token."""


class ServerCheckFailed(BadRequest):
    """Midas code 0: a server-side check failed without a specific code.

    Raised for example by a login with a wrong API key (the server then sends
    an empty message), a duplicate community name or an empty name.
    """


class ModuleError(BadRequest):
    """Midas code -1: an error reported by a server module (mfa, tracker, solr...)."""


class Unauthorized(HTTPError):
    """HTTP 401; base of the token errors."""


class InvalidToken(Unauthorized):
    """Midas code -101: the API token is unknown or expired."""


class InvalidUploadToken(Unauthorized):
    """Midas code -141: the upload token is unknown or already used."""


class Forbidden(HTTPError):
    """HTTP 403, or the code 403 of the tracker module."""


class NotFound(HTTPError):
    """HTTP 404, Midas code -154, or the code 404 of the tracker module."""


class UnknownMethod(NotFound):
    """The server does not know the API method (or its module is not enabled).

    Midas reports this with code -101, the code of an invalid token; pydas
    tells the two apart by the server's message.
    """


class MethodNotAllowed(HTTPError):
    """HTTP 405, or Midas code -153 (the API method requires another HTTP verb)."""


#: Midas error code -> exception class.
CODE_EXCEPTIONS: Dict[int, Type[PydasException]] = {
    0: ServerCheckFailed,
    -1: ModuleError,
    -100: InternalError,
    -101: InvalidToken,
    -102: DispatcherError,
    -103: DispatcherError,
    -105: UploadFailed,
    -140: UploadTokenGenerationFailed,
    -141: InvalidUploadToken,
    -142: UploadStorageFailed,
    -143: UploadStorageFailed,
    -144: UploadStorageFailed,
    -150: InvalidParameter,
    -151: InvalidPolicy,
    -153: MethodNotAllowed,
    -154: NotFound,
    403: Forbidden,
    404: NotFound,
}

#: HTTP status (>= 400, without a Midas envelope) -> exception class.
#: Other 4xx statuses give :class:`HTTPError`, 5xx statuses :class:`InternalError`.
STATUS_EXCEPTIONS: Dict[int, Type[PydasException]] = {
    400: BadRequest,
    401: Unauthorized,
    403: Forbidden,
    404: NotFound,
    405: MethodNotAllowed,
}

#: The server message of code -101 that means "no such API method".
UNKNOWN_METHOD_MARKER = "Requested method"


def exception_class_for(code: Any, message: str = "") -> Type[PydasException]:
    """Return the exception class for a Midas error code.

    :param code: the code as sent by the server (a string such as ``"-150"``)
        or as an ``int``.
    :param message: the server's message; needed to tell an unknown method
        from an invalid token (both use code -101).
    :returns: the class from :data:`CODE_EXCEPTIONS`, :class:`UnknownMethod`
        for an unknown method, and :class:`DatabaseError` for any other code.
    """
    try:
        number = int(code)
    except (TypeError, ValueError):
        return DatabaseError
    if number == -101 and UNKNOWN_METHOD_MARKER in message and "does not exist" in message:
        return UnknownMethod
    return CODE_EXCEPTIONS.get(number, DatabaseError)


def exception_for(
    code: Any,
    message: str,
    *,
    method: Optional[str] = None,
    request: Any = None,
    response: Any = None,
) -> PydasException:
    """Build the exception for a failed Midas call (``"stat": "fail"``).

    :param code: the envelope's ``code`` (string or int).
    :param message: the envelope's ``message``, quoted in the exception text.
    :param method: the API method that failed.
    :param request: the request that was sent.
    :param response: the response received.
    :returns: an instance of the mapped class (not raised).
    """
    cls = exception_class_for(code, message)
    try:
        number: Any = int(code)
    except (TypeError, ValueError):
        number = code
    quoted = message if message else "(the server gave no message)"
    prefix = f"{method} failed" if method else "Midas call failed"
    return cls(
        f"{prefix} (code {code}): {quoted}",
        method=method,
        code=number,
        request=request,
        response=response,
    )


def exception_for_status(
    status: int,
    detail: str = "",
    *,
    method: Optional[str] = None,
    request: Any = None,
    response: Any = None,
) -> PydasException:
    """Build the exception for an HTTP status >= 400 without a Midas envelope.

    :param status: the HTTP status code.
    :param detail: a short description (e.g. an excerpt of the body).
    :param method: the API method of the request.
    :param request: the request that was sent.
    :param response: the response received.
    :returns: an instance of the class from :data:`STATUS_EXCEPTIONS`,
        :class:`InternalError` for 5xx, :class:`HTTPError` otherwise.
    """
    if status in STATUS_EXCEPTIONS:
        cls = STATUS_EXCEPTIONS[status]
    elif status >= 500:
        cls = InternalError
    else:
        cls = HTTPError
    prefix = f"{method} failed" if method else "request failed"
    text = f"{prefix} (HTTP {status})"
    if detail:
        text += f": {detail}"
    return cls(text, method=method, code=status, request=request, response=response)


def get_exception_from_status_and_error_codes(
    status_code: int, error_code: Any, value: str
) -> PydasException:
    """Return an exception for an HTTP status and a Midas code (old helper name).

    Kept for scripts written for the original client. A Midas ``error_code``
    takes precedence; without one the HTTP status decides.

    :param status_code: the HTTP status of the response.
    :param error_code: the Midas error code, or ``None``.
    :param value: the message.
    :returns: the exception instance (not raised).
    """
    if error_code is not None:
        return exception_for(error_code, value)
    return exception_for_status(status_code, value)
