"""The command line of ``pydas``: its sub-commands, options and help texts."""

import argparse
from typing import Any, Callable, Dict

import pydas
from pydas.cli import account, browse, demo, transfers
from pydas.cli.connect import add_connection_options

__all__ = ["build_parser", "COMMANDS"]

#: Sub-command name -> the function running it (``serve`` is handled before parsing).
COMMANDS: Dict[str, Callable[..., int]] = {
    "upload": transfers.run_upload,
    "download": transfers.run_download,
    "ls": browse.run_ls,
    "tree": browse.run_tree,
    "login": account.run_login,
    "logout": account.run_logout,
    "whoami": account.run_whoami,
    "demo": demo.run_demo,
}

_EPILOG = """\
exit codes: 0 success, 1 failure (a transfer that could not complete intact),
2 usage, 3 authentication, 4 not found, 5 permission, 6 conflict, 7 network,
8 server error, 130 interrupted.  See `pydas COMMAND --help` for each command."""


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive whole number, not {text!r}")
    return value


def _output_options(parser: argparse.ArgumentParser, suppress: bool) -> None:
    """``-v``, ``-q`` and ``--debug``; in sub-commands they only override when given."""
    unset: Any = argparse.SUPPRESS
    group = parser.add_argument_group("output")
    group.add_argument("-v", "--verbose", action="count", default=unset if suppress else 0,
                       help="log what pydas does on standard error (-vv: in detail, and "
                       "show tracebacks)")
    group.add_argument("-q", "--quiet", action="store_true", default=unset if suppress else False,
                       help="print only results and errors")
    group.add_argument("--debug", action="store_true", default=unset if suppress else False,
                       help="show the traceback of a failure (and log in detail)")


def _command(commands: "argparse._SubParsersAction[argparse.ArgumentParser]", name: str,
             help_text: str, description: str, connection: bool = True) -> argparse.ArgumentParser:
    parser = commands.add_parser(name, help=help_text, description=description,
                                 epilog=_EPILOG)
    _output_options(parser, suppress=True)
    if connection:
        add_connection_options(parser)
    return parser


def build_parser() -> argparse.ArgumentParser:
    """Build the parser of the ``pydas`` command."""
    parser = argparse.ArgumentParser(
        prog="pydas",
        description="Move data to and from a Midas Server 3, and browse it.",
        epilog=_EPILOG,
    )
    parser.add_argument("--version", action="version", version=f"pydas {pydas.__version__}",
                        help="print the version of pydas and exit")
    _output_options(parser, suppress=False)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True,
                                     help="what to do")

    upload = _command(
        commands, "upload", "upload local files and directories",
        "Upload files and directories (or glob patterns) into a server folder: each file "
        "becomes an item, each directory a folder. Everything is checked locally before "
        "anything is sent.",
    )
    upload.add_argument("paths", nargs="+", metavar="PATH",
                        help="a file, a directory or a glob pattern")
    target = upload.add_mutually_exclusive_group()
    target.add_argument("--destination", default="Private", metavar="SERVER_PATH",
                        help="the server folder to upload into: a home folder (Private, "
                        "Public, Private/sub) or /users/<first>_<last>/... or "
                        "/communities/<name>/... (default: Private)")
    target.add_argument("--folder-id", metavar="ID",
                        help="the id of the server folder to upload into")
    upload.add_argument("--leaf-folders-as-items", action="store_true",
                        help="upload each directory without sub-directories as one item "
                        "holding its files (a DICOM series per item, say)")
    upload.add_argument("--reuse-existing", action="store_true",
                        help="upload into folders and items that exist already: unchanged "
                        "files are not sent again, changed ones become a new revision")
    upload.add_argument("--check-all", action="store_true",
                        help="with --reuse-existing, ask the server about every existing "
                        "item instead of trusting the record of earlier runs (after files "
                        "were deleted or renamed inside items on the server, which its "
                        "listings do not show; the same as PYDAS_NO_RECORD=1)")
    upload.add_argument("--exclude", action="append", default=[], metavar="GLOB",
                        help="leave out files and directories whose name or relative path "
                        "(e.g. scans/raw) matches GLOB, at every level, inside leaf folders "
                        "uploaded as items too (repeatable; quote it: '*.tmp')")
    upload.add_argument("--dry-run", action="store_true",
                        help="say what would be uploaded and what skipped as unchanged "
                        "(with --reuse-existing), and send nothing")
    upload.add_argument("--workers", type=_positive, default=1, metavar="N",
                        help="upload N items at a time (default 1)")
    upload.add_argument("--json", action="store_true",
                        help="print only a JSON summary: files uploaded, unchanged, "
                        "resumed, repaired, bytes sent")

    download = _command(
        commands, "download", "download a server folder or item",
        "Download a server folder (recursively) or item into a local directory. Re-running "
        "the same command continues: files already there with the right checksum are "
        "skipped, others are fetched and replaced only once verified.",
    )
    download.add_argument("server_path", metavar="SERVER_PATH",
                          help="e.g. Private/scans or /users/Jane_Doe/Public/scans")
    download.add_argument("local_dir", nargs="?", default=".", metavar="LOCAL_DIR",
                          help="the local directory to download into (default: the current "
                          "one; created if missing)")
    download.add_argument("--exclude", action="append", default=[], metavar="GLOB",
                          help="leave out folders, items and files whose server name or "
                          "path relative to LOCAL_DIR matches GLOB, at every level "
                          "(repeatable; quote it: '*.tmp')")
    download.add_argument("--dry-run", action="store_true",
                          help="say which files would be downloaded and which are in place "
                          "already (same size and MD5), and write nothing")
    download.add_argument("--check-all", action="store_true",
                          help="read every item from the server instead of trusting the "
                          "record of earlier runs (after files were deleted or renamed "
                          "inside items on the server, which its listings do not show; "
                          "the same as PYDAS_NO_RECORD=1)")
    download.add_argument("--workers", type=_positive, default=1, metavar="N",
                          help="download N items at a time (default 1)")
    download.add_argument("--json", action="store_true",
                          help="print only a JSON summary: files downloaded, unchanged, "
                          "resumed, bytes received")

    ls = _command(commands, "ls", "list a server folder or item",
                  "List the folders and items of a server folder, or the files of an item.")
    ls.add_argument("server_path", nargs="?", metavar="SERVER_PATH",
                    help="the folder or item to list (default: your home folders)")
    shape = ls.add_mutually_exclusive_group()
    shape.add_argument("-l", "--long", action="store_true",
                       help="show type, size, last change and id too")
    shape.add_argument("--json", action="store_true",
                       help="print a JSON list of {type, id, name, size, updated}")

    tree = _command(commands, "tree", "show a server folder and everything below it",
                    "Show a server folder, its sub-folders and items, as a tree.")
    tree.add_argument("server_path", nargs="?", metavar="SERVER_PATH",
                      help="the folder to show (default: your home folders)")
    tree.add_argument("--depth", type=_positive, metavar="N",
                      help="show only N levels below SERVER_PATH")

    login = _command(
        commands, "login", "log in and store the API key for the other commands",
        "Log in (asking for the password unless --api-key-env or MIDAS_API_KEY gives a "
        "key) and store the account's API key: in the system keyring when one is usable, "
        "otherwise in a file readable by you only. The server becomes the default one.",
    )
    login.add_argument("--store", choices=("keyring", "file"),
                       help="where to keep the API key (default: the keyring if usable)")

    _command(commands, "logout", "remove the stored login",
                      "Remove the stored login (API key and e-mail) of a server: the one "
                      "given by --url, otherwise the default one.")

    _command(commands, "whoami", "say who you are logged in as, and where",
             "Log in as the other commands would and say as whom, on which server, and "
             "where the credentials came from.")

    demo_parser = _command(
        commands, "demo", "run the manual's quick start end to end, in a scratch folder",
        "Upload the manual's quick-start trees into a new scratch folder, download them "
        "back, compare every file and delete the folder. Without a configured server it "
        "uses a local emulator; on a real server it asks first.",
    )
    demo_parser.add_argument("--destination", default="Private", metavar="SERVER_PATH",
                             help="the folder to create the scratch folder in "
                             "(default: Private)")
    demo_parser.add_argument("--yes", action="store_true",
                             help="do not ask before writing to a real server")
    demo_parser.add_argument("--local", action="store_true",
                             help="use a local emulator even when a server is configured")
    demo_parser.add_argument("--keep", action="store_true",
                             help="keep the scratch folder on the server")

    commands.add_parser("serve", help="run the local Midas emulator in the foreground "
                        "(`pydas serve --help` for its options)", add_help=False)
    return parser
