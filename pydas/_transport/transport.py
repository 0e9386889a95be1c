"""The :class:`Transport`: the one object of pydas that sends HTTP requests.

Wire conventions (see the Midas web API reference):

* ordinary calls are ``POST BASE/api/json?method=NAME`` with the parameters
  in the form body, so that passwords, API keys and tokens never end up in a
  URL (and in the server's access log);
* uploads are ``PUT`` with the parameters in the query string (the server does
  not parse a PUT body into parameters) and the file streamed from disk; in
  the server's multipart mode they are a ``multipart/form-data`` ``POST``
  with the parameters as form fields;
* downloads of an API method (``midas.item.download``) are ``GET`` requests
  whose redirect is followed; a bitstream download is one ``POST`` of a form
  to the download endpoint the API would redirect to (``BASE/download/``,
  token in the body); either body is handed out chunk by chunk. A redirect of
  any other call is reported as an error instead (following it would drop
  the form body).

Each request is sent by :meth:`Transport._send`, a short loop around the
:class:`~pydas._transport.retry.RetryPolicy`: one attempt, then
``should_retry`` decides and ``delay`` says how long to wait. Whether a call
may be repeated is declared by the driver method that makes it.
"""

import itertools
import logging
import os
import time
from typing import Any, Callable, Dict, Mapping, Optional, Tuple, Union
from urllib.parse import urlencode, urljoin, urlsplit

import requests
from requests.structures import CaseInsensitiveDict

from pydas import exceptions
from pydas._transport import failures
from pydas._transport.bodies import FileBody, MultipartFileBody, StreamBody
from pydas._transport.deadlines import STALL, TOTAL, Guard
from pydas._transport.downloads import (
    ChunkIterator,
    filename_from_disposition,
    name_from_url,
    page_message,
)
from pydas._transport.envelope import DEFAULT_MAX_ANSWER_SIZE, decode, read_answer
from pydas._transport.redaction import install_log_filter, scrub, scrub_parameters, secrets_of
from pydas._transport.retry import NOT_SENT, TIMED_OUT, Outcome, RetryPolicy, describe
from pydas._transport.sessions import PydasSession, new_session
from pydas._transport.timeouts import Timeout, TimeoutLike

__all__ = ["API_SUFFIX", "DOWNLOAD_PATH", "Transport"]

logger = logging.getLogger("pydas")

#: The part of the URL between the server root and the API method name.
API_SUFFIX = "/api/json?method="
#: Largest non-file answer of a download endpoint that is read to decode it.
_DOWNLOAD_ANSWER_LIMIT = 1024 * 1024
#: The server's download endpoint, below the root URL (where the API's downloads redirect to).
DOWNLOAD_PATH = "/download/"
#: What a request does with a redirect: report it as an error, follow it, or return it.
_REFUSE, _FOLLOW, _RETURN = "refuse", "follow", "return"
_FORM = "application/x-www-form-urlencoded"

Body = Union[FileBody, StreamBody, MultipartFileBody]


def _strip_slash(url: str) -> str:
    return url[:-1] if url.endswith("/") else url


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc.rsplit('@', 1)[-1]}"


def _redirect_error(
    method: str, response: requests.Response, secrets: Tuple[str, ...]
) -> exceptions.PydasException:
    """The error for an API call that the server redirects elsewhere."""
    target = urlsplit(urljoin(response.url, response.headers.get("Location", "")))
    where = scrub(target._replace(query="", fragment="").geturl(), secrets)
    return exceptions.HTTPError(
        f"{method}: the server redirects this call (HTTP {response.status_code}) to {where}; "
        "pydas does not resend parameters to another address, so use the new address "
        "as the server URL",
        method=method,
        code=response.status_code,
        response=response,
    )


class _Request:
    """What stays the same across the attempts of one request."""

    __slots__ = (
        "verb",
        "method",
        "url",
        "parameters",
        "secrets",
        "form",
        "body",
        "content_type",
        "transfer",
        "redirects",
        "read",
    )

    def __init__(
        self,
        verb: str,
        method: str,
        url: str,
        parameters: Mapping[str, Any],
        *,
        form: Optional[Mapping[str, Any]] = None,
        body: Optional[Body] = None,
        content_type: Optional[str] = None,
        transfer: bool = False,
        redirects: str = _REFUSE,
        stream: bool = False,
    ) -> None:
        self.verb = verb
        self.method = method
        self.url = url
        self.parameters = parameters
        self.secrets = secrets_of(parameters)
        self.form = form
        self.body = body
        self.content_type = content_type
        self.transfer = transfer
        self.redirects = redirects
        self.read = not stream  # downloads stream their body

    def scrub(self, text: str) -> str:
        return scrub(text, self.secrets)


class _Attempt:
    """What one attempt produced.

    ``outcome`` is ``None`` for a final result (an answer, or an error that
    no retry could change), else what the retry policy decides on.
    """

    __slots__ = ("guard", "outcome", "error", "response")

    def __init__(
        self,
        guard: Guard,
        outcome: Optional[Outcome],
        error: Optional[exceptions.PydasException] = None,
        response: Optional[requests.Response] = None,
    ) -> None:
        self.guard = guard
        self.outcome = outcome
        self.error = error
        self.response = response

    def discard(self) -> None:
        """Release what this attempt holds, before the next one."""
        self.guard.disarm()
        if self.response is not None:
            self.response.close()

    def deliver(self) -> Tuple[requests.Response, Guard]:
        """Return the answer, or raise the failure."""
        if self.error is not None:
            raise self.error
        assert self.response is not None
        return self.response, self.guard


class Transport:
    """HTTP access to one Midas server: URL, session, settings, retries, deadlines.

    A :class:`~pydas.core.Communicator` owns one transport and hands it to its
    drivers, so each setting exists once; a standalone driver makes its own.

    :param url: root URL of the Midas installation (one trailing ``/`` is removed).
    :param session: a :class:`requests.Session` of the caller's, used as it is
        (pydas neither closes it nor changes its settings, so it reads the
        environment as :mod:`requests` does, and deadlines are checked between
        pieces of an answer only); by default the transport makes a
        :func:`~pydas._transport.sessions.new_session` and closes it in
        :meth:`close`.
    :param timeout: a :class:`Timeout`, a number of seconds, or a
        ``(connect, read)`` pair; ``None`` means the defaults.
    :param retry: the :class:`RetryPolicy`; ``None`` means the default policy.
    :param max_answer_size: the largest answer of an ordinary call, in bytes.
    """

    def __init__(
        self,
        url: str = "",
        *,
        session: Optional[requests.Session] = None,
        timeout: TimeoutLike = None,
        retry: Optional[RetryPolicy] = None,
        max_answer_size: int = DEFAULT_MAX_ANSWER_SIZE,
    ) -> None:
        install_log_filter()
        self.owns_session = session is None
        self.session = session if session is not None else new_session()
        # Sessions made by pydas get the environment from here, read once.
        self._environment = (
            self.session.environment if isinstance(self.session, PydasSession) else None
        )
        self._urls: Dict[str, str] = {}
        self._url = ""
        self._url_auth = False
        self.url = url
        self._timeout = Timeout()
        self.timeout = timeout
        self.retry = retry if retry is not None else RetryPolicy()
        self._verify: Union[bool, str] = True
        self.auth: Any = None
        self.debug = False
        self._max_answer_size = DEFAULT_MAX_ANSWER_SIZE
        self.max_answer_size = max_answer_size

    # -- settings --------------------------------------------------------------

    @property
    def url(self) -> str:
        """The root URL of the server (one trailing ``/`` is removed)."""
        return self._url

    @url.setter
    def url(self, value: str) -> None:
        self._url = _strip_slash(value)
        self._urls = {}
        self._url_auth = "@" in urlsplit(self._url).netloc

    @property
    def display_url(self) -> str:
        """The server URL as shown in messages: without a ``user:password@`` part."""
        if not self._url_auth:
            return self._url
        parts = urlsplit(self._url)
        return parts._replace(netloc=parts.netloc.rsplit("@", 1)[-1]).geturl()

    def endpoint(self, method: str) -> str:
        """The URL of an API method: ``BASE/api/json?method=NAME``."""
        return self._url + API_SUFFIX + method

    @property
    def timeout(self) -> Timeout:
        """The :class:`Timeout` of every request; assigning ``None`` restores the defaults."""
        return self._timeout

    @timeout.setter
    def timeout(self, value: TimeoutLike) -> None:
        self._timeout = Timeout.coerce(value)

    @property
    def verify(self) -> Union[bool, str]:
        """``True``/``False``, or the path of a CA bundle file or directory."""
        return self._verify

    @verify.setter
    def verify(self, value: Union[bool, str, "os.PathLike[str]"]) -> None:
        if isinstance(value, (str, os.PathLike)):
            self._verify = os.fspath(value)
        else:
            self._verify = bool(value)

    @property
    def max_answer_size(self) -> int:
        """The largest answer of an ordinary call that is read, in bytes."""
        return self._max_answer_size

    @max_answer_size.setter
    def max_answer_size(self, value: int) -> None:
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"max_answer_size must be a positive number of bytes, not {value!r}")
        self._max_answer_size = value

    def close(self) -> None:
        """Close the session if this transport created it."""
        if self.owns_session:
            self.session.close()

    def __repr__(self) -> str:
        return f"Transport({self.display_url!r})"

    # -- plumbing ----------------------------------------------------------------

    def _log(self, text: str, *args: Any) -> None:
        logger.log(logging.INFO if self.debug else logging.DEBUG, text, *args)

    def _method_url(self, method: str, params: Optional[Mapping[str, Any]]) -> str:
        url = self._urls.get(method)
        if url is None:
            prepared = requests.PreparedRequest()
            prepared.prepare_url(self.endpoint(method), None)
            url = self._urls[method] = str(prepared.url)
        if params:
            url += "&" + urlencode(list(params.items()), doseq=True)
        return url

    def _request(
        self,
        verb: str,
        url: str,
        *,
        form: Optional[Mapping[str, Any]],
        data: Any,
        content_type: Optional[str],
        follow_redirects: bool,
    ) -> requests.Response:
        """Send one request, the cheap way for a session made by pydas."""
        environment = self._environment
        if environment is None:  # the caller's session: let requests do everything
            headers = {"Content-Type": content_type} if content_type else None
            return self.session.request(
                verb,
                url,
                data=dict(form) if form is not None else data,
                headers=headers,
                timeout=self._timeout.as_requests(),
                verify=self.verify,
                auth=self.auth,
                stream=True,
                allow_redirects=follow_redirects,
            )
        prepared = requests.PreparedRequest()
        prepared.method = verb
        prepared.url = url
        prepared.headers = CaseInsensitiveDict(self.session.headers)  # type: ignore[arg-type]
        prepared.prepare_cookies(self.session.cookies)
        if form is not None:
            encoded = urlencode(list(form.items()), doseq=True)
            prepared.body = encoded or None
            if encoded:
                prepared.headers["Content-Type"] = _FORM
            prepared.headers["Content-Length"] = str(len(encoded))
        elif data is not None and (not hasattr(data, "__len__") or len(data)):
            prepared.prepare_body(data, None)
        elif verb != "GET":
            prepared.headers["Content-Length"] = "0"
        if content_type:
            prepared.headers["Content-Type"] = content_type
        auth = self.auth if self.auth is not None else environment.netrc_auth(url)
        if auth is not None or self._url_auth:
            prepared.prepare_auth(auth, url)
        return self.session.send(
            prepared,
            stream=True,
            timeout=self._timeout.as_requests(),
            verify=environment.verify(self.verify),
            proxies=environment.proxies(url),
            allow_redirects=follow_redirects,
        )

    def _where(self, error: BaseException) -> str:
        """The address to name in an error: the server URL, or a redirect's target."""
        request = getattr(error, "request", None)
        url = getattr(request, "url", None) or ""
        if not url or url.startswith(self._url):
            return self.display_url or _origin(url)
        return _origin(url)

    def _deadline_error(self, method: str, guard: Guard) -> exceptions.TimedOut:
        if guard.kind == TOTAL:
            text = (
                f"{method}: {self.display_url} did not complete the call within "
                f"{guard.seconds:g} s (whole-call deadline)"
            )
        else:
            text = (
                f"{method}: the transfer made no progress for {guard.seconds:g} s (stall deadline)"
            )
        return exceptions.TimedOut(text, method=method)

    def _new_guard(self, transfer: bool) -> Guard:
        timeout = self._timeout
        if transfer:
            return Guard(
                STALL, timeout.stall, first=timeout.connect + timeout.read, answer=timeout.read
            )
        return Guard(TOTAL, timeout.total)

    def _wait(self, method: str, attempt: int, outcome: Outcome) -> None:
        delay = self.retry.delay(attempt, outcome.retry_after)
        logger.debug("%s: %s, retrying in %.2f s", method, describe(outcome), delay)
        self.retry.sleep(delay)

    @staticmethod
    def _rewindable(body: Optional[Body], outcome: Outcome) -> bool:
        # A form is encoded anew for each attempt. A streamed body is sent
        # again only if no connection was made: otherwise the server may have
        # stored part of it (an upload appends what it receives).
        if body is None:
            return True
        return outcome.kind == NOT_SENT and body.rewind()

    def _send(self, request: "_Request", *, repeatable: bool) -> Tuple[requests.Response, Guard]:
        """Send a request under the retry policy; return the final response.

        One attempt at a time (:meth:`_attempt`); after a failure the policy
        decides whether to try again and how long to wait first.
        """
        for attempt in itertools.count(1):
            result = self._attempt(request, attempt)
            outcome = result.outcome
            if outcome is not None and self.retry.should_retry(
                attempt, outcome, repeatable, self._rewindable(request.body, outcome)
            ):
                result.discard()
                self._wait(request.method, attempt, outcome)
                continue
            return result.deliver()
        raise AssertionError("unreachable")  # pragma: no cover

    def _attempt(self, request: "_Request", attempt: int) -> "_Attempt":
        """Send a request once and say how it went.

        For ordinary calls and uploads the answer is read whole (size-capped)
        here and the guard disarmed; for downloads the body is left to stream
        and the guard stays armed for :class:`ChunkIterator`. A redirect is
        followed only for downloads: for other calls it is an
        :class:`pydas.exceptions.HTTPError`, since following it would turn a
        POST into a GET without the form body and could carry credentials
        elsewhere.
        """
        method, body = request.method, request.body
        guard = self._new_guard(request.transfer)
        if body is not None:
            body.watcher = guard
        started = time.monotonic()
        self._log("%s %s (attempt %d)", request.verb, method, attempt)
        if self.debug:
            self._log("%s parameters: %s", method, scrub_parameters(request.parameters))
        try:
            with guard:
                response = self._request(
                    request.verb,
                    request.url,
                    form=request.form,
                    data=body.data() if body is not None else None,
                    content_type=request.content_type,
                    follow_redirects=request.redirects == _FOLLOW,
                )
            guard.moved()  # the answer has begun: a transfer's body has its stall window
            if request.read and not response.is_redirect:
                read_answer(response, self.max_answer_size, method, lambda: guard.fired)
        except requests.RequestException as error:
            guard.disarm()
            if guard.fired:
                return _Attempt(guard, Outcome(TIMED_OUT), self._deadline_error(method, guard))
            failure = failures.request_failure(
                error, method=method, where=self._where(error), scrub=request.scrub
            )
            return _Attempt(guard, Outcome.of(error), failure)
        except BaseException:
            guard.disarm()
            raise
        if request.read:
            guard.disarm()
            if guard.fired:  # the answer ended because the deadline cut it
                response.close()
                return _Attempt(guard, Outcome(TIMED_OUT), self._deadline_error(method, guard))
        status = response.status_code
        self._log("%s answered HTTP %d in %.3f s", method, status, time.monotonic() - started)
        if response.is_redirect and request.redirects == _REFUSE:
            response.close()
            return _Attempt(guard, None, _redirect_error(method, response, request.secrets))
        outcome = Outcome.of(response) if status >= 400 else None
        return _Attempt(guard, outcome, response=response)

    def _decode(
        self, method: str, response: requests.Response, parameters: Mapping[str, Any]
    ) -> Any:
        return decode(
            method,
            response,
            response.content,
            secrets=secrets_of(parameters),
            base_url=self.display_url,
        )

    # -- the kinds of requests -------------------------------------------------------

    def call(self, method: str, parameters: Mapping[str, Any], *, repeatable: bool) -> Any:
        """POST an ordinary API call with its parameters in the form body.

        :param method: the API method name.
        :param parameters: the form fields.
        :param repeatable: whether the call may reach the server twice without harm.
        :returns: the envelope's ``data``.
        :raises pydas.exceptions.PydasException: on any failure.
        """
        request = _Request(
            "POST", method, self._method_url(method, None), parameters, form=parameters
        )
        response, _ = self._send(request, repeatable=repeatable)
        return self._decode(method, response, parameters)

    def put_file(
        self,
        method: str,
        parameters: Mapping[str, Any],
        path: str,
        offset: int = 0,
        progress: Optional[Callable[[int], Any]] = None,
    ) -> Any:
        """PUT a file from disk as the raw body, parameters in the query string.

        The file is streamed from ``offset`` to its end; ``Content-Length`` is
        the number of bytes sent. The request is repeated only if no
        connection could be opened; the body is then produced again from the
        file. The stall deadline bounds the transfer.

        :returns: the envelope's ``data``.
        :raises FileNotFoundError: if ``path`` does not exist (before sending).
        :raises pydas.exceptions.PydasException: on any failure.
        """
        body = FileBody(path, offset, progress=progress)
        return self._put(method, parameters, body)

    def put_stream(self, method: str, parameters: Mapping[str, Any], handle: Any) -> Any:
        """PUT an open file object as the raw body, parameters in the query string.

        The object is read piece by piece. A retry (connection not opened)
        happens only if the object can seek back to where it started.

        :returns: the envelope's ``data``.
        """
        return self._put(method, parameters, StreamBody(handle))

    def _put(self, method: str, parameters: Mapping[str, Any], body: Body) -> Any:
        url = self._method_url(method, parameters)
        request = _Request("PUT", method, url, parameters, body=body, transfer=True)
        response, _ = self._send(request, repeatable=False)
        return self._decode(method, response, parameters)

    def post_multipart(
        self,
        method: str,
        parameters: Mapping[str, Any],
        path: str,
        *,
        file_field: str,
        file_name: str,
        progress: Optional[Callable[[int], Any]] = None,
    ) -> Any:
        """POST a ``multipart/form-data`` form: the parameters, then the file streamed.

        :param method: the API method.
        :param parameters: the ordinary form fields (none of them in the URL).
        :param path: the file to send.
        :param file_field: the name of the file part.
        :param file_name: the file name announced in the file part.
        :param progress: called with the byte count of each piece sent.
        :returns: the envelope's ``data``.
        """
        body = MultipartFileBody(path, parameters, file_field, file_name, progress=progress)
        request = _Request(
            "POST",
            method,
            self._method_url(method, None),
            parameters,
            body=body,
            content_type=body.content_type,
            transfer=True,
        )
        response, _ = self._send(request, repeatable=False)
        return self._decode(method, response, parameters)

    def download(
        self, method: str, parameters: Mapping[str, Any], *, offset: int = 0
    ) -> Tuple[str, ChunkIterator]:
        """GET a download, follow its redirect and stream the body.

        :param method: the API method (``midas.item.download``...).
        :param parameters: query parameters.
        :param offset: the ``offset`` parameter sent, if any (see :class:`ChunkIterator`).
        :returns: ``(filename, chunk iterator)``. The name comes from
            ``Content-Disposition``; without one, after a redirect to another
            location (a link item), it is the last segment of the final URL.
        :raises pydas.exceptions.PydasException: if the server answered with an
            error envelope, an HTTP error, or could not be reached.
        """
        secrets = secrets_of(parameters)
        url = self._method_url(method, parameters)
        request = _Request(
            "GET", method, url, parameters, transfer=True, redirects=_FOLLOW, stream=True
        )
        response, guard = self._send(request, repeatable=True)
        try:
            disposition = response.headers.get("Content-Disposition")
            at_endpoint = urlsplit(response.url).path == urlsplit(self._url + "/api/json").path
            if response.status_code >= 400 or (disposition is None and at_endpoint):
                body = self._read_download_answer(response, method)
                decode(
                    method,
                    response,
                    body,
                    secrets=secrets,
                    base_url=self.display_url,
                    at_api=at_endpoint,
                )
                raise exceptions.ParseError(
                    f"{method}: the server sent a JSON answer instead of a file",
                    method=method,
                    response=response,
                )
            name = filename_from_disposition(disposition) if disposition else None
        except BaseException:
            guard.disarm()
            response.close()
            raise
        if not name:
            name = name_from_url(response.url)
        if response.history:
            self._log("%s redirected to %s", method, scrub(response.url, secrets))
        return name, ChunkIterator(response, method, offset=offset, guard=guard)

    def post_download(
        self,
        method: str,
        form: Mapping[str, Any],
        *,
        offset: int = 0,
        explain: Optional[Mapping[str, Any]] = None,
    ) -> Tuple[str, ChunkIterator]:
        """POST a form to the server's download endpoint and stream the file it sends.

        One request (``POST BASE/download/``, no redirect) instead of the API
        method's two, with the token (``authToken``) in the body, not in a URL.
        The endpoint answers a refusal with an HTML page (an expired token, for
        instance, is a "500 Invalid token" page); the API method that stands in
        front of it is then asked the same question, so that its error
        envelope, and the pydas exception it maps to, is raised instead.

        :param method: the API method the endpoint stands in for, for messages.
        :param form: the endpoint's parameters (``bitstream``, ``offset``,
            ``name``, ``authToken``).
        :param offset: the ``offset`` sent, if any (see :class:`ChunkIterator`).
        :param explain: the parameters of ``method`` that ask the same
            question, or ``None`` to raise the page's error as it is.
        :returns: ``(filename, chunk iterator)``; the name comes from
            ``Content-Disposition``, else from ``form["name"]``, else it is
            ``"download"``.
        :raises pydas.exceptions.PydasException: the API method's error, the
            error of the page's HTTP status, or a connection failure.
        """
        url = self._url + DOWNLOAD_PATH
        request = _Request("POST", method, url, form, form=form, transfer=True, stream=True)
        response, guard = self._send(request, repeatable=True)
        if response.status_code >= 400:
            try:
                page = self._read_download_answer(response, method)
            finally:
                guard.disarm()
                response.close()
            refusal = exceptions.exception_for_status(
                response.status_code,
                scrub(page_message(page), request.secrets),
                method=method,
                response=response,
            )
            if explain is not None:
                self._explain(method, explain)
            raise refusal
        disposition = response.headers.get("Content-Disposition")
        name = filename_from_disposition(disposition) if disposition else None
        if not name:
            name = str(form.get("name") or "") or name_from_url(url)
        return name, ChunkIterator(response, method, offset=offset, guard=guard)

    def _explain(self, method: str, parameters: Mapping[str, Any]) -> None:
        """Ask an API method whether a download may go ahead; raise its error if not.

        The method's answer to a download it allows is a redirect, which is
        not followed: the question was only whether it would come.
        """
        request = _Request(
            "POST", method, self._method_url(method, None), parameters, form=parameters,
            redirects=_RETURN,
        )
        response, _ = self._send(request, repeatable=True)
        if response.is_redirect:
            response.close()
            return
        self._decode(method, response, parameters)

    def _read_download_answer(self, response: requests.Response, method: str) -> bytes:
        try:
            return read_answer(response, _DOWNLOAD_ANSWER_LIMIT, method)
        except requests.RequestException as error:
            raise exceptions.RequestError(
                f"{method}: the connection was lost while reading the answer "
                f"({failures.reason(error)})",
                method=method,
                response=response,
            ) from None
