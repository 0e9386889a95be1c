"""``pydas upload`` and ``pydas download``: the library's transfers, with a closing summary."""

import argparse
import glob
import os
from typing import Any, Dict, Optional

import pydas
from pydas import exceptions
from pydas.api import TransferSummary
from pydas.cli.connect import connect
from pydas.cli.errors import Context
from pydas.cli.output import Output, human_size

__all__ = ["run_upload", "run_download"]


def _progress(out: Output, args: argparse.Namespace) -> Optional[bool]:
    """The library's ``progress`` setting: never with ``-q`` or ``--json``, else on a terminal."""
    return False if out.quiet or args.json else None


def _status_lines_hidden(out: Output, args: argparse.Namespace) -> bool:
    """Whether the library's lines stay unprinted: ``--json`` owns standard output, and
    ``-q`` leaves only results (the lines of a dry run are its result)."""
    return bool(args.json or (out.quiet and not args.dry_run))


def _check_paths(paths: Any) -> None:
    """Fail on a path that matches nothing before logging in (no prompt for a typo).

    :raises pydas.exceptions.LocalInputError: naming the path
    """
    for path in paths:
        pattern = os.path.expanduser(path)
        if not (os.path.lexists(pattern) or glob.glob(pattern)):
            raise exceptions.LocalInputError(f"no file or directory matches {path!r}")


def _dry_run_line(summary: TransferSummary, verb: str, where: str, moved: str) -> str:
    count = summary.uploaded + summary.downloaded
    nbytes = summary.bytes_sent + summary.bytes_received
    files = "1 file" if count == 1 else f"{count} files"
    return (
        f"Dry run: {files} ({human_size(nbytes)}) would be {verb} {where}, "
        f"{summary.unchanged} unchanged would be skipped; nothing was {moved}."
    )


def _transfer_options(out: Output, args: argparse.Namespace,
                      summary: TransferSummary) -> Dict[str, Any]:
    """The options ``pydas.upload`` and ``pydas.download`` share, from the command line."""
    return {
        "workers": args.workers,
        "quiet": _status_lines_hidden(out, args),
        "progress": _progress(out, args),
        "summary": summary,
        "exclude": args.exclude,
        "dry_run": args.dry_run,
        "check_all": args.check_all,
    }


def _report(out: Output, args: argparse.Namespace, summary: TransferSummary,
            closing: str, extra: Dict[str, Any]) -> None:
    """Print the closing summary (or, with ``--json``, the summary as JSON)."""
    if args.json:
        out.json(dict(extra, dry_run=args.dry_run, **summary.as_dict()))
    else:
        out.info(closing)


def run_upload(args: argparse.Namespace, out: Output, context: Context) -> int:
    """Upload local files and directories (all checked before the first file is sent)."""
    _check_paths(args.paths)
    connect(args, context)
    if args.folder_id is None:
        where = args.destination
        target: Dict[str, Any] = {"destination": args.destination}
    else:
        where = f"folder id {args.folder_id}"
        target = {"folder_id": args.folder_id}
    context.destination = where
    summary = context.summary = TransferSummary()
    pydas.upload(
        args.paths,
        **target,
        leaf_folders_as_items=args.leaf_folders_as_items,
        reuse_existing=args.reuse_existing,
        **_transfer_options(out, args, summary),
    )
    if args.dry_run:
        closing = _dry_run_line(summary, "uploaded to", where, "sent")
    else:
        closing = f"Done: {summary} (to {where})."
    _report(out, args, summary, closing, {"destination": where})
    return 0


def run_download(args: argparse.Namespace, out: Output, context: Context) -> int:
    """Download a server folder or item; re-running it continues and skips what matches."""
    connect(args, context)
    # the command is meant to be re-run: unchanged files are kept, others replaced
    pydas.allow_existing_download_paths()
    summary = context.summary = TransferSummary()
    path = pydas.download(args.server_path, args.local_dir, **_transfer_options(out, args, summary))
    if args.dry_run:
        closing = _dry_run_line(summary, "downloaded to", path, "written")
    else:
        closing = f"Done: {summary} (in {path})."
    _report(out, args, summary, closing, {"path": path})
    return 0
