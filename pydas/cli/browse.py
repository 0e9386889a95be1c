"""``pydas ls`` and ``pydas tree``: what is on the server, without guessing paths."""

import argparse
import sys
from typing import Any, Dict, List, Optional, Tuple

from pydas import api
from pydas.cli.connect import connect
from pydas.cli.errors import Context
from pydas.cli.output import Output, human_size

__all__ = ["run_ls", "run_tree"]

_ID = {"folder": "folder_id", "item": "item_id", "bitstream": "bitstream_id"}


def _size(resource: Dict[str, Any]) -> Optional[int]:
    try:
        return int(resource["sizebytes"])
    except (KeyError, TypeError, ValueError):
        return None


def _entry(kind: str, resource: Dict[str, Any]) -> Dict[str, Any]:
    """One listed folder, item or bitstream, in the shape ``--json`` prints."""
    entry: Dict[str, Any] = {
        "type": kind,
        "id": str(resource.get(_ID[kind], "")),
        "name": str(resource.get("name", "")),
        "size": None if kind == "folder" else _size(resource),
        "updated": resource.get("date_update") or resource.get("date") or None,
    }
    if kind == "bitstream":
        entry["checksum"] = resource.get("checksum") or None
    return entry


def _listing(server_path: Optional[str]) -> List[Dict[str, Any]]:
    if not server_path:
        return [_entry("folder", folder) for folder in api.list_folder()["folders"]]
    kind, resource = api.resolve_path(server_path)
    if kind == "item":
        return [_entry("bitstream", b) for b in api.list_item(resource["item_id"])]
    contents = api.list_folder(resource["folder_id"])
    return [_entry("folder", f) for f in contents["folders"]] + [
        _entry("item", i) for i in contents["items"]
    ]


def run_ls(args: argparse.Namespace, out: Output, context: Context) -> int:
    """List a server folder (its folders, then its items) or an item's files."""
    connect(args, context)
    entries = _listing(args.server_path)
    if args.json:
        out.json(entries)
    elif args.long:
        out.table(
            [
                [
                    entry["type"],
                    "-" if entry["size"] is None else human_size(entry["size"]),
                    str(entry["updated"] or "-"),
                    entry["id"],
                    entry["name"] + ("/" if entry["type"] == "folder" else ""),
                ]
                for entry in entries
            ],
            right=[1],
        )
    else:
        for entry in entries:
            out.result(entry["name"] + ("/" if entry["type"] == "folder" else ""))
    return 0


def _branches(out_encoding: Optional[str]) -> Tuple[str, str, str, str]:
    fancy = ("├── ", "└── ", "│   ", "    ")
    try:
        "".join(fancy).encode(out_encoding or "utf-8")
    except (UnicodeEncodeError, LookupError):
        return ("|-- ", "`-- ", "|   ", "    ")
    return fancy


def run_tree(args: argparse.Namespace, out: Output, context: Context) -> int:
    """Print a server folder and everything below it (``--depth`` levels)."""
    connect(args, context)
    tee, last, pipe, blank = _branches(getattr(sys.stdout, "encoding", None))
    counts = {"folder": 0, "item": 0, "bytes": 0}

    def show(entry: Dict[str, Any]) -> str:
        label = str(entry["name"])
        if entry["type"] == "folder":
            return label + "/"
        size = entry["size"]
        return label + ("" if size is None else f"  ({human_size(size)})")

    def below(folder_id: Any, prefix: str, depth: int) -> None:
        contents = api.list_folder(folder_id)
        entries = [("folder", f) for f in contents["folders"]] + [
            ("item", i) for i in contents["items"]
        ]
        for index, (kind, resource) in enumerate(entries):
            entry = _entry(kind, resource)
            counts[kind] += 1
            counts["bytes"] += entry["size"] or 0
            final = index == len(entries) - 1
            out.result(prefix + (last if final else tee) + show(entry))
            if kind == "folder" and (args.depth is None or depth < args.depth):
                below(resource["folder_id"], prefix + (blank if final else pipe), depth + 1)

    if not args.server_path:
        out.result("~")
        roots = api.list_folder()["folders"]
        for index, folder in enumerate(roots):
            final = index == len(roots) - 1
            counts["folder"] += 1
            out.result((last if final else tee) + str(folder["name"]) + "/")
            if args.depth is None or args.depth > 1:
                below(folder["folder_id"], blank if final else pipe, 2)
    else:
        kind, resource = api.resolve_path(args.server_path)
        if kind == "item":
            out.result(show(_entry("item", resource)))
            bitstreams = api.list_item(resource["item_id"])
            for index, bitstream in enumerate(bitstreams):
                counts["bytes"] += _size(bitstream) or 0
                final = index == len(bitstreams) - 1
                out.result((last if final else tee) + show(_entry("bitstream", bitstream)))
        else:
            out.result(args.server_path.rstrip("/") + "/")
            below(resource["folder_id"], "", 1)
    out.info(
        f"{counts['folder']} folders, {counts['item']} items, {human_size(counts['bytes'])}"
    )
    return 0

