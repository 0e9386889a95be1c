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

    def _call(
        self, method: str, parameters: Optional[Mapping[str, Any]] = None, *, repeatable: bool
    ) -> Any:
        """POST ``method``; ``repeatable`` says whether it may reach the server twice."""
        return self._transport.call(method, self._present(parameters), repeatable=repeatable)

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
        return self._call("midas.info", repeatable=True)

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
        return self._call("midas.user.folders", {"token": token}, repeatable=True)

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
        return self._call("midas.user.list", {"limit": limit}, repeatable=True)

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
        )

    def get_community_by_name(self, name: str, token: Optional[str] = None) -> Dict[str, Any]:
        """Return the community with this exact name (``midas.community.get``)."""
        return self._call("midas.community.get", {"name": name, "token": token}, repeatable=True)

    def get_community_by_id(
        self, community_id: Union[int, str], token: Optional[str] = None
    ) -> Dict[str, Any]:
        """Return the community with this id (``midas.community.get``)."""
        return self._call(
            "midas.community.get", {"id": community_id, "token": token}, repeatable=True
        )

    def get_community_children(
        self, community_id: Union[int, str], token: Optional[str] = None
    ) -> Dict[str, List[Dict[str, Any]]]:
        """Return the top folders of a community (``midas.community.children``).

        :returns: ``{"folders": [...]}``.
        """
        return self._call(
            "midas.community.children", {"id": community_id, "token": token}, repeatable=True
        )

    def list_communities(self, token: Optional[str] = None) -> List[Dict[str, Any]]:
        """Return the communities visible to the caller (``midas.community.list``)."""
        return self._call("midas.community.list", {"token": token}, repeatable=True)

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
        )

    def folder_get(self, token: Optional[str], folder_id: Union[int, str]) -> Dict[str, Any]:
        """Return a folder and its ``parent`` (``midas.folder.get``)."""
        return self._call("midas.folder.get", {"token": token, "id": folder_id}, repeatable=True)

    def folder_children(
        self, token: Optional[str], folder_id: Union[int, str]
    ) -> Dict[str, List[Dict[str, Any]]]:
        """Return the direct children of a folder (``midas.folder.children``).

        :returns: ``{"folders": [...], "items": [...]}``.
        """
        return self._call(
            "midas.folder.children", {"token": token, "id": folder_id}, repeatable=True
        )

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
        )

    def item_get(self, token: Optional[str], item_id: Union[int, str]) -> Dict[str, Any]:
        """Return an item with its revisions and bitstreams (``midas.item.get``)."""
        return self._call("midas.item.get", {"token": token, "id": item_id}, repeatable=True)

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
        """Open the download of one bitstream (``midas.bitstream.download``).

        Addition to the original API. With an ``offset`` the server skips that
        many bytes but still announces the full size; the iterator delivers
        exactly what arrives.

        :param bitstream_id: the bitstream.
        :param token: (optional) an API token.
        :param offset: (optional) first byte to receive.
        :param name: (optional) the file name the server should announce.
        :returns: ``(filename, chunks)``.
        """
        return self._transport.download(
            "midas.bitstream.download",
            self._present({"id": bitstream_id, "offset": offset, "name": name, "token": token}),
            offset=offset or 0,
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
        return self._call("midas.link.create", parameters, repeatable=False)

    def search(self, search: str, token: Optional[str] = None) -> Dict[str, Any]:
        """Search names and descriptions (``midas.resource.search``).

        :returns: the whole answer; its ``results`` list holds the matches.
        """
        return self._call(
            "midas.resource.search", {"search": search, "token": token}, repeatable=True
        )

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
        if mode == "stream":
            return self._put_file("midas.upload.perform", parameters, path, offset, progress)
        if offset:
            raise ValueError("perform_upload: a multipart upload cannot resume; offset must be 0")
        parameters["file"] = filename
        return self._transport.post_multipart(
            "midas.upload.perform",
            self._present(parameters),
            path,
            file_field="file",
            file_name=filename,
            progress=progress,
        )


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
        )

    def create_small_thumbnail(self, token: str, item_id: Union[int, str]) -> Dict[str, Any]:
        """Make a 100x100 preview from the first file of the head revision.

        :returns: the item with its new ``thumbnail_id``.
        """
        return self._call(
            "midas.thumbnailcreator.create.small.thumbnail",
            {"token": token, "itemId": item_id},
            repeatable=True,
        )


class TrackerDriver(BaseDriver):
    """The ``tracker`` module (results dashboard, tracker 1.2 API)."""

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

        :param config_item_id: (optional) id of the configuration item.
        :param test_dataset_id: (optional) id of the test dataset item.
        :param truth_dataset_id: (optional) id of the ground-truth item.
        :param silent: (optional) if true, no threshold e-mails.
        :param unofficial: (optional) if true, an unofficial value.
        :param build_results_url: (optional) link to the build results.
        :param branch: (optional) source branch.
        :param submission_id: (optional) id of an existing submission.
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
        return self._call("midas.tracker.scalar.add", parameters, repeatable=False)

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

        The file is streamed as the body of a PUT; the parameters, the API
        token included, travel in the query string because the server reads
        nothing else for a PUT.

        The optional arguments ``config_item_id``, ``test_dataset_id``,
        ``truth_dataset_id``, ``silent``, ``unofficial``, ``build_results_url``,
        ``branch``, ``params`` and ``extra_urls`` are those of
        :meth:`add_scalar_data`; ``metric_name`` is sent but the server ignores it.

        :param parent_keys: (optional) ``;``-separated dotted paths under which
            the values are looked for (sent as ``parentKeys``).
        :returns: the scalar records created.
        :raises FileNotFoundError: if ``filepath`` does not exist (nothing sent).
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
        return self._put_file("midas.tracker.results.upload.json", parameters, filepath)

    def associate_item_with_scalar_data(
        self, token: str, item_id: Union[int, str], scalar_id: Union[int, str], label: str
    ) -> None:
        """Attach a result item to a scalar value (``midas.tracker.item.associate``)."""
        self._call(
            "midas.tracker.item.associate",
            {"token": token, "scalarIds": scalar_id, "itemId": item_id, "label": label},
            repeatable=False,
        )

    def create_submission(self, token: str, **kwargs: Any) -> Dict[str, Any]:
        """Create a submission (``midas.tracker.submission.create``).

        Kept for compatibility: no released tracker has this API method, so the
        server answers that it does not exist and
        :class:`pydas.exceptions.UnknownMethod` is raised.

        :param uuid: (optional) uuid of the submission.
        :param name: (optional) its name.
        :returns: the submission record.
        """
        parameters: Dict[str, Any] = {"token": token}
        _SUBMISSION_OPTIONS.apply("create_submission", kwargs, parameters)
        return self._call("midas.tracker.submission.create", parameters, repeatable=False)
