"""``pydas demo``: the manual's quick start, end to end, in a scratch folder of its own.

The demo writes only into a new folder with a unique name (``pydas-demo-``,
the time and random letters) under the destination, and deletes that folder
at the end, whatever happened. Without a configured server it runs against a
local emulator it starts itself; against a real server it first says what it
will create and asks (``--yes`` answers for it).
"""

import argparse
import contextlib
import hashlib
import os
import secrets
import sys
import tempfile
import time
from typing import Any, Dict, Iterator, List, Tuple

import pydas
from pydas import api, credentials, session
from pydas.cli.connect import gather, log_in
from pydas.cli.errors import FAILED, USAGE, CommandError, Context
from pydas.cli.output import Output

__all__ = ["DEMO_TREES", "run_demo"]

#: The trees of the manual's quick start, as (relative path, content) pairs.
DEMO_TREES: Dict[str, List[Tuple[str, bytes]]] = {
    "myfiles": [
        ("file1.txt", b"first file of the quick start\n"),
        ("file2.txt", b"second file of the quick start\n"),
    ],
    "folders_as_items": [
        ("item1/bitstream1_1.txt", b"bitstream 1.1\n"),
        ("item1/bitstream1_2.txt", b"bitstream 1.2\n"),
        ("item2/bitstream2_1.txt", b"bitstream 2.1\n"),
        ("item2/bitstream2_2.txt", b"bitstream 2.2\n"),
    ],
}


def _scratch_name() -> str:
    return f"pydas-demo-{time.strftime('%Y%m%d-%H%M%S')}-{secrets.token_hex(3)}"


def _server_configured(args: argparse.Namespace) -> bool:
    return bool(args.url or os.environ.get("MIDAS_URL") or credentials.default_url())


@contextlib.contextmanager
def _emulator(out: Output) -> Iterator[credentials.Login]:
    """Start a local emulator with a demo user, for the duration of the demo."""
    from pydas.testing import MidasServer

    with MidasServer() as server:
        user = server.create_user("demo@example.com", "demo-password", "Demo", "User")
        out.info(
            f"No server configured: using a local Midas emulator at {server.url} "
            "(--url, MIDAS_URL or `pydas login` choose a real server)"
        )
        yield credentials.Login(url=server.url, email=user.email, api_key=user.api_key,
                                origin={"secret": "the local emulator"})


def _confirm(args: argparse.Namespace, out: Output, found: credentials.Login,
             where: str) -> None:
    out.result(
        f"The demo will log in to {found.url} as {found.email}, create the new folder {where}, "
        "upload 6 small files into it, download them back, compare them and delete the folder."
    )
    if args.yes:
        return
    if not sys.stdin or not sys.stdin.isatty():
        raise CommandError(
            USAGE,
            f"pydas demo would write to the server {found.url}",
            "re-run with --yes to allow it, or with --local to use a local emulator",
        )
    try:
        answer = input("Proceed? [y/N] ")
    except EOFError:
        answer = ""
    if answer.strip().lower() not in ("y", "yes"):
        raise CommandError(FAILED, "the demo was cancelled: nothing was created")


def _write_tree(root: str, entries: List[Tuple[str, bytes]]) -> None:
    for relative, content in entries:
        path = os.path.join(root, *relative.split("/"))
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as handle:
            handle.write(content)


def _md5_tree(root: str) -> Dict[str, str]:
    digests = {}
    for directory, _dirs, files in os.walk(root):
        for file_name in files:
            path = os.path.join(directory, file_name)
            with open(path, "rb") as handle:
                digests[os.path.relpath(path, root)] = hashlib.md5(handle.read()).hexdigest()
    return digests


def _create_scratch_folder(destination: str, scratch: str, workdir: str) -> Any:
    """Create the new, empty scratch folder in ``destination`` and return its id.

    It is made as :func:`pydas.upload` makes folders, without
    ``reuse_existing``: a folder of that name that exists already is an error
    (:class:`~pydas.exceptions.FolderExists`), never written into.
    """
    empty = os.path.join(workdir, scratch)
    os.mkdir(empty)
    pydas.upload(empty, destination=destination, quiet=True, progress=False)
    _kind, folder = api.resolve_path(f"{destination.rstrip('/')}/{scratch}")
    return folder["folder_id"]


def _delete_folder(folder_id: Any) -> None:
    communicator = session.communicator
    assert communicator is not None  # logged in
    communicator.delete_folder(api.verify_credentials(), folder_id)


def _round_trip(destination: str, workdir: str, out: Output) -> int:
    """Upload the demo trees into ``destination``, download them back, compare; count failures."""
    failures = 0
    source = os.path.join(workdir, "source")
    target = os.path.join(workdir, "downloaded")
    for tree, entries in DEMO_TREES.items():
        _write_tree(os.path.join(source, tree), entries)
    here = os.getcwd()
    os.chdir(source)  # for the manual's status lines ("Uploading Item from myfiles/...")
    try:
        pydas.upload("myfiles", destination=destination, quiet=out.quiet)
        pydas.upload("folders_as_items", destination=destination,
                     leaf_folders_as_items=True, quiet=out.quiet)
    finally:
        os.chdir(here)
    for tree in DEMO_TREES:
        pydas.download(f"{destination}/{tree}", target, quiet=out.quiet)
        expected = _md5_tree(os.path.join(source, tree))
        actual = _md5_tree(os.path.join(target, tree))
        if expected == actual:
            out.info(f"Verified {tree}: {len(actual)} files identical after the round trip")
        else:
            failures += 1
            out.result(f"MISMATCH in {tree}: uploaded {expected}, downloaded {actual}")
    return failures


def _run(found: credentials.Login, args: argparse.Namespace, out: Output, context: Context,
         ask: bool) -> int:
    scratch = _scratch_name()
    where = f"{args.destination.rstrip('/')}/{scratch}"
    if ask:
        _confirm(args, out, found, where)
    log_in(found, context)
    out.info("Logged in.")
    with tempfile.TemporaryDirectory(prefix="pydas-demo-") as workdir:
        folder_id = _create_scratch_folder(args.destination, scratch, workdir)
        out.info(f"Created the scratch folder {where}")
        try:
            failures = _round_trip(where, workdir, out)
        finally:
            if args.keep:
                out.info(f"Kept the scratch folder {where} (--keep)")
            else:
                _delete_folder(folder_id)
                out.info(f"Deleted the scratch folder {where}")
    if failures:
        raise CommandError(FAILED, f"{failures} of {len(DEMO_TREES)} trees did not survive the "
                           "round trip intact")
    return 0


def run_demo(args: argparse.Namespace, out: Output, context: Context) -> int:
    """Run the demo against the configured server, or a local emulator if there is none."""
    if args.local or not _server_configured(args):
        with _emulator(out) as found:
            return _run(found, args, out, context, ask=False)
    return _run(gather(args), args, out, context, ask=True)
