"""Downloads: server folders and items become local directories and files.

Every file is written to a temporary file beside its target, checked against
the server's size and MD5 (:mod:`pydas._transfer.verify`) and only then
renamed into place, so a target is only ever replaced by a complete,
verified file. Local names come from :mod:`pydas._transfer.names`.
"""

from __future__ import annotations

import concurrent.futures
import errno
import hashlib
import logging
import os
import secrets
import threading
from typing import Any, Dict, Iterable, List, Optional, Tuple

from pydas import exceptions
from pydas._transfer.answers import Bitstream, Item
from pydas._transfer.names import NameBook, inside, repair_text, safe_name
from pydas._transfer.options import Transfer, TransferOptions
from pydas._transfer.progress import Reporter
from pydas._transfer.remote import Remote
from pydas._transfer.runner import Runner
from pydas._transfer.send import MAX_ATTEMPTS
from pydas._transfer.verify import local_file_matches, matches

__all__ = ["download_folder", "download_item"]

logger = logging.getLogger("pydas")


class _Downloader:
    def __init__(self, transfer: Transfer) -> None:
        self.transfer = transfer
        self.remote = transfer.remote
        self.communicator = transfer.communicator
        self.reporter = transfer.reporter
        self.runner = transfer.runner
        self.options = transfer.options
        self._callback_lock = threading.Lock()

    def make_directory(self, path: str) -> None:
        if os.path.isdir(path) and not os.path.islink(path):
            if not self.options.allow_existing:
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
        children = self.remote.children(folder["folder_id"])
        book = NameBook()
        # every local name is chosen here, in the server's order, so that the
        # result never depends on which worker finishes first
        placed = [
            (child, self.place(path, repair_text(child["name"]), book))
            for child in children.folders
        ]
        lookups: Iterable[concurrent.futures.Future] = (
            self.runner.submit(self.remote.item, child["item_id"]) for child in children.items
        )
        if self.runner.parallel:
            lookups = list(lookups)  # the workers look items up ahead of the downloads
        futures = []
        for lookup in lookups:
            item = self.runner.result(lookup)
            futures.append(self.runner.submit(self.item, item, *self.plan(item, path, book)))
        for child, child_path in placed:
            futures.extend(self.folder(child, child_path))
        callbacks = self.options.folder_download_callbacks
        if callbacks:
            self.runner.wait(futures)
            with self._callback_lock:
                for callback in callbacks:
                    callback(self.communicator, self.remote.token, folder, path)
        return futures

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
            return self.place(parent, repair_text(bitstreams[0].name), book), bitstreams
        return self.place(parent, name, book), bitstreams

    def item(self, item: Item, path: str, bitstreams: Optional[List[Bitstream]]) -> str:
        """Download an item planned by :meth:`plan` to ``path``; returns ``path``."""
        if bitstreams is None:
            # nothing stored on the server: no empty directory for it
            return path
        if len(bitstreams) == 1:
            self.bitstream(bitstreams[0], path)
        else:
            self.reporter.status(f"Creating Folder at {path}")
            self.make_directory(path)
            inner = NameBook()
            for bitstream in bitstreams:
                self.bitstream(bitstream, self.place(path, repair_text(bitstream.name), inner))
        callbacks = self.options.item_download_callbacks
        if callbacks:
            with self._callback_lock:
                for callback in callbacks:
                    callback(self.communicator, self.remote.token, item.raw, path)
        return path

    def bitstream(self, bitstream: Bitstream, target: str) -> None:
        size, checksum = bitstream.size, bitstream.checksum
        self.reporter.expect(size)
        if os.path.islink(target) or (os.path.exists(target) and not os.path.isfile(target)):
            raise exceptions.UnsafePathError(
                f"refusing to replace {target!r}: it is not a regular file"
            )
        if local_file_matches(target, size, checksum):
            self.reporter.status(f"Unchanged File at {target}")
            self.reporter.advance(size)
            self.reporter.file_done()
            return
        self.reporter.status(f"Creating File at {target}")
        _fetch_verified(self.transfer, bitstream, target)
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


def _fetch_verified(transfer: Transfer, bitstream: Bitstream, target: str) -> None:
    """Download one bitstream into a temporary file beside ``target``, check it, rename it.

    A connection cut is resumed from the bytes already written (the
    ``offset`` of ``midas.bitstream.download``); if the result does not match
    the bitstream's size and MD5, the file is fetched once more from the
    start. ``target`` is only ever replaced by a complete, verified file.
    The runner is checked after each piece received, to give up when the
    transfer stops.
    """
    handle, temporary = _temporary_beside(target)
    remote, reporter = transfer.remote, transfer.reporter
    size, checksum = bitstream.size, bitstream.checksum
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
                    try:
                        _, chunks = remote.call(
                            transfer.communicator.download_bitstream,
                            bitstream_id=bitstream.id,
                            offset=written or None,
                        )
                        try:
                            for chunk in chunks:
                                chunk = chunk[: size - written]
                                out.write(chunk)
                                digest.update(chunk)
                                written += len(chunk)
                                reporter.advance(len(chunk))
                                transfer.runner.check()
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
                            raise exceptions.TransferError(
                                f"download to {target!r} failed after {attempts} attempts: {error}"
                            ) from error
                        logger.info("Resuming download of %s at byte %d", target, written)
                if matches(written, digest.hexdigest(), size, checksum):
                    break
                reporter.advance(-written)
                if fetched_again or attempts >= MAX_ATTEMPTS:
                    raise exceptions.TransferError(
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
    options: TransferOptions,
    reporter: Reporter,
) -> str:
    """Download a server folder, recursively, into ``local_path/<folder name>``.

    An item whose head revision holds one file becomes that file (named like
    the bitstream); an item with several files becomes a directory named after
    the item that holds them, and an item without files an empty directory.
    Items come first, then sub-folders, each in the server's (name) order.

    :param remote: the connection and token
    :param folder: a folder object (``folder_id`` and ``name``)
    :param local_path: an existing local directory
    :param options: the choices of the transfer
    :param reporter: where status lines and progress go
    :returns: the local path of the downloaded folder
    """
    runner = Runner(options.workers)
    downloader = _Downloader(Transfer(remote, options, reporter, runner))
    try:
        path = downloader.place(local_path, repair_text(folder["name"]), NameBook())
        downloader.folder(folder, path)
        runner.wait()
    finally:
        runner.close()
    return path


def download_item(
    remote: Remote,
    item: Dict[str, Any],
    local_path: str,
    options: TransferOptions,
    reporter: Reporter,
) -> str:
    """Download one item into ``local_path`` (a file, or a directory of its files).

    :param remote: the connection and token
    :param item: an item object (``item_id`` and ``name``)
    :param local_path: an existing local directory
    :param options: the choices of the transfer (one worker is used)
    :param reporter: where status lines and progress go
    :returns: the local path of the downloaded file or directory
    """
    downloader = _Downloader(Transfer(remote, options, reporter, Runner(1)))
    record = remote.item(item["item_id"])
    return downloader.item(record, *downloader.plan(record, local_path, NameBook()))
