"""The transfer engine behind :func:`pydas.upload` and :func:`pydas.download`.

Everything that touches local files or moves file bytes lives here: scanning
and validating the local input, hashing, streamed uploads that resume from
``midas.upload.getoffset``, verified atomic downloads, local path safety,
parallel workers, status lines and the progress bar. :mod:`pydas.api` only
resolves server paths, keeps the login and calls into this module.

The engine talks to the server through a :class:`Remote`, which hands the
current API token to each call and renews it once when the server reports it
expired.
"""

from __future__ import annotations

import concurrent.futures
import errno
import glob
import hashlib
import logging
import os
import re
import secrets
import stat
import sys
import threading
import unicodedata
from typing import Any, Callable, Dict, Iterable, List, Optional, Sequence, Tuple, TypeVar

from pydas import exceptions

__all__ = [
    "CHUNK_SIZE",
    "MAX_ATTEMPTS",
    "LocalDirectory",
    "LocalFile",
    "LocalInputError",
    "Remote",
    "Reporter",
    "Runner",
    "TransferError",
    "UnsafePathError",
    "check_workers",
    "download_folder",
    "download_item",
    "file_md5",
    "head_revision",
    "name_key",
    "repair_text",
    "safe_name",
    "scan",
    "upload_entries",
]

logger = logging.getLogger("pydas")

#: Bytes read from disk (and hashed) at a time.
CHUNK_SIZE = 1024 * 1024
#: How many times one file transfer is attempted before giving up.
MAX_ATTEMPTS = 5

_DRIVE = re.compile(r"^([A-Za-z]):")
_WINDOWS_FORBIDDEN = re.compile(r'[<>:"|?*\x01-\x1f]')
_WINDOWS_DEVICE = re.compile(r"^(CON|PRN|AUX|NUL|COM[0-9]|LPT[0-9])(\..*)?$", re.IGNORECASE)
_MD5_HEX = re.compile(r"^[0-9a-f]{32}$")

T = TypeVar("T")


LocalInputError = exceptions.LocalInputError
UnsafePathError = exceptions.UnsafePathError
TransferError = exceptions.TransferError


# ---------------------------------------------------------------------------
# Names


def repair_text(value: Any) -> Any:
    """Undo the server's double encoding of non-ASCII text (midas-web-api.md §1.5).

    :param value: a value from a server answer; non-strings are returned as they are
    :returns: the original text when ``value`` decodes as double-encoded UTF-8,
        otherwise ``value`` unchanged
    """
    if not isinstance(value, str):
        return value
    try:
        return value.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return value


def safe_name(name: str, windows: bool = os.name == "nt") -> str:
    """Turn a name that came from the server into one harmless path component.

    The rules are fixed so that the result is predictable: ``/``, ``\\`` and
    NUL become ``_``; a leading drive (``C:``) becomes ``C_``; a name that is
    empty or made only of dots (``.``, ``..``) has every character replaced by
    ``_`` (an empty name becomes ``_``). On Windows, the characters it forbids
    in names (``<>:"|?*`` and control characters) become ``_`` as well (a
    ``:`` would write to a hidden stream of another file), trailing dots and
    spaces become ``_``, and a device name (``CON``, ``NUL.txt``, ``COM1``...)
    gets a leading ``_``. Anything else is kept, including non-ASCII
    characters and spaces.

    :param name: a folder, item or bitstream name
    :param windows: apply the Windows rules too (default: on Windows)
    :returns: a name that cannot leave the directory it is joined to
    """
    cleaned = name.replace("\x00", "_").replace("/", "_").replace("\\", "_")
    cleaned = _DRIVE.sub(r"\1_", cleaned)
    if windows:
        cleaned = _WINDOWS_FORBIDDEN.sub("_", cleaned)
        stripped = cleaned.rstrip(". ")
        cleaned = stripped + "_" * (len(cleaned) - len(stripped))
        if _WINDOWS_DEVICE.match(cleaned):
            cleaned = "_" + cleaned
    if cleaned.strip(".") == "":
        cleaned = "_" * max(len(cleaned), 1)
    return cleaned


class _NameBook:
    """Hands out distinct safe names inside one local directory.

    Two server names can map to the same local name (``a/b`` and ``a_b``, or
    names differing only in case on a case-insensitive file system). The
    second one gets `` (1)``, `` (2)``, ... before its extension.
    """

    def __init__(self) -> None:
        self._used: Dict[str, str] = {}
        self._lock = threading.Lock()

    def claim(self, name: str) -> str:
        candidate = safe_name(name)
        stem, extension = os.path.splitext(candidate)
        number = 0
        with self._lock:
            while candidate.casefold() in self._used:
                number += 1
                candidate = f"{stem} ({number}){extension}"
            self._used[candidate.casefold()] = name
        return candidate


def _inside(root: str, name: str) -> str:
    """Join a safe name to ``root`` and make sure the result really is inside it.

    :raises UnsafePathError: when an existing symbolic link would lead elsewhere
    """
    path = name if root == os.curdir else os.path.join(root, name)
    real_root = os.path.realpath(root)
    real_path = os.path.realpath(path)
    if os.path.commonpath([real_root, real_path]) != real_root or real_root == real_path:
        raise UnsafePathError(f"refusing to write {path!r}: it resolves outside {root!r}")
    return path


# ---------------------------------------------------------------------------
# Hashing


def file_md5(path: str) -> str:
    """Return the MD5 hex digest of a file, read in chunks of :data:`CHUNK_SIZE`.

    :param path: the file to hash
    :returns: 32 lower-case hexadecimal characters
    """
    digest = hashlib.md5()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(CHUNK_SIZE), b""):
            digest.update(chunk)
    return digest.hexdigest()


# ---------------------------------------------------------------------------
# Output


def _stderr_is_terminal() -> bool:
    stream = sys.stderr
    try:
        return bool(stream is not None and stream.isatty())
    except (AttributeError, ValueError):
        return False


def _printable(line: str, stream: Any) -> str:
    """Escape what ``stream`` cannot encode (a non-UTF-8 console or redirected output)."""
    encoding = getattr(stream, "encoding", None) or "utf-8"
    errors = getattr(stream, "errors", None) or "strict"
    try:
        line.encode(encoding, errors)
    except UnicodeEncodeError:
        return line.encode(encoding, "backslashreplace").decode(encoding)
    except LookupError:
        pass
    return line


class Reporter:
    """Status lines, warnings and the progress bar of one transfer.

    Status lines go to standard output as whole lines (a lock keeps lines of
    parallel workers apart) unless ``quiet`` is set, and always to the
    ``pydas`` logger at INFO. Warnings (renamed names, skipped links) are
    status lines too, logged at WARNING.

    :param quiet: do not print status lines
    :param progress: ``True`` shows a progress bar on standard error, ``False``
        never does, ``None`` shows one when standard error is a terminal
    """

    def __init__(self, quiet: bool = False, progress: Optional[bool] = None) -> None:
        self.quiet = quiet
        self._lock = threading.Lock()
        self._bar: Any = None
        self._files_total = 0
        self._files_done = 0
        if progress is None:
            progress = _stderr_is_terminal()
        if progress:
            from tqdm import tqdm  # type: ignore[import-untyped,unused-ignore]

            self._bar = tqdm(
                total=0,
                unit="B",
                unit_scale=True,
                unit_divisor=1024,
                file=sys.stderr,
                dynamic_ncols=True,
            )

    def status(self, line: str) -> None:
        """Print and log one status line."""
        logger.info(line)
        self._print(line)

    def warn(self, line: str) -> None:
        """Print one status line and log it as a warning."""
        logger.warning(line)
        self._print(line)

    def _print(self, line: str) -> None:
        if self.quiet:
            return
        line = _printable(line, sys.stdout)
        with self._lock:
            if self._bar is not None:
                self._bar.write(line, file=sys.stdout)
            else:
                print(line, flush=True)

    def expect(self, nbytes: int, nfiles: int = 1) -> None:
        """Add work to the totals of the progress bar."""
        if self._bar is None:
            return
        with self._lock:
            self._files_total += nfiles
            self._bar.total += nbytes
            self._bar.set_postfix_str(f"{self._files_done}/{self._files_total} files")

    def advance(self, nbytes: int) -> None:
        """Count bytes moved (negative to take back bytes that are sent again)."""
        if self._bar is None or not nbytes:
            return
        with self._lock:
            self._bar.update(nbytes)

    def file_done(self) -> None:
        """Count one file as finished (transferred or found unchanged)."""
        if self._bar is None:
            return
        with self._lock:
            self._files_done += 1
            self._bar.set_postfix_str(f"{self._files_done}/{self._files_total} files")

    def close(self) -> None:
        """Remove the progress bar."""
        if self._bar is not None:
            self._bar.close()
            self._bar = None


# ---------------------------------------------------------------------------
# Workers


def check_workers(workers: int) -> None:
    """Make sure a worker count is a positive integer.

    :raises ValueError: if it is not
    """
    if not isinstance(workers, int) or isinstance(workers, bool) or workers < 1:
        raise ValueError(f"workers must be a positive integer, not {workers!r}")


class _Stopped(Exception):
    """A job gave up because another one failed or the transfer was interrupted."""


class Runner:
    """Runs item jobs inline (one worker) or on a thread pool (several).

    With one worker a job runs at once, in the caller's thread, so status
    lines come out in exactly the order of the sequential algorithm. With
    several, jobs run concurrently; the first failure stops new jobs from
    being started, makes running jobs give up at their next :meth:`check`,
    and is raised by :meth:`wait`. :meth:`close` (after an interruption, say)
    stops running jobs the same way.

    :param workers: number of parallel transfers, at least 1
    :raises ValueError: if ``workers`` is smaller than 1
    """

    def __init__(self, workers: int = 1) -> None:
        check_workers(workers)
        self._pool: Optional[concurrent.futures.ThreadPoolExecutor] = None
        if workers > 1:
            self._pool = concurrent.futures.ThreadPoolExecutor(
                max_workers=workers, thread_name_prefix="pydas-transfer"
            )
        self._futures: List[concurrent.futures.Future] = []
        self._stop = threading.Event()
        self._error: Optional[BaseException] = None
        self._error_lock = threading.Lock()

    @property
    def parallel(self) -> bool:
        """Whether jobs run on worker threads (rather than at once, in the caller's)."""
        return self._pool is not None

    def submit(self, job: Callable[..., Any], *args: Any) -> concurrent.futures.Future:
        """Run ``job(*args)`` now or on a worker; returns its future."""
        if self._stop.is_set():
            self.wait()
        if self._pool is None:
            future: concurrent.futures.Future = concurrent.futures.Future()
            future.set_result(job(*args))
        else:
            future = self._pool.submit(job, *args)
            future.add_done_callback(self._note)
        self._futures.append(future)
        return future

    def _note(self, future: concurrent.futures.Future) -> None:
        error = None if future.cancelled() else future.exception()
        if error is None:
            return
        with self._error_lock:
            if self._error is None and not isinstance(error, _Stopped):
                self._error = error
        self._stop.set()

    def check(self) -> None:
        """Called by running jobs between pieces of work.

        :raises _Stopped: when the job should give up
        """
        if self._stop.is_set():
            raise _Stopped("the transfer is stopping")

    def wait(self, futures: Optional[Iterable[concurrent.futures.Future]] = None) -> None:
        """Wait for ``futures`` (default: every job); raise the first failure."""
        pending = list(self._futures if futures is None else futures)
        for future in pending:
            if self._stop.is_set() and not future.done():
                future.cancel()
        for future in pending:
            if future.cancelled():
                continue
            error = future.exception()
            if error is not None:
                self._cancel_all()
                raise self._error or error

    def result(self, future: concurrent.futures.Future) -> Any:
        """Wait for one job and return its result.

        :raises: the job's failure, or the first failure of any job if that
            one cancelled this job before it started
        """
        self.wait([future])
        if future.cancelled():
            self.wait()
        return future.result()

    def _cancel_all(self) -> None:
        for future in self._futures:
            future.cancel()

    def close(self) -> None:
        """Stop the workers, cancelling jobs that have not started."""
        if self._pool is not None:
            self._stop.set()
            self._cancel_all()
            self._pool.shutdown(wait=True)
            self._pool = None


# ---------------------------------------------------------------------------
# Talking to the server


class Remote:
    """The communicator plus the token handling of the high-level API.

    :param communicator: a :class:`pydas.core.Communicator`
    :param get_token: returns the current API token
    :param renew: called with the token that was refused; returns a fresh one
    """

    def __init__(
        self,
        communicator: Any,
        get_token: Callable[[], str],
        renew: Callable[[str], str],
    ) -> None:
        self.communicator = communicator
        self._get_token = get_token
        self._renew = renew

    @property
    def token(self) -> str:
        """The current API token."""
        return self._get_token()

    def call(self, function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Call ``function(token, *args, **kwargs)``, renewing an expired token once.

        :param function: a communicator method whose first argument is the token
        :returns: what ``function`` returns
        """
        token = self._get_token()
        try:
            return function(token, *args, **kwargs)
        except exceptions.InvalidToken:
            return function(self._renew(token), *args, **kwargs)


def head_revision(item: Dict[str, Any]) -> Optional[Dict[str, Any]]:
    """Return the revision with the largest number from an ``item_get`` answer.

    The server lists revisions in database order, so the last one is not
    necessarily the head (midas-web-api.md §3.2).

    :param item: the answer of ``midas.item.get``
    :returns: the head revision, or ``None`` if the item has none
    """
    revisions = item.get("revisions") or []
    if not revisions:
        return None
    return max(revisions, key=lambda revision: int(revision["revision"]))


def name_key(server_name: str) -> str:
    """The form in which a server name is compared with a local one.

    Repaired from the double encoding, and in Unicode normal form C (macOS
    file systems hand out decomposed names).
    """
    return unicodedata.normalize("NFC", repair_text(server_name))


def _bitstreams_by_name(item: Dict[str, Any]) -> Dict[str, Dict[str, Any]]:
    revision = head_revision(item)
    if revision is None:
        return {}
    return {name_key(b["name"]): b for b in revision.get("bitstreams") or []}


def _is_link(bitstream: Dict[str, Any]) -> bool:
    return bitstream.get("mimetype") == "url" or str(bitstream.get("path", "")).startswith(
        ("http://", "https://")
    )


# ---------------------------------------------------------------------------
# Local input


def _upload_name(path: str) -> str:
    """The name a local path gets on the server: its last component.

    :raises LocalInputError: if the name is not text the server can store
        (bytes that are not UTF-8, which Python hands out as surrogates)
    """
    name = os.path.basename(os.path.abspath(path))
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        raise LocalInputError(
            f"cannot upload {path!r}: its name is not valid UTF-8; rename it"
        ) from None
    return name


class LocalFile:
    """A regular file to upload.

    :param path: the path as it will be printed (built from the user's pattern)
    :param size: size in bytes at scan time
    """

    def __init__(self, path: str, size: int) -> None:
        self.path = path
        self.name = _upload_name(path)
        self.key = unicodedata.normalize("NFC", self.name)
        self.size = size


class LocalDirectory:
    """A directory to upload, with its entries sorted by name.

    :param path: the path as it will be printed
    :param entries: files and sub-directories, in upload order
    """

    def __init__(self, path: str, entries: List[Any]) -> None:
        self.path = path
        self.name = _upload_name(path)
        self.key = unicodedata.normalize("NFC", self.name)
        self.entries = entries

    @property
    def files(self) -> List[LocalFile]:
        """The regular files directly inside."""
        return [entry for entry in self.entries if isinstance(entry, LocalFile)]

    @property
    def is_leaf(self) -> bool:
        """Whether the directory holds no sub-directory (it may be empty)."""
        return all(isinstance(entry, LocalFile) for entry in self.entries)


def _link_problem(path: str) -> Optional[str]:
    """Describe why a symbolic link cannot be resolved, or ``None`` if it can."""
    try:
        os.stat(path)
    except OSError as error:
        if error.errno == errno.ELOOP:
            return "symbolic link loop"
        return "broken symbolic link"
    return None


def _check_readable(path: str) -> None:
    try:
        with open(path, "rb"):
            pass
    except OSError as error:
        raise LocalInputError(f"cannot read {path!r}: {error.strerror or error}") from None


def _scan_path(path: str, skipped: List[str], named: bool = False) -> Any:
    """Scan one path; ``named`` when the user's pattern named it (links are then followed)."""
    if os.path.islink(path):
        problem = _link_problem(path)
        if problem == "symbolic link loop" or (problem and named):
            raise LocalInputError(f"{path!r} is a {problem}")
        if not named:
            skipped.append(f"Skipping {problem or 'symbolic link'} {path}")
            return None
    try:
        info = os.stat(path)
    except OSError as error:
        raise LocalInputError(f"cannot read {path!r}: {error.strerror or error}") from None
    if stat.S_ISDIR(info.st_mode):
        try:
            names = sorted(os.listdir(path))
        except OSError as error:
            raise LocalInputError(
                f"cannot list directory {path!r}: {error.strerror or error}"
            ) from None
        entries = []
        for name in names:
            entry = _scan_path(os.path.join(path, name), skipped)
            if entry is not None:
                entries.append(entry)
        return LocalDirectory(path, entries)
    if stat.S_ISREG(info.st_mode):
        _check_readable(path)
        return LocalFile(path, info.st_size)
    skipped.append(f"Skipping special file {path}")
    return None


def scan(file_pattern: str) -> Tuple[List[Any], List[str]]:
    """Expand a glob pattern into the files and directories to upload.

    Directories are walked sorted by name. Symbolic links inside them are not
    followed: they are skipped and listed in the second element of the result,
    except that a link loop is an error. A link that the pattern itself
    matches is followed (it was asked for by name). Nothing is sent to the
    server here.

    :param file_pattern: a path or glob pattern (``~`` is expanded); a path
        that exists is used as it is, even if it contains glob characters
    :returns: ``(entries, skipped)``: :class:`LocalFile` / :class:`LocalDirectory`
        objects in order, and one message per skipped path
    :raises LocalInputError: when nothing matches, or something cannot be read
    """
    pattern = os.path.expanduser(file_pattern)
    # a path that exists as written is taken as it is, even with [ ] * ? in its name
    matches = [pattern] if os.path.lexists(pattern) else sorted(glob.glob(pattern))
    if not matches:
        raise LocalInputError(f"no file or directory matches {file_pattern!r}")
    skipped: List[str] = []
    entries = []
    for match in matches:
        entry = _scan_path(os.path.normpath(match), skipped, named=True)
        if entry is not None:
            entries.append(entry)
    return entries, skipped


# ---------------------------------------------------------------------------
# Uploads


def _totals(entries: Sequence[Any]) -> Tuple[int, int]:
    """Return the number of bytes and of files in scanned entries."""
    nbytes = nfiles = 0
    for entry in entries:
        if isinstance(entry, LocalFile):
            nbytes += entry.size
            nfiles += 1
        else:
            sub_bytes, sub_files = _totals(entry.entries)
            nbytes += sub_bytes
            nfiles += sub_files
    return nbytes, nfiles


class _Listing:
    """The children of one server folder, by (repaired) name."""

    def __init__(self, children: Optional[Dict[str, Any]] = None) -> None:
        children = children or {}
        self.folders = {name_key(f["name"]): f for f in children.get("folders") or []}
        self.items = {name_key(i["name"]): i for i in children.get("items") or []}


def _resumable(error: Exception) -> bool:
    """Whether an upload that failed this way may hold a usable prefix on the server.

    A lost connection, a short body (-105) and an HTTP 5xx status from a proxy
    qualify; an answer of the Midas API itself (permissions, bad token) does not.
    """
    if isinstance(error, (exceptions.RequestError, exceptions.UploadFailed)):
        return True
    return isinstance(error, exceptions.InternalError) and (error.code or 0) >= 500


class _Uploader:
    def __init__(
        self,
        remote: Remote,
        reporter: Reporter,
        runner: Runner,
        reuse_existing: bool,
        leaf_folders_as_items: bool,
        callbacks: Sequence[Callable[..., Any]],
    ) -> None:
        self.remote = remote
        self.communicator = remote.communicator
        self.reporter = reporter
        self.runner = runner
        self.reuse_existing = reuse_existing
        self.leaf_folders_as_items = leaf_folders_as_items
        self.callbacks = list(callbacks)
        self._callback_lock = threading.Lock()

    # -- tree --------------------------------------------------------------

    def listing(self, folder_id: Any) -> _Listing:
        if not self.reuse_existing:
            return _Listing()
        return _Listing(self.remote.call(self.communicator.folder_children, folder_id))

    def entries(self, entries: Sequence[Any], folder_id: Any, listing: _Listing) -> None:
        for entry in entries:
            if isinstance(entry, LocalFile):
                self.reporter.status(f"Uploading Item from {entry.path}")
                self.runner.submit(self.file_item, entry, folder_id, listing.items.get(entry.key))
            elif self.leaf_folders_as_items and entry.is_leaf:
                self.runner.submit(
                    self.directory_item, entry, folder_id, listing.items.get(entry.key)
                )
            else:
                self.reporter.status(f"Creating Folder from {entry.path}")
                existing = listing.folders.get(entry.key)
                if existing is not None:
                    child_id = existing["folder_id"]
                    child_listing = self.listing(child_id)
                else:
                    child_id = self.create_folder(entry, folder_id)
                    child_listing = _Listing()
                self.entries(entry.entries, child_id, child_listing)

    def create_folder(self, local: LocalDirectory, parent_id: Any) -> Any:
        try:
            folder = self.remote.call(
                self.communicator.create_folder,
                local.name,
                parent_id,
                reuse_existing=self.reuse_existing,
            )
        except exceptions.InvalidParameter as error:
            if "already exists" not in str(error):
                raise
            raise type(error)(
                f"the destination already holds a folder named {local.name!r}; "
                "pass reuse_existing=True to upload into it",
                method=error.method,
                code=error.code,
                response=error.response,
            ) from None
        return folder["folder_id"]

    # -- items -------------------------------------------------------------

    def create_item(self, name: str, folder_id: Any) -> Any:
        item = self.remote.call(self.communicator.create_item, name, folder_id)
        return item["item_id"]

    def existing_bitstreams(self, item_id: Any) -> Dict[str, Dict[str, Any]]:
        return _bitstreams_by_name(self.remote.call(self.communicator.item_get, item_id))

    def item_done(self, item_id: Any) -> None:
        if not self.callbacks:
            return
        with self._callback_lock:
            for callback in self.callbacks:
                callback(self.communicator, self.remote.token, item_id)

    def file_item(self, local: LocalFile, folder_id: Any, existing: Optional[Dict]) -> None:
        if existing is None:
            item_id = self.create_item(local.name, folder_id)
            self.add_file(item_id, local, file_md5(local.path))
        else:
            item_id = existing["item_id"]
            self.update_files(item_id, [local])
        self.item_done(item_id)

    def directory_item(
        self, local: LocalDirectory, folder_id: Any, existing: Optional[Dict]
    ) -> None:
        self.reporter.status(f"Creating Item from {local.path}.")
        files = local.files
        if existing is None:
            item_id = self.create_item(local.name, folder_id)
            for index, entry in enumerate(files, 1):
                self.reporter.status(
                    f"Uploading Bitstream from {entry.path} ({index} of {len(files)})"
                )
                self.add_file(item_id, entry, file_md5(entry.path))
        else:
            item_id = existing["item_id"]
            self.update_files(item_id, files, numbered=True)
        self.item_done(item_id)

    def update_files(self, item_id: Any, files: List[LocalFile], numbered: bool = False) -> None:
        """Bring the head revision of an existing item up to date with ``files``.

        Unchanged files send nothing. If any file changed, a new revision is
        made: the first changed file starts it, every other file is added to
        it (unchanged ones by checksum, so without their bytes).
        """
        on_server = self.existing_bitstreams(item_id)
        digests = [file_md5(entry.path) for entry in files]
        changed = [
            index
            for index, entry in enumerate(files)
            if entry.key in on_server
            and (
                on_server[entry.key].get("checksum") != digests[index]
                or int(on_server[entry.key].get("sizebytes") or 0) != entry.size
            )
        ]
        if not changed:
            for index, entry in enumerate(files):
                self.bitstream_line(entry, index, len(files), numbered)
                if entry.key in on_server:
                    self.reporter.advance(entry.size)
                    self.reporter.file_done()
                else:
                    self.add_file(item_id, entry, digests[index])
            return
        first = changed[0]
        order = [first] + [index for index in range(len(files)) if index != first]
        for index in order:
            entry = files[index]
            self.bitstream_line(entry, index, len(files), numbered)
            if index == first:
                self.new_revision(item_id, entry)
            else:
                self.add_file(item_id, entry, digests[index])

    def bitstream_line(self, entry: LocalFile, index: int, count: int, numbered: bool) -> None:
        if numbered:
            self.reporter.status(f"Uploading Bitstream from {entry.path} ({index + 1} of {count})")

    def new_revision(self, item_id: Any, local: LocalFile) -> None:
        upload_token = self.remote.call(
            self.communicator.generate_upload_token, item_id, local.name
        )
        self.send(upload_token, local, create_additional_revision=True)

    def add_file(self, item_id: Any, local: LocalFile, checksum: str) -> None:
        upload_token = self.remote.call(
            self.communicator.generate_upload_token, item_id, local.name, checksum
        )
        if upload_token == "":
            # the server already holds this content and has added the bitstream
            self.reporter.advance(local.size)
            self.reporter.file_done()
            return
        self.send(upload_token, local)

    def send(
        self, upload_token: str, local: LocalFile, create_additional_revision: bool = False
    ) -> None:
        """Stream one file, resuming from the server's offset after a failure."""
        counted = 0

        def progress(nbytes: int) -> None:
            nonlocal counted
            counted += nbytes
            self.reporter.advance(nbytes)
            self.runner.check()

        held = 0  # bytes the server holds, as last reported
        for attempt in range(1, MAX_ATTEMPTS + 1):
            try:
                if attempt > 1:
                    offset = self.communicator.get_upload_offset(upload_token)
                    if offset is None:
                        # the token was consumed: the server finished the file
                        # although its answer was lost
                        break
                    held = offset
                    if held > local.size:
                        raise TransferError(
                            f"upload of {local.path!r} failed: the server holds {held} bytes "
                            f"of a file of {local.size}"
                        )
                    logger.info(
                        "Resuming upload of %s at byte %d of %d", local.path, held, local.size
                    )
                    self.reporter.advance(held - counted)
                    counted = held
                self.communicator.perform_upload(
                    upload_token,
                    local.name,
                    filepath=local.path,
                    offset=held,
                    progress=progress,
                    create_additional_revision=create_additional_revision,
                )
                break
            except exceptions.PydasException as error:
                if not _resumable(error):
                    raise
                if attempt == MAX_ATTEMPTS:
                    hint = ""
                    if local.size == 1 and held == 0:
                        hint = (
                            " (a Midas server stops reading an upload body that is the "
                            "single character '0', so such a file cannot be uploaded)"
                        )
                    raise TransferError(
                        f"upload of {local.path!r} failed after {attempt} attempts "
                        f"({held} of {local.size} bytes on the server): {error}{hint}"
                    ) from error
        self.reporter.advance(local.size - counted)
        self.reporter.file_done()


def upload_entries(
    remote: Remote,
    entries: Sequence[Any],
    folder_id: Any,
    *,
    reuse_existing: bool = False,
    leaf_folders_as_items: bool = False,
    callbacks: Sequence[Callable[..., Any]] = (),
    reporter: Reporter,
    workers: int = 1,
) -> None:
    """Upload scanned local entries into a server folder.

    Folders are created in order by the calling thread; each item (a file, or
    a leaf directory with ``leaf_folders_as_items``) is one job, run on a
    worker when ``workers > 1``. With ``reuse_existing`` each server folder is
    listed once and existing folders and items are reused: unchanged files
    send nothing, changed files become a new revision.

    :param remote: the connection and token
    :param entries: the result of :func:`scan`
    :param folder_id: the server folder receiving the entries
    :param reuse_existing: reuse folders and items that already exist
    :param leaf_folders_as_items: upload directories without sub-directories as one item
    :param callbacks: called as ``cb(communicator, token, item_id)`` after each item
    :param reporter: where status lines and progress go
    :param workers: number of items transferred in parallel
    """
    nbytes, nfiles = _totals(entries)
    reporter.expect(nbytes, nfiles)
    runner = Runner(workers)
    uploader = _Uploader(remote, reporter, runner, reuse_existing, leaf_folders_as_items, callbacks)
    try:
        uploader.entries(entries, folder_id, uploader.listing(folder_id))
        runner.wait()
    finally:
        runner.close()


# ---------------------------------------------------------------------------
# Downloads


class _Downloader:
    def __init__(
        self,
        remote: Remote,
        reporter: Reporter,
        runner: Runner,
        allow_existing: bool,
        item_callbacks: Sequence[Callable[..., Any]],
        folder_callbacks: Sequence[Callable[..., Any]],
    ) -> None:
        self.remote = remote
        self.communicator = remote.communicator
        self.reporter = reporter
        self.runner = runner
        self.allow_existing = allow_existing
        self.item_callbacks = list(item_callbacks)
        self.folder_callbacks = list(folder_callbacks)
        self._callback_lock = threading.Lock()

    def make_directory(self, path: str) -> None:
        if os.path.isdir(path) and not os.path.islink(path):
            if not self.allow_existing:
                raise FileExistsError(
                    errno.EEXIST,
                    "download target already exists "
                    "(call pydas.allow_existing_download_paths() to write into it)",
                    path,
                )
            return
        os.mkdir(path)

    def folder(self, folder: Dict[str, Any], path: str) -> List[Any]:
        """Download a folder to ``path`` (already placed); returns the futures of its items."""
        self.reporter.status(f"Creating Folder at {path}")
        self.make_directory(path)
        folder_id = folder["folder_id"]
        children = self.remote.call(self.communicator.folder_children, folder_id)
        book = _NameBook()
        # every local name is chosen here, in the server's order, so that the
        # result never depends on which worker finishes first
        placed = [
            (child, self.place(path, repair_text(child["name"]), book))
            for child in children.get("folders") or []
        ]
        lookups: Iterable[concurrent.futures.Future] = (
            self.runner.submit(self.remote.call, self.communicator.item_get, child["item_id"])
            for child in children.get("items") or []
        )
        if self.runner.parallel:
            lookups = list(lookups)  # the workers look items up ahead of the downloads
        futures = []
        for lookup in lookups:
            item = self.runner.result(lookup)
            futures.append(self.runner.submit(self.item, item, *self.plan(item, path, book)))
        for child, child_path in placed:
            futures.extend(self.folder(child, child_path))
        if self.folder_callbacks:
            self.runner.wait(futures)
            with self._callback_lock:
                for callback in self.folder_callbacks:
                    callback(self.communicator, self.remote.token, folder, path)
        return futures

    def place(self, parent: str, name: str, book: _NameBook) -> str:
        """Choose the local path of a server name inside ``parent`` (reporting renames)."""
        local = book.claim(name)
        if local != name:
            self.reporter.warn(f"Renaming unsafe or clashing server name {name!r} to {local!r}")
        return _inside(parent, local)

    def plan(
        self, item: Dict[str, Any], parent: str, book: _NameBook
    ) -> Tuple[str, Optional[List[Dict[str, Any]]]]:
        """Choose the local path of an item and the files to fetch for it.

        One file arrives as that file (named like the bitstream); several, or
        none, as a directory named after the item. Links to other web sites
        are not followed (they are reported); for an item of links only the
        files are ``None`` and its path is not claimed.

        :returns: ``(path, bitstreams)``
        """
        name = repair_text(item["name"])
        bitstreams = []
        links = 0
        for bitstream in (head_revision(item) or {}).get("bitstreams") or []:
            if _is_link(bitstream):
                links += 1
                self.reporter.warn(f"Skipping link {repair_text(bitstream['name'])} in item {name}")
            else:
                bitstreams.append(bitstream)
        if links and not bitstreams:
            return os.path.join(parent, safe_name(name)), None
        if len(bitstreams) == 1:
            return self.place(parent, repair_text(bitstreams[0]["name"]), book), bitstreams
        return self.place(parent, name, book), bitstreams

    def item(
        self, item: Dict[str, Any], path: str, bitstreams: Optional[List[Dict[str, Any]]]
    ) -> str:
        """Download an item planned by :meth:`plan` to ``path``; returns ``path``."""
        if bitstreams is None:
            # nothing stored on the server: no empty directory for it
            return path
        if len(bitstreams) == 1:
            self.bitstream(bitstreams[0], path)
        else:
            self.reporter.status(f"Creating Folder at {path}")
            self.make_directory(path)
            inner = _NameBook()
            for bitstream in bitstreams:
                self.bitstream(bitstream, self.place(path, repair_text(bitstream["name"]), inner))
        if self.item_callbacks:
            with self._callback_lock:
                for callback in self.item_callbacks:
                    callback(self.communicator, self.remote.token, item, path)
        return path

    def bitstream(self, bitstream: Dict[str, Any], target: str) -> None:
        size = int(bitstream.get("sizebytes") or 0)
        checksum = str(bitstream.get("checksum") or "").strip().lower()
        self.reporter.expect(size)
        if os.path.islink(target) or (os.path.exists(target) and not os.path.isfile(target)):
            raise UnsafePathError(f"refusing to replace {target!r}: it is not a regular file")
        if (
            os.path.isfile(target)
            and os.path.getsize(target) == size
            and (not _MD5_HEX.match(checksum) or file_md5(target) == checksum)
        ):
            self.reporter.status(f"Unchanged File at {target}")
            self.reporter.advance(size)
            self.reporter.file_done()
            return
        self.reporter.status(f"Creating File at {target}")
        _fetch_verified(
            self.remote, bitstream, size, checksum, target, self.reporter, self.runner.check
        )
        self.reporter.file_done()


def _temporary_beside(target: str) -> Tuple[int, str]:
    """Create a new hidden file next to ``target``; returns its descriptor and path.

    Unlike :func:`tempfile.mkstemp` the file is created with the ordinary
    permissions (``0o666`` less the umask), which it keeps once renamed.
    """
    directory = os.path.dirname(target)
    stem = "." + os.path.basename(target)[:40] + "."
    while True:
        path = os.path.join(directory, stem + secrets.token_hex(4) + ".pydas-part")
        try:
            flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
            return os.open(path, flags, 0o666), path
        except FileExistsError:
            continue


def _open_bitstream(token: str, communicator: Any, bitstream_id: Any, offset: int) -> Any:
    return communicator.download_bitstream(bitstream_id, token=token, offset=offset or None)


def _fetch_verified(
    remote: Remote,
    bitstream: Dict[str, Any],
    size: int,
    checksum: str,
    target: str,
    reporter: Reporter,
    check: Callable[[], None],
) -> None:
    """Download one bitstream into a temporary file beside ``target``, check it, rename it.

    A connection cut is resumed from the bytes already written (the
    ``offset`` of ``midas.bitstream.download``); if the result does not match
    the bitstream's size and MD5, the file is fetched once more from the
    start. ``target`` is only ever replaced by a complete, verified file.
    ``check`` is called after each piece received; it raises to give up.
    """
    handle, temporary = _temporary_beside(target)
    communicator = remote.communicator
    bitstream_id = bitstream["bitstream_id"]
    try:
        with os.fdopen(handle, "wb") as out:
            attempts = 0
            fetched_again = False
            while True:
                out.seek(0)
                out.truncate()
                written = 0
                digest = hashlib.md5()
                while written < size:
                    attempts += 1
                    offset = written
                    try:
                        _, chunks = remote.call(_open_bitstream, communicator, bitstream_id, offset)
                        try:
                            for chunk in chunks:
                                chunk = chunk[: size - written]
                                out.write(chunk)
                                digest.update(chunk)
                                written += len(chunk)
                                reporter.advance(len(chunk))
                                check()
                                if written >= size:
                                    break
                        finally:
                            close = getattr(chunks, "close", None)
                            if close is not None:
                                close()
                        if written < size:
                            raise exceptions.RequestError(
                                f"download ended after {written} of {size} bytes"
                            )
                    except exceptions.RequestError as error:
                        if attempts >= MAX_ATTEMPTS:
                            raise TransferError(
                                f"download to {target!r} failed after {attempts} attempts: {error}"
                            ) from error
                        logger.info("Resuming download of %s at byte %d", target, written)
                if not _MD5_HEX.match(checksum) or digest.hexdigest() == checksum:
                    break
                reporter.advance(-written)
                if fetched_again or attempts >= MAX_ATTEMPTS:
                    raise TransferError(
                        f"download to {target!r} does not match the server's checksum"
                    )
                fetched_again = True
        os.replace(temporary, target)
    except BaseException:
        if os.path.exists(temporary):
            os.remove(temporary)
        raise


def download_folder(
    remote: Remote,
    folder: Dict[str, Any],
    local_path: str,
    *,
    allow_existing: bool = False,
    item_callbacks: Sequence[Callable[..., Any]] = (),
    folder_callbacks: Sequence[Callable[..., Any]] = (),
    reporter: Reporter,
    workers: int = 1,
) -> str:
    """Download a server folder, recursively, into ``local_path/<folder name>``.

    An item whose head revision holds one file becomes that file (named like
    the bitstream); an item with several files becomes a directory named after
    the item that holds them, and an item without files an empty directory.
    Items come first, then sub-folders, each in the server's (name) order.

    :param remote: the connection and token
    :param folder: a folder object (``folder_id`` and ``name``)
    :param local_path: an existing local directory
    :param allow_existing: write into local directories that already exist
    :param item_callbacks: called as ``cb(communicator, token, item, path)`` per item
    :param folder_callbacks: called as ``cb(communicator, token, folder, path)`` per folder
    :param reporter: where status lines and progress go
    :param workers: number of items transferred in parallel
    :returns: the local path of the downloaded folder
    """
    runner = Runner(workers)
    downloader = _Downloader(
        remote, reporter, runner, allow_existing, item_callbacks, folder_callbacks
    )
    try:
        path = downloader.place(local_path, repair_text(folder["name"]), _NameBook())
        downloader.folder(folder, path)
        runner.wait()
    finally:
        runner.close()
    return path


def download_item(
    remote: Remote,
    item: Dict[str, Any],
    local_path: str,
    *,
    allow_existing: bool = False,
    item_callbacks: Sequence[Callable[..., Any]] = (),
    reporter: Reporter,
) -> str:
    """Download one item into ``local_path`` (a file, or a directory of its files).

    :param remote: the connection and token
    :param item: an item object (``item_id`` and ``name``)
    :param local_path: an existing local directory
    :param allow_existing: write into a local directory that already exists
    :param item_callbacks: called as ``cb(communicator, token, item, path)``
    :param reporter: where status lines and progress go
    :returns: the local path of the downloaded file or directory
    """
    downloader = _Downloader(remote, reporter, Runner(1), allow_existing, item_callbacks, ())
    item = remote.call(remote.communicator.item_get, item["item_id"])
    return downloader.item(item, *downloader.plan(item, local_path, _NameBook()))
