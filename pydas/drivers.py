"""Drivers: one class per group of Midas Server API methods.

A driver method states which API method it calls, how its Python arguments
become API parameters, whether the call may be repeated after a failure
(``repeatable=``, next to the call), and which part of the answer it returns;
the sending itself is done by :mod:`pydas._transport`. :class:`CoreDriver`
covers the core API, the other drivers the API of one server module each
(``batchmake``, ``dicomextractor``, ``mfa``, ``solr``, ``thumbnailcreator``,
``tracker``). A :class:`pydas.core.Communicator` bundles them all behind one
object and one transport.

Conventions shared by every driver method:

* a parameter whose value is ``None`` is not sent at all; in particular
  ``token=None`` makes an anonymous call;
* optional keyword arguments are sent only when given (not ``None``); flags
  that the server tests for mere presence (``reuse_existing``, ``silent``,
  ``unofficial``) are sent only when true;
* an unknown keyword argument raises :class:`TypeError` instead of being
  silently ignored;
* every method returns the documented part of the answer's ``data`` and
  raises a :class:`pydas.exceptions.PydasException` subclass on failure;
  where a method takes a member out of ``data`` (a token, an API key, an
  offset, a list), an answer without it, or with a value of the wrong kind,
  raises :class:`pydas.exceptions.MalformedResponse`;
* a call is repeated after a failure only when that cannot do harm (see
  :class:`pydas.core.RetryPolicy`): reads may be repeated, creations and
  deletions only when a ``uuid`` (or ``reuse_existing``) makes a second call
  land on the same object.

Additions to the original API, used by the high-level functions:
:meth:`BaseDriver.request_login`, :meth:`CoreDriver.get_upload_offset`,
:meth:`CoreDriver.download_bitstream`, the ``offset``, ``changes`` and
``progress`` options and the multipart mode of :meth:`CoreDriver.perform_upload`,
and ``return_item`` of :meth:`CoreDriver.download_item`.
"""

import errno
import json
import os
import re
import uuid
from collections import OrderedDict
from dataclasses import dataclass
from typing import (
    Any,
    Callable,
    Dict,
    FrozenSet,
    Iterator,
    List,
    Literal,
    Mapping,
    Optional,
    Tuple,
    Type,
    TypeVar,
    Union,
    overload,
)

import requests

from pydas import exceptions
from pydas._transport import API_SUFFIX, RetryPolicy, Timeout, TimeoutLike, Transport

__all__ = [
    "API_SUFFIX",
    "Download",
    "DownloadWithItem",
    "BaseDriver",
    "BatchmakeDriver",
    "CoreDriver",
    "DicomextractorDriver",
    "MultiFactorAuthenticationDriver",
    "SolrDriver",
    "ThumbnailCreatorDriver",
    "TrackerDriver",
]

#: What a download method returns: the file name and an iterator of chunks.
Download = Tuple[str, Iterator[bytes]]
#: What ``download_item(..., return_item=True)`` returns.
DownloadWithItem = Tuple[str, Iterator[bytes], Dict[str, Any]]


class _Options:
    """How the optional keyword arguments of one driver method are sent.

    :param values: keyword -> API parameter, sent when the value is not ``None``.
    :param flags: keyword -> API parameter, sent only when the value is true
        (the server treats the mere presence of these parameters as "on").
    :param encoded: keyword -> API parameter, sent JSON-encoded when not ``None``.
    :param extra: keywords accepted but handled by the method itself.
    """

    def __init__(
        self,
        values: Optional[Mapping[str, str]] = None,
        flags: Optional[Mapping[str, str]] = None,
        encoded: Optional[Mapping[str, str]] = None,
        extra: FrozenSet[str] = frozenset(),
    ) -> None:
        self.values = dict(values or {})
        self.flags = dict(flags or {})
        self.encoded = dict(encoded or {})
        self.extra = extra

    def __or__(self, other: "_Options") -> "_Options":
        return _Options(
            {**self.values, **other.values},
            {**self.flags, **other.flags},
            {**self.encoded, **other.encoded},
            self.extra | other.extra,
        )

    def apply(self, caller: str, kwargs: Mapping[str, Any], parameters: Dict[str, Any]) -> None:
        """Add the API parameters for ``kwargs`` to ``parameters``.

        :raises TypeError: for a keyword the method does not document.
        """
        known = set(self.values) | set(self.flags) | set(self.encoded) | self.extra
        unknown = sorted(set(kwargs) - known)
        if unknown:
            raise TypeError(
                f"{caller}() got unexpected keyword argument(s): {', '.join(unknown)} "
                f"(accepted: {', '.join(sorted(known))})"
            )
        for key, name in self.values.items():
            if kwargs.get(key) is not None:
                parameters[name] = kwargs[key]
        for key, name in self.flags.items():
            if kwargs.get(key):
                parameters[name] = kwargs[key]
        for key, name in self.encoded.items():
            if kwargs.get(key) is not None:
                parameters[name] = json.dumps(kwargs[key])


_COMMUNITY_OPTIONS = _Options(
    {"description": "description", "uuid": "uuid", "privacy": "privacy", "can_join": "canjoin"}
)
_ITEM_OPTIONS = _Options({"description": "description", "uuid": "uuid", "privacy": "privacy"})
_FOLDER_OPTIONS = _ITEM_OPTIONS | _Options(flags={"reuse_existing": "reuseExisting"})
_LINK_OPTIONS = _Options({"item_name": "itemname", "length": "length", "checksum": "checksum"})
_UPLOAD_OPTIONS = _Options(
    {
        "mode": "mode",
        "folder_id": "folderid",
        "folderid": "folderid",
        "item_id": "itemid",
        "itemid": "itemid",
        "revision": "revision",
        "changes": "changes",
    },
    extra=frozenset({"filepath", "create_additional_revision", "offset", "progress"}),
)
#: Optional tracker arguments shared by scalar submission and JSON results upload.
_TRACKER_OPTIONS = _Options(
    {
        "config_item_id": "configItemId",
        "test_dataset_id": "testDatasetId",
        "truth_dataset_id": "truthDatasetId",
        "build_results_url": "buildResultsUrl",
        "branch": "branch",
    },
    flags={"silent": "silent", "unofficial": "unofficial"},
    encoded={"params": "params", "extra_urls": "extraUrls"},
)
_SCALAR_OPTIONS = _TRACKER_OPTIONS | _Options(
    {
        "submission_id": "submissionId",
        "submission_uuid": "submissionUuid",
        "unit": "unit",
        "reproduction_command": "reproductionCommand",
    }
)
_RESULTS_OPTIONS = _TRACKER_OPTIONS | _Options({"parent_keys": "parentKeys"})
_SUBMISSION_OPTIONS = _Options({"uuid": "uuid", "name": "name"})


def _kind_of(value: Any) -> str:
    """Name the kind of a value for an error message, without showing the value."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, str):
        return "an empty string" if value == "" else "a string"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def _malformed(method: str, what: str) -> exceptions.MalformedResponse:
    return exceptions.MalformedResponse(f"{method}: {what}", method=method)


#: The kind of value a driver method returns.
T = TypeVar("T")


def _expect(data: Any, kind: Type[T], method: str) -> T:
    """Return the envelope's ``data`` after checking it is of the kind the method returns.

    :raises pydas.exceptions.MalformedResponse: naming the method and the kind
        of data received (never the data itself: it may hold a secret).
    """
    if isinstance(data, bool) or not isinstance(data, kind):
        raise _malformed(method, f"the answer is {_kind_of(data)}, not {_KIND_NAMES[kind]}")
    checked: T = data  # of kind T, just checked (mypy < 2 does not narrow Any by a Type[T])
    return checked


_KIND_NAMES: Dict[Any, str] = {dict: "an object", list: "a list", str: "a string"}


@overload
def _member(
    data: Any, key: str, method: str, kind: Type[T], *, allow_empty: bool = True
) -> T: ...


@overload
def _member(
    data: Any,
    key: str,
    method: str,
    kind: Tuple[Type[Any], ...],
    *,
    allow_empty: bool = True,
) -> Any: ...


def _member(
    data: Any,
    key: str,
    method: str,
    kind: Union[Type[Any], Tuple[Type[Any], ...]],
    *,
    allow_empty: bool = True,
) -> Any:
    """Return ``data[key]`` after checking it is of the expected kind.

    :param data: the envelope's ``data``.
    :param key: the member the method returns.
    :param method: the API method, for the message.
    :param kind: the type(s) the member must have.
    :param allow_empty: whether an empty string (or list) is a valid value.
    :raises pydas.exceptions.MalformedResponse: naming the method and what
        was wrong (the kind of the value, never the value: it may be a secret).
    """
    if not isinstance(data, dict) or key not in data:
        raise _malformed(method, f"the answer has no {key!r} member (the data is {_kind_of(data)})")
    value = data[key]
    if isinstance(value, bool) or not isinstance(value, kind) or (not allow_empty and not value):
        raise _malformed(method, f"the answer's {key!r} is {_kind_of(value)}")
    return value


def _lands_on_the_same_object(parameters: Mapping[str, Any]) -> bool:
    """Whether a repeated creation would find the object made by the first call.

    With a client-chosen ``uuid`` the server updates the object that has it
    instead of creating a second one; ``reuseExisting`` makes folder creation
    return the existing folder of that name.
    """
    return bool(parameters.get("uuid") or parameters.get("reuseExisting"))


def _check_file(path: str) -> int:
    """Return the size of the file at ``path``, or raise a clear error."""
    if os.path.isdir(path):
        raise IsADirectoryError(errno.EISDIR, "Is a directory, not a file", path)
    if not os.path.isfile(path):
        raise FileNotFoundError(errno.ENOENT, "No such file to upload", path)
    return os.path.getsize(path)


def _offset(data: Any) -> Optional[int]:
    """The byte count of a ``midas.upload.getoffset`` answer; ``None`` when unknown."""
    method = "midas.upload.getoffset"
    if data in ("", None):
        return None
    if not isinstance(data, dict):
        raise _malformed(method, f"the answer is {_kind_of(data)}, not an object")
    offset = data.get("offset", "")
    if offset in ("", None):
        return None  # the server's answer for an unknown or used token
    if isinstance(offset, int) and not isinstance(offset, bool) and offset >= 0:
        return offset
    if isinstance(offset, str) and offset.isascii() and offset.isdigit():
        return int(offset)
    raise _malformed(method, f"the offset {offset!r} is not a byte count")


class BaseDriver:
    """Common machinery of the drivers: the transport, the settings, requests.

    :param url: root URL of the Midas installation, e.g.
        ``https://host/midas`` (one trailing ``/`` is removed).
    :param session: a :class:`requests.Session` to use; by default the
        driver makes its own and closes it in :meth:`close`.
    :param timeout: a :class:`pydas.core.Timeout`, seconds, or
        ``(connect, read)``; default 10 s to connect, 300 s to read.
    :param retry: a :class:`pydas.core.RetryPolicy` (addition to the
        original API, mainly for tests and tuning).
    :param transport: the transport of a :class:`pydas.core.Communicator`,
        shared with its other drivers (then ``url``, ``session``, ``timeout``
        and ``retry`` are not given: the transport holds them). The settings
        below are those of the transport, so with a shared transport setting
        one on any driver sets it for all.
    """

    def __init__(
        self,
        url: str = "",
        *,
        session: Optional[requests.Session] = None,
        timeout: TimeoutLike = None,
        retry: Optional[RetryPolicy] = None,
        transport: Optional[Transport] = None,
    ) -> None:
        self._owns_transport = transport is None
        if transport is None:
            transport = Transport(url, session=session, timeout=timeout, retry=retry)
        self._transport = transport

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._transport.display_url!r})"

    @property
    def url(self) -> str:
        """The root URL of the server (get/set; one trailing ``/`` is removed)."""
        return self._transport.url

    @url.setter
    def url(self, value: str) -> None:
        self._transport.url = value

    @property
    def full_url(self) -> str:
        """The server URL followed by the API suffix (``/api/json?method=``)."""
        return self._transport.url + API_SUFFIX

    @property
    def debug(self) -> bool:
        """Whether request and response summaries are logged at INFO level.

        They go to the ``pydas`` logger (secret values masked); to see them,
        configure logging, e.g. ``logging.basicConfig(level=logging.INFO)``.
        """
        return self._transport.debug

    @debug.setter
    def debug(self, value: bool) -> None:
        self._transport.debug = bool(value)

    @property
    def verify_ssl_certificate(self) -> Union[bool, str]:
        """Whether the server's TLS certificate is verified (default ``True``).

        Besides a boolean, the path of a CA bundle file or directory is
        accepted (an addition to the original API): certificates are then
        checked against it, as :mod:`requests` does with ``verify=path``.
        """
        return self._transport.verify

    @verify_ssl_certificate.setter
    def verify_ssl_certificate(self, value: Union[bool, str, "os.PathLike[str]"]) -> None:
        self._transport.verify = value

    @property
    def auth(self) -> Any:
        """HTTP authentication passed to :mod:`requests` (e.g. a user/password tuple)."""
        return self._transport.auth

    @auth.setter
    def auth(self, value: Any) -> None:
        self._transport.auth = value

    @property
    def timeout(self) -> Timeout:
        """The :class:`pydas.core.Timeout` of every request.

        Accepts a :class:`~pydas.core.Timeout`, a number of seconds or a
        ``(connect, read)`` pair; ``None`` restores the defaults (it never
        disables timeouts).
        """
        return self._transport.timeout

    @timeout.setter
    def timeout(self, value: TimeoutLike) -> None:
        self._transport.timeout = value

    @property
    def retry(self) -> RetryPolicy:
        """The retry policy for transient failures."""
        return self._transport.retry

    @retry.setter
    def retry(self, value: RetryPolicy) -> None:
        self._transport.retry = value

    @property
    def max_answer_size(self) -> int:
        """The largest answer of an ordinary call, in bytes (default 64 MiB).

        A longer answer raises :class:`pydas.exceptions.ResponseTooLarge`;
        downloads are streamed and not limited.
        """
        return self._transport.max_answer_size

    @max_answer_size.setter
    def max_answer_size(self, value: int) -> None:
        self._transport.max_answer_size = value

    def close(self) -> None:
        """Release the HTTP session if this driver created it."""
        if self._owns_transport:
            self._transport.close()

    def __enter__(self) -> "BaseDriver":
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()

    @staticmethod
    def _present(parameters: Optional[Mapping[str, Any]]) -> Dict[str, Any]:
        return {key: value for key, value in (parameters or {}).items() if value is not None}

    def request(
        self,
        method: str,
        parameters: Optional[Mapping[str, Any]] = None,
        file_payload: Any = None,
    ) -> Any:
        """Call an API method and return the ``data`` of its answer.

        Without ``file_payload`` the call is a ``POST`` with the parameters in
        the form body. With it, the open file object is streamed as the body of
        a ``PUT`` and the parameters go into the query string. Parameters whose
        value is ``None`` are left out.

        A call made this way is treated as one that must not reach the server
        twice: it is repeated only when no connection could be opened, or
        when the server answered 429 or 503 (the driver methods declare the
        calls that may be repeated in more cases).

        :param method: the API method, e.g. ``midas.folder.get``.
        :param parameters: the API parameters.
        :param file_payload: an open binary file object to send as the body.
        :returns: the ``data`` member of the server's answer.
        :raises pydas.exceptions.PydasException: if the call failed.
        """
        present = self._present(parameters)
        if file_payload is not None:
            return self._transport.put_stream(method, present, file_payload)
        return self._transport.call(method, present, repeatable=False)

    @overload
    def _call(
        self, method: str, parameters: Optional[Mapping[str, Any]] = None, *, repeatable: bool
    ) -> Any: ...

    @overload
    def _call(
        self,
        method: str,
        parameters: Optional[Mapping[str, Any]] = None,
        *,
        repeatable: bool,
        returns: Type[T],
    ) -> T: ...

    def _call(
        self,
        method: str,
        parameters: Optional[Mapping[str, Any]] = None,
        *,
        repeatable: bool,
        returns: Optional[Type[Any]] = None,
    ) -> Any:
        """POST ``method``; ``repeatable`` says whether it may reach the server twice.

        With ``returns``, the answer's data must be of that kind (see :func:`_expect`).
        """
        data = self._transport.call(method, self._present(parameters), repeatable=repeatable)
        return data if returns is None else _expect(data, returns, method)

    def _put_file(
        self,
        method: str,
        parameters: Mapping[str, Any],
        path: str,
        offset: int = 0,
        progress: Optional[Callable[[int], Any]] = None,
    ) -> Any:
        return self._transport.put_file(method, self._present(parameters), path, offset, progress)

    def _login_failed(
        self, error: exceptions.PydasException, email: str, why: str
    ) -> exceptions.LoginFailed:
        """A :class:`~pydas.exceptions.LoginFailed` in place of the server's error."""
        said = error.value.partition("): ")[2]
        context = f"{error.method} answered code {error.code}"
        if said and not said.startswith("(the server gave no message"):
            context += f": {said}"
        return exceptions.with_context(
            error,
            context,
            message=f"login failed for {email} at {self._transport.display_url}: {why}",
            cls=exceptions.LoginFailed,
        )

    def request_login(
        self, email: str, api_key: str, application: str = "Default"
    ) -> Dict[str, str]:
        """Call ``midas.login`` and return its answer (addition to the original API).

        :param email: the account's e-mail address.
        :param api_key: the API key.
        :param application: the application the key belongs to.
        :returns: ``{"token": ...}``, or ``{"mfa_token_id": ...}`` when the
            account has a second factor (finish with
            :meth:`MultiFactorAuthenticationDriver.mfa_otp_login`).
        :raises pydas.exceptions.LoginFailed: a wrong key or application (the
            server answers code 0 without a message), or an unknown e-mail
            address (code -150).
        :raises pydas.exceptions.MalformedResponse: an answer with neither
            member, or with one that is not a non-empty string.
        """
        method = "midas.login"
        try:
            data = self._call(
                method, {"email": email, "apikey": api_key, "appname": application}, repeatable=True
            )
        except exceptions.ServerCheckFailed as error:
            raise self._login_failed(
                error,
                email,
                f"wrong API key for {email!r}, or no key for the application {application!r}",
            ) from None
        except exceptions.InvalidParameter as error:
            if "unable to authenticate" not in error.value.lower():
                raise
            raise self._login_failed(error, email, "no account has this e-mail address") from None
        if not isinstance(data, dict):
            raise _malformed(method, f"the answer is {_kind_of(data)}, not an object with a token")
        if "token" in data:
            return {"token": _member(data, "token", method, str, allow_empty=False)}
        if "mfa_token_id" in data:
            value = _member(data, "mfa_token_id", method, (str, int), allow_empty=False)
            return {"mfa_token_id": str(value)}
        raise _malformed(method, "the answer holds neither a token nor an mfa_token_id")

    def login_with_api_key(self, email: str, api_key: str, application: str = "Default") -> str:
        """Exchange an API key for a token (``midas.login``).

        :param email: the account's e-mail address.
        :param api_key: the API key.
        :param application: the application the key belongs to.
        :returns: the API token; if the server asks for a second factor, the
            ``mfa_token_id`` to pass to
            :meth:`MultiFactorAuthenticationDriver.mfa_otp_login` instead
            (:meth:`request_login` tells the two apart).
        :raises pydas.exceptions.LoginFailed: a wrong key, application or
            e-mail address (catchable as the classes raised before:
            :class:`~pydas.exceptions.ServerCheckFailed` and
            :class:`~pydas.exceptions.InvalidParameter`).
        """
        (value,) = self.request_login(email, api_key, application).values()
        return value


class CoreDriver(BaseDriver):
    """The core API of Midas Server: users, communities, folders, items, uploads."""

    # -- server -------------------------------------------------------------

    def get_server_version(self) -> str:
        """Return the server's version string (``midas.version``)."""
        method = "midas.version"
        return _member(self._call(method, repeatable=True), "version", method, str)

    def get_server_info(self) -> Dict[str, Any]:
        """Return the server description (``midas.info``).

        :returns: the whole dictionary: ``version``, ``name``, ``description``,
            ``modules`` and ``resources`` (the old client returned only the
            version).
        """
        return self._call("midas.info", repeatable=True, returns=dict)

    def list_modules(self) -> List[str]:
        """Return the names of the modules enabled on the server (``midas.modules.list``)."""
        method = "midas.modules.list"
        return _member(self._call(method, repeatable=True), "modules", method, list)

    # -- users --------------------------------------------------------------

    def list_user_folders(self, token: str) -> List[Dict[str, Any]]:
        """Return the readable folders at the top of the caller's home folder.

        :param token: an API token (without one the server returns ``[]``).
        :returns: folder dictionaries sorted by name (``midas.user.folders``).
        """
        return self._call("midas.user.folders", {"token": token}, repeatable=True, returns=list)

    def get_default_api_key(self, email: str, password: str) -> str:
        """Return the ``Default`` API key of an account (``midas.user.apikey.default``).

        The password travels in the form body of a POST, never in the URL.

        :param email: the account's e-mail address.
        :param password: the account's password.
        :returns: the API key.
        :raises pydas.exceptions.LoginFailed: for a wrong password or an
            unknown e-mail address (the server does not tell them apart);
            catchable as :class:`~pydas.exceptions.InvalidParameter`, the
            class raised before.
        :raises pydas.exceptions.MalformedResponse: an answer without a
            non-empty ``apikey`` string.
        """
        method = "midas.user.apikey.default"
        try:
            data = self._call(method, {"email": email, "password": password}, repeatable=True)
        except exceptions.InvalidParameter as error:
            if not error.value.partition("): ")[2].lower().startswith("login failed"):
                raise  # e.g. "User has no default API key"
            raise self._login_failed(
                error, email, "the e-mail address or the password is incorrect"
            ) from None
        return _member(data, "apikey", method, str, allow_empty=False)

    def list_users(self, limit: int = 20) -> List[Dict[str, Any]]:
        """Return users with a public profile (``midas.user.list``).

        :param limit: the largest number of users returned.
        """
        return self._call("midas.user.list", {"limit": limit}, repeatable=True, returns=list)

    def get_user_by_name(self, firstname: str, lastname: str) -> Any:
        """Return the user with this first and last name (``midas.user.get``).

        :returns: the user dictionary, or ``""`` if there is no such user.
        """
        return self._call(
            "midas.user.get", {"firstname": firstname, "lastname": lastname}, repeatable=True
        )

    def get_user_by_id(self, user_id: Union[int, str]) -> Any:
        """Return the user with this id (``midas.user.get``).

        :returns: the user dictionary, or ``""`` if there is no such user.
        """
        return self._call("midas.user.get", {"user_id": user_id}, repeatable=True)

    def get_user_by_email(self, email: str) -> Any:
        """Return the user with this e-mail address (``midas.user.get``).

        :returns: the user dictionary, or ``""`` if there is no such user.
        """
        return self._call("midas.user.get", {"email": email}, repeatable=True)

    # -- communities ----------------------------------------------------------

    def create_community(self, token: str, name: str, **kwargs: Any) -> Dict[str, Any]:
        """Create a community, or update the one whose uuid is given.

        :param token: an API token (creating requires a server administrator).
        :param name: the community name.
        :param description: (optional) its description.
        :param uuid: (optional) a uuid; if a community has it, that one is updated.
        :param privacy: (optional) ``'Public'`` or ``'Private'``.
        :param can_join: (optional) ``'Everyone'`` or ``'Invitation'``.
        :returns: the community dictionary (``midas.community.create``).
        """
        parameters: Dict[str, Any] = {"token": token, "name": name}
        _COMMUNITY_OPTIONS.apply("create_community", kwargs, parameters)
        return self._call(
            "midas.community.create", parameters, repeatable=_lands_on_the_same_object(parameters)
        , returns=dict)

    def get_community_by_name(self, name: str, token: Optional[str] = None) -> Dict[str, Any]:
        """Return the community with this exact name (``midas.community.get``)."""
        return self._call(
            "midas.community.get", {"name": name, "token": token}, repeatable=True, returns=dict
        )

    def get_community_by_id(
        self, community_id: Union[int, str], token: Optional[str] = None
    ) -> Dict[str, Any]:
        """Return the community with this id (``midas.community.get``)."""
        return self._call(
            "midas.community.get", {"id": community_id, "token": token}, repeatable=True
        , returns=dict)

    def get_community_children(
        self, community_id: Union[int, str], token: Optional[str] = None
    ) -> Dict[str, List[Dict[str, Any]]]:
        """Return the top folders of a community (``midas.community.children``).

        :returns: ``{"folders": [...]}``.
        """
        return self._call(
            "midas.community.children", {"id": community_id, "token": token}, repeatable=True
        , returns=dict)

    def list_communities(self, token: Optional[str] = None) -> List[Dict[str, Any]]:
        """Return the communities visible to the caller (``midas.community.list``)."""
        return self._call("midas.community.list", {"token": token}, repeatable=True, returns=list)

    # -- folders -------------------------------------------------------------

    def create_folder(
        self, token: str, name: str, parent_id: Union[int, str], **kwargs: Any
    ) -> Dict[str, Any]:
        """Create a folder, or update the one whose uuid is given.

        Unlike the original client, ``description`` is sent only when given,
        so updating a folder by uuid keeps its description.

        :param token: an API token.
        :param name: the folder name.
        :param parent_id: id of the parent folder (``-1``: the caller's home).
        :param description: (optional) the description.
        :param uuid: (optional) a uuid; if a folder has it, that one is updated.
        :param privacy: (optional) ``'Public'`` or ``'Private'``.
        :param reuse_existing: (optional) if true, return the existing folder
            of that name in the parent instead of failing.
        :returns: the folder dictionary (``midas.folder.create``).
        """
        parameters: Dict[str, Any] = {"token": token, "name": name, "parentid": parent_id}
        _FOLDER_OPTIONS.apply("create_folder", kwargs, parameters)
        return self._call(
            "midas.folder.create", parameters, repeatable=_lands_on_the_same_object(parameters)
        , returns=dict)

    def folder_get(self, token: Optional[str], folder_id: Union[int, str]) -> Dict[str, Any]:
        """Return a folder and its ``parent`` (``midas.folder.get``)."""
        return self._call(
            "midas.folder.get", {"token": token, "id": folder_id}, repeatable=True, returns=dict
        )

    def folder_children(
        self, token: Optional[str], folder_id: Union[int, str]
    ) -> Dict[str, List[Dict[str, Any]]]:
        """Return the direct children of a folder (``midas.folder.children``).

        :returns: ``{"folders": [...], "items": [...]}``.
        """
        return self._call(
            "midas.folder.children", {"token": token, "id": folder_id}, repeatable=True
        , returns=dict)

    def delete_folder(self, token: str, folder_id: Union[int, str]) -> Any:
        """Delete a folder and everything under it (``midas.folder.delete``)."""
        return self._call(
            "midas.folder.delete", {"token": token, "id": folder_id}, repeatable=False
        )

    def move_folder(
        self, token: str, folder_id: Union[int, str], dest_folder_id: Union[int, str]
    ) -> Dict[str, Any]:
        """Move a folder under a new parent (``midas.folder.move``).

        :returns: the moved folder.
        """
        return self._call(
            "midas.folder.move",
            {"token": token, "id": folder_id, "dstfolderid": dest_folder_id},
            repeatable=True,
            returns=dict,
        )

    # -- items -----------------------------------------------------------------

    def create_item(
        self, token: str, name: str, parent_id: Union[int, str], **kwargs: Any
    ) -> Dict[str, Any]:
        """Create an item in a folder, or update the one whose uuid is given.

        :param token: an API token.
        :param name: the item name (the server appends `` (n)`` if taken).
        :param parent_id: id of the folder.
        :param description: (optional) the description.
        :param uuid: (optional) a uuid; if an item has it, that one is updated.
        :param privacy: (optional) ``'Public'`` or ``'Private'``.
        :returns: the item dictionary (``midas.item.create``).
        """
        parameters: Dict[str, Any] = {"token": token, "name": name, "parentid": parent_id}
        _ITEM_OPTIONS.apply("create_item", kwargs, parameters)
        return self._call(
            "midas.item.create", parameters, repeatable=_lands_on_the_same_object(parameters)
        , returns=dict)

    def item_get(self, token: Optional[str], item_id: Union[int, str]) -> Dict[str, Any]:
        """Return an item with its revisions and bitstreams (``midas.item.get``)."""
        return self._call(
            "midas.item.get", {"token": token, "id": item_id}, repeatable=True, returns=dict
        )

    @overload
    def download_item(
        self,
        item_id: Union[int, str],
        token: Optional[str] = ...,
        revision: Optional[Union[int, str]] = ...,
        return_item: Literal[False] = ...,
    ) -> Download: ...

    @overload
    def download_item(
        self,
        item_id: Union[int, str],
        token: Optional[str],
        revision: Optional[Union[int, str]],
        return_item: Literal[True],
    ) -> DownloadWithItem: ...

    @overload
    def download_item(
        self,
        item_id: Union[int, str],
        token: Optional[str] = ...,
        revision: Optional[Union[int, str]] = ...,
        *,
        return_item: Literal[True],
    ) -> DownloadWithItem: ...

    @overload
    def download_item(
        self,
        item_id: Union[int, str],
        token: Optional[str] = ...,
        revision: Optional[Union[int, str]] = ...,
        return_item: bool = ...,
    ) -> Union[Download, DownloadWithItem]: ...

    def download_item(
        self,
        item_id: Union[int, str],
        token: Optional[str] = None,
        revision: Optional[Union[int, str]] = None,
        return_item: bool = False,
    ) -> Union[Download, DownloadWithItem]:
        """Open the download of an item (``midas.item.download``, streamed).

        A single-file revision arrives as that file, several files as a ZIP
        archive, a link item as whatever its URL serves.

        :param item_id: the item.
        :param token: (optional) an API token.
        :param revision: (optional) revision number; default the head revision.
            ``0`` is sent as given.
        :param return_item: also return the item dictionary (fetched first).
        :returns: ``(filename, chunks)`` or, with ``return_item``,
            ``(filename, chunks, item)``. ``chunks`` yields ``bytes`` and is
            closable; the name is the server's, unsanitised.
        :raises pydas.exceptions.PydasException: when the server refuses (the
            error envelope is decoded) or the connection fails.
        """
        item = self.item_get(token, item_id) if return_item else None
        name, chunks = self._transport.download(
            "midas.item.download",
            self._present({"id": item_id, "token": token, "revision": revision}),
        )
        if item is not None:
            return name, chunks, item
        return name, chunks

    def download_bitstream(
        self,
        bitstream_id: Union[int, str],
        token: Optional[str] = None,
        offset: Optional[int] = None,
        name: Optional[str] = None,
    ) -> Download:
        """Open the download of one bitstream, in one request.

        Addition to the original API. The parameters go as a form to the
        server's download endpoint (``POST BASE/download/`` with
        ``bitstream``, ``offset``, ``name`` and the token as ``authToken``),
        which ``midas.bitstream.download`` would redirect to: one round trip
        instead of two, and the token in no URL (and so in no access log).
        When the endpoint refuses (it answers HTML pages), the same question
        is put to ``midas.bitstream.download`` (its redirect is not followed),
        so that its error is raised: :class:`~pydas.exceptions.InvalidToken`
        for an expired token, :class:`~pydas.exceptions.InvalidParameter` for a
        bitstream that does not exist or may not be read. With an ``offset``
        the server skips that many bytes but may still announce the full
        size; the iterator delivers exactly what arrives. A link bitstream
        (a URL, not stored content) cannot be downloaded this way.

        :param bitstream_id: the bitstream.
        :param token: (optional) an API token.
        :param offset: (optional) first byte to receive.
        :param name: (optional) the file name the server should announce.
        :returns: ``(filename, chunks)``.
        """
        question = self._present(
            {"id": bitstream_id, "offset": offset, "name": name, "token": token}
        )
        form = self._present(
            {"bitstream": bitstream_id, "offset": offset, "name": name, "authToken": token}
        )
        return self._transport.post_download(
            "midas.bitstream.download", form, offset=offset or 0, explain=question
        )

    def delete_item(self, token: str, item_id: Union[int, str]) -> Any:
        """Delete an item everywhere (``midas.item.delete``)."""
        return self._call("midas.item.delete", {"token": token, "id": item_id}, repeatable=False)

    def get_item_metadata(
        self,
        item_id: Union[int, str],
        token: Optional[str] = None,
        revision: Optional[Union[int, str]] = None,
    ) -> List[Dict[str, Any]]:
        """Return the metadata of an item revision (``midas.item.getmetadata``).

        :param revision: (optional) revision number; default the head revision.
        """
        return self._call(
            "midas.item.getmetadata",
            {"id": item_id, "token": token, "revision": revision},
            repeatable=True,
            returns=list,
        )

    def set_item_metadata(
        self,
        token: str,
        item_id: Union[int, str],
        element: str,
        value: Any,
        qualifier: Optional[str] = None,
    ) -> Any:
        """Set one metadata value on the head revision (``midas.item.setmetadata``).

        :param qualifier: (optional) sent only when not empty.
        """
        parameters: Dict[str, Any] = {
            "token": token,
            "itemId": item_id,
            "element": element,
            "value": value,
        }
        if qualifier:
            parameters["qualifier"] = qualifier
        return self._call("midas.item.setmetadata", parameters, repeatable=True)

    def share_item(
        self, token: str, item_id: Union[int, str], dest_folder_id: Union[int, str]
    ) -> Dict[str, Any]:
        """Link an item into another folder as well (``midas.item.share``)."""
        return self._call(
            "midas.item.share",
            {"token": token, "id": item_id, "dstfolderid": dest_folder_id},
            repeatable=True,
            returns=dict,
        )

    def move_item(
        self,
        token: str,
        item_id: Union[int, str],
        src_folder_id: Union[int, str],
        dest_folder_id: Union[int, str],
    ) -> Dict[str, Any]:
        """Move an item from one folder to another (``midas.item.move``)."""
        return self._call(
            "midas.item.move",
            {
                "token": token,
                "id": item_id,
                "srcfolderid": src_folder_id,
                "dstfolderid": dest_folder_id,
            },
            repeatable=True,
            returns=dict,
        )

    def search_item_by_name(self, name: str, token: Optional[str] = None) -> List[Dict[str, Any]]:
        """Return the readable items with this exact name (``midas.item.searchbyname``)."""
        method = "midas.item.searchbyname"
        data = self._call(method, {"name": name, "token": token}, repeatable=True)
        return _member(data, "items", method, list)

    def search_item_by_name_and_folder(
        self, name: str, folder_id: Union[int, str], token: Optional[str] = None
    ) -> List[Dict[str, Any]]:
        """Return the items with this name in the folder with this id."""
        method = "midas.item.searchbynameandfolder"
        data = self._call(
            method, {"name": name, "folderId": folder_id, "token": token}, repeatable=True
        )
        return _member(data, "items", method, list)

    def search_item_by_name_and_folder_name(
        self, name: str, folder_name: str, token: Optional[str] = None
    ) -> List[Dict[str, Any]]:
        """Return the items with this name in any folder with this name."""
        method = "midas.item.searchbynameandfoldername"
        data = self._call(
            method, {"name": name, "folderName": folder_name, "token": token}, repeatable=True
        )
        return _member(data, "items", method, list)

    def create_link(
        self, token: str, folder_id: Union[int, str], url: str, **kwargs: Any
    ) -> Dict[str, Any]:
        """Create an item whose single bitstream points to a URL (``midas.link.create``).

        :param item_name: (optional) the item name; default the URL.
        :param length: (optional) size in bytes of the linked file.
        :param checksum: (optional) MD5 of the linked file.
        :returns: the new item.
        """
        parameters: Dict[str, Any] = {"token": token, "folderid": folder_id, "url": url}
        _LINK_OPTIONS.apply("create_link", kwargs, parameters)
        return self._call("midas.link.create", parameters, repeatable=False, returns=dict)

    def search(self, search: str, token: Optional[str] = None) -> Dict[str, Any]:
        """Search names and descriptions (``midas.resource.search``).

        :returns: the whole answer; its ``results`` list holds the matches.
        """
        return self._call(
            "midas.resource.search", {"search": search, "token": token}, repeatable=True
        , returns=dict)

    # -- uploads ---------------------------------------------------------------

    def generate_upload_token(
        self,
        token: str,
        item_id: Union[int, str],
        filename: str,
        checksum: Optional[str] = None,
    ) -> str:
        """Ask for an upload token for one file (``midas.upload.generatetoken``).

        :param checksum: (optional) MD5 of the file. If the server already
            holds that content, it adds the file to the item itself and
            returns an empty token: no upload is needed then.
        :returns: the upload token, or ``""``.
        """
        method = "midas.upload.generatetoken"
        data = self._call(
            method,
            {"token": token, "itemid": item_id, "filename": filename, "checksum": checksum},
            repeatable=False,
        )
        return _member(data, "token", method, str)

    def get_upload_offset(self, upload_token: str) -> Optional[int]:
        """Return how many bytes the server holds for an upload token.

        Addition to the original API (``midas.upload.getoffset``), used to
        resume an interrupted upload.

        :returns: the byte count, or ``None`` when the server does not know it
            (an unknown or used token: the server answers an empty offset).
        :raises pydas.exceptions.MalformedResponse: an offset that is not a
            non-negative whole number (``"-5"``, ``"12 kB"``...).
        """
        return _offset(
            self._call("midas.upload.getoffset", {"uploadtoken": upload_token}, repeatable=True)
        )

    def perform_upload(self, upload_token: str, filename: str, **kwargs: Any) -> Dict[str, Any]:
        """Send a file for an upload token (``midas.upload.perform``).

        By default the file is added to the item's head revision
        (``revision=head``); ``create_additional_revision=True`` makes a new
        revision instead.

        In the default ``stream`` mode the file is the raw body of a ``PUT``,
        streamed from disk, with the parameters in the query string; the
        server appends what it receives to the token's temporary file, so an
        interrupted upload continues with ``offset`` (see
        :meth:`get_upload_offset`).

        In ``multipart`` mode the request is a ``multipart/form-data``
        ``POST``: every parameter is a form field (none is in the URL), and
        the file, streamed from disk, is a part named ``file`` announced as
        ``filename``, plus an ordinary field ``file`` (the server requires
        both). This is the way to store a 1-byte file holding ``0``, which the
        server's stream mode cannot receive. What Midas 3.4.2 does with it
        (checked on the real server):

        * the bitstream is named after the file part, of which PHP keeps only
          what follows the last ``/`` or ``\\``;
        * ``revision`` works as in stream mode; ``length`` must be sent but is
          not checked; the server computes the checksum itself;
        * the upload token is not used up: its temporary file is left as it
          was (``getoffset`` still answers its size) and the token can be
          used again; in fact the server reads only the user and item ids in
          it, so even a used token works (and so would a made-up one: a
          server defect);
        * PHP's ``upload_max_filesize`` and ``post_max_size`` limit the size
          (2 MiB and 8 MiB in PHP's default configuration); a larger part may
          be dropped by PHP, so check the stored size.

        :param upload_token: from :meth:`generate_upload_token`.
        :param filename: the name the bitstream gets; also the local path
            unless ``filepath`` is given.
        :param mode: (optional) ``'stream'`` (the default) or ``'multipart'``.
        :param folder_id: (optional) sent as ``folderid`` (the server ignores it).
        :param item_id: (optional) sent as ``itemid`` (the server ignores it).
        :param revision: (optional) ``'head'`` or a revision number.
        :param filepath: (optional) the local path of the file.
        :param create_additional_revision: (optional) if true, do not send
            ``revision=head``.
        :param changes: (optional) text stored as the revision's changes.
        :param offset: (optional) first byte to send, to resume an upload;
            ``length`` still announces the whole file. Stream mode only.
        :param progress: (optional) called with the byte count of each piece sent.
        :returns: the item after the upload.
        :raises FileNotFoundError: if the local file does not exist (nothing sent).
        :raises ValueError: for an unknown mode, or an ``offset`` in
            multipart mode (nothing sent).
        """
        parameters: Dict[str, Any] = {"uploadtoken": upload_token, "filename": filename}
        if not kwargs.get("create_additional_revision"):
            parameters["revision"] = "head"
        _UPLOAD_OPTIONS.apply("perform_upload", kwargs, parameters)
        mode = str(kwargs.get("mode") or "stream").lower()
        if mode not in ("stream", "multipart"):
            raise ValueError(
                f"perform_upload: unknown mode {kwargs['mode']!r}; use 'stream' or 'multipart'"
            )
        if "mode" in parameters:
            parameters["mode"] = mode
        path = kwargs.get("filepath") or filename
        parameters["length"] = _check_file(path)
        offset = kwargs.get("offset") or 0
        progress = kwargs.get("progress")
        method = "midas.upload.perform"
        if mode == "stream":
            data = self._put_file(method, parameters, path, offset, progress)
        else:
            if offset:
                raise ValueError(
                    "perform_upload: a multipart upload cannot resume; offset must be 0"
                )
            parameters["file"] = filename
            data = self._transport.post_multipart(
                method,
                self._present(parameters),
                path,
                file_field="file",
                file_name=filename,
                progress=progress,
            )
        return _expect(data, dict, method)


class BatchmakeDriver(BaseDriver):
    """The ``batchmake`` module (Condor jobs; Midas 3.4.1 and earlier)."""

    def add_condor_dag(
        self,
        token: str,
        batchmaketaskid: Union[int, str],
        dagfilename: str,
        dagmanoutfilename: str,
    ) -> Dict[str, Any]:
        """Attach a Condor DAG to a BatchMake task (``midas.batchmake.add.condor.dag``).

        :param dagmanoutfilename: sent as ``outfilename``.
        :returns: the created DAG record.
        """
        return self._call(
            "midas.batchmake.add.condor.dag",
            {
                "token": token,
                "batchmaketaskid": batchmaketaskid,
                "dagfilename": dagfilename,
                "outfilename": dagmanoutfilename,
            },
            repeatable=False,
            returns=dict,
        )

    def add_condor_job(
        self,
        token: str,
        batchmaketaskid: Union[int, str],
        jobdefinitionfilename: str,
        outputfilename: str,
        errorfilename: str,
        logfilename: str,
        postfilename: str,
    ) -> Dict[str, Any]:
        """Attach a job to the DAG of a BatchMake task (``midas.batchmake.add.condor.job``).

        :returns: the created job record.
        """
        return self._call(
            "midas.batchmake.add.condor.job",
            {
                "token": token,
                "batchmaketaskid": batchmaketaskid,
                "jobdefinitionfilename": jobdefinitionfilename,
                "outputfilename": outputfilename,
                "errorfilename": errorfilename,
                "logfilename": logfilename,
                "postfilename": postfilename,
            },
            repeatable=False,
            returns=dict,
        )


class DicomextractorDriver(BaseDriver):
    """The ``dicomextractor`` module."""

    def extract_dicommetadata(self, token: str, item_id: Union[int, str]) -> Any:
        """Extract DICOM tags of an item as metadata (``midas.dicomextractor.extract``).

        :returns: the head revision record. The server sends it as JSON text
            inside ``data``; it is decoded here.
        :raises pydas.exceptions.MalformedResponse: if that text is not JSON.
        """
        method = "midas.dicomextractor.extract"
        data = self._call(method, {"token": token, "item": item_id}, repeatable=True)
        if not isinstance(data, str):
            return data
        try:
            return json.loads(data)
        except ValueError:
            raise _malformed(method, "the returned revision is not JSON") from None


class MultiFactorAuthenticationDriver(BaseDriver):
    """The ``mfa`` module (second login factor)."""

    def mfa_otp_login(self, temp_token: str, one_time_pass: str) -> str:
        """Trade the ``mfa_token_id`` and a one-time password for a token.

        :param temp_token: what :meth:`BaseDriver.login_with_api_key` returned.
        :param one_time_pass: the one-time password.
        :returns: the API token (``midas.mfa.otp.login``).
        """
        method = "midas.mfa.otp.login"
        data = self._call(method, {"mfaTokenId": temp_token, "otp": one_time_pass}, repeatable=True)
        return _member(data, "token", method, str, allow_empty=False)


class SolrDriver(BaseDriver):
    """The ``solr`` module (full-text search)."""

    def solr_advanced_search(
        self, query: str, token: Optional[str] = None, limit: int = 20
    ) -> List[Dict[str, Any]]:
        """Search item metadata with a Lucene query (``midas.solr.search.advanced``).

        :param limit: the largest number of results.
        """
        return self._call(
            "midas.solr.search.advanced",
            {"query": query, "token": token, "limit": limit},
            repeatable=True,
            returns=list,
        )


class ThumbnailCreatorDriver(BaseDriver):
    """The ``thumbnailcreator`` module."""

    def create_big_thumbnail(
        self,
        token: str,
        bitstream_id: Union[int, str],
        item_id: Union[int, str],
        width: int = 575,
    ) -> Dict[str, Any]:
        """Make the item's large preview image from a bitstream.

        :param width: width in pixels; the aspect ratio is kept.
        :returns: the thumbnail record (``midas.thumbnailcreator.create.big.thumbnail``).
        """
        return self._call(
            "midas.thumbnailcreator.create.big.thumbnail",
            {"token": token, "bitstreamId": bitstream_id, "itemId": item_id, "width": width},
            repeatable=True,
            returns=dict,
        )

    def create_small_thumbnail(self, token: str, item_id: Union[int, str]) -> Dict[str, Any]:
        """Make a 100x100 preview from the first file of the head revision.

        :returns: the item with its new ``thumbnail_id``.
        """
        return self._call(
            "midas.thumbnailcreator.create.small.thumbnail",
            {"token": token, "itemId": item_id},
            repeatable=True,
            returns=dict,
        )


#: Only the tracker 2.x API has this method; ``midas.methods.list`` tells the two apart.
_TRACKER_2_METHOD = "tracker.submission.validate"
#: The branch of a tracker 2.x submission when none is given (2.x refuses an empty one).
_DEFAULT_BRANCH = "master"
#: How many scalars and submissions a tracker driver remembers the submission uuid of.
_REMEMBERED = 10_000
#: What tracker 2.x still takes per scalar; the rest of the tracker options moved to the
#: submission.
_SCALAR_2_OPTIONS = _Options(
    {
        "config_item_id": "configItemId",
        "test_dataset_id": "testDatasetId",
        "truth_dataset_id": "truthDatasetId",
        "unit": "unit",
    }
)
#: What a tracker 2.x submission holds besides producer, revision, branch and time.
#: ``extra_urls`` goes under the column's own name: tracker 2.0.4 decodes ``extraUrls``
#: and stores the PHP array as the text "Array".
_SUBMISSION_2_OPTIONS = _Options(
    {
        "uuid": "uuid",
        "name": "name",
        "build_results_url": "buildResultsUrl",
        "reproduction_command": "reproductionCommand",
    },
    encoded={"params": "params", "extra_urls": "extra_urls"},
)
#: The arguments of :meth:`TrackerDriver.create_submission`, for both tracker generations.
_CREATE_SUBMISSION_OPTIONS = _SUBMISSION_OPTIONS | _SUBMISSION_2_OPTIONS | _Options(
    {
        "producer_id": "producer_id",
        "community_id": "communityId",
        "producer_display_name": "producerDisplayName",
        "producer_revision": "producerRevision",
        "branch": "branch",
        "submit_time": "submitTime",
    },
    flags={"unofficial": "unofficial"},
)
#: A number as PHP's ``is_numeric`` reads a string (what tracker 1.x kept from a JSON file).
_NUMERIC_TEXT = re.compile(r"\s*[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?\s*")


def _only(options: _Options, kwargs: Mapping[str, Any]) -> Dict[str, Any]:
    """The part of ``kwargs`` that ``options`` sends."""
    known = set(options.values) | set(options.flags) | set(options.encoded)
    return {key: value for key, value in kwargs.items() if key in known}


def _is_numeric(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, (int, float)):
        return True
    return isinstance(value, str) and _NUMERIC_TEXT.fullmatch(value) is not None


def _not_json(constant: str) -> Any:
    """Refuse ``NaN`` and ``Infinity``, which Python's parser takes and JSON (and PHP) do not."""
    raise ValueError(f"{constant} is not a JSON value")


def _json_results(path: str, parent_keys: Optional[str]) -> List[Tuple[str, Any]]:
    """The ``(metric name, value)`` pairs of a results file, read as tracker 1.x read it.

    Every numeric member of the top-level object, or, with ``parent_keys``
    (``;``-separated dotted paths), of each object those paths name.

    :raises FileNotFoundError: if the file does not exist.
    :raises pydas.exceptions.LocalInputError: if it holds no JSON object, or a
        parent key does not name an object.
    """
    try:
        with open(path, encoding="utf-8") as handle:
            document = json.load(handle, parse_constant=_not_json)
    except (UnicodeDecodeError, ValueError) as error:
        raise exceptions.LocalInputError(f"{path}: not a JSON document ({error})") from None
    if not isinstance(document, dict):
        raise exceptions.LocalInputError(f"{path}: the JSON document is not an object")
    groups: List[Dict[str, Any]] = [document]
    if parent_keys:
        groups = []
        for key in parent_keys.split(";"):
            node: Any = document
            for part in key.split("."):
                node = node.get(part) if isinstance(node, dict) else None
            if not isinstance(node, dict):
                raise exceptions.LocalInputError(
                    f"{path}: the parent key {key!r} does not exist or is not an object"
                )
            groups.append(node)
    return [(name, value) for group in groups for name, value in group.items()
            if _is_numeric(value)]


@dataclass(frozen=True)
class _Run:
    """Whose results these are, of which revision and when: a tracker 2.x submission."""

    token: str
    community_id: Union[int, str]
    producer_display_name: str
    producer_revision: Union[int, str]
    submit_time: Optional[str]


class TrackerDriver(BaseDriver):
    """The ``tracker`` module (results dashboard), in either API generation.

    Tracker 1.x (Midas 3.4.1 and the releases before) records each value with
    its revision, time and links. Tracker 2.x (2.0.4 in Midas 3.4.2) groups the
    values of one run in a *submission* that holds them, and has neither
    ``results.upload.json`` nor per-scalar revisions. No call reports the
    module's version, so the driver asks ``midas.methods.list`` once per
    server (only 2.x has ``tracker.submission.validate``) and keeps each
    method's meaning on both: on 2.x :meth:`add_scalar_data` creates the
    submission the value belongs to, :meth:`upload_json_results` reads the
    file itself, and :meth:`associate_item_with_scalar_data` attaches the item
    to the scalar's submission.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._api_versions: Dict[str, int] = {}
        # Tracker 2.x only: the submission uuid of scalars and submissions made here.
        self._uuid_of_scalar: OrderedDict[str, str] = OrderedDict()
        self._uuid_of_submission: OrderedDict[str, str] = OrderedDict()

    def tracker_api_version(self) -> int:
        """Return ``2`` if the server speaks the tracker 2.x API, else ``1``.

        Addition to the original API. Asked once per server URL
        (``midas.methods.list``); a server without the tracker module counts
        as ``1``, and its refusal comes from the call itself.
        """
        url = self.url
        if url not in self._api_versions:
            listed = _member(
                self._call("midas.methods.list", None, repeatable=True),
                "methods",
                "midas.methods.list",
                list,
            )
            names = {entry.get("name") for entry in listed if isinstance(entry, dict)}
            self._api_versions[url] = 2 if _TRACKER_2_METHOD in names else 1
        return self._api_versions[url]

    @staticmethod
    def _remember(table: OrderedDict[str, str], key: Any, value: str) -> None:
        table[str(key)] = value
        table.move_to_end(str(key))
        if len(table) > _REMEMBERED:
            table.popitem(last=False)

    @staticmethod
    def _record(method: str, data: Any, key: str) -> Dict[str, Any]:
        """The record a tracker call answered, which must have ``key``."""
        if not isinstance(data, dict) or key not in data:
            raise _malformed(method, f"the answer has no {key!r} member (the data is "
                                     f"{_kind_of(data)})")
        return data

    @staticmethod
    def _submission_parameters(run: _Run, options: Mapping[str, Any]) -> Dict[str, Any]:
        """The parameters of a tracker 2.x ``midas.tracker.submission.add``."""
        parameters: Dict[str, Any] = {
            "token": run.token,
            "communityId": run.community_id,
            "producerDisplayName": run.producer_display_name,
            "producerRevision": run.producer_revision,
            "branch": options.get("branch") or _DEFAULT_BRANCH,
            "submitTime": "now" if run.submit_time is None else run.submit_time,
        }
        _SUBMISSION_2_OPTIONS.apply(
            "create_submission", _only(_SUBMISSION_2_OPTIONS, options), parameters
        )
        if options.get("unofficial"):
            parameters["official"] = 0  # a column of the submission; the server stores it
        return parameters

    def _new_submission(self, parameters: Mapping[str, Any], repeatable: bool) -> Dict[str, Any]:
        method = "midas.tracker.submission.add"
        submission = self._record(
            method, self._call(method, parameters, repeatable=repeatable), "submission_id"
        )
        self._remember(self._uuid_of_submission, submission["submission_id"],
                       str(submission.get("uuid") or parameters.get("uuid", "")))
        return submission

    def _submission_uuid_for(self, run: _Run, options: Mapping[str, Any]) -> str:
        """The uuid of the tracker 2.x submission a value goes into, made when new."""
        wanted = options.get("submission_uuid")
        if wanted is None and options.get("submission_id") is not None:
            known = self._uuid_of_submission.get(str(options["submission_id"]))
            if known is None:
                raise exceptions.InvalidParameter(
                    f"tracker 2.x identifies submissions by uuid, and the uuid of submission "
                    f"{options['submission_id']} is not known here: give submission_uuid",
                    method="midas.tracker.scalar.add",
                )
            return known
        wanted = str(wanted or uuid.uuid4().hex)
        parameters = self._submission_parameters(run, {**options, "uuid": wanted})
        try:
            # Repeatable: a second call finds the uuid taken by the first, which is fine.
            self._new_submission(parameters, repeatable=True)
        except exceptions.InvalidParameter as error:
            if "already in use" not in error.value:
                raise
        return wanted

    def _add_scalar_2(
        self, run: _Run, metric_name: str, value: Any, submission_uuid: str,
        options: Mapping[str, Any],
    ) -> Dict[str, Any]:
        parameters: Dict[str, Any] = {
            "token": run.token,
            "communityId": run.community_id,
            "producerDisplayName": run.producer_display_name,
            "metricName": metric_name,
            "value": value,
            "submissionUuid": submission_uuid,
        }
        _SCALAR_2_OPTIONS.apply("add_scalar_data", _only(_SCALAR_2_OPTIONS, options), parameters)
        method = "midas.tracker.scalar.add"
        scalar = self._record(method, self._call(method, parameters, repeatable=False),
                              "scalar_id")
        self._remember(self._uuid_of_scalar, scalar["scalar_id"], submission_uuid)
        if scalar.get("submission_id") not in (None, ""):
            self._remember(self._uuid_of_submission, scalar["submission_id"], submission_uuid)
        return scalar

    def add_scalar_data(
        self,
        token: str,
        community_id: Union[int, str],
        producer_display_name: str,
        metric_name: str,
        producer_revision: Union[int, str],
        submit_time: str,
        value: float,
        **kwargs: Any,
    ) -> Dict[str, Any]:
        """Record one result value (``midas.tracker.scalar.add``).

        On tracker 2.x the value goes into a submission, which carries the
        revision, time, branch, links and parameters: the one of
        ``submission_uuid`` (created with them if new), or a new one. ``silent``
        has no effect there (2.x sends no threshold e-mails for single values).

        :param config_item_id: (optional) id of the configuration item.
        :param test_dataset_id: (optional) id of the test dataset item.
        :param truth_dataset_id: (optional) id of the ground-truth item.
        :param silent: (optional) if true, no threshold e-mails.
        :param unofficial: (optional) if true, an unofficial value.
        :param build_results_url: (optional) link to the build results.
        :param branch: (optional) source branch; on tracker 2.x, which needs
            one, ``master`` when not given.
        :param submission_id: (optional) id of an existing submission (on
            tracker 2.x, one this driver made or saw; else give the uuid).
        :param submission_uuid: (optional) uuid of a submission (created if new).
        :param params: (optional) dictionary shown with the value (sent as JSON).
        :param extra_urls: (optional) list of ``{label, text, href}`` (sent as JSON).
        :param unit: (optional) unit of the value.
        :param reproduction_command: (optional) command that reproduces it.
        :returns: the scalar record.
        """
        parameters: Dict[str, Any] = {
            "token": token,
            "communityId": community_id,
            "producerDisplayName": producer_display_name,
            "metricName": metric_name,
            "producerRevision": producer_revision,
            "submitTime": submit_time,
            "value": value,
        }
        _SCALAR_OPTIONS.apply("add_scalar_data", kwargs, parameters)
        if self.tracker_api_version() == 1:
            return self._call(
                "midas.tracker.scalar.add", parameters, repeatable=False, returns=dict
            )
        run = _Run(token, community_id, producer_display_name, producer_revision, submit_time)
        submission_uuid = self._submission_uuid_for(run, kwargs)
        return self._add_scalar_2(run, metric_name, value, submission_uuid, kwargs)

    def upload_json_results(
        self,
        token: str,
        filepath: str,
        community_id: Union[int, str],
        producer_display_name: str,
        metric_name: str,
        producer_revision: Union[int, str],
        submit_time: str,
        **kwargs: Any,
    ) -> List[Dict[str, Any]]:
        """Record every numeric value of a JSON file (``midas.tracker.results.upload.json``).

        On tracker 1.x the file is streamed as the body of a PUT; the
        parameters, the API token included, travel in the query string because
        the server reads nothing else for a PUT. Tracker 2.x has no such
        method: the file is read here, and each value is recorded with
        ``midas.tracker.scalar.add`` in one new submission (none if the file
        holds no number).

        The optional arguments ``config_item_id``, ``test_dataset_id``,
        ``truth_dataset_id``, ``silent``, ``unofficial``, ``build_results_url``,
        ``branch``, ``params`` and ``extra_urls`` are those of
        :meth:`add_scalar_data`; ``metric_name`` is sent but the server
        ignores it (each value is named by its key).

        :param parent_keys: (optional) ``;``-separated dotted paths under which
            the values are looked for (sent as ``parentKeys``).
        :returns: the scalar records created.
        :raises FileNotFoundError: if ``filepath`` does not exist (nothing sent).
        :raises pydas.exceptions.LocalInputError: on tracker 2.x, if the file
            holds no JSON object or a parent key names none (nothing recorded).
        """
        parameters: Dict[str, Any] = {
            "token": token,
            "communityId": community_id,
            "producerDisplayName": producer_display_name,
            "metricName": metric_name,
            "producerRevision": producer_revision,
            "submitTime": submit_time,
        }
        _RESULTS_OPTIONS.apply("upload_json_results", kwargs, parameters)
        _check_file(filepath)
        if self.tracker_api_version() == 1:
            method = "midas.tracker.results.upload.json"
            return _expect(self._put_file(method, parameters, filepath), list, method)
        results = _json_results(filepath, kwargs.get("parent_keys"))
        if not results:
            return []
        run = _Run(token, community_id, producer_display_name, producer_revision, submit_time)
        submission_uuid = self._submission_uuid_for(run, kwargs)
        return [
            self._add_scalar_2(run, name, value, submission_uuid, kwargs)
            for name, value in results
        ]

    def associate_item_with_scalar_data(
        self, token: str, item_id: Union[int, str], scalar_id: Union[int, str], label: str
    ) -> None:
        """Attach a result item to a scalar value (``midas.tracker.item.associate``).

        Tracker 2.x attaches items to submissions: the item goes to the
        submission of the scalar, which this driver must have made (with
        :meth:`add_scalar_data` or :meth:`upload_json_results`): 2.x has no call
        that tells a scalar's submission.

        :raises pydas.exceptions.InvalidParameter: on tracker 2.x, for a scalar
            this driver did not make (nothing is sent).
        """
        method = "midas.tracker.item.associate"
        if self.tracker_api_version() == 1:
            parameters = {"token": token, "scalarIds": scalar_id, "itemId": item_id,
                          "label": label}
        else:
            submission_uuid = self._uuid_of_scalar.get(str(scalar_id))
            if submission_uuid is None:
                raise exceptions.InvalidParameter(
                    f"tracker 2.x attaches items to submissions, and the submission of scalar "
                    f"{scalar_id} is not known here (only scalars added through this driver)",
                    method=method,
                )
            parameters = {"token": token, "submissionUuid": submission_uuid,
                          "itemId": item_id, "label": label}
        self._call(method, parameters, repeatable=False)

    def create_submission(self, token: str, **kwargs: Any) -> Dict[str, Any]:
        """Create a submission (``midas.tracker.submission.add``).

        The original client called ``midas.tracker.submission.create``, which
        no tracker has; the method that exists needs to know whose submission
        it is, so besides ``uuid`` and ``name`` this takes, on tracker 1.x,
        ``producer_id``, and on tracker 2.x ``community_id``,
        ``producer_display_name`` and ``producer_revision`` (plus, optionally,
        ``branch``, ``submit_time`` (default now), ``build_results_url``,
        ``params``, ``extra_urls``, ``reproduction_command`` and
        ``unofficial``, as for :meth:`add_scalar_data`).

        :param uuid: (optional) uuid of the submission (else the server makes one).
        :param name: (optional) its name.
        :returns: the submission record.
        :raises TypeError: if an argument the server's tracker needs is missing.
        """
        _CREATE_SUBMISSION_OPTIONS.apply("create_submission", kwargs, {})
        version = self.tracker_api_version()
        if version == 1:
            needed: Tuple[str, ...] = ("producer_id",)
        else:
            needed = ("community_id", "producer_display_name", "producer_revision")
        missing = [name for name in needed if kwargs.get(name) is None]
        if missing:
            raise TypeError(
                f"create_submission() needs {', '.join(missing)} on this server "
                f"(tracker {version}.x API)"
            )
        if version == 1:
            method = "midas.tracker.submission.add"
            parameters: Dict[str, Any] = {"token": token, "producer_id": kwargs["producer_id"]}
            _SUBMISSION_OPTIONS.apply(
                "create_submission", _only(_SUBMISSION_OPTIONS, kwargs), parameters
            )
            return self._record(
                method, self._call(method, parameters, repeatable=False), "submission_id"
            )
        run = _Run(token, kwargs["community_id"], kwargs["producer_display_name"],
                   kwargs["producer_revision"], kwargs.get("submit_time"))
        return self._new_submission(self._submission_parameters(run, kwargs), repeatable=False)
