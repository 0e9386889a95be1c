"""Uploads: local trees become server folders and items.

Folders are created in order by the calling thread; each item (a file, or a
leaf directory with ``leaf_folders_as_items``) is one job for the
:class:`~pydas._transfer.runner.Runner`. With ``reuse_existing`` each server
folder is listed once and existing folders and items are reused: unchanged
files send nothing, changed files become a new revision. The bytes of one
file are sent by :mod:`pydas._transfer.send`.
"""

from __future__ import annotations

import threading
from typing import Any, Dict, List, Optional, Sequence

from pydas import exceptions
from pydas._transfer.answers import Bitstream, Item, Listing
from pydas._transfer.journal import UploadJournal
from pydas._transfer.local import LocalDirectory, LocalFile, totals
from pydas._transfer.names import name_key
from pydas._transfer.options import Transfer, TransferOptions
from pydas._transfer.progress import Reporter
from pydas._transfer.remote import Remote
from pydas._transfer.runner import Runner
from pydas._transfer.send import put_file
from pydas._transfer.summary import TransferSummary, size_text
from pydas._transfer.verify import file_md5, matches

__all__ = ["upload_entries"]


class _Listing:
    """The children of one server folder, by (repaired) name."""

    def __init__(self, children: Optional[Listing] = None) -> None:
        self.folders = {name_key(f["name"]): f for f in children.folders} if children else {}
        self.items = {name_key(i["name"]): i for i in children.items} if children else {}


def _bitstreams_by_name(item: Item) -> Dict[str, Bitstream]:
    revision = item.head
    if revision is None:
        return {}
    return {name_key(b.name): b for b in revision.bitstreams}


class _Uploader:
    def __init__(self, transfer: Transfer) -> None:
        self.transfer = transfer
        self.remote = transfer.remote
        self.communicator = transfer.communicator
        self.reporter = transfer.reporter
        self.options = transfer.options
        self._callback_lock = threading.Lock()

    # -- tree --------------------------------------------------------------

    def listing(self, folder_id: Any) -> _Listing:
        # a dry run lists the destination to find the folders a real run would
        # not create; a folder it would create (``None``) is empty
        if folder_id is None or not (self.options.reuse_existing or self.options.dry_run):
            return _Listing()
        return _Listing(self.remote.children(folder_id))

    def entries(self, entries: Sequence[Any], folder_id: Any, listing: _Listing) -> None:
        runner = self.transfer.runner
        for entry in entries:
            if isinstance(entry, LocalFile):
                if not self.options.dry_run:
                    self.reporter.status(f"Uploading Item from {entry.path}")
                runner.submit(self.file_item, entry, folder_id, listing.items.get(entry.key))
            elif self.options.leaf_folders_as_items and entry.is_leaf:
                runner.submit(self.directory_item, entry, folder_id, listing.items.get(entry.key))
            else:
                existing = listing.folders.get(entry.key)
                if self.options.dry_run:
                    child_id = self.dry_folder(entry, existing)
                    self.entries(entry.entries, child_id, self.listing(child_id))
                    continue
                self.reporter.status(f"Creating Folder from {entry.path}")
                if existing is not None:
                    child_id = existing["folder_id"]
                    child_listing = self.listing(child_id)
                else:
                    child_id = self.create_folder(entry, folder_id)
                    child_listing = _Listing()
                self.entries(entry.entries, child_id, child_listing)

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

    def create_item(self, name: str, folder_id: Any) -> Any:
        return self.remote.create_item(name, folder_id)

    def existing_bitstreams(self, item_id: Any) -> Dict[str, Bitstream]:
        return _bitstreams_by_name(self.remote.item(item_id))

    def item_done(self, item_id: Any) -> None:
        callbacks = self.options.item_upload_callbacks
        if not callbacks or self.options.dry_run:
            return
        with self._callback_lock:
            for callback in callbacks:
                callback(self.communicator, self.remote.token, item_id)

    def file_item(
        self, local: LocalFile, folder_id: Any, existing: Optional[Dict[str, Any]]
    ) -> None:
        if existing is None and self.options.dry_run:
            self.would_upload(local)
            return
        if existing is None:
            item_id = self.create_item(local.name, folder_id)
            put_file(self.transfer, item_id, local, file_md5(local.path))
        else:
            item_id = existing["item_id"]
            self.update_files(item_id, [local])
        self.item_done(item_id)

    def directory_item(
        self, local: LocalDirectory, folder_id: Any, existing: Optional[Dict[str, Any]]
    ) -> None:
        files = local.files
        if existing is None and self.options.dry_run:
            self.reporter.status(f"Would create Item from {local.path}")
            for entry in files:
                self.would_upload(entry)
            return
        if not self.options.dry_run:
            self.reporter.status(f"Creating Item from {local.path}.")
        if existing is None:
            item_id = self.create_item(local.name, folder_id)
            item: Optional[Item] = None  # empty: it was just made
            for index, entry in enumerate(files, 1):
                self.reporter.status(
                    f"Uploading Bitstream from {entry.path} ({index} of {len(files)})"
                )
                item = put_file(self.transfer, item_id, entry, file_md5(entry.path), before=item)
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
        item = self.remote.item(item_id)
        on_server = _bitstreams_by_name(item)
        digests = [file_md5(entry.path) for entry in files]
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
        if not changed:
            for index, entry in enumerate(files):
                self.bitstream_line(entry, index, len(files), numbered)
                if entry.key in on_server:
                    self.unchanged(item_id, entry)
                else:
                    item = put_file(self.transfer, item_id, entry, digests[index], before=item)
            return
        first = changed[0]
        order = [first] + [index for index in range(len(files)) if index != first]
        for index in order:
            entry = files[index]
            self.bitstream_line(entry, index, len(files), numbered)
            item = put_file(self.transfer, item_id, entry, digests[index],
                            new_revision=index == first, before=item)

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
    uploader = _Uploader(transfer)
    try:
        uploader.entries(entries, folder_id, uploader.listing(folder_id))
        runner.wait()
    finally:
        runner.close()
