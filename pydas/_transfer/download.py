"""Downloads: server folders and items become local directories and files.

Every file is written to a temporary file beside its target, checked against
the server's size and MD5 (:mod:`pydas._transfer.verify`) and only then
renamed into place, so a target is only ever replaced by a complete,
verified file. Local names come from :mod:`pydas._transfer.names`.

A folder download keeps, per item it verified, an entry in the re-run record
(:mod:`pydas._transfer.rerun_download`): a re-run skips the
``midas.item.get`` of an item the record shows unchanged on both sides, so an
unchanged tree costs only its folder listings.
"""

from __future__ import annotations

import concurrent.futures
import errno
import json
import logging
import os
import threading
from dataclasses import dataclass
from typing import Any, Dict, Iterator, List, Optional, Tuple

from pydas import exceptions
from pydas._transfer import rerun_download
from pydas._transfer.answers import Bitstream, Item
from pydas._transfer.cache import CacheStore
from pydas._transfer.digests import MD5Cache
from pydas._transfer.exclude import join
from pydas._transfer.lookahead import Lookahead
from pydas._transfer.names import NameBook, inside, repair_text, safe_name
from pydas._transfer.options import Transfer, TransferOptions
from pydas._transfer.parts import Part, remove_stale
from pydas._transfer.progress import Reporter
from pydas._transfer.record import ItemState, LocalState, Record, Sighting
from pydas._transfer.remote import Remote, transient
from pydas._transfer.rerun_download import DownloadEntry, download_key, local_state
from pydas._transfer.runner import Runner
from pydas._transfer.sightings import Sightings
from pydas._transfer.summary import TransferSummary, size_text
from pydas._transfer.verify import local_file_matches, matches
from pydas._transport import Outcome

__all__ = ["MARKER", "download_folder", "download_item"]

#: The file that marks the directory of a download as unfinished until it completes.
MARKER = ".pydas-download"


def _read_marker(path: str) -> Optional[Dict[str, Any]]:
    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None

logger = logging.getLogger("pydas")

#: What an item was downloaded to: per bitstream, its local path and the
#: file's state after it was verified (``None, None`` when left out).
_Written = List[Tuple[Bitstream, Optional[str], Optional[LocalState]]]


@dataclass(frozen=True)
class _Listed:
    """An item of a folder listing, when the listing arrived, and what the record knows of it."""

    entry: Dict[str, Any]
    arrived: float
    key: str
    earlier: List[Sighting]
    recorded: Optional[DownloadEntry]


@dataclass(frozen=True)
class _Read:
    """An item read with ``midas.item.get`` for a listed item, and when."""

    item: Item
    listed: _Listed
    asked: float
    answered: float


class _Downloader:
    def __init__(self, transfer: Transfer, store: Optional[CacheStore] = None) -> None:
        self.transfer = transfer
        self.remote = transfer.remote
        self.communicator = transfer.communicator
        self.reporter = transfer.reporter
        self.runner = transfer.runner
        self.options = transfer.options
        self._callback_lock = threading.Lock()
        self.root: Optional[str] = None  # the directory the download makes, if any
        self.root_mark: Dict[str, Any] = {}
        self.resuming = False  # the root was left by an interrupted run of this download
        self.base = ""  # the local directory the download is made in
        self.dry_run = transfer.options.dry_run
        self.server = str(self.communicator.url)
        self.md5s = MD5Cache(store)
        self.record: Optional[Record] = None
        self.sightings: Optional[Sightings] = None
        # callbacks are handed the item a skipped item would not be read for
        if store is not None and not (self.options.item_download_callbacks
                                      or self.options.folder_download_callbacks):
            self.record = Record(store, check_all=self.options.check_all)
            self.sightings = Sightings(store)
        # with one worker, the next items are looked up while a file downloads
        self.lookahead = Lookahead()

    def mark_root(self, path: str, kind: str, identifier: Any) -> None:
        """Name the directory this download makes, and what it is a copy of."""
        self.root = path
        self.root_mark = {"format": 1, "server": self.communicator.url, "kind": kind,
                          "id": str(identifier)}

    def make_directory(self, path: str) -> None:
        """Make a directory of the download, or check that an existing one may be used.

        An existing directory is used when downloads may write into existing
        directories, or when it is the root of an interrupted run of this
        same download (its marker file says so).
        """
        marker = os.path.join(path, MARKER)
        if path == self.root and os.path.isdir(path) and _read_marker(marker) == self.root_mark:
            self.resuming = True
        if os.path.isdir(path) and not os.path.islink(path):
            if not (self.options.allow_existing or self.resuming):
                raise FileExistsError(
                    errno.EEXIST,
                    "download target already exists "
                    "(call pydas.allow_existing_download_paths() to write into it)",
                    path,
                )
        elif self.dry_run:
            if os.path.lexists(path):  # what os.mkdir would find in the way
                raise FileExistsError(errno.EEXIST, os.strerror(errno.EEXIST), path)
            return
        else:
            os.mkdir(path)
        if path == self.root and not self.dry_run:
            with open(marker, "w", encoding="utf-8") as handle:
                json.dump(self.root_mark, handle)

    def finish_root(self) -> None:
        """The download is complete: its root is no longer unfinished."""
        if self.root is not None and not self.dry_run:
            try:
                os.remove(os.path.join(self.root, MARKER))
            except FileNotFoundError:
                pass

    def excluded(self, parent: str, name: str) -> bool:
        """Whether the server name ``name`` inside the local directory ``parent`` is left out."""
        if not self.options.excludes:
            return False
        inner = os.path.relpath(parent, self.base)
        relative = "" if inner == os.curdir else inner.replace(os.sep, "/")
        return self.options.excludes.match(join(relative, name))

    def folder_line(self, path: str) -> None:
        if not self.dry_run:
            self.reporter.status(f"Creating Folder at {path}")

    def folder(self, folder: Dict[str, Any], path: str) -> List[Any]:
        """Download a folder to ``path`` (already placed); returns the futures of its items."""
        self.folder_line(path)
        self.make_directory(path)
        children = self.remote.children(folder["folder_id"])
        arrived = rerun_download.clock()
        book = NameBook()
        # every local name is chosen here, in the server's order, so that the
        # result never depends on which worker finishes first
        placed = [
            (child, self.place(path, repair_text(child["name"]), book))
            for child in children.folders
            if not self.excluded(path, repair_text(child["name"]))
        ]
        listed = self.listed(path, arrived, [
            child for child in children.items
            if not self.excluded(path, repair_text(child["name"]))
        ])
        kept = {index: entry for index, entry in enumerate(self.unchanged(path, listed))
                if entry is not None}
        wanted = [one for index, one in enumerate(listed) if index not in kept]
        ahead: Iterator[concurrent.futures.Future[_Read]]
        if self.runner.parallel:  # the workers look items up ahead of the downloads
            ahead = iter([self.runner.submit(self.lookup, one) for one in wanted])
        else:
            ahead = self.lookahead.map(self.lookup, wanted)
        futures = []
        for index, one in enumerate(listed):
            entry = kept.get(index)
            if entry is None:
                lookup = next(ahead)
            elif book.peek(entry.claim) == entry.local:
                self.skip(one, entry, self.place(path, entry.claim, book))
                continue
            else:  # an earlier name took this one's: read it, as a full run would
                lookup = self.runner.submit(self.lookup, one)
            read = self.runner.result(lookup)
            futures.append(self.runner.submit(self.item, read.item,
                                              *self.plan(read.item, path, book), read))
        for child, child_path in placed:
            futures.extend(self.folder(child, child_path))
        callbacks = self.options.folder_download_callbacks
        if callbacks and not self.dry_run:
            self.runner.wait(futures)
            with self._callback_lock:
                for callback in callbacks:
                    callback(self.communicator, self.remote.token, folder, path)
        return futures

    # -- the re-run record ------------------------------------------------------------------

    def listed(self, path: str, arrived: float, items: List[Dict[str, Any]]) -> List[_Listed]:
        """The items listed in a folder downloaded to ``path``, with their record entries."""
        keys = [download_key(child["item_id"], path) for child in items]
        recorded: Dict[str, Any] = {}
        earlier: Dict[str, List[Sighting]] = {}
        if self.record is not None and self.sightings is not None and items:
            recorded = self.record.lookup_many(self.server, keys)
            earlier = self.sightings.lookup_many(self.server, [c["item_id"] for c in items])
        return [_Listed(child, arrived, key, earlier.get(str(child["item_id"]), []),
                        DownloadEntry.from_json(recorded.get(key)))
                for child, key in zip(items, keys)]

    def unchanged(self, path: str, listed: List[_Listed]) -> List[Optional[DownloadEntry]]:
        """Per listed item, the entry to keep if the record shows it unchanged on both sides."""
        return [None if one.recorded is None
                else one.recorded.check(one.entry, path, self.excluded, self.md5s)
                for one in listed]

    def lookup(self, listed: _Listed) -> _Read:
        """Read a listed item with ``midas.item.get``."""
        asked = rerun_download.clock()
        item = self.remote.item(listed.entry["item_id"])
        return _Read(item, listed, asked, rerun_download.clock())

    def skip(self, listed: _Listed, entry: DownloadEntry, path: str) -> None:
        """Report an item the record shows unchanged, as a full run would, without a request."""
        if entry is not listed.recorded and self.record is not None and not self.dry_run:
            self.record.store(self.server, listed.key, entry.to_json())
        if not entry.directory:
            self.unchanged_file(path, entry.files[0].size)
            return
        kept = [f for f in entry.files if f.local is not None]
        if entry.files and not kept:
            return
        self.folder_line(path)
        self.make_directory(path)
        inner = NameBook()
        for recorded in kept:
            self.unchanged_file(self.place(path, recorded.name, inner), recorded.size)

    def remember(self, read: _Read, path: str, written: _Written) -> None:
        """Write the record entry of an item just downloaded (or found unchanged)."""
        if self.record is None or self.sightings is None or self.dry_run:
            return
        listed = read.listed
        previous = listed.recorded.item if listed.recorded is not None else None
        state = ItemState.observed(read.item.raw, read.asked, read.answered,
                                   earlier=[(listed.entry, listed.arrived), *listed.earlier],
                                   previous=previous)
        if state is None:
            return
        self.sightings.note(self.server, state)
        entry = DownloadEntry.of(read.item, state, path, written)
        if entry is not None:
            self.record.store(self.server, listed.key, entry.to_json())

    # -- items and files ----------------------------------------------------------------

    def place(self, parent: str, name: str, book: NameBook) -> str:
        """Choose the local path of a server name inside ``parent`` (reporting renames)."""
        local = book.claim(name)
        if local != name:
            self.reporter.warn(f"Renaming unsafe or clashing server name {name!r} to {local!r}")
        return inside(parent, local)

    def plan(
        self, item: Item, parent: str, book: NameBook
    ) -> Tuple[str, Optional[List[Bitstream]]]:
        """Choose the local path of an item and the files to fetch for it.

        One file arrives as that file (named like the bitstream); several, or
        none, as a directory named after the item. Links to other web sites
        are not followed (they are reported); for an item of links only the
        files are ``None`` and its path is not claimed.

        :returns: ``(path, bitstreams)``
        """
        name = repair_text(item.name)
        bitstreams = []
        links = 0
        for bitstream in item.head.bitstreams if item.head else ():
            if bitstream.link:
                links += 1
                self.reporter.warn(f"Skipping link {repair_text(bitstream.name)} in item {name}")
            else:
                bitstreams.append(bitstream)
        if links and not bitstreams:
            return os.path.join(parent, safe_name(name)), None
        if len(bitstreams) == 1:
            only = repair_text(bitstreams[0].name)
            if self.excluded(parent, only):
                return os.path.join(parent, safe_name(only)), None
            return self.place(parent, only, book), bitstreams
        return self.place(parent, name, book), bitstreams

    def item(self, item: Item, path: str, bitstreams: Optional[List[Bitstream]],
             read: Optional[_Read] = None) -> str:
        """Download an item planned by :meth:`plan` to ``path``; returns ``path``.

        :param read: how a listed item was read, to record it (``None``: not recorded)
        """
        if bitstreams is None:
            # nothing stored on the server: no empty directory for it
            return path
        written: _Written = []
        if len(bitstreams) == 1:
            written.append((bitstreams[0], path, self.bitstream(bitstreams[0], path)))
        else:
            kept = [b for b in bitstreams if not self.excluded(path, repair_text(b.name))]
            if bitstreams and not kept:
                return path  # every file left out: no directory for it
            self.folder_line(path)
            self.make_directory(path)
            inner = NameBook()
            for bitstream in bitstreams:
                if self.excluded(path, repair_text(bitstream.name)):
                    written.append((bitstream, None, None))
                    continue
                target = self.place(path, repair_text(bitstream.name), inner)
                written.append((bitstream, target, self.bitstream(bitstream, target)))
        if read is not None:
            self.remember(read, path, written)
        callbacks = self.options.item_download_callbacks
        if callbacks and not self.dry_run:
            with self._callback_lock:
                for callback in callbacks:
                    callback(self.communicator, self.remote.token, item.raw, path)
        return path

    def bitstream(self, bitstream: Bitstream, target: str) -> Optional[LocalState]:
        """Download one file (unless it holds the content already).

        :returns: the state of the verified local file (``None`` in a dry run)
        """
        size, checksum = bitstream.size, bitstream.checksum
        if os.path.islink(target) or (os.path.exists(target) and not os.path.isfile(target)):
            self.reporter.expect(size)
            raise exceptions.UnsafePathError(
                f"refusing to replace {target!r}: it is not a regular file"
            )
        if local_file_matches(target, size, checksum):
            self.unchanged_file(target, size)
            return None if self.dry_run else local_state(target)
        self.reporter.expect(size)
        if self.dry_run:
            self.reporter.status(f"Would download {target} ({size_text(size)})")
            self.transfer.summary.add(downloaded=1, bytes_received=size)
            return None
        self.reporter.status(f"Creating File at {target}")
        _fetch_verified(self.transfer, bitstream, target)
        state = local_state(target)
        self.reporter.file_done()
        self.transfer.summary.add(downloaded=1)
        return state

    def unchanged_file(self, target: str, size: int) -> None:
        """Report and count a local file that holds the server's content already."""
        self.reporter.expect(size)
        if self.dry_run:
            self.reporter.status(f"Would skip {target} (unchanged)")
        else:
            remove_stale(target)  # of a run that died before it could rename it
            self.reporter.status(f"Unchanged File at {target}")
        self.reporter.advance(size)
        self.reporter.file_done()
        self.transfer.summary.add(unchanged=1)


def _fetch_verified(transfer: Transfer, bitstream: Bitstream, target: str) -> None:
    """Download one bitstream into its part file beside ``target``, check it, rename it.

    ``target`` is only ever replaced by a complete, verified file. When the
    transfer is interrupted, or the network fails for good, the part file
    stays for a later run to continue; a part file whose content turned out
    wrong, or any other failure, leaves none.
    """
    part = Part(target, bitstream.checksum, bitstream.size)
    try:
        _fill(transfer, bitstream, part, target)
    except Exception:
        if part.keep:
            part.close()
        else:
            part.discard()
        raise
    except BaseException:  # interrupted: a later run continues from the part file
        part.close()
        raise
    part.commit()


def _fill(transfer: Transfer, bitstream: Bitstream, part: Part, target: str) -> None:
    """Receive the bitstream into ``part`` until it holds the right size and MD5.

    A cut connection (or another failure the communicator's retry policy
    takes for a passing one) is resumed from the bytes already written (the
    ``offset`` of ``midas.bitstream.download``), within the policy's
    attempts; content that does not match the server's size and MD5 is
    fetched once more from the first byte. The runner is checked after each
    piece received, to give up when the transfer stops.
    """
    remote, reporter, summary = transfer.remote, transfer.reporter, transfer.summary
    policy = transfer.communicator.retry
    size, checksum = bitstream.size, bitstream.checksum
    if part.held:
        logger.info("Continuing download of %s at byte %d (from an earlier run)",
                    target, part.held)
        reporter.advance(part.held)
    failures = 0
    restarted = False
    continued = part.held > 0  # from a part file, or after a cut: counted as resumed
    while True:
        while part.held < size:
            try:
                _, chunks = remote.call(
                    transfer.communicator.download_bitstream,
                    bitstream_id=bitstream.id,
                    offset=part.held or None,
                )
                try:
                    for chunk in chunks:
                        chunk = chunk[: size - part.held]
                        part.write(chunk)
                        reporter.advance(len(chunk))
                        summary.add(bytes_received=len(chunk))
                        transfer.runner.check()
                        if part.held >= size:
                            break
                finally:
                    close = getattr(chunks, "close", None)
                    if close is not None:
                        close()
                if part.held < size:
                    raise exceptions.RequestError(
                        f"download ended after {part.held} of {size} bytes"
                    )
            except exceptions.PydasException as error:
                failures += 1
                if not transient(policy, error):
                    raise  # a refusal, an error page: another attempt would not help
                if not policy.should_retry(failures, error, repeatable=True, rewindable=True):
                    part.keep = True
                    raise exceptions.TransferError(
                        f"download to {target!r} failed after {failures} attempts "
                        f"({part.held} of {size} bytes received; a later run continues "
                        f"from there): {error}"
                    ) from error
                policy.sleep(policy.delay(failures, Outcome.of(error).retry_after))
                logger.info("Resuming download of %s at byte %d", target, part.held)
                continued = continued or part.held > 0
        if matches(part.held, part.digest.hexdigest(), size, checksum):
            summary.add(resumed=int(continued))
            return
        reporter.advance(-part.held)
        if restarted:
            raise exceptions.TransferError(
                f"download to {target!r} does not match the server's checksum"
            )
        restarted = True
        part.restart()


def download_folder(
    remote: Remote,
    folder: Dict[str, Any],
    local_path: str,
    options: TransferOptions,
    reporter: Reporter,
    summary: Optional[TransferSummary] = None,
) -> str:
    """Download a server folder, recursively, into ``local_path/<folder name>``.

    An item whose head revision holds one file becomes that file (named like
    the bitstream); an item with several files becomes a directory named after
    the item that holds them, and an item without files an empty directory.
    Items come first, then sub-folders, each in the server's (name) order.
    Until the download completes, its directory holds a :data:`MARKER` file
    that lets a re-run continue into it. Folders, items and files that
    ``options.excludes`` matches (by server name, or by path relative to
    ``local_path``) are left out. With ``options.dry_run`` nothing is written:
    each file is reported as ``Would download ...`` or ``Would skip ...
    (unchanged)`` (compared by size and MD5) and counted in ``summary``.
    An item the re-run record shows unchanged on both sides is reported as
    unchanged without being read (:mod:`pydas._transfer.rerun_download`);
    a dry run uses the record but writes nothing to it.

    :param remote: the connection and token
    :param folder: a folder object (``folder_id`` and ``name``)
    :param local_path: an existing local directory
    :param options: the choices of the transfer
    :param reporter: where status lines and progress go
    :param summary: counts what the download did (if given)
    :returns: the local path of the downloaded folder
    """
    runner = Runner(options.workers)
    summary = summary or TransferSummary()
    with CacheStore() as store:
        downloader = _Downloader(Transfer(remote, options, reporter, runner, summary), store)
        try:
            downloader.base = local_path
            path = downloader.place(local_path, repair_text(folder["name"]), NameBook())
            downloader.mark_root(path, "folder", folder["folder_id"])
            downloader.folder(folder, path)
            runner.wait()
        finally:
            runner.close()
            downloader.lookahead.close()
    downloader.finish_root()
    return path


def download_item(
    remote: Remote,
    item: Dict[str, Any],
    local_path: str,
    options: TransferOptions,
    reporter: Reporter,
    summary: Optional[TransferSummary] = None,
) -> str:
    """Download one item into ``local_path`` (a file, or a directory of its files).

    :param remote: the connection and token
    :param item: an item object (``item_id`` and ``name``)
    :param local_path: an existing local directory (with ``options.dry_run``,
        one that may not exist yet)
    :param options: the choices of the transfer (one worker is used); its
        excludes and dry run work as for :func:`download_folder`
    :param reporter: where status lines and progress go
    :param summary: counts what the download did (if given)
    :returns: the local path of the downloaded file or directory
    """
    summary = summary or TransferSummary()
    downloader = _Downloader(Transfer(remote, options, reporter, Runner(1), summary))
    downloader.base = local_path
    record = remote.item(item["item_id"])
    path, bitstreams = downloader.plan(record, local_path, NameBook())
    if bitstreams is not None and len(bitstreams) != 1:
        downloader.mark_root(path, "item", record.id)
    downloader.item(record, path, bitstreams)
    downloader.finish_root()
    return path
