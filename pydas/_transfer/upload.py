"""Uploads: local trees become server folders and items.

Folders are created in order by the calling thread; each item (a file, or a
leaf directory with ``leaf_folders_as_items``) is one job for the
:class:`~pydas._transfer.runner.Runner`. With ``reuse_existing`` each server
folder is listed once and existing folders and items are reused: unchanged
files send nothing, changed files become a new revision. The bytes of one
file are sent by :mod:`pydas._transfer.send`.

Requests per file:

* a new file: ``upload.generatetoken`` with ``folderid`` and ``itemname``
  (which creates the item), ``upload.perform``, and the verifying
  ``item.get``; the file is hashed while it is sent. A file of at least
  :data:`DEDUPE_MIN` bytes whose MD5 the cache already knows goes by
  ``item.create`` and ``generatetoken`` with its checksum instead, so the
  server can link content it holds without the bytes being sent;
* an existing item, with ``reuse_existing``: nothing, when the re-run record
  (:mod:`pydas._transfer.rerun`) shows both sides unchanged; else one
  ``item.get``, and for a changed file a token, the bytes and the verification.

The verification of a new single-file item waits until
:data:`~pydas._transfer.record.SETTLE_SECONDS` after its upload while the
next files go (:mod:`pydas._transfer.deferred`), so that its record can be
trusted by the next run; not when item upload callbacks are registered (they
are called as each item is done).
"""

from __future__ import annotations

import threading
import time
from typing import Any, Dict, List, Optional, Sequence, Tuple

from pydas import exceptions
from pydas._transfer.answers import Bitstream, Item, Listing
from pydas._transfer.cache import CacheStore
from pydas._transfer.deferred import Deferred
from pydas._transfer.digests import MD5Cache
from pydas._transfer.journal import UploadJournal
from pydas._transfer.local import LocalDirectory, LocalFile, totals
from pydas._transfer.names import name_key
from pydas._transfer.options import Transfer, TransferOptions
from pydas._transfer.progress import Reporter
from pydas._transfer.record import SETTLE_SECONDS, ItemState, Record, Sighting
from pydas._transfer.remote import Remote
from pydas._transfer.rerun import UploadEntry, entry_key
from pydas._transfer.runner import Runner
from pydas._transfer.send import NewItem, Upload, put_file
from pydas._transfer.sightings import Sightings
from pydas._transfer.summary import TransferSummary, size_text
from pydas._transfer.verify import matches

__all__ = ["DEDUPE_MIN", "upload_entries"]

#: Files at least this large whose MD5 is known are offered to the server's
#: de-duplication (one more request if it does not hold them; below this size
#: sending the bytes costs about as much as that request).
DEDUPE_MIN = 4 * 1024 * 1024


class _Listing:
    """The children of one server folder, by (repaired) name, and when they arrived."""

    def __init__(self, children: Optional[Listing] = None) -> None:
        self.folders = {name_key(f["name"]): f for f in children.folders} if children else {}
        self.items = {name_key(i["name"]): i for i in children.items} if children else {}
        self.arrived = time.time()


def _bitstreams_by_name(item: Item) -> Dict[str, Bitstream]:
    revision = item.head
    if revision is None:
        return {}
    return {name_key(b.name): b for b in revision.bitstreams}


class _Existing:
    """An item the destination holds already: its listing entry and its record entry."""

    def __init__(self, listed: Dict[str, Any], arrived: float,
                 recorded: Optional[UploadEntry]) -> None:
        self.listed = listed
        self.arrived = arrived
        self.recorded = recorded

    @property
    def item_id(self) -> Any:
        return self.listed["item_id"]


class _Uploader:
    def __init__(self, transfer: Transfer, store: CacheStore) -> None:
        self.transfer = transfer
        self.remote = transfer.remote
        self.communicator = transfer.communicator
        self.reporter = transfer.reporter
        self.options = transfer.options
        self.server = str(self.communicator.url)
        self.record = Record(store, check_all=self.options.check_all)
        self.md5s = MD5Cache(store)
        self.sightings = Sightings(store)
        # with one worker, verifications run on a thread of their own, beside the sending
        self.later = Deferred(background=not transfer.runner.parallel)
        self._callback_lock = threading.Lock()

    # -- tree --------------------------------------------------------------

    def listing(self, folder_id: Any) -> _Listing:
        # a dry run lists the destination to find the folders a real run would
        # not create; a folder it would create (``None``) is empty
        if folder_id is None or not (self.options.reuse_existing or self.options.dry_run):
            return _Listing()
        return _Listing(self.remote.children(folder_id))

    def existing(self, entries: Sequence[Any], folder_id: Any,
                 listing: _Listing) -> Dict[str, _Existing]:
        """The items of ``listing`` that entries upload into, with their record entries."""
        found = {entry.key: listing.items[entry.key] for entry in entries
                 if entry.key in listing.items and (isinstance(entry, LocalFile) or (
                     self.options.leaf_folders_as_items and entry.is_leaf))}
        paths = {entry.key: entry_key(folder_id, entry.path) for entry in entries
                 if entry.key in found}
        recorded = self.record.lookup_many(self.server, paths.values())
        return {key: _Existing(listed, listing.arrived,
                               UploadEntry.from_json(recorded.get(paths[key])))
                for key, listed in found.items()}

    def entries(self, entries: Sequence[Any], folder_id: Any, listing: _Listing) -> None:
        runner = self.transfer.runner
        existing = self.existing(entries, folder_id, listing) if listing.items else {}
        for entry in entries:
            if isinstance(entry, LocalFile):
                if not self.options.dry_run:
                    self.reporter.status(f"Uploading Item from {entry.path}")
                runner.submit(self.job, self.file_item, entry, folder_id,
                              existing.get(entry.key))
            elif self.options.leaf_folders_as_items and entry.is_leaf:
                runner.submit(self.job, self.directory_item, entry, folder_id,
                              existing.get(entry.key))
            else:
                folder = listing.folders.get(entry.key)
                if self.options.dry_run:
                    child_id = self.dry_folder(entry, folder)
                    self.entries(entry.entries, child_id, self.listing(child_id))
                    continue
                self.reporter.status(f"Creating Folder from {entry.path}")
                if folder is not None:
                    child_id = folder["folder_id"]
                    child_listing = self.listing(child_id)
                else:
                    child_id = self.create_folder(entry, folder_id)
                    child_listing = _Listing()
                self.entries(entry.entries, child_id, child_listing)

    def job(self, work: Any, *args: Any) -> None:
        """One item's work, then the verifications that have come due meanwhile."""
        work(*args)
        self.later.run_due()

    def dry_folder(self, local: LocalDirectory, existing: Optional[Dict[str, Any]]) -> Any:
        """What a real run would do with a directory; the id of the folder it would use."""
        if existing is None:
            self.reporter.status(f"Would create Folder from {local.path}")
            return None
        if not self.options.reuse_existing:
            raise _folder_exists(local.name)
        return existing["folder_id"]

    def create_folder(self, local: LocalDirectory, parent_id: Any) -> Any:
        try:
            return self.remote.create_folder(local.name, parent_id, self.options.reuse_existing)
        except exceptions.InvalidParameter as error:
            if "already exists" not in str(error):
                raise
            raise _folder_exists(local.name, error) from None

    # -- items -------------------------------------------------------------

    def item_done(self, item_id: Any) -> None:
        callbacks = self.options.item_upload_callbacks
        if not callbacks or self.options.dry_run:
            return
        with self._callback_lock:
            for callback in callbacks:
                callback(self.communicator, self.remote.token, item_id)

    def remember(self, folder_id: Any, source: str, item: Item, state: Optional[ItemState],
                 files: Sequence[Tuple[LocalFile, str]]) -> None:
        """Write the record entry of an item just verified (or found unchanged)."""
        if state is not None:
            entry = UploadEntry.of(item, state, files)
            self.record.store(self.server, entry_key(folder_id, source), entry.to_json())
            self.sightings.note(self.server, state)  # a download of the item settles at once

    def file_item(self, local: LocalFile, folder_id: Any, existing: Optional[_Existing]) -> None:
        if existing is None and self.options.dry_run:
            self.would_upload(local)
        elif existing is None:
            self.new_file(local, folder_id)
        else:
            self.update_files(folder_id, local.path, existing, [local])

    def new_file(self, local: LocalFile, folder_id: Any) -> None:
        """Upload a file into a new item, and verify it once its record can be trusted."""
        md5 = self.md5s.lookup(local.path, local.state)
        target: Any = NewItem(folder_id, local.name)
        if md5 is not None and local.size >= DEDUPE_MIN:
            target = self.remote.create_item(local.name, folder_id)
        upload = Upload(self.transfer, target, local, md5)
        upload.start()

        def verify() -> None:
            item = upload.finish()
            if upload.digest is not None:
                self.md5s.keep(upload.digest)
            state = ItemState.observed(item.raw, *upload.read_at, earlier=upload.sightings)
            self.remember(folder_id, local.path, item, state, [(local, upload.md5 or "")])
            self.item_done(item.id)

        if self.options.item_upload_callbacks:
            verify()  # the callbacks are called as each item is done, as they always were
        else:
            self.later.add(time.monotonic() + SETTLE_SECONDS, verify)

    def directory_item(self, local: LocalDirectory, folder_id: Any,
                       existing: Optional[_Existing]) -> None:
        files = local.files
        if existing is None and self.options.dry_run:
            self.reporter.status(f"Would create Item from {local.path}")
            for entry in files:
                self.would_upload(entry)
            return
        if not self.options.dry_run:
            self.reporter.status(f"Creating Item from {local.path}.")
        if existing is not None:
            self.update_files(folder_id, local.path, existing, files, numbered=True)
            return
        item_id = self.remote.create_item(local.name, folder_id)
        before: Optional[Item] = None  # empty: it was just made
        upload: Optional[Upload] = None
        digests = []
        for index, entry in enumerate(files, 1):
            self.reporter.status(f"Uploading Bitstream from {entry.path} ({index} of {len(files)})")
            md5 = self.md5_of(entry)
            digests.append(md5)
            upload = put_file(self.transfer, item_id, entry, md5, before=before)
            before = upload.item
        if upload is not None and upload.item is not None:
            state = ItemState.observed(upload.item.raw, *upload.read_at,
                                       earlier=upload.sightings)
            self.remember(folder_id, local.path, upload.item, state, list(zip(files, digests)))
        self.item_done(item_id)

    def update_files(self, folder_id: Any, source: str, existing: _Existing,
                     files: List[LocalFile], numbered: bool = False) -> None:
        """Bring the head revision of an existing item up to date with ``files``.

        Unchanged files send nothing (and, when the record shows both sides
        as they were, nothing is asked either). If any file changed, a new
        revision is made: the first changed file starts it, every other file
        is added to it (unchanged ones by checksum, so without their bytes).
        """
        item_id = existing.item_id
        recorded = existing.recorded
        if recorded is not None and recorded.unchanged(existing.listed, files, self.md5s):
            self.all_unchanged(item_id, files, numbered)
            return
        asked = time.time()
        item = self.remote.item(item_id)
        read_at = (asked, time.time())
        on_server = _bitstreams_by_name(item)
        digests = [self.md5_of(entry) for entry in files]
        changed = [
            index
            for index, entry in enumerate(files)
            if entry.key in on_server
            and not matches(
                entry.size, digests[index], on_server[entry.key].size, on_server[entry.key].checksum
            )
        ]
        if self.options.dry_run:
            for index, entry in enumerate(files):
                if entry.key not in on_server:
                    self.would_upload(entry)
                elif index in changed:
                    self.would_upload(entry, "as a new revision ")
                else:
                    self.reporter.status(f"Would skip {entry.path} (unchanged)")
                    self.transfer.summary.add(unchanged=1)
            return
        sightings: List[Sighting] = [(existing.listed, existing.arrived)]
        previous = recorded.item if recorded is not None else None
        upload: Optional[Upload] = None
        if not changed:
            for index, entry in enumerate(files):
                self.bitstream_line(entry, index, len(files), numbered)
                if entry.key in on_server:
                    self.unchanged(item_id, entry)
                else:
                    upload = put_file(self.transfer, item_id, entry, digests[index], before=item)
                    item = upload.item or item
        else:
            first = changed[0]
            order = [first] + [index for index in range(len(files)) if index != first]
            for index in order:
                entry = files[index]
                self.bitstream_line(entry, index, len(files), numbered)
                upload = put_file(self.transfer, item_id, entry, digests[index],
                                  new_revision=index == first, before=item)
                item = upload.item or item
        if upload is not None:
            read_at, sightings, previous = upload.read_at, upload.sightings, None
        state = ItemState.observed(item.raw, *read_at, earlier=sightings, previous=previous)
        self.remember(folder_id, source, item, state, list(zip(files, digests)))
        self.item_done(item_id)

    def md5_of(self, local: LocalFile) -> str:
        """The MD5 of a local file (from the cache if it knows it).

        :raises pydas.exceptions.TransferError: when the file cannot be read
            (gone or locked since it was scanned)
        """
        try:
            return self.md5s.md5(local.path, local.state)
        except OSError as error:
            raise exceptions.TransferError(
                f"upload of {local.path!r} failed: the file could not be read ({error})"
            ) from error

    def all_unchanged(self, item_id: Any, files: List[LocalFile], numbered: bool) -> None:
        """Count the files of an item the record shows unchanged on both sides."""
        for index, entry in enumerate(files):
            if self.options.dry_run:
                self.reporter.status(f"Would skip {entry.path} (unchanged)")
                self.transfer.summary.add(unchanged=1)
                continue
            self.bitstream_line(entry, index, len(files), numbered)
            self.unchanged(item_id, entry)
        if not self.options.dry_run:
            self.item_done(item_id)

    def unchanged(self, item_id: Any, local: LocalFile) -> None:
        """Count a file the item already holds; an open upload of it is of no more use."""
        self.reporter.advance(local.size)
        self.reporter.file_done()
        self.transfer.summary.add(unchanged=1)
        if self.transfer.journal is not None:
            self.transfer.journal.discard(self.communicator.url, item_id, local.path)

    def would_upload(self, local: LocalFile, how: str = "") -> None:
        """Say and count what a real run would send for a file (a dry run)."""
        self.reporter.status(f"Would upload {local.path} {how}({size_text(local.size)})")
        self.transfer.summary.add(uploaded=1, bytes_sent=local.size)

    def bitstream_line(self, entry: LocalFile, index: int, count: int, numbered: bool) -> None:
        if numbered:
            self.reporter.status(f"Uploading Bitstream from {entry.path} ({index + 1} of {count})")


def _folder_exists(
    name: str, error: Optional[exceptions.PydasException] = None
) -> exceptions.FolderExists:
    """The error of a folder name the destination holds already (from the server's, if any)."""
    message = (
        f"the destination already holds a folder named {name!r}; "
        "pass reuse_existing=True to upload into it"
    )
    if error is None:
        exists = exceptions.FolderExists(message, method="midas.folder.create")
    else:
        exists = exceptions.with_context(error, message=message, cls=exceptions.FolderExists)
    exists.folder_name = name
    return exists


def upload_entries(
    remote: Remote,
    entries: Sequence[Any],
    folder_id: Any,
    options: TransferOptions,
    reporter: Reporter,
    summary: Optional[TransferSummary] = None,
) -> None:
    """Upload scanned local entries into a server folder.

    :param remote: the connection and token
    :param entries: the result of :func:`pydas._transfer.local.scan`
    :param folder_id: the server folder receiving the entries
    :param options: the choices of the transfer
    :param reporter: where status lines and progress go
    :param summary: counts what the upload did (if given)

    With ``options.dry_run`` nothing is created or sent: each file is
    reported as ``Would upload ...`` or ``Would skip ... (unchanged)`` and
    counted in ``summary`` as if it were done.
    """
    nbytes, nfiles = totals(entries)
    reporter.expect(nbytes, nfiles)
    runner = Runner(options.workers)
    journal = None if options.dry_run else UploadJournal()
    transfer = Transfer(remote, options, reporter, runner, summary or TransferSummary(), journal)
    with CacheStore() as store:
        uploader = _Uploader(transfer, store)
        try:
            uploader.entries(entries, folder_id, uploader.listing(folder_id))
            runner.wait()
            uploader.later.finish(runner)
        except Exception:
            runner.close()
            uploader.later.run_all_now()  # what was sent before the failure: verified, counted
            raise
        finally:
            runner.close()
            uploader.later.close()
