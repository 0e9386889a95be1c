"""The module-level functions of pydas: one login per interpreter, whole trees moved.

These are the functions of the manual's quick start::

    >>> import pydas
    >>> pydas.login()
    Server URL: http://domain/midas3
    Email: email@email.com
    Password:
    'FK0uEYfciJcjBbaAadfTC123213s12810Favf0PJPULX'
    >>> pydas.upload('myfiles')
    Creating Folder from myfiles
    Uploading Item from myfiles/file1.txt
    Uploading Item from myfiles/file2.txt

The login is kept in :mod:`pydas.session`. The transfers themselves, and the
resolution of server paths such as ``/users/Jane_Doe/Private/myfiles``, are
done by :mod:`pydas._transfer`; this module keeps the token fresh.
"""

from __future__ import annotations

import getpass
import logging
import os
import threading
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple, Union

from pydas import _transfer, credentials, exceptions, session
from pydas._transfer.summary import TransferSummary
from pydas.core import Communicator

__all__ = [
    "NotLoggedIn",
    "PathNotFound",
    "LocalInputError",
    "TransferError",
    "TransferSummary",
    "UnsafePathError",
    "login",
    "login_with",
    "login_refused",
    "renew_token",
    "verify_credentials",
    "upload",
    "download",
    "download_folder_recursive",
    "resolve_path",
    "list_folder",
    "list_item",
    "add_item_upload_callback",
    "add_item_download_callback",
    "add_folder_download_callback",
    "allow_existing_download_paths",
]

logger = logging.getLogger("pydas")
logger.addHandler(logging.NullHandler())

LocalInputError = exceptions.LocalInputError
TransferError = exceptions.TransferError
UnsafePathError = exceptions.UnsafePathError
NotLoggedIn = exceptions.NotLoggedIn
PathNotFound = exceptions.PathNotFound

_renew_lock = threading.Lock()


# ---------------------------------------------------------------------------
# Login


def login(
    email: Optional[str] = None,
    password: Optional[str] = None,
    api_key: Optional[str] = None,
    application: str = "Default",
    url: Optional[str] = None,
    verify_ssl_certificate: Union[bool, str] = True,
) -> str:
    """Log in to a Midas server and remember the login for the other functions.

    What is not given is looked up in the order of :mod:`pydas.credentials`:
    the ``MIDAS_*`` environment variables, the login stored by ``pydas login``,
    ``~/.netrc``, and last a prompt: ``Server URL:`` and ``Email:`` on the
    terminal, ``Password:`` without echo. With a password, the account's
    default API key is fetched first (and ``application`` is ``Default``).
    When the server asks for a second factor, the ``One-Time Password:`` is
    asked for too.

    :param email: the account's e-mail address
    :param password: the account's password (not stored)
    :param api_key: an API key, used instead of the password
    :param application: the application name the API key belongs to
        (``Default`` lets ``MIDAS_APPLICATION`` or the stored login choose)
    :param url: the server URL, e.g. ``https://host/midas``
    :param verify_ssl_certificate: whether to check the server's TLS
        certificate, or the path of a CA bundle to check it with (``True``
        lets ``MIDAS_CA_BUNDLE``, ``MIDAS_NO_VERIFY`` or the configuration
        file choose)
    :returns: the API token
    :raises ValueError: if the URL does not start with ``http://`` or ``https://``
    :raises pydas.exceptions.PydasException: when the server refuses the login
    """
    no_verify: Optional[bool] = None
    ca_bundle: Optional[str] = None
    if isinstance(verify_ssl_certificate, str):
        ca_bundle = verify_ssl_certificate
    elif not verify_ssl_certificate:
        no_verify = True
    found = credentials.resolve(
        url=url,
        email=email,
        api_key=api_key,
        password=password,
        application=None if application == "Default" else application,
        ca_bundle=ca_bundle,
        no_verify=no_verify,
    )
    return login_with(found)


def login_with(found: credentials.Login) -> str:
    """Log in with credentials already gathered by :func:`pydas.credentials.resolve`.

    A ``.netrc`` secret is tried as an API key first and, if the server
    refuses it, as the account's password.

    :param found: the login to use
    :returns: the API token (the login is remembered as by :func:`login`)
    :raises pydas.exceptions.PydasException: when the server refuses the login
    """
    communicator = Communicator(found.url, timeout=found.timeout)
    try:
        communicator.verify_ssl_certificate = found.verify
        api_key, application = found.api_key, found.application
        token = None
        if api_key is not None:
            try:
                token = _token_from_api_key(communicator, found.email, api_key, application)
            except exceptions.PydasException as error:
                if not (found.secret_may_be_password and login_refused(error)):
                    raise
                found.password, api_key = api_key, None
        if token is None:
            password = found.password
            if password is None:
                password = getpass.getpass("Password: ")
            api_key = communicator.get_default_api_key(found.email, password)
            application = "Default"
            token = _token_from_api_key(communicator, found.email, api_key, application)
    except BaseException:
        communicator.close()
        raise
    if session.communicator is not None and session.communicator is not communicator:
        session.communicator.close()
    session.communicator = communicator
    session.url = communicator.url
    session.verify_ssl_certificate = found.verify is not False
    session.email = found.email
    session.api_key = api_key
    session.application = application
    session.token = token
    return token


def login_refused(error: BaseException) -> bool:
    """Whether an error is the server refusing the credentials of a login.

    The drivers raise :class:`~pydas.exceptions.LoginFailed` for these
    answers (a wrong API key, password, e-mail address or application).

    :param error: the exception raised while logging in
    """
    return isinstance(error, exceptions.LoginFailed)


def _token_from_api_key(communicator: Any, email: str, api_key: str, application: str) -> str:
    """Exchange an API key for a token, asking for the one-time password if required.

    ``midas.login`` answers ``{"token": ...}``, or ``{"mfa_token_id": ...}``
    when the account has a second factor; the key of the answer decides (the
    old client guessed from the length of the string).
    """
    # the communicator hands the calls to its driver, which checks the answers
    answer: Dict[str, str] = communicator.request_login(email, api_key, application)
    token: str
    if "token" in answer:
        token = answer["token"]
    else:
        one_time_pass = getpass.getpass("One-Time Password: ")
        token = communicator.mfa_otp_login(answer["mfa_token_id"], one_time_pass)
    return token


def renew_token() -> str:
    """Get a fresh token with the API key of the current login.

    :returns: the new token (also stored in :mod:`pydas.session`)
    :raises NotLoggedIn: if :func:`login` was not called
    """
    communicator, email, api_key = _require_login()
    token = _token_from_api_key(communicator, email, api_key, session.application)
    session.token = token
    return token


def verify_credentials() -> str:
    """Make sure there is a token to use, and return it.

    No request is made when a token is present: an expired token is noticed
    by the first call that uses it and then renewed once, transparently.

    :returns: the current token
    :raises NotLoggedIn: if :func:`login` was not called
    """
    _require_login()
    if session.token is None:
        return renew_token()
    return session.token


def _require_login() -> Tuple[Any, str, str]:
    """Return the communicator, e-mail and API key of the login, or raise :class:`NotLoggedIn`."""
    if session.communicator is None or session.email is None or session.api_key is None:
        raise NotLoggedIn("not logged in: call pydas.login() first")
    return session.communicator, session.email, session.api_key


def _renew_after(refused: str) -> str:
    """Renew the token once, however many workers saw it refused."""
    with _renew_lock:
        if session.token is not None and session.token != refused:
            return session.token
        logger.info("The token has expired; renewing it")
        return renew_token()


def _remote() -> _transfer.Remote:
    verify_credentials()
    return _transfer.Remote(session.communicator, verify_credentials, _renew_after)


def _start(workers: int) -> None:
    """Check what a transfer needs before it sends anything."""
    _require_login()
    _transfer.check_workers(workers)


# ---------------------------------------------------------------------------
# Callbacks and options


def add_item_upload_callback(callback: Callable[..., Any]) -> None:
    """Run ``callback(communicator, token, item_id)`` after each item :func:`upload` completes.

    :param callback: the function to call
    """
    session.item_upload_callbacks.append(callback)


def add_item_download_callback(callback: Callable[..., Any]) -> None:
    """Run ``callback(communicator, token, item, local_path)`` after each downloaded item.

    :param callback: the function to call; ``item`` is the server's item object
    """
    session.item_download_callbacks.append(callback)


def add_folder_download_callback(callback: Callable[..., Any]) -> None:
    """Run ``callback(communicator, token, folder, local_path)`` after each downloaded folder.

    :param callback: the function to call; ``folder`` is the server's folder object
    """
    session.folder_download_callbacks.append(callback)


def allow_existing_download_paths() -> None:
    """Let downloads write into local directories that already exist.

    Without this, downloading a folder whose local directory exists is an
    error. With it, files whose MD5 already matches are left alone and the
    others are replaced.
    """
    session.existing_download_paths_allowed = True



# ---------------------------------------------------------------------------
# Transfers


def _options(
    workers: int, quiet: bool, progress: Optional[bool], **choices: Any
) -> _transfer.TransferOptions:
    """The options of one transfer, with the callbacks and settings of the session."""
    return _transfer.TransferOptions(
        workers=workers,
        quiet=quiet,
        bar=False if choices.get("dry_run") else progress,
        allow_existing=session.existing_download_paths_allowed,
        item_upload_callbacks=tuple(session.item_upload_callbacks),
        item_download_callbacks=tuple(session.item_download_callbacks),
        folder_download_callbacks=tuple(session.folder_download_callbacks),
        **choices,
    )


#: The calls with which an upload writes; a -151 from them means "no write permission".
_WRITING_METHODS = frozenset(
    {"midas.folder.create", "midas.item.create", "midas.upload.generatetoken",
     "midas.upload.perform"}
)


def _summary(summary: Optional[TransferSummary]) -> TransferSummary:
    return summary if summary is not None else TransferSummary()


def _patterns(file_pattern: Union[str, Sequence[str]]) -> List[str]:
    if isinstance(file_pattern, (str, os.PathLike)):
        return [os.fspath(file_pattern)]
    patterns = [os.fspath(pattern) for pattern in file_pattern]
    if not patterns:
        raise exceptions.LocalInputError("no file or directory to upload was given")
    return patterns


def _upload_folder(
    remote: _transfer.Remote, destination: str, folder_id: Any
) -> Tuple[Any, str]:
    """The id of the folder an upload writes into, and how to name it in messages."""
    if folder_id is None:
        return _transfer.destination_folder(remote, destination), repr(destination)
    if destination != "Private":
        raise ValueError("give either destination or folder_id, not both")
    try:
        folder = _transfer.folder_by_id(remote, folder_id)
    except (exceptions.InvalidPolicy, exceptions.InvalidParameter):
        raise exceptions.PathNotFound(
            f"there is no folder with id {folder_id!r} (or you may not read it)"
        ) from None
    name = _transfer.repair_text(folder.get("name", ""))
    return folder["folder_id"], f"folder {name!r} (id {folder_id})"


def upload(
    file_pattern: Union[str, Sequence[str]],
    destination: str = "Private",
    leaf_folders_as_items: bool = False,
    reuse_existing: bool = False,
    *,
    workers: int = 1,
    quiet: bool = False,
    progress: Optional[bool] = None,
    summary: Optional[TransferSummary] = None,
    folder_id: Any = None,
    exclude: Union[str, Sequence[str]] = (),
    dry_run: bool = False,
    check_all: bool = False,
) -> None:
    """Upload files and directories matching a pattern.

    Each matching file becomes an item holding that file; each directory
    becomes a folder, recursively (sorted by name). With
    ``leaf_folders_as_items``, a directory without sub-directories becomes a
    single item holding all its files instead. Symbolic links inside
    directories are skipped and reported (a link the pattern itself matches is
    followed). Progress is printed as the manual's status lines. Everything is
    scanned and checked locally before the first request.

    :param file_pattern: a file, a directory or a glob pattern (a path that
        exists is taken as written, even with ``[`` ``]`` ``*`` ``?`` in it),
        or a list of them
    :param destination: a folder of your home (``Private``, ``Public``, or
        ``Private/sub``) or a server path such as ``/users/Jane_Doe/Public/data``
        or ``/communities/Brain Atlas/Public``
    :param leaf_folders_as_items: upload leaf directories as one item each
    :param reuse_existing: reuse folders and items that already exist at the
        destination: unchanged files are not sent again, a changed file becomes
        a new revision of its item
    :param workers: number of items uploaded in parallel
    :param quiet: do not print status lines (they are still logged)
    :param progress: show a progress bar (default: when standard error is a terminal)
    :param summary: a :class:`TransferSummary` to count what the upload did
    :param folder_id: the id of the folder to upload into, instead of ``destination``
    :param exclude: glob patterns of what to leave out, matched against the
        name of every file and directory and against its path relative to the
        uploaded path (``*.tmp``, ``scans/raw``), at every level, inside leaf
        directories uploaded as items too
    :param dry_run: send nothing and create nothing: print what would be
        uploaded (``Would upload ...``, ``Would skip ... (unchanged)`` with
        ``reuse_existing``) and count it in ``summary``; a folder that exists
        already is reported as it would be by the real upload
    :param check_all: with ``reuse_existing``, ask the server about every
        existing item (one ``midas.item.get`` each) instead of skipping those
        that the record of earlier runs shows unchanged on both sides; use it
        after files were deleted or renamed inside items on the server, which
        no folder listing shows (the same as ``PYDAS_NO_RECORD=1`` for one call)
    :raises NotLoggedIn: before any request, if :func:`login` was not called
    :raises LocalInputError: before any request, if the pattern matches nothing
        or something cannot be read
    :raises ValueError: for a bad ``exclude`` pattern, or both ``destination``
        and ``folder_id``
    :raises PathNotFound: if the destination does not exist
    :raises pydas.exceptions.FolderExists: if the destination holds a folder
        of a directory's name and ``reuse_existing`` is false
    :raises pydas.exceptions.InvalidPolicy: ``no write permission on ...`` when
        the destination may not be written to
    :raises TransferError: when a file could not be stored intact; the message
        says what the server holds
    """
    _start(workers)
    excludes = _transfer.Excludes(exclude)
    entries: List[Any] = []
    skipped: List[str] = []
    for pattern in _patterns(file_pattern):
        found, passed_over = _transfer.scan(pattern, excludes)
        entries.extend(found)
        skipped.extend(passed_over)
    options = _options(
        workers,
        quiet,
        progress,
        reuse_existing=reuse_existing,
        leaf_folders_as_items=leaf_folders_as_items,
        dry_run=dry_run,
        check_all=check_all,
    )
    reporter = _transfer.Reporter(quiet=quiet, bar=options.bar)
    try:
        for line in skipped:
            reporter.warn(line)
        remote = _remote()
        target, where = _upload_folder(remote, destination, folder_id)
        try:
            _transfer.upload_entries(remote, entries, target, options, reporter, _summary(summary))
        except exceptions.InvalidPolicy as error:
            if error.method not in _WRITING_METHODS:
                raise
            raise exceptions.with_context(
                error, str(error), message=f"no write permission on {where}"
            ) from error
    finally:
        reporter.close()


def download(
    server_path: str,
    local_path: str = ".",
    *,
    workers: int = 1,
    quiet: bool = False,
    progress: Optional[bool] = None,
    summary: Optional[TransferSummary] = None,
    exclude: Union[str, Sequence[str]] = (),
    dry_run: bool = False,
    check_all: bool = False,
) -> str:
    """Download a server folder (recursively) or item into a local directory.

    A folder arrives as ``local_path/<folder name>``. An item whose head
    revision holds one file arrives as that file (under the file's name);
    other items arrive as a directory named after the item holding its files. Each
    file is written to a temporary file beside its target, checked against
    the server's size and MD5, and only then renamed; a file that already
    matches is not downloaded again. Server names that could escape
    ``local_path`` are renamed and reported.

    :param server_path: ``/users/<first>_<last>/...``, ``/communities/<name>/...``
        or a path in your home (``Private/myfiles``)
    :param local_path: the local directory to download into (created if missing)
    :param workers: number of items downloaded in parallel
    :param quiet: do not print status lines (they are still logged)
    :param progress: show a progress bar (default: when standard error is a terminal)
    :param summary: a :class:`TransferSummary` to count what the download did
    :param exclude: glob patterns of what to leave out, matched against the
        server name of every folder, item and file inside ``server_path`` and
        against its path relative to ``local_path`` (``*.tmp``, ``scans/raw``)
    :param dry_run: write nothing: print which files would be downloaded
        (``Would download ...``) and which are in place already (``Would skip
        ... (unchanged)``, compared by size and MD5), and count them in ``summary``
    :param check_all: read every item from the server (one ``midas.item.get``
        each) instead of skipping those that the record of earlier runs shows
        unchanged on both sides; use it after files were deleted or renamed
        inside items on the server, which no folder listing shows (the same as
        ``PYDAS_NO_RECORD=1`` for one call)
    :returns: the local path of the downloaded folder, file or item directory
        (with ``dry_run``: the path it would have)
    :raises NotLoggedIn: if :func:`login` was not called
    :raises PathNotFound: if ``server_path`` does not resolve
    :raises FileExistsError: if the target directory exists and
        :func:`allow_existing_download_paths` was not called (unless it is
        the directory of an interrupted run of the same download)
    :raises TransferError: when a file could not be received intact
    """
    _start(workers)
    excludes = _transfer.Excludes(exclude)
    remote = _remote()
    kind, resource = _transfer.resolve(remote, server_path)
    options = _options(workers, quiet, progress, excludes=excludes, dry_run=dry_run,
                       check_all=check_all)
    return _download(remote, kind, resource, local_path, options, _summary(summary))


def _download(
    remote: _transfer.Remote,
    kind: str,
    resource: Dict[str, Any],
    local_path: str,
    options: _transfer.TransferOptions,
    summary: TransferSummary,
) -> str:
    """Download a resolved folder or item into ``local_path`` (created if missing)."""
    if not options.dry_run:
        os.makedirs(local_path, exist_ok=True)
    reporter = _transfer.Reporter(quiet=options.quiet, bar=options.bar)
    transfer = _transfer.download_item if kind == "item" else _transfer.download_folder
    try:
        return transfer(remote, resource, local_path, options, reporter, summary)
    finally:
        reporter.close()


def download_folder_recursive(
    folder_id: Any,
    path: str = ".",
    *,
    workers: int = 1,
    quiet: bool = False,
    progress: Optional[bool] = None,
    summary: Optional[TransferSummary] = None,
    exclude: Union[str, Sequence[str]] = (),
    dry_run: bool = False,
    check_all: bool = False,
) -> str:
    """Download a folder given by id, recursively, into ``path/<folder name>``.

    Works like :func:`download` for a folder.

    :param folder_id: the id of the server folder
    :param path: the local directory to download into (created if missing)
    :param workers: number of items downloaded in parallel
    :param quiet: do not print status lines (they are still logged)
    :param progress: show a progress bar (default: when standard error is a terminal)
    :param summary: a :class:`TransferSummary` to count what the download did
    :param exclude: what to leave out, as for :func:`download`
    :param dry_run: write nothing, as for :func:`download`
    :param check_all: read every item from the server, as for :func:`download`
    :returns: the local path of the downloaded folder
    :raises NotLoggedIn: if :func:`login` was not called
    """
    _start(workers)
    excludes = _transfer.Excludes(exclude)
    remote = _remote()
    folder = _transfer.folder_by_id(remote, folder_id)
    options = _options(workers, quiet, progress, excludes=excludes, dry_run=dry_run,
                       check_all=check_all)
    return _download(remote, "folder", folder, path, options, _summary(summary))


# ---------------------------------------------------------------------------
# Looking around


def _named(resource: Dict[str, Any]) -> Dict[str, Any]:
    """A copy of a server object with its name repaired from the double encoding."""
    copy = dict(resource)
    if "name" in copy:
        copy["name"] = _transfer.repair_text(copy["name"])
    return copy


def resolve_path(server_path: str) -> Tuple[str, Dict[str, Any]]:
    """Find the folder or item a server path names.

    :param server_path: ``/users/<first>_<last>/...``, ``/communities/<name>/...``
        or a path in your home (``Private/myfiles``), as for :func:`download`
    :returns: ``("folder", folder)`` or ``("item", item)``: the server's
        object (with ``folder_id`` or ``item_id``, ``name``, ...), its name
        repaired from the server's double encoding of non-ASCII text
    :raises NotLoggedIn: if :func:`login` was not called
    :raises PathNotFound: if the path does not name a folder or item you may read
    """
    kind, resource = _transfer.resolve(_remote(), server_path)
    return kind, _named(resource)


def list_folder(folder_id: Any = None) -> Dict[str, List[Dict[str, Any]]]:
    """The folders and items directly inside a folder.

    :param folder_id: the id of the folder (``resolve_path(path)[1]["folder_id"]``);
        ``None`` for the folders at the top of your home (``Private``, ``Public``)
    :returns: ``{"folders": [...], "items": [...]}`` in the server's (name)
        order, the names repaired as by :func:`resolve_path`
    :raises NotLoggedIn: if :func:`login` was not called
    :raises pydas.exceptions.InvalidPolicy: if the folder does not exist or
        you may not read it
    """
    remote = _remote()
    if folder_id is None:
        return {"folders": [_named(folder) for folder in remote.home()], "items": []}
    children = remote.children(folder_id)
    return {
        "folders": [_named(folder) for folder in children.folders],
        "items": [_named(item) for item in children.items],
    }


def list_item(item_id: Any) -> List[Dict[str, Any]]:
    """The files (bitstreams) of the head revision of an item.

    :param item_id: the id of the item
    :returns: the server's bitstream objects (``bitstream_id``, ``name``,
        ``sizebytes``, ``checksum``, ...), names repaired as by
        :func:`resolve_path`; empty for an item without a revision
    :raises NotLoggedIn: if :func:`login` was not called
    :raises pydas.exceptions.InvalidPolicy: if the item does not exist or
        you may not read it
    """
    remote = _remote()
    revision = _transfer.head_revision(remote.call(remote.communicator.item_get, item_id=item_id))
    return [_named(bitstream) for bitstream in (revision or {}).get("bitstreams") or []]
