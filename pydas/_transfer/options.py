"""What one call of :func:`pydas.upload` or :func:`pydas.download` asks for, as one value."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Optional, Tuple

from pydas._transfer.exclude import Excludes
from pydas._transfer.journal import UploadJournal
from pydas._transfer.progress import Reporter
from pydas._transfer.remote import Remote
from pydas._transfer.runner import Runner
from pydas._transfer.summary import TransferSummary

__all__ = ["Transfer", "TransferOptions"]

Callback = Callable[..., Any]


@dataclass(frozen=True)
class TransferOptions:
    """The choices of one transfer.

    :param workers: items transferred in parallel (at least 1)
    :param quiet: do not print status lines (they are still logged)
    :param bar: show a progress bar: ``True`` always, ``False`` never,
        ``None`` when standard error is a terminal
    :param reuse_existing: uploads reuse folders and items that already exist
    :param leaf_folders_as_items: uploads turn directories without
        sub-directories into one item each
    :param allow_existing: downloads may write into directories that exist
    :param excludes: what downloads leave out (uploads leave it out when scanning)
    :param dry_run: send and write nothing: say what would be done, and
        count it in the summary
    :param check_all: re-runs check every item with the server instead of
        trusting the re-run record (:mod:`pydas._transfer.record`)
    :param item_upload_callbacks: called as ``cb(communicator, token, item_id)``
    :param item_download_callbacks: called as ``cb(communicator, token, item, path)``
    :param folder_download_callbacks: called as ``cb(communicator, token, folder, path)``
    """

    workers: int = 1
    quiet: bool = False
    bar: Optional[bool] = None
    reuse_existing: bool = False
    leaf_folders_as_items: bool = False
    allow_existing: bool = False
    excludes: Excludes = field(default_factory=Excludes)
    dry_run: bool = False
    check_all: bool = False
    item_upload_callbacks: Tuple[Callback, ...] = ()
    item_download_callbacks: Tuple[Callback, ...] = ()
    folder_download_callbacks: Tuple[Callback, ...] = ()


@dataclass
class Transfer:
    """What the jobs of one running transfer share.

    :param remote: the connection and token
    :param options: the choices of the transfer
    :param reporter: where status lines and progress go
    :param runner: runs the item jobs
    :param summary: what the transfer did, counted
    :param journal: the open upload tokens (uploads only)
    """

    remote: Remote
    options: TransferOptions
    reporter: Reporter
    runner: Runner
    summary: TransferSummary
    journal: Optional[UploadJournal] = None

    @property
    def communicator(self) -> Any:
        """The communicator of :attr:`remote`."""
        return self.remote.communicator
