"""Drivers: one class per group of Midas Server API methods.

A driver method states which API method it calls and how its Python
arguments become API parameters; the sending itself is done by
:mod:`pydas._transport`. :class:`CoreDriver` covers the core API, the other
drivers the API of one server module each (``batchmake``, ``dicomextractor``,
``mfa``, ``solr``, ``thumbnailcreator``, ``tracker``). A
:class:`pydas.core.Communicator` bundles them all behind one object.

Conventions shared by every driver method:

* a parameter whose value is ``None`` is not sent at all; in particular
  ``token=None`` makes an anonymous call;
* optional keyword arguments are sent only when given (not ``None``); flags
  that the server tests for mere presence (``reuse_existing``, ``silent``,
  ``unofficial``) are sent only when true;
* an unknown keyword argument raises :class:`TypeError` instead of being
  silently ignored;
* every method returns the documented part of the answer's ``data`` and
  raises a :class:`pydas.exceptions.PydasException` subclass on failure.

Additions to the original API, used by the high-level functions:
:meth:`BaseDriver.request_login`, :meth:`CoreDriver.get_upload_offset`,
:meth:`CoreDriver.download_bitstream`, the ``offset``, ``changes`` and ``progress`` options of
:meth:`CoreDriver.perform_upload`, and ``return_item`` of
:meth:`CoreDriver.download_item`.
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
    Union,
    overload,
)

import requests

from pydas import exceptions
from pydas._transport import RetryPolicy, Timeout, Transport

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

#: The part of the URL between the server root and the API method name.
API_SUFFIX = "/api/json?method="

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


def _member(data: Any, key: str, method: str) -> Any:
    """Return ``data[key]``, or raise :class:`ParseError` if the answer lacks it."""
    if isinstance(data, dict) and key in data:
        return data[key]
    raise exceptions.ParseError(f"{method}: the answer has no {key!r} member", method=method)


def _strip_slash(url: str) -> str:
    return url[:-1] if url.endswith("/") else url


def _check_file(path: str) -> int:
    """Return the size of the file at ``path``, or raise a clear error."""
    if os.path.isdir(path):
        raise IsADirectoryError(errno.EISDIR, "Is a directory, not a file", path)
    if not os.path.isfile(path):
        raise FileNotFoundError(errno.ENOENT, "No such file to upload", path)
    return os.path.getsize(path)


class BaseDriver:
    """Common machinery of the drivers: server URL, HTTP settings, requests.

    :param url: root URL of the Midas installation, e.g.
        ``https://host/midas`` (one trailing ``/`` is removed).
    :param session: a :class:`requests.Session` to share with other drivers;
        by default the driver makes its own and closes it in :meth:`close`.
    :param timeout: seconds, or ``(connect, read)``; default ``(10, 300)``.
    :param retry: a :class:`pydas.core.RetryPolicy` (addition to the
        original API, mainly for tests and tuning).
    """

    def __init__(
        self,
        url: str = "",
        *,
        session: Optional[requests.Session] = None,
        timeout: Optional[Timeout] = None,
        retry: Optional[RetryPolicy] = None,
    ) -> None:
        self._url = _strip_slash(url)
        self._transport = Transport(session=session, timeout=timeout, retry=retry)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._url!r})"

    @property
    def url(self) -> str:
        """The root URL of the server (get/set; one trailing ``/`` is removed)."""
        return self._url

    @url.setter
    def url(self, value: str) -> None:
        self._url = _strip_slash(value)

    @property
    def full_url(self) -> str:
        """The server URL followed by the API suffix (``/api/json?method=``)."""
        return self._url + API_SUFFIX

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
    def verify_ssl_certificate(self, value: Union[bool, str]) -> None:
        self._transport.verify = value if isinstance(value, str) else bool(value)

    @property
    def auth(self) -> Any:
        """HTTP authentication passed to :mod:`requests` (e.g. a user/password tuple)."""
        return self._transport.auth

    @auth.setter
    def auth(self, value: Any) -> None:
        self._transport.auth = value

    @property
    def timeout(self) -> Timeout:
        """Timeout in seconds, or ``(connect, read)``, applied to every request."""
        return self._transport.timeout

    @timeout.setter
    def timeout(self, value: Timeout) -> None:
        self._transport.timeout = value

    @property
    def retry(self) -> RetryPolicy:
        """The retry policy for transient failures."""
        return self._transport.retry

    @retry.setter
    def retry(self, value: RetryPolicy) -> None:
        self._transport.retry = value

    def close(self) -> None:
        """Release the HTTP session if this driver created it."""
        self._transport.close()

    def __enter__(self) -> "BaseDriver":
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()

    def _endpoint(self, method: str) -> str:
        return self.full_url + method

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

        :param method: the API method, e.g. ``midas.folder.get``.
        :param parameters: the API parameters.
        :param file_payload: an open binary file object to send as the body.
        :returns: the ``data`` member of the server's answer.
        :raises pydas.exceptions.PydasException: if the call failed.
        """
        present = self._present(parameters)
        if file_payload is not None:
            return self._transport.put_stream(self._endpoint(method), method, present, file_payload)
        return self._transport.call(self._endpoint(method), method, present)

    def _request_member(
        self, method: str, parameters: Optional[Mapping[str, Any]], key: str
    ) -> Any:
        """Call ``method`` and return the ``key`` member of its ``data``."""
        return _member(self.request(method, parameters), key, method)

    def _put_file(
        self,
        method: str,
        parameters: Mapping[str, Any],
        path: str,
        offset: int = 0,
        progress: Optional[Callable[[int], Any]] = None,
    ) -> Any:
        return self._transport.put_file(
            self._endpoint(method), method, self._present(parameters), path, offset, progress
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
        :raises pydas.exceptions.ServerCheckFailed: wrong key or application.
        :raises pydas.exceptions.InvalidParameter: unknown e-mail address.
        :raises pydas.exceptions.ParseError: an answer with neither member.
        """
        try:
            data = self.request(
                "midas.login", {"email": email, "apikey": api_key, "appname": application}
            )
        except exceptions.ServerCheckFailed as error:
            # The server says nothing more than "code 0" here.
            raise exceptions.ServerCheckFailed(
                f"midas.login failed (code {error.code}): wrong API key for {email!r}, "
                f"or no key for the application {application!r}",
                method=error.method,
                code=error.code,
                request=error.request,
                response=error.response,
            ) from None
        for key in ("token", "mfa_token_id"):
            if isinstance(data, dict) and key in data:
                return {key: str(data[key])}
        raise exceptions.ParseError(
            "midas.login: the answer holds neither a token nor an mfa_token_id",
            method="midas.login",
        )

    def login_with_api_key(
        self, email: str, api_key: str, application: str = "Default"
    ) -> str:
        """Exchange an API key for a token (``midas.login``).

        :param email: the account's e-mail address.
        :param api_key: the API key.
        :param application: the application the key belongs to.
        :returns: the API token; if the server asks for a second factor, the
            ``mfa_token_id`` to pass to
            :meth:`MultiFactorAuthenticationDriver.mfa_otp_login` instead
            (:meth:`request_login` tells the two apart).
        :raises pydas.exceptions.ServerCheckFailed: wrong key or application.
        :raises pydas.exceptions.InvalidParameter: unknown e-mail address.
        """
        (value,) = self.request_login(email, api_key, application).values()
        return value


class CoreDriver(BaseDriver):
    """The core API of Midas Server: users, communities, folders, items, uploads."""

    # -- server -------------------------------------------------------------

    def get_server_version(self) -> str:
        """Return the server's version string (``midas.version``)."""
        return self._request_member("midas.version", None, "version")

    def get_server_info(self) -> Dict[str, Any]:
        """Return the server description (``midas.info``).

        :returns: the whole dictionary: ``version``, ``name``, ``description``,
            ``modules`` and ``resources`` (the old client returned only the
            version).
        """
        return self.request("midas.info")

    def list_modules(self) -> List[str]:
        """Return the names of the modules enabled on the server (``midas.modules.list``)."""
        return self._request_member("midas.modules.list", None, "modules")

    # -- users --------------------------------------------------------------

    def list_user_folders(self, token: str) -> List[Dict[str, Any]]:
        """Return the readable folders at the top of the caller's home folder.

        :param token: an API token (without one the server returns ``[]``).
        :returns: folder dictionaries sorted by name (``midas.user.folders``).
        """
        return self.request("midas.user.folders", {"token": token})

    def get_default_api_key(self, email: str, password: str) -> str:
        """Return the ``Default`` API key of an account (``midas.user.apikey.default``).

        The password travels in the form body of a POST, never in the URL.

        :param email: the account's e-mail address.
        :param password: the account's password.
        :returns: the API key.
        """
        return self._request_member(
            "midas.user.apikey.default", {"email": email, "password": password}, "apikey"
        )

    def list_users(self, limit: int = 20) -> List[Dict[str, Any]]:
        """Return users with a public profile (``midas.user.list``).

        :param limit: the largest number of users returned.
        """
        return self.request("midas.user.list", {"limit": limit})

    def get_user_by_name(self, firstname: str, lastname: str) -> Any:
        """Return the user with this first and last name (``midas.user.get``).

        :returns: the user dictionary, or ``""`` if there is no such user.
        """
        return self.request("midas.user.get", {"firstname": firstname, "lastname": lastname})

    def get_user_by_id(self, user_id: Union[int, str]) -> Any:
        """Return the user with this id (``midas.user.get``).

        :returns: the user dictionary, or ``""`` if there is no such user.
        """
        return self.request("midas.user.get", {"user_id": user_id})

    def get_user_by_email(self, email: str) -> Any:
        """Return the user with this e-mail address (``midas.user.get``).

        :returns: the user dictionary, or ``""`` if there is no such user.
        """
        return self.request("midas.user.get", {"email": email})

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
        return self.request("midas.community.create", parameters)

    def get_community_by_name(self, name: str, token: Optional[str] = None) -> Dict[str, Any]:
        """Return the community with this exact name (``midas.community.get``)."""
        return self.request("midas.community.get", {"name": name, "token": token})

    def get_community_by_id(
        self, community_id: Union[int, str], token: Optional[str] = None
    ) -> Dict[str, Any]:
        """Return the community with this id (``midas.community.get``)."""
        return self.request("midas.community.get", {"id": community_id, "token": token})

    def get_community_children(
        self, community_id: Union[int, str], token: Optional[str] = None
    ) -> Dict[str, List[Dict[str, Any]]]:
        """Return the top folders of a community (``midas.community.children``).

        :returns: ``{"folders": [...]}``.
        """
        return self.request("midas.community.children", {"id": community_id, "token": token})

    def list_communities(self, token: Optional[str] = None) -> List[Dict[str, Any]]:
        """Return the communities visible to the caller (``midas.community.list``)."""
        return self.request("midas.community.list", {"token": token})

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
        return self.request("midas.folder.create", parameters)

    def folder_get(self, token: Optional[str], folder_id: Union[int, str]) -> Dict[str, Any]:
        """Return a folder and its ``parent`` (``midas.folder.get``)."""
        return self.request("midas.folder.get", {"token": token, "id": folder_id})

    def folder_children(
        self, token: Optional[str], folder_id: Union[int, str]
    ) -> Dict[str, List[Dict[str, Any]]]:
        """Return the direct children of a folder (``midas.folder.children``).

        :returns: ``{"folders": [...], "items": [...]}``.
        """
        return self.request("midas.folder.children", {"token": token, "id": folder_id})

    def delete_folder(self, token: str, folder_id: Union[int, str]) -> Any:
        """Delete a folder and everything under it (``midas.folder.delete``)."""
        return self.request("midas.folder.delete", {"token": token, "id": folder_id})

    def move_folder(
        self, token: str, folder_id: Union[int, str], dest_folder_id: Union[int, str]
    ) -> Dict[str, Any]:
        """Move a folder under a new parent (``midas.folder.move``).

        :returns: the moved folder.
        """
        return self.request(
            "midas.folder.move", {"token": token, "id": folder_id, "dstfolderid": dest_folder_id}
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
        return self.request("midas.item.create", parameters)

    def item_get(self, token: Optional[str], item_id: Union[int, str]) -> Dict[str, Any]:
        """Return an item with its revisions and bitstreams (``midas.item.get``)."""
        return self.request("midas.item.get", {"token": token, "id": item_id})

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
            self._endpoint("midas.item.download"),
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
            self._endpoint("midas.bitstream.download"),
            "midas.bitstream.download",
            self._present({"id": bitstream_id, "offset": offset, "name": name, "token": token}),
            offset=offset or 0,
        )

    def delete_item(self, token: str, item_id: Union[int, str]) -> Any:
        """Delete an item everywhere (``midas.item.delete``)."""
        return self.request("midas.item.delete", {"token": token, "id": item_id})

    def get_item_metadata(
        self,
        item_id: Union[int, str],
        token: Optional[str] = None,
        revision: Optional[Union[int, str]] = None,
    ) -> List[Dict[str, Any]]:
        """Return the metadata of an item revision (``midas.item.getmetadata``).

        :param revision: (optional) revision number; default the head revision.
        """
        return self.request(
            "midas.item.getmetadata", {"id": item_id, "token": token, "revision": revision}
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
        return self.request("midas.item.setmetadata", parameters)

    def share_item(
        self, token: str, item_id: Union[int, str], dest_folder_id: Union[int, str]
    ) -> Dict[str, Any]:
        """Link an item into another folder as well (``midas.item.share``)."""
        return self.request(
            "midas.item.share", {"token": token, "id": item_id, "dstfolderid": dest_folder_id}
        )

    def move_item(
        self,
        token: str,
        item_id: Union[int, str],
        src_folder_id: Union[int, str],
        dest_folder_id: Union[int, str],
    ) -> Dict[str, Any]:
        """Move an item from one folder to another (``midas.item.move``)."""
        return self.request(
            "midas.item.move",
            {
                "token": token,
                "id": item_id,
                "srcfolderid": src_folder_id,
                "dstfolderid": dest_folder_id,
            },
        )

    def search_item_by_name(self, name: str, token: Optional[str] = None) -> List[Dict[str, Any]]:
        """Return the readable items with this exact name (``midas.item.searchbyname``)."""
        return self._request_member(
            "midas.item.searchbyname", {"name": name, "token": token}, "items"
        )

    def search_item_by_name_and_folder(
        self, name: str, folder_id: Union[int, str], token: Optional[str] = None
    ) -> List[Dict[str, Any]]:
        """Return the items with this name in the folder with this id."""
        return self._request_member(
            "midas.item.searchbynameandfolder",
            {"name": name, "folderId": folder_id, "token": token},
            "items",
        )

    def search_item_by_name_and_folder_name(
        self, name: str, folder_name: str, token: Optional[str] = None
    ) -> List[Dict[str, Any]]:
        """Return the items with this name in any folder with this name."""
        return self._request_member(
            "midas.item.searchbynameandfoldername",
            {"name": name, "folderName": folder_name, "token": token},
            "items",
        )

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
        return self.request("midas.link.create", parameters)

    def search(self, search: str, token: Optional[str] = None) -> Dict[str, Any]:
        """Search names and descriptions (``midas.resource.search``).

        :returns: the whole answer; its ``results`` list holds the matches.
        """
        return self.request("midas.resource.search", {"search": search, "token": token})

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
        return self._request_member(
            "midas.upload.generatetoken",
            {"token": token, "itemid": item_id, "filename": filename, "checksum": checksum},
            "token",
        )

    def get_upload_offset(self, upload_token: str) -> Optional[int]:
        """Return how many bytes the server holds for an upload token.

        Addition to the original API (``midas.upload.getoffset``), used to
        resume an interrupted upload.

        :returns: the byte count, or ``None`` for an unknown or used token.
        """
        data = self.request("midas.upload.getoffset", {"uploadtoken": upload_token})
        offset = data.get("offset", "") if isinstance(data, dict) else ""
        if offset in ("", None):
            return None
        try:
            return int(offset)
        except (TypeError, ValueError):
            raise exceptions.ParseError(
                f"midas.upload.getoffset: unexpected offset {offset!r}",
                method="midas.upload.getoffset",
            ) from None

    def perform_upload(self, upload_token: str, filename: str, **kwargs: Any) -> Dict[str, Any]:
        """Send a file for an upload token (``midas.upload.perform``, streamed PUT).

        By default the file is added to the item's head revision
        (``revision=head``); ``create_additional_revision=True`` makes a new
        revision instead.

        :param upload_token: from :meth:`generate_upload_token`.
        :param filename: the name the bitstream gets; also the local path
            unless ``filepath`` is given.
        :param mode: (optional) only ``'stream'`` works; ``'multipart'``
            raises :class:`ValueError` (it needs a form upload pydas does not do).
        :param folder_id: (optional) sent as ``folderid`` (the server ignores it).
        :param item_id: (optional) sent as ``itemid`` (the server ignores it).
        :param revision: (optional) ``'head'`` or a revision number.
        :param filepath: (optional) the local path of the file.
        :param create_additional_revision: (optional) if true, do not send
            ``revision=head``.
        :param changes: (optional) text stored as the revision's changes.
        :param offset: (optional) first byte to send, to resume an upload;
            ``length`` still announces the whole file.
        :param progress: (optional) called with the byte count of each piece sent.
        :returns: the item after the upload.
        :raises FileNotFoundError: if the local file does not exist (nothing sent).
        """
        parameters: Dict[str, Any] = {"uploadtoken": upload_token, "filename": filename}
        if not kwargs.get("create_additional_revision"):
            parameters["revision"] = "head"
        _UPLOAD_OPTIONS.apply("perform_upload", kwargs, parameters)
        mode = kwargs.get("mode")
        if mode is not None and str(mode).lower() != "stream":
            raise ValueError(
                f"perform_upload: mode {mode!r} is not supported; only 'stream' uploads work"
            )
        path = kwargs.get("filepath") or filename
        parameters["length"] = _check_file(path)
        offset = kwargs.get("offset") or 0
        return self._put_file(
            "midas.upload.perform", parameters, path, offset, kwargs.get("progress")
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
        return self.request(
            "midas.batchmake.add.condor.dag",
            {
                "token": token,
                "batchmaketaskid": batchmaketaskid,
                "dagfilename": dagfilename,
                "outfilename": dagmanoutfilename,
            },
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
        return self.request(
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
        )


class DicomextractorDriver(BaseDriver):
    """The ``dicomextractor`` module."""

    def extract_dicommetadata(self, token: str, item_id: Union[int, str]) -> Any:
        """Extract DICOM tags of an item as metadata (``midas.dicomextractor.extract``).

        :returns: the head revision record. The server sends it as JSON text
            inside ``data``; it is decoded here.
        :raises pydas.exceptions.ParseError: if that text is not JSON.
        """
        data = self.request("midas.dicomextractor.extract", {"token": token, "item": item_id})
        if not isinstance(data, str):
            return data
        try:
            return json.loads(data)
        except ValueError:
            raise exceptions.ParseError(
                "midas.dicomextractor.extract: the returned revision is not JSON",
                method="midas.dicomextractor.extract",
            ) from None


class MultiFactorAuthenticationDriver(BaseDriver):
    """The ``mfa`` module (second login factor)."""

    def mfa_otp_login(self, temp_token: str, one_time_pass: str) -> str:
        """Trade the ``mfa_token_id`` and a one-time password for a token.

        :param temp_token: what :meth:`BaseDriver.login_with_api_key` returned.
        :param one_time_pass: the one-time password.
        :returns: the API token (``midas.mfa.otp.login``).
        """
        return self._request_member(
            "midas.mfa.otp.login", {"mfaTokenId": temp_token, "otp": one_time_pass}, "token"
        )


class SolrDriver(BaseDriver):
    """The ``solr`` module (full-text search)."""

    def solr_advanced_search(
        self, query: str, token: Optional[str] = None, limit: int = 20
    ) -> List[Dict[str, Any]]:
        """Search item metadata with a Lucene query (``midas.solr.search.advanced``).

        :param limit: the largest number of results.
        """
        return self.request(
            "midas.solr.search.advanced", {"query": query, "token": token, "limit": limit}
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
        return self.request(
            "midas.thumbnailcreator.create.big.thumbnail",
            {"token": token, "bitstreamId": bitstream_id, "itemId": item_id, "width": width},
        )

    def create_small_thumbnail(self, token: str, item_id: Union[int, str]) -> Dict[str, Any]:
        """Make a 100x100 preview from the first file of the head revision.

        :returns: the item with its new ``thumbnail_id``.
        """
        return self.request(
            "midas.thumbnailcreator.create.small.thumbnail", {"token": token, "itemId": item_id}
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
        return self.request("midas.tracker.scalar.add", parameters)

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
        self.request(
            "midas.tracker.item.associate",
            {"token": token, "scalarIds": scalar_id, "itemId": item_id, "label": label},
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
        return self.request("midas.tracker.submission.create", parameters)
