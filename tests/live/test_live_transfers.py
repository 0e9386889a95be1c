"""Whole trees through ``pydas.upload`` and ``pydas.download`` on a real server.

The tree has what breaks naive clients: nested folders, an empty file and an
empty directory, a few MB, non-ASCII names and names with `` `` ``#`` ``&``
``%`` ``+`` (the server writes a name raw into its download redirect, see
``test_live_downloads.py``), and a leaf folder of several files (one item with
several bitstreams under ``leaf_folders_as_items``). Re-runs go through a
counting proxy in front of the server, which proves that they move no file
bytes.
"""

import hashlib
import os
import unicodedata
from urllib.parse import urlsplit

import pytest
from support.counting_proxy import CountingProxy

import pydas

TREE = {
    "tree/readme.txt": b"a small text file\n",
    "tree/empty.txt": b"",
    "tree/nested/deeper/deepest/bottom.txt": b"at the bottom\n",
    "tree/nested/deeper/sibling.bin": None,  # filled with random bytes
    "tree/big.bin": None,
    "tree/caf\u00e9 \u2013 \u00fcn\u00efcode \u65e5\u672c.txt": "non-ASCII \u00e9\n".encode(),
    "tree/name with spaces #1 & 50% + more.txt": b"awkward name\n",
    "tree/series 01/slice 1.dcm": None,
    "tree/series 01/slice 2.dcm": None,
    "tree/series 01/notes & #tags.txt": b"three files in one leaf folder\n",
    "tree/empty directory/": "directory",
}
SIZES = {"tree/big.bin": 3 * 1024 * 1024 + 17, "tree/nested/deeper/sibling.bin": 70_000}


def _write_tree(root):
    for relative, content in TREE.items():
        path = root.joinpath(*relative.rstrip("/").split("/"))
        if content == "directory":
            path.mkdir(parents=True, exist_ok=True)
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(os.urandom(SIZES.get(relative, 20_000)) if content is None else content)


def _local(root):
    """Every file under ``root`` with its MD5, and every directory, by relative path (NFC)."""
    found = {}
    for directory, dirs, files in os.walk(root):
        for name in dirs:
            found[_relative(root, directory, name) + "/"] = "directory"
        for name in files:
            with open(os.path.join(directory, name), "rb") as handle:
                found[_relative(root, directory, name)] = hashlib.md5(handle.read()).hexdigest()
    return found


def _relative(root, directory, name):
    path = os.path.relpath(os.path.join(directory, name), root).replace(os.sep, "/")
    return unicodedata.normalize("NFC", path)


def _repair(name):
    """Undo the server's double encoding of non-ASCII names."""
    try:
        return name.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return name


def _server(login, folder_id):
    """A folder on the server as ``{name/: {...}, item: {bitstream: md5}}`` (head revisions)."""
    communicator, token = login.communicator, login.token
    children = communicator.folder_children(token, folder_id)
    tree = {_repair(f["name"]) + "/": _server(login, f["folder_id"]) for f in children["folders"]}
    for item in children["items"]:
        revisions = communicator.item_get(token, item["item_id"])["revisions"]
        head = max(revisions, key=lambda r: int(r["revision"])) if revisions else {}
        tree[_repair(item["name"])] = {
            _repair(b["name"]): b["checksum"] for b in head.get("bitstreams", [])
        }
    return tree


def _expected_on_server(local, leaf_items):
    """What the server should hold for the local tree."""
    tree = {}
    for relative, checksum in local.items():
        parts = relative.rstrip("/").split("/")
        if checksum == "directory":
            node = tree
            for part in parts:
                node = node.setdefault(part + "/", {})
            continue
        *folders, name = parts
        node = tree
        for part in folders:
            node = node.setdefault(part + "/", {})
        node[name] = {name: checksum}
    if leaf_items:
        _fold_leaves(tree)
    return tree


def _fold_leaves(node):
    """Turn each directory without sub-directories into one item holding its files."""
    for name in list(node):
        if name.endswith("/"):
            child = node[name]
            if any(key.endswith("/") for key in child):
                _fold_leaves(child)
            else:
                node.pop(name)
                node[name[:-1]] = {file: files[file] for file, files in child.items()}


def _expected_copy(local, leaf_items):
    """What a download of the uploaded tree gives back.

    Under ``leaf_folders_as_items`` a leaf directory holding one file became
    an item with one file, and such an item downloads as that file, into the
    parent directory: that directory level is gone. All else comes back as it was.
    """
    if not leaf_items:
        return dict(local)
    directories = [path for path, value in local.items() if value == "directory"]
    collapsed = {
        directory for directory in directories
        if not any(other != directory and other.startswith(directory) for other in directories)
        and sum(1 for path in local if path.startswith(directory)) == 2  # itself and one file
    }
    copy = {}
    for path, value in local.items():
        if path in collapsed:
            continue
        parent = path.rpartition("/")[0] + "/"
        if parent in collapsed:
            path = parent[:-1].rpartition("/")[0] + "/" + path.rpartition("/")[2]
        copy[path] = value
    return copy


@pytest.fixture
def tree(tmp_path):
    _write_tree(tmp_path / "source")
    return tmp_path / "source" / "tree"


@pytest.fixture
def proxy(live):
    upstream = urlsplit(live["MIDAS_URL"])
    with CountingProxy(upstream.hostname, upstream.port or 80) as counting:
        yield counting


def _login_through(proxy, live):
    base = urlsplit(live["MIDAS_URL"])
    pydas.login(email=live["MIDAS_EMAIL"], api_key=live["MIDAS_API_KEY"],
                url=proxy.url + base.path)


def _file_traffic(proxy):
    """The requests that moved file bytes: upload bodies and downloads."""
    return [
        request for request in proxy.requests
        if request.verb == "PUT" or request.path.rstrip("/").endswith("/download")
        or request.api_method in ("midas.bitstream.download", "midas.item.download")
    ]


@pytest.mark.parametrize("leaf_items", [False, True], ids=["folders", "leaf-folders-as-items"])
def test_a_tricky_tree_comes_back_identical(live, live_user, scratch, tree, tmp_path, proxy,
                                            leaf_items):
    _login_through(proxy, live)
    destination = f"Private/{scratch['name']}"
    pydas.upload(str(tree), destination=destination, leaf_folders_as_items=leaf_items,
                 quiet=True)
    uploads = [request for request in proxy.requests if request.verb == "PUT"]
    assert uploads and sum(request.body_bytes for request in uploads) >= SIZES["tree/big.bin"]

    local = _local(tree.parent)
    assert _server(live_user, scratch["folder_id"]) == _expected_on_server(local, leaf_items)

    copy = tmp_path / "copy"
    returned = pydas.download(f"{destination}/tree", str(copy), quiet=True)
    assert returned == str(copy / "tree")
    assert _local(copy) == _expected_copy(local, leaf_items)


def test_rerunning_an_upload_and_a_download_moves_no_file_bytes(live, scratch, tree, tmp_path,
                                                                proxy):
    _login_through(proxy, live)
    destination = f"Private/{scratch['name']}"
    pydas.upload(str(tree), destination=destination, leaf_folders_as_items=True,
                 reuse_existing=True, quiet=True)
    copy = tmp_path / "copy"
    pydas.download(f"{destination}/tree", str(copy), quiet=True)
    assert _file_traffic(proxy)

    proxy.clear()
    pydas.upload(str(tree), destination=destination, leaf_folders_as_items=True,
                 reuse_existing=True, quiet=True)
    pydas.allow_existing_download_paths()
    pydas.download(f"{destination}/tree", str(copy), quiet=True)
    assert proxy.requests, "the re-runs did not go through the proxy"
    assert _file_traffic(proxy) == []
    assert _local(copy) == _expected_copy(_local(tree.parent), leaf_items=True)


def test_one_item_downloads_as_its_file_or_as_a_folder_of_its_files(live, live_user, scratch,
                                                                    tree, tmp_path):
    pydas.login(email=live["MIDAS_EMAIL"], api_key=live["MIDAS_API_KEY"], url=live["MIDAS_URL"])
    destination = f"Private/{scratch['name']}"
    pydas.upload(str(tree), destination=destination, leaf_folders_as_items=True, quiet=True)

    single = pydas.download(f"{destination}/tree/big.bin", str(tmp_path / "one"), quiet=True)
    assert single == str(tmp_path / "one" / "big.bin")
    assert (tmp_path / "one" / "big.bin").read_bytes() == (tree / "big.bin").read_bytes()

    several = pydas.download(f"{destination}/tree/series 01", str(tmp_path / "many"), quiet=True)
    assert several == str(tmp_path / "many" / "series 01")
    assert _local(tmp_path / "many" / "series 01") == _local(tree / "series 01")

