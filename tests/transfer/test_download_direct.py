"""Downloads in two requests per file: item.get, then one POST /download/ (token in its body)."""

import collections
import os
import random

import pytest
from support.servertree import md5, methods

import pydas
from pydas import exceptions
from pydas._transfer.parts import SUFFIX
from pydas._transfer.summary import TransferSummary

DATA = random.Random(11).randbytes(700_000)


@pytest.fixture
def tree(logged_in, tmp_path, monkeypatch):
    """``Private/data`` with ``one.bin`` (700,000 bytes), ``two.txt`` and ``sub/three.txt``."""
    source = tmp_path / "source" / "data"
    (source / "sub").mkdir(parents=True)
    (source / "one.bin").write_bytes(DATA)
    (source / "two.txt").write_bytes(b"two")
    (source / "sub" / "three.txt").write_bytes(b"three")
    monkeypatch.chdir(tmp_path / "source")
    pydas.upload("data", quiet=True)
    return tmp_path / "target"


def test_each_file_costs_an_item_get_and_one_post_with_no_secret_in_any_url(
        tree, midas_server, midas_user):
    midas_server.clear_request_log()
    pydas.download("Private/data", str(tree), quiet=True)
    assert (tree / "data" / "one.bin").read_bytes() == DATA
    log = midas_server.request_log
    assert collections.Counter(methods(midas_server)) == {
        "midas.user.folders": 1,
        "midas.folder.children": 3,  # the path's resolution, then one per folder
        "midas.item.get": 3,
        None: 3,  # the files
    }
    files = [record for record in log if record.api_method is None]
    assert {(r.verb, r.path, r.status) for r in files} == {("POST", "/download/", 200)}
    token = pydas.session.token
    assert all(record.query.keys() <= {"method"} for record in log)
    assert all(token not in str(sorted(record.query.values())) for record in log)
    assert {record.params["authToken"] for record in files} == {token}


def test_a_cut_download_continues_from_the_very_byte_it_was_cut_at(tree, midas_server):
    cut = 300_001  # inside a piece of any size
    midas_server.faults.cut_response_after(cut, match="/download")
    midas_server.clear_request_log()
    summary = TransferSummary()
    pydas.download("Private/data/one.bin", str(tree), quiet=True, summary=summary)
    assert (tree / "one.bin").read_bytes() == DATA
    offsets = [record.params.get("offset") for record in midas_server.request_log
               if record.path == "/download/"]
    assert offsets == [None, str(cut)]
    assert summary.bytes_received == len(DATA) and summary.resumed == 1


def test_a_token_that_expires_before_the_download_is_renewed_once(
        tree, midas_server, midas_user, monkeypatch):
    communicator = pydas.session.communicator
    item_get = communicator.item_get

    def then_expire(*args, **kwargs):
        item = item_get(*args, **kwargs)
        midas_server.expire_tokens(midas_user.email)
        return item

    monkeypatch.setattr(communicator, "item_get", then_expire)
    midas_server.clear_request_log()
    pydas.download("Private/data/two.txt", str(tree), quiet=True)
    assert (tree / "two.txt").read_bytes() == b"two"
    # the endpoint's "500 Invalid token" page is explained by the API method (-101)
    assert methods(midas_server)[-5:] == [
        "midas.item.get", None, "midas.bitstream.download", "midas.login", None]
    assert [r.status for r in midas_server.request_log if r.api_method is None] == [500, 200]


def test_a_file_deleted_before_its_download_is_a_typed_error_and_leaves_nothing(
        tree, midas_server, monkeypatch):
    communicator = pydas.session.communicator
    item_get = communicator.item_get

    def then_delete(token, item_id):
        item = item_get(token, item_id)
        communicator.delete_item(token, item_id)
        return item

    monkeypatch.setattr(communicator, "item_get", then_delete)
    tree.mkdir()
    with pytest.raises(exceptions.InvalidParameter, match="does not exist"):
        pydas.download("Private/data/one.bin", str(tree), quiet=True)
    assert os.listdir(tree) == []


def test_names_with_query_characters_and_empty_files_arrive_intact(
        logged_in, tmp_path, midas_server):
    names = {"a&b#c%d+e.bin": b"odd", "näme ü €.txt": b"utf", "empty": b""}
    source = tmp_path / "odd"
    source.mkdir()
    for name, content in names.items():
        (source / name).write_bytes(content)
    pydas.upload(str(source), quiet=True)
    pydas.download("Private/odd", str(tmp_path / "copy"), quiet=True)
    copy = tmp_path / "copy" / "odd"
    assert {name: md5((copy / name).read_bytes()) for name in os.listdir(copy)} == {
        name: md5(content) for name, content in names.items()}
    assert not [name for name in os.listdir(copy) if name.endswith(SUFFIX)]
