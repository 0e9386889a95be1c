"""The ``pydas`` command.

Sub-commands:

``pydas demo``
    Runs the quick start of the manual end to end: logs in, uploads a small
    generated tree twice (plain and with leaf folders as items), downloads it
    back and compares every file by MD5. It talks to the server named by the
    ``MIDAS_*`` environment variables when ``MIDAS_URL`` is set, and otherwise
    starts the bundled emulator (:mod:`pydas.testing`) for the duration of the
    run.
``pydas upload PATTERN`` / ``pydas download SERVER_PATH [LOCAL_PATH]``
    The high-level :func:`pydas.upload` and :func:`pydas.download`.
``pydas serve``
    Runs the emulator in the foreground (same as ``python -m pydas.testing``).

Credentials come from ``MIDAS_URL``, ``MIDAS_EMAIL``, ``MIDAS_API_KEY`` (or
``MIDAS_PASSWORD``) and ``MIDAS_APPLICATION``; whatever is missing is prompted
for, exactly as :func:`pydas.login` does. Secrets are never accepted as
command-line arguments, so they do not end up in shell history or ``ps``.
"""

import argparse
import contextlib
import hashlib
import os
import sys
import tempfile
from typing import Dict, Iterator, List, Optional, Sequence

import pydas
from pydas.exceptions import PydasException

__all__ = ["main"]

#: The trees of the manual's quick start, as (relative path, content) pairs.
DEMO_TREES = {
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


def _login_from_environment(url: Optional[str] = None) -> str:
    """Log in with the ``MIDAS_*`` variables, prompting for what is missing."""
    return pydas.login(
        email=os.environ.get("MIDAS_EMAIL"),
        password=os.environ.get("MIDAS_PASSWORD"),
        api_key=os.environ.get("MIDAS_API_KEY"),
        application=os.environ.get("MIDAS_APPLICATION", "Default"),
        url=url or os.environ.get("MIDAS_URL"),
    )


@contextlib.contextmanager
def _demo_server() -> Iterator[Optional[str]]:
    """Yield the URL of an emulator started for the demo, or ``None`` if one is configured."""
    if os.environ.get("MIDAS_URL"):
        yield None
        return
    from pydas.testing import MidasServer

    with MidasServer() as server:
        user = server.create_user("demo@example.com", "demo-password", "Demo", "User")
        saved = {name: os.environ.get(name) for name in ("MIDAS_EMAIL", "MIDAS_API_KEY")}
        os.environ["MIDAS_EMAIL"] = user.email
        os.environ["MIDAS_API_KEY"] = user.api_key
        try:
            print(f"No MIDAS_URL configured: using a local Midas emulator at {server.url}")
            yield server.url
        finally:
            for name, value in saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value


def _write_tree(root: str, entries: Sequence) -> None:
    for relative, content in entries:
        path = os.path.join(root, *relative.split("/"))
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as handle:
            handle.write(content)


def _md5_tree(root: str) -> Dict[str, str]:
    digests = {}
    for directory, _dirs, files in os.walk(root):
        for name in files:
            path = os.path.join(directory, name)
            with open(path, "rb") as handle:
                digests[os.path.relpath(path, root)] = hashlib.md5(handle.read()).hexdigest()
    return digests


def _run_demo(args: argparse.Namespace) -> int:
    with _demo_server() as emulator_url, tempfile.TemporaryDirectory() as workdir:
        _login_from_environment(emulator_url)
        print("Logged in.")
        source = os.path.join(workdir, "source")
        target = os.path.join(workdir, "downloaded")
        for tree, entries in DEMO_TREES.items():
            _write_tree(os.path.join(source, tree), entries)
        here = os.getcwd()
        os.chdir(source)
        try:
            pydas.upload("myfiles", destination=args.destination, reuse_existing=True)
            pydas.upload(
                "folders_as_items",
                destination=args.destination,
                leaf_folders_as_items=True,
                reuse_existing=True,
            )
        finally:
            os.chdir(here)
        failures = 0
        for tree in DEMO_TREES:
            pydas.download(f"{args.destination}/{tree}", target)
            expected = _md5_tree(os.path.join(source, tree))
            actual = _md5_tree(os.path.join(target, tree))
            if expected == actual:
                print(f"Verified {tree}: {len(actual)} files identical after the round trip")
            else:
                failures += 1
                print(f"MISMATCH in {tree}: uploaded {expected}, downloaded {actual}")
        return 1 if failures else 0


def _run_upload(args: argparse.Namespace) -> int:
    _login_from_environment()
    pydas.upload(
        args.pattern,
        destination=args.destination,
        leaf_folders_as_items=args.leaf_folders_as_items,
        reuse_existing=args.reuse_existing,
        workers=args.workers,
        quiet=args.quiet,
    )
    return 0


def _run_download(args: argparse.Namespace) -> int:
    _login_from_environment()
    pydas.download(args.server_path, args.local_path, workers=args.workers, quiet=args.quiet)
    return 0


def _serve(argv: List[str]) -> int:
    from pydas.testing.__main__ import main as serve_main

    return serve_main(argv)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="pydas", description="Client for Midas Server 3.")
    parser.add_argument("--version", action="version", version=f"pydas {pydas.__version__}")
    commands = parser.add_subparsers(dest="command", required=True)

    demo = commands.add_parser("demo", help="run the manual's quick start and verify it")
    demo.add_argument("--destination", default="Private", help="home folder to upload into")
    demo.set_defaults(run=_run_demo)

    upload = commands.add_parser("upload", help="upload files or directories")
    upload.add_argument("pattern", help="file, directory or glob pattern")
    upload.add_argument("--destination", default="Private")
    upload.add_argument("--leaf-folders-as-items", action="store_true")
    upload.add_argument("--reuse-existing", action="store_true")
    upload.add_argument("--workers", type=int, default=1)
    upload.add_argument("--quiet", action="store_true")
    upload.set_defaults(run=_run_upload)

    download = commands.add_parser("download", help="download a server folder or item")
    download.add_argument("server_path", help="e.g. /users/Jane_Doe/Private/myfiles")
    download.add_argument("local_path", nargs="?", default=".")
    download.add_argument("--workers", type=int, default=1)
    download.add_argument("--quiet", action="store_true")
    download.set_defaults(run=_run_download)

    # listed for --help only: main() hands everything after "serve" to the emulator
    commands.add_parser("serve", help="run the local Midas emulator in the foreground")
    return parser


def main(argv: Optional[List[str]] = None) -> int:
    """Run the ``pydas`` command and return its exit status.

    :param argv: the arguments (default: ``sys.argv[1:]``)
    :returns: 0 on success, 1 when a pydas operation failed or a check did not pass
    """
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["serve"]:
        return _serve(argv[1:])
    args = _parser().parse_args(argv)
    try:
        return args.run(args)
    except (PydasException, OSError, ValueError) as error:
        print(f"pydas: error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("pydas: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
