"""A table of malformed server answers: each gives a typed error, and nothing half-written.

The emulator answers every call but one; that one is answered (by
``responses``) with a well-formed envelope whose data has a wrong shape. The
error must be a :class:`pydas.exceptions.ParseError` (in practice
:class:`~pydas.exceptions.MalformedResponse`) that names the method and what
was wrong, without any secret in its text, and the local side must hold no
part file and nothing outside the target.
"""

import hashlib
import os

import pytest
import responses
from responses import matchers
from support.servertree import write_tree

import pydas
from pydas.exceptions import MalformedResponse, ParseError

A_MD5 = hashlib.md5(b"a").hexdigest()


def _item(**bitstream):
    record = {"bitstream_id": "5", "name": "a.txt", "sizebytes": "1", "checksum": A_MD5}
    record.update(bitstream)
    record = {key: value for key, value in record.items() if value is not None}
    return {"item_id": "3", "name": "a.txt", "revisions": [{"revision": "1",
                                                            "bitstreams": [record]}]}


# (method, data, what the user does, expected text, class)
ROWS = [
    ("midas.folder.children", [], "download",
     "midas.folder.children: the answer is a list, not an object",
     MalformedResponse),
    ("midas.folder.children", {"folders": "none", "items": []}, "download",
     "has 'folders' that is a str, not a list", MalformedResponse),
    ("midas.folder.children", {"folders": [], "items": [{"name": "a.txt"}]}, "download",
     "has an item without 'item_id'", MalformedResponse),
    ("midas.user.folders", {"0": {"name": "Private"}}, "download",
     "midas.user.folders: the answer is an object, not a list",
     MalformedResponse),
    ("midas.item.get", "oops", "download",
     "midas.item.get: the answer is a string, not an object",
     MalformedResponse),
    ("midas.item.get", dict(_item(), revisions="1"), "download",
     "midas.item.get: the server's answer has 'revisions' that is a str, not a list",
     MalformedResponse),
    ("midas.item.get", _item(bitstream_id=None), "download",
     "has a bitstream without 'bitstream_id'", MalformedResponse),
    ("midas.item.get", _item(sizebytes="12 kB"), "download",
     "has a sizebytes of bitstream 5 '12 kB', not a non-negative integer", MalformedResponse),
    ("midas.item.get", _item(sizebytes="-1"), "download",
     "has a sizebytes of bitstream 5 '-1', not a non-negative integer", MalformedResponse),
    ("midas.item.get", _item(checksum=""), "download",
     "has bitstream 5 without an MD5 checksum", MalformedResponse),
    ("midas.item.get", {"item_id": "3", "name": "a.txt",
                        "revisions": [{"revision": "first", "bitstreams": []}]}, "download",
     "has a revision number 'first', not a non-negative integer", MalformedResponse),
    ("midas.item.get", None, "upload_again",
     "midas.item.get: the answer is null, not an object",
     MalformedResponse),
    ("midas.item.create", {"name": "a.txt"}, "upload_leaf",
     "midas.item.create: the server's answer has data without 'item_id'", MalformedResponse),
    ("midas.upload.generatetoken", {"token": {"id": 1}}, "upload",
     "midas.upload.generatetoken: the server's answer has a 'token' that is a dict, not text",
     MalformedResponse),
    ("midas.upload.generatetoken", {"tok": "x"}, "upload",
     "midas.upload.generatetoken: the server's answer has no 'token'", MalformedResponse),
    ("midas.upload.perform", {"name": "a.txt"}, "upload",
     "midas.upload.perform: the server's answer has data without 'item_id'", MalformedResponse),
    ("midas.upload.perform", ["a.txt"], "upload",
     "midas.upload.perform: the server's answer has data that is a list, not an object",
     MalformedResponse),
    ("midas.folder.create", ["data"], "upload",
     "midas.folder.create: the answer is a list, not an object",
     MalformedResponse),
    # the driver checks these answers (pydas.drivers): a token for an item made beforehand
    ("midas.upload.generatetoken", {"token": {"id": 1}}, "upload_leaf",
     "midas.upload.generatetoken: the answer's 'token' is an object", MalformedResponse),
    ("midas.upload.generatetoken", {"tok": "x"}, "upload_leaf",
     "midas.upload.generatetoken: the answer has no 'token' member", MalformedResponse),
    ("midas.upload.getoffset", {"offset": "-5"}, "upload_cut",
     "midas.upload.getoffset: the offset '-5' is not a byte count", MalformedResponse),
    ("midas.upload.getoffset", {"offset": "12 kB"}, "upload_cut",
     "midas.upload.getoffset: the offset '12 kB' is not a byte count", MalformedResponse),
    ("midas.folder.get", "folder", "download_by_id",
     "midas.folder.get: the answer is a string, not an object",
     MalformedResponse),
    ("midas.user.get", ["Jane"], "download_by_user",
     "midas.user.get: the server's answer has data that is a list, not an object",
     MalformedResponse),
    ("midas.community.get", {"name": "Atlas"}, "download_by_community",
     "midas.community.get: the server's answer has data without 'folder_id'",
     MalformedResponse),
]


def _snapshot(root):
    found = set()
    for directory, dirs, files in os.walk(root):
        found.update(os.path.join(directory, name) for name in dirs + files)
    return found


@pytest.mark.parametrize("method, data, action, text, cls", ROWS,
                         ids=[f"{row[0]}-{index}" for index, row in enumerate(ROWS)])
def test_a_malformed_answer_is_a_typed_error(logged_in, midas_server, midas_user, tmp_path,
                                             monkeypatch, method, data, action, text, cls):
    write_tree(tmp_path / "source", {"data/a.txt": b"a", "other.bin": os.urandom(300_000)})
    monkeypatch.chdir(tmp_path / "source")
    pydas.upload("data", quiet=True)
    private = pydas.session.communicator.folder_children(logged_in, midas_user.private_folder_id)
    folder_id = private["folders"][0]["folder_id"]
    target = tmp_path / "target"
    target.mkdir()
    before = _snapshot(tmp_path)
    actions = {
        "download": lambda: pydas.download("Private/data", str(target), quiet=True),
        "download_by_id": lambda: pydas.download_folder_recursive(folder_id, str(target),
                                                                  quiet=True),
        "download_by_user": lambda: pydas.download("/users/Jane_Doe/Private/data",
                                                   str(target), quiet=True),
        "download_by_community": lambda: pydas.download("/communities/Atlas/Public",
                                                        str(target), quiet=True),
        "upload": lambda: pydas.upload("data", reuse_existing=False, destination="Public",
                                       quiet=True),
        "upload_leaf": lambda: pydas.upload("data", leaf_folders_as_items=True,
                                            destination="Public", quiet=True),
        "upload_again": lambda: pydas.upload("data", reuse_existing=True, quiet=True),
        "upload_cut": lambda: pydas.upload("other.bin", quiet=True),
    }
    if action == "upload_cut":
        midas_server.faults.cut_request_after(100_000, match="midas.upload.perform")
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        mock.add_passthru(midas_server.url)
        verb = responses.PUT if method == "midas.upload.perform" else responses.POST
        mock.add(verb, f"{midas_server.url}/api/json",
                 match=[matchers.query_param_matcher({"method": method}, strict_match=False)],
                 json={"code": "0", "data": data, "message": "", "stat": "ok"})
        with pytest.raises(ParseError) as raised:
            actions[action]()
    error = raised.value
    assert type(error) is cls
    assert text in str(error) and error.method == method
    for secret in (logged_in, midas_user.api_key):
        assert secret not in str(error) and secret not in repr(error)
    after = _snapshot(tmp_path)
    assert not [path for path in after if path.endswith(".pydas-part")]
    assert {path for path in after - before if not path.startswith(str(target))} == set()
