"""Exceptions raised by pydas, and the table that turns server answers into them.

Every error pydas raises on purpose derives from :class:`PydasException`.
The class names, bases and attributes of the original client are kept, so
``except pydas.exceptions.InvalidPolicy`` in an old script still works, and so
do the standard and :mod:`requests` bases the old classes had:
``except ValueError`` catches a :class:`ParseError` or an
:class:`InvalidParameter`, ``except requests.exceptions.ConnectionError``
catches a :class:`RequestError`. The classes added here fill the gaps of the
old tree (every Midas error code has a class of its own, an unknown API method
is no longer reported as an invalid token, a failed login says so).

The hierarchy (extra bases in parentheses, Midas error codes and HTTP statuses
in brackets)::

    PydasException
    +-- NotLoggedIn                       a high-level function was called before login()
    +-- PathNotFound                      a server path does not resolve
    +-- LocalInputError (ValueError)      local files that cannot be uploaded as they are
    +-- UnsafePathError                   a download would write outside its directory
    +-- TransferError                     a file could not be transferred intact
    +-- RequestError (requests.exceptions.ConnectionError)
    |   |                                 the request could not be completed
    |   +-- SSLVerificationFailed (requests.exceptions.SSLError)
    |   |                                 TLS handshake / certificate failure
    |   +-- CannotConnect                 no connection: refused, unknown host, connect timeout
    |   +-- TimedOut (requests.exceptions.Timeout)
    |                                     no answer in time, whole-call deadline, stalled transfer
    +-- ResponseError                     the server answered, but not with success
        +-- ParseError (ValueError)       the answer is not a JSON envelope
        |   +-- MalformedResponse         an envelope whose data has an unexpected shape
        |   +-- NotAMidasServer           no Midas JSON web API at BASE/api/json
        +-- ResponseTooLarge              an answer larger than the configured limit
        +-- HTTPError (requests.exceptions.HTTPError)
            |                             [other HTTP statuses >= 400; a redirected API call]
            +-- BadRequest                [HTTP 400]
            |   +-- InternalError         [-100, any HTTP 5xx]
            |   |   +-- DispatcherError   [-102, -103]
            |   |   +-- UploadStorageFailed [-142, -143, -144]
            |   |   +-- DatabaseError     [any code not listed here]
            |   +-- InvalidParameter (ValueError) [-150]
            |   |   +-- FolderExists          an upload would create a folder whose name is taken
            |   +-- InvalidPolicy (ValueError)    [-151]
            |   +-- UploadFailed          [-105]
            |   +-- UploadTokenGenerationFailed [-140]
            |   +-- ServerCheckFailed     [0]
            |   +-- LoginFailed (InvalidParameter, ServerCheckFailed)
            |   |                         wrong e-mail, password, API key or application
            |   +-- ModuleError           [-1]
            +-- Unauthorized              [HTTP 401]
            |   +-- InvalidToken (ValueError)       [-101]
            |   +-- InvalidUploadToken (ValueError) [-141]
            +-- Forbidden                 [HTTP 403, tracker code 403]
            +-- NotFound                  [HTTP 404, -154, tracker code 404]
            |   +-- UnknownMethod         [-101 "Requested method ... does not exist"]
            +-- MethodNotAllowed          [HTTP 405, -153]

A note on HTTP statuses: the JSON API of Midas answers every call with
HTTP 200 and reports failures inside the envelope, so the HTTP-named classes
above are in practice raised for Midas error codes. A real HTTP status of 400
or more is only seen from the download endpoint, from a proxy, or when PHP
crashes; pydas then raises the class of that status, and for 5xx statuses
:class:`InternalError`. A 404, 405 or 501 status without an envelope, an HTML
page, or JSON that is not an envelope means that no Midas API answers at the
address at all: :class:`NotAMidasServer`.

Every exception carries ``value`` (the message), ``method`` (the API method
that failed, when known), ``code`` (the Midas error code as an ``int``, or the
HTTP status for transport-level failures), ``request`` and ``response``
(the :mod:`requests` objects, when there were any; as in :mod:`requests`,
``request`` defaults to ``response.request``). Messages name the method and
quote the server, e.g.
``midas.folder.get failed (code -151): This folder doesn't exist or you don't
have the permissions.`` They never contain passwords, API keys or tokens.
:func:`with_context` re-raises an error with more words and all of these
attributes.
"""

from typing import Any, Dict, Optional, Type, TypeVar, overload

import requests

__all__ = [
    "PydasException",
    "NotLoggedIn",
    "PathNotFound",
    "LocalInputError",
    "UnsafePathError",
    "TransferError",
    "RequestError",
    "SSLVerificationFailed",
    "CannotConnect",
    "TimedOut",
    "ResponseError",
    "ParseError",
    "MalformedResponse",
    "NotAMidasServer",
    "ResponseTooLarge",
    "HTTPError",
    "BadRequest",
    "InternalError",
    "DispatcherError",
    "UploadStorageFailed",
    "DatabaseError",
    "InvalidParameter",
    "FolderExists",
    "InvalidPolicy",
    "UploadFailed",
    "UploadTokenGenerationFailed",
    "ServerCheckFailed",
    "LoginFailed",
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
    "with_context",
]

_E = TypeVar("_E", bound="PydasException")
_F = TypeVar("_F", bound="PydasException")


class PydasException(Exception):
    """Base class of every error raised by pydas.

    :param value: the human-readable message.
    :param method: the Midas API method that failed, if any.
    :param code: the Midas error code (``int``), or an HTTP status.
    :param request: the :class:`requests.PreparedRequest` that was sent, if
        any; by default the request of ``response``.
    :param response: the :class:`requests.Response` received, if any.
    """

    def __init__(
        self,
        value: str = "",
        *,
        method: Optional[str] = None,
        code: Any = None,
        request: Any = None,
        response: Any = None,
    ) -> None:
        super().__init__(value)
        if request is None and response is not None:
            request = getattr(response, "request", None)
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


class RequestError(PydasException, requests.exceptions.ConnectionError):
    """The request could not be completed: connection refused, timeout, cut."""


class SSLVerificationFailed(RequestError, requests.exceptions.SSLError):
    """The TLS connection failed, usually because the certificate is not trusted."""


class CannotConnect(RequestError):
    """No connection to the server could be opened; nothing was sent.

    The message says why in words: the connection was refused, the host name
    is unknown, or connecting took longer than the connect timeout.
    """


class TimedOut(RequestError, requests.exceptions.Timeout):
    """The server did not answer in time.

    Raised when no byte arrived for the read timeout, when a call took longer
    than its whole-call deadline (``Timeout.total``), or when a streamed
    upload or download made no progress for ``Timeout.stall`` seconds.
    """


class ResponseError(PydasException):
    """The server answered, but not with a successful result."""


class ParseError(ResponseError, ValueError):
    """The answer is not a Midas JSON envelope (HTML error page, truncated body...)."""


class MalformedResponse(ParseError):
    """The answer is a Midas envelope, but its data is not what the method returns.

    Raised where the data is used, e.g. a login answer without a token string,
    a folder listing that is not an object of lists, or an offset that is not a
    number. The message names the API method and what was wrong, never a
    secret.
    """


class NotAMidasServer(ParseError):
    """No Midas JSON web API answers at the server URL.

    Raised when ``BASE/api/json`` answers with an HTML page, with HTTP 404,
    405 or 501 and no envelope, or with JSON that is not a Midas envelope: the
    URL points to another kind of server, or misses the path of the Midas
    installation.
    """


class ResponseTooLarge(ResponseError):
    """The answer to an ordinary call is larger than the configured limit.

    The limit (``max_answer_size`` of the communicator or driver, 64 MiB by
    default) keeps a broken or hostile server from filling the memory;
    downloads are streamed and have no such limit.
    """


class HTTPError(ResponseError, requests.exceptions.HTTPError):
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


class InvalidParameter(BadRequest, ValueError):
    """Midas code -150: a parameter is missing or has a bad value."""


class FolderExists(InvalidParameter):
    """An upload would create a folder whose name the destination already holds.

    Midas refuses to create a second folder of the same name in a parent
    (code -150); :func:`pydas.upload` then raises this class, a subclass of
    the :class:`InvalidParameter` raised before, so old ``except`` clauses
    still catch it. Pass ``reuse_existing=True`` to upload into the folder.

    :ivar folder_name: the name of the folder that exists (``None`` if unknown)
    """

    folder_name: Optional[str] = None


class InvalidPolicy(BadRequest, ValueError):
    """Midas code -151: no permission, or the object does not exist."""


class UploadFailed(BadRequest):
    """Midas code -105: the server received fewer bytes than announced."""


class UploadTokenGenerationFailed(BadRequest):
    """Midas code -140: the server could not create an upload token."""


class ServerCheckFailed(BadRequest):
    """Midas code 0: a server-side check failed without a specific code.

    Raised for example by a duplicate community name or an empty name (a
    login with a wrong API key raises :class:`LoginFailed`, a subclass).
    """


class LoginFailed(InvalidParameter, ServerCheckFailed):
    """The server refused the credentials of a login.

    Raised for a wrong password or an unknown e-mail address
    (``midas.user.apikey.default``, code -150 "Login failed"), for a wrong
    API key or application name (``midas.login``, code 0 without a message)
    and for an unknown e-mail address (``midas.login``, code -150 "Unable to
    authenticate"). Its bases are the classes raised for these answers before,
    so existing ``except`` clauses still catch it. The message reads
    ``login failed for EMAIL at URL: ...`` and never contains the secret.
    """


class ModuleError(BadRequest):
    """Midas code -1: an error reported by a server module (mfa, tracker, solr...)."""


class Unauthorized(HTTPError):
    """HTTP 401; base of the token errors."""


class InvalidToken(Unauthorized, ValueError):
    """Midas code -101: the API token is unknown or expired."""


class InvalidUploadToken(Unauthorized, ValueError):
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


@overload
def with_context(
    error: _E, context: Optional[str] = ..., *, message: Optional[str] = ..., cls: None = ...
) -> _E: ...


@overload
def with_context(
    error: PydasException,
    context: Optional[str] = ...,
    *,
    message: Optional[str] = ...,
    cls: Type[_F],
) -> _F: ...


def with_context(
    error: PydasException,
    context: Optional[str] = None,
    *,
    message: Optional[str] = None,
    cls: Optional[Type[PydasException]] = None,
) -> PydasException:
    """Return a copy of ``error`` with more words, to raise in its place.

    The copy keeps the class (unless ``cls`` is given), ``method``, ``code``,
    ``request``, ``response`` and any other attribute of the original, so
    callers that catch the error by class or inspect it lose nothing::

        except exceptions.InvalidPolicy as error:
            raise exceptions.with_context(error, f"uploading into {path!r}") from error

    :param error: the exception to copy.
    :param context: words appended in parentheses to the message.
    :param message: a message replacing the original one (``context`` is
        still appended when given).
    :param cls: a subclass of the error's class to raise instead (e.g.
        :class:`LoginFailed` for an :class:`InvalidParameter`).
    :returns: the new exception (not raised).
    """
    text = error.value if message is None else message
    if context:
        text = f"{text} ({context})"
    new_cls = type(error) if cls is None else cls
    copy = new_cls(
        text,
        method=error.method,
        code=error.code,
        request=error.request,
        response=error.response,
    )
    for key, value in vars(error).items():
        copy.__dict__.setdefault(key, value)  # extra attributes, e.g. a requests error's
    return copy
