"""``pydas upload`` and ``pydas download``."""

import argparse
import os
from typing import Optional, Tuple

import pydas
from pydas import exceptions
from pydas.cli import engine
from pydas.cli.browse import server_files
from pydas.cli.connect import connect
from pydas.cli.errors import NOT_FOUND, CommandError, Context
from pydas.cli.output import Output, human_size

__all__ = ["run_upload", "run_download"]


def _progress(out: Output) -> Optional[bool]:
    """The engine's ``progress`` setting: never with ``-q``, else only on a terminal."""
    return False if out.quiet else None


def _upload_target(args: argparse.Namespace) -> Tuple[object, str]:
    """The id of the folder to upload into, and how to name it in messages."""
    if args.folder_id is None:
        return engine.destination_id(args.destination), args.destination
    try:
        folder = engine.folder_by_id(args.folder_id)
    except (exceptions.InvalidPolicy, exceptions.InvalidParameter):
        raise CommandError(
            NOT_FOUND,
            f"there is no folder with id {args.folder_id} (or you may not read it)",
            "`pydas ls -l SERVER_PATH` shows the ids of folders",
        ) from None
    return folder["folder_id"], f"{engine.name(folder)} (folder id {args.folder_id})"


def run_upload(args: argparse.Namespace, out: Output, context: Context) -> int:
    """Upload local files and directories (after checking them all, before any request)."""
    entries, skipped = engine.scan(args.paths)
    entries = engine.exclude(entries, args.exclude)
    files = list(engine.local_files(entries))
    nbytes = sum(size for _path, _relative, size in files)
    connect(args, context)
    folder_id, where = _upload_target(args)
    context.destination = where
    if args.dry_run:
        for line in skipped:
            out.message(line)
        for path, relative, size in files:
            out.result(f"would upload {path} -> {where}/{relative} ({human_size(size)})")
        unchanged = " (files already there and unchanged would be skipped)" if (
            args.reuse_existing
        ) else ""
        out.info(
            f"Dry run: {len(files)} files ({human_size(nbytes)}) would be uploaded to "
            f"{where}{unchanged}; nothing was sent."
        )
        return 0
    if not files and not entries:
        out.message("Nothing to upload: every path was excluded.")
        return 0
    engine.upload(
        entries,
        skipped,
        folder_id,
        reuse_existing=args.reuse_existing,
        leaf_folders_as_items=args.leaf_folders_as_items,
        workers=args.workers,
        quiet=out.quiet,
        progress=_progress(out),
    )
    out.info(f"Done: {len(files)} files ({human_size(nbytes)}) in {where}.")
    return 0


def _local_totals(path: str) -> Tuple[int, int]:
    if os.path.isfile(path):
        return 1, os.path.getsize(path)
    count = nbytes = 0
    for directory, _dirs, names in os.walk(path):
        for file_name in names:
            count += 1
            nbytes += os.path.getsize(os.path.join(directory, file_name))
    return count, nbytes


def run_download(args: argparse.Namespace, out: Output, context: Context) -> int:
    """Download a server folder or item; re-running it continues and skips what matches."""
    connect(args, context)
    if args.dry_run:
        kind, resource = engine.resolve(args.server_path)
        count = nbytes = 0
        for relative, size in server_files(kind, resource):
            count += 1
            nbytes += size
            target = os.path.join(args.local_dir, *relative.split("/"))
            out.result(f"would download {target} ({human_size(size)})")
        out.info(
            f"Dry run: {count} files ({human_size(nbytes)}) in {args.server_path}; files "
            "already in place with the right checksum would be skipped; nothing was written."
        )
        return 0
    # The command is meant to be re-run: unchanged files are kept, others replaced.
    pydas.allow_existing_download_paths()
    path = pydas.download(
        args.server_path,
        args.local_dir,
        workers=args.workers,
        quiet=out.quiet,
        progress=_progress(out),
    )
    count, nbytes = _local_totals(path)
    out.info(f"Done: {count} files ({human_size(nbytes)}) in {path}.")
    return 0
