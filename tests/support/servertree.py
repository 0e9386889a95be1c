"""Local and server trees and the request log, as the transfer tests compare them."""

import hashlib
import os

import pydas
from pydas._transfer.answers import item_record
from pydas._transfer.names import repair_text


def md5(data):
    return hashlib.md5(data).hexdigest()


def write_tree(root, files):
    """Create files (``bytes`` values) and empty directories (``None``) under ``root``."""
    for relative, content in files.items():
        path = os.path.join(str(root), *relative.split("/"))
        if content is None:
            os.makedirs(path, exist_ok=True)
            continue
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as handle:
            handle.write(content)


def local_tree(root):
    """Map every file under ``root`` to its MD5 and every directory to ``None``."""
    tree = {}
    for directory, dirs, files in os.walk(str(root)):
        for name in dirs:
            tree[os.path.relpath(os.path.join(directory, name), str(root)) + "/"] = None
        for name in files:
            path = os.path.join(directory, name)
            with open(path, "rb") as handle:
                tree[os.path.relpath(path, str(root))] = md5(handle.read())
    return tree


def server_tree(folder_id):
    """Describe a server folder: ``{"name/": subtree, "item": {bitstream: md5}}``.

    Items map to the bitstreams of their head revision (names repaired from
    the server's double encoding).
    """
    communicator, token = pydas.session.communicator, pydas.session.token
    children = communicator.folder_children(token, folder_id)
    tree = {}
    for folder in children["folders"]:
        tree[repair_text(folder["name"]) + "/"] = server_tree(folder["folder_id"])
    for item in children["items"]:
        tree[repair_text(item["name"])] = item_files(item["item_id"])
    return tree


def item_files(item_id):
    """The head revision of an item as ``{bitstream name: md5}``; raises on duplicates."""
    item = item_record(pydas.session.communicator.item_get(pydas.session.token, item_id))
    files = {}
    for bitstream in item.head.bitstreams if item.head else ():
        name = repair_text(bitstream.name)
        assert name not in files, f"two bitstreams named {name!r} in item {item_id}"
        files[name] = bitstream.checksum
    return files


def methods(server):
    """The API methods (``None`` for ``/download/`` requests) of the request log."""
    return [record.api_method for record in server.request_log]
