"""Upload re-runs with the re-run record: nothing asked when nothing changed, every change caught.

Each test uploads a tree, lets the record settle (on an injected clock: no
real waiting), changes something locally or on the server (as another
client would), runs the same upload again and checks what it asked and what
the server holds afterwards.
"""

import collections
import json
import math
import os
import select
import signal
import subprocess
import sys
import textwrap

import pytest
from support.clock import Clock, use_clock
from support.processes import killable, sigkill
from support.servertree import item_files, local_tree, md5, methods, write_tree
from support.sessions import interrupt_uploads_after

import pydas
from pydas import exceptions
from pydas._transfer import deferred
from pydas._transfer.cache import CACHE_FILE, CacheStore
from pydas._transfer.record import ItemState, LocalState, Record
from pydas._transfer.remote import Remote
from pydas._transfer.rerun import entry_key
from pydas._transfer.summary import TransferSummary

TREE = {
    "data/a.txt": b"alpha",
    "data/b.txt": b"bravo!",
    "data/sub/c.txt": b"charlie",
    "data/sub/series/1.dcm": b"one-1",
    "data/sub/series/2.dcm": b"two-22",
}
LISTINGS = {"midas.user.folders", "midas.folder.children"}


@pytest.fixture
def clock(monkeypatch):
    return use_clock(monkeypatch, Clock())


@pytest.fixture
def cache_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("PYDAS_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache"


#: The workers of the runs of a test (see ``waiting``).
_RUNS = {"workers": 1}


@pytest.fixture
def waiting(monkeypatch):
    """Make the runs of a test wait for their last verifications (on the injected clock).

    They run with two workers: with one, verifications run on a thread of
    their own, which waits in real time.
    """
    monkeypatch.setattr(deferred, "TAIL_SHARE", math.inf)
    monkeypatch.setitem(_RUNS, "workers", 2)


@pytest.fixture
def tree(tmp_path, monkeypatch, logged_in, clock, cache_dir, waiting):
    """``TREE`` written, uploaded once, and its record settled; the request log cleared."""
    write_tree(tmp_path, TREE)
    monkeypatch.chdir(tmp_path)
    clock.advance(3)  # the files are no longer racy
    _upload()
    clock.advance(3)
    _upload()  # the leaf item's record settles on the run after its upload
    clock.advance(3)
    return tmp_path / "data"


def _upload(*, quiet=True, **options):
    """Upload ``data`` again (leaf directories as items, unless ``data`` is the only directory)."""
    summary = TransferSummary()
    options.setdefault("workers", _RUNS["workers"])
    leaf_items = any(entry.is_dir() for entry in os.scandir("data"))
    pydas.upload("data", reuse_existing=True, leaf_folders_as_items=leaf_items, quiet=quiet,
                 summary=summary, **options)
    return summary


def _asked(midas_server):
    """The requests of the log other than listings."""
    return collections.Counter(m for m in methods(midas_server) if m not in LISTINGS)


def _items(midas_server, folder_id):
    """The listing entries of a folder by name."""
    children = pydas.session.communicator.folder_children(pydas.session.token, folder_id)
    return {item["name"]: item for item in children["items"]}


def _folder(name, parent_id):
    children = pydas.session.communicator.folder_children(pydas.session.token, parent_id)
    return next(f["folder_id"] for f in children["folders"] if f["name"] == name)


def _data_ids(midas_user):
    data = _folder("data", midas_user.private_folder_id)
    sub = _folder("sub", data)
    return data, sub


def _server_files(midas_user):
    """What the server holds for the tree: ``{relative path: md5}`` of each head revision."""
    data, sub = _data_ids(midas_user)
    found = {}
    for prefix, folder_id in (("data/", data), ("data/sub/", sub)):
        children = pydas.session.communicator.folder_children(pydas.session.token, folder_id)
        for item in children["items"]:
            files = item_files(item["item_id"])
            if list(files) == [item["name"]]:
                found[prefix + item["name"]] = files[item["name"]]
            else:
                found.update({f"{prefix}{item['name']}/{n}": m for n, m in files.items()})
    return found


def _local_files(root):
    return {"data/" + path: digest for path, digest in local_tree(root).items() if digest}


def _rewrite_keeping_size_and_mtime(path, content):
    before = os.stat(path)
    assert len(content) == before.st_size
    path.write_bytes(content)
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))


def _other_client_uploads(item_id, name, content, tmp_path, new_revision=True):
    """Another client puts ``content`` into the item as ``name`` (a new revision by default)."""
    source = tmp_path / "elsewhere" / name
    source.parent.mkdir(exist_ok=True)
    source.write_bytes(content)
    communicator, token = pydas.session.communicator, pydas.session.token
    upload_token = communicator.generate_upload_token(token, item_id, name)
    communicator.perform_upload(upload_token, name, filepath=str(source),
                                create_additional_revision=new_revision)


# -- nothing changed ---------------------------------------------------------------------------


def test_an_unchanged_rerun_asks_only_for_listings_and_sends_nothing(
        tree, midas_server, capsys, clock):
    capsys.readouterr()
    midas_server.clear_request_log()
    summary = _upload(quiet=False, workers=1)  # nothing new: nothing waits
    assert _asked(midas_server) == {}
    assert collections.Counter(methods(midas_server)) == {
        "midas.user.folders": 1, "midas.folder.children": 3}
    assert (summary.uploaded, summary.unchanged, summary.bytes_sent) == (0, 5, 0)
    lines = capsys.readouterr().out.splitlines()
    clock.advance(3)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PYDAS_NO_RECORD", "1")  # the lines of a run that asks about every item
        _upload(quiet=False, workers=1)
    assert lines == capsys.readouterr().out.splitlines()
    assert any("Uploading Bitstream from" in line for line in lines)


def test_the_first_rerun_is_free_for_new_files_as_their_verification_waited(
        tmp_path, monkeypatch, logged_in, clock, cache_dir, waiting, midas_server):
    write_tree(tmp_path, {"data/a.txt": b"alpha", "data/b.txt": b"bravo"})
    monkeypatch.chdir(tmp_path)
    clock.advance(3)
    started = clock.monotonic()
    _upload()
    assert clock.monotonic() - started >= 2  # the verifications waited (no real time passed)
    midas_server.clear_request_log()
    assert _upload().unchanged == 2
    assert _asked(midas_server) == {}


def test_a_short_run_verifies_at_once_and_its_rerun_checks_each_item(
        tmp_path, monkeypatch, logged_in, clock, cache_dir, midas_server):
    write_tree(tmp_path, {"data/a.txt": b"alpha"})
    monkeypatch.chdir(tmp_path)
    clock.advance(3)
    _upload()  # the wait would be long compared to the run: verified at once, not settled
    midas_server.clear_request_log()
    assert _upload().unchanged == 1
    assert _asked(midas_server) == {"midas.item.get": 1}


# -- local changes -----------------------------------------------------------------------------


def _same_size_new_content(root):
    _rewrite_keeping_size_and_mtime(root / "a.txt", b"ALPHA")


def _replaced_by_another_file(root):
    before = os.stat(root / "b.txt")
    other = root.parent / "b.new"
    other.write_bytes(b"BRAVO!")
    os.utime(other, ns=(before.st_atime_ns, before.st_mtime_ns))
    os.replace(other, root / "b.txt")


def _appended(root):
    with open(root / "sub" / "c.txt", "ab") as handle:
        handle.write(b" and more")


def _truncated(root):
    (root / "a.txt").write_bytes(b"")


def _leaf_file_changed(root):
    _rewrite_keeping_size_and_mtime(root / "sub" / "series" / "2.dcm", b"TWO-22")


def _leaf_file_added(root):
    (root / "sub" / "series" / "3.dcm").write_bytes(b"three")


@pytest.mark.parametrize("change", [
    _same_size_new_content, _replaced_by_another_file, _appended, _truncated,
    _leaf_file_changed, _leaf_file_added,
])
def test_every_local_change_is_uploaded_and_verified(tree, midas_server, midas_user, change,
                                                     clock):
    change(tree)
    clock.advance(3)
    midas_server.clear_request_log()
    summary = _upload()
    assert summary.uploaded >= 1 and summary.bytes_sent > 0 or change is _truncated
    assert _server_files(midas_user) == _local_files(tree)
    assert _asked(midas_server)["midas.item.get"] >= 1  # the upload was verified
    midas_server.clear_request_log()
    clock.advance(3)
    _upload()  # and the record of the change lets the next run skip it
    assert set(_asked(midas_server)) <= {"midas.item.get"}


def test_a_file_removed_from_a_leaf_item_is_left_on_the_server_as_without_a_record(
        tree, midas_server, midas_user, clock):
    (tree / "sub" / "series" / "2.dcm").unlink()
    summary = _upload()
    assert (summary.uploaded, summary.bytes_sent) == (0, 0)
    assert "data/sub/series/2.dcm" in _server_files(midas_user)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PYDAS_NO_RECORD", "1")
        full = _upload()
    assert (full.uploaded, full.unchanged) == (summary.uploaded, summary.unchanged)


def test_a_racy_file_is_hashed_again_on_a_coarse_file_system_clock(
        tmp_path, monkeypatch, logged_in, clock, cache_dir, waiting, midas_server, midas_user):
    # times in whole 10 s steps: a rewrite right after the record leaves size and times equal
    real_from_stat = LocalState.from_stat.__func__

    def coarse(cls, info, read_ns):
        state = real_from_stat(cls, info, read_ns)
        step = 10 * 1_000_000_000
        return cls(state.size, state.mtime_ns // step * step, state.ctime_ns // step * step,
                   state.inode, state.device, state.read_ns)

    monkeypatch.setattr(LocalState, "from_stat", classmethod(coarse))
    write_tree(tmp_path, {"data/a.txt": b"alpha"})
    monkeypatch.chdir(tmp_path)
    # the state is read in the file's tick: racy
    clock.now = os.stat(tmp_path / "data" / "a.txt").st_mtime // 10 * 10 + 0.5
    _upload()
    (tmp_path / "data" / "a.txt").write_bytes(b"ALPHA")  # same size, same coarse times
    clock.advance(3)
    midas_server.clear_request_log()
    assert _upload().uploaded == 1
    assert item_files(_items(midas_server, _folder("data", midas_user.private_folder_id))
                      ["a.txt"]["item_id"]) == {"a.txt": md5(b"ALPHA")}


# -- server changes ----------------------------------------------------------------------------


def test_a_new_revision_by_another_client_is_noticed_and_replaced(tree, midas_server,
                                                                  midas_user, tmp_path, clock):
    data, _ = _data_ids(midas_user)
    item = _items(midas_server, data)["a.txt"]
    _other_client_uploads(item["item_id"], "a.txt", b"ALIEN", tmp_path)  # same size
    clock.advance(3)
    summary = _upload()
    assert summary.uploaded == 1
    assert _server_files(midas_user) == _local_files(tree)


def test_a_new_revision_with_the_same_content_is_compared_and_left(tree, midas_server,
                                                                   midas_user, tmp_path, clock):
    data, _ = _data_ids(midas_user)
    item = _items(midas_server, data)["a.txt"]
    _other_client_uploads(item["item_id"], "a.txt", b"alpha", tmp_path)
    clock.advance(3)
    midas_server.clear_request_log()
    summary = _upload()
    assert (summary.uploaded, summary.bytes_sent) == (0, 0)
    assert _asked(midas_server) == {"midas.item.get": 1}


def test_a_change_in_the_same_second_as_the_recorded_one_is_caught_by_the_settle_rule(
        tmp_path, monkeypatch, logged_in, clock, cache_dir, midas_server, midas_user):
    write_tree(tmp_path, {"data/a.txt": b"alpha"})
    monkeypatch.chdir(tmp_path)
    clock.advance(3)
    _upload()  # verified at once: read in the second of its upload
    data = _folder("data", midas_user.private_folder_id)
    before = _items(midas_server, data)["a.txt"]
    _other_client_uploads(before["item_id"], "a.txt", b"ALIEN", tmp_path)  # that second still
    after = _items(midas_server, data)["a.txt"]
    assert {k: after[k] for k in ("item_id", "uuid", "date_update", "sizebytes")} == {
        k: before[k] for k in ("item_id", "uuid", "date_update", "sizebytes")}
    clock.advance(3)
    assert _upload().uploaded == 1
    assert item_files(before["item_id"]) == {"a.txt": md5(b"alpha")}


def test_an_item_renamed_on_the_server_is_uploaded_again_under_its_name(
        tree, midas_server, midas_user, clock):
    data, _ = _data_ids(midas_user)
    item = _items(midas_server, data)["a.txt"]
    midas_server.store.items.update(int(item["item_id"]), name="renamed.txt")
    summary = _upload()
    assert summary.uploaded == 1
    assert set(_items(midas_server, data)) == {"a.txt", "b.txt", "renamed.txt"}
    assert _server_files(midas_user)["data/a.txt"] == md5(b"alpha")


def test_an_item_deleted_and_made_again_with_its_name_is_checked(
        tree, midas_server, midas_user, tmp_path, clock):
    data, _ = _data_ids(midas_user)
    communicator, token = pydas.session.communicator, pydas.session.token
    old = _items(midas_server, data)["b.txt"]
    communicator.delete_item(token, old["item_id"])
    new = communicator.create_item(token, "b.txt", data)
    _other_client_uploads(new["item_id"], "b.txt", b"BRAVO?", tmp_path, new_revision=False)
    summary = _upload()
    assert summary.uploaded == 1
    assert item_files(new["item_id"]) == {"b.txt": md5(b"bravo!")}


def test_metadata_changed_on_the_server_leaves_the_files_alone(tree, midas_server,
                                                               midas_user, clock):
    data, _ = _data_ids(midas_user)
    item = _items(midas_server, data)["a.txt"]
    pydas.session.communicator.set_item_metadata(pydas.session.token, item["item_id"],
                                                 "Modality", "MR")
    clock.advance(3)
    midas_server.clear_request_log()
    summary = _upload()
    assert (summary.uploaded, summary.bytes_sent, summary.unchanged) == (0, 0, 5)
    assert set(_asked(midas_server)) <= {"midas.item.get"}


@pytest.mark.parametrize("change", ["delete", "rename"])
def test_a_changed_bitstream_is_not_seen_by_a_rerun_but_by_a_full_check(
        tree, midas_server, midas_user, clock, change):
    # Midas 3.4.2 saves only the bitstream on bitstream.delete and bitstream.edit: the
    # item's date_update and sizebytes stay (tests/live/test_live_rerun_upload.py
    # measures it); the emulator does the same
    _, sub = _data_ids(midas_user)
    listed = _items(midas_server, sub)["series"]
    [bitstream] = [b for b in pydas.session.communicator.item_get(
        pydas.session.token, listed["item_id"])["revisions"][-1]["bitstreams"]
        if b["name"] == "2.dcm"]
    clock.advance(3)
    if change == "delete":
        pydas.session.communicator.request("midas.bitstream.delete", {
            "token": pydas.session.token, "id": bitstream["bitstream_id"]})
        left = {"1.dcm": md5(b"one-1")}
    else:
        pydas.session.communicator.request("midas.bitstream.edit", {
            "token": pydas.session.token, "id": bitstream["bitstream_id"], "name": "x.dcm"})
        left = {"1.dcm": md5(b"one-1"), "x.dcm": md5(b"two-22")}
    assert _items(midas_server, sub)["series"] == listed
    _upload()  # the documented gap: the record is believed
    assert item_files(listed["item_id"]) == left
    clock.advance(3)
    summary = _upload(check_all=True)
    assert summary.uploaded == 1
    assert item_files(listed["item_id"]) == dict(left, **{"2.dcm": md5(b"two-22")})


@pytest.mark.parametrize("how", ["environment", "check_all"])
def test_a_full_check_asks_about_every_item(tree, midas_server, monkeypatch, how):
    if how == "environment":
        monkeypatch.setenv("PYDAS_NO_RECORD", "1")
    midas_server.clear_request_log()
    summary = _upload(check_all=how == "check_all")
    assert summary.unchanged == 5
    assert _asked(midas_server) == {"midas.item.get": 4}


# -- a damaged record, dry runs ---------------------------------------------------------------


def test_a_damaged_cache_database_only_costs_requests(tree, cache_dir, midas_server,
                                                      midas_user):
    (cache_dir / CACHE_FILE).write_bytes(b"garbage " * 1000)
    for suffix in ("-wal", "-shm"):
        if (cache_dir / (CACHE_FILE + suffix)).exists():
            (cache_dir / (CACHE_FILE + suffix)).unlink()
    midas_server.clear_request_log()
    summary = _upload()
    assert (summary.unchanged, summary.bytes_sent) == (5, 0)
    assert _asked(midas_server) == {"midas.item.get": 4}


def _entries(server_url, folder_id, paths):
    with CacheStore() as store:
        record = Record(store)
        return {path: record.lookup(server_url, entry_key(folder_id, path)) for path in paths}


def _damage(entry):
    yield dict(entry, item="not an item")
    yield dict(entry, item=dict(entry["item"], seen="yesterday"))
    yield dict(entry, item=dict(entry["item"], seen=-math.inf))
    yield dict(entry, item=dict(entry["item"], checked=math.nan))
    yield dict(entry, item=dict(entry["item"], checked=10 ** 400))
    yield dict(entry, bitstreams={"a.txt": ["5", md5(b"alpha")]})
    yield dict(entry, bitstreams=[["a.txt", 5]])
    yield dict(entry, files={"a.txt": {"state": {"size": "5"}, "md5": md5(b"alpha")}})
    yield dict(entry, files={"a.txt": {"state": entry["files"]["a.txt"]["state"], "md5": 5}})
    yield {}


def test_entries_of_the_wrong_shape_only_cost_requests(tree, midas_server, midas_user, clock):
    data, _ = _data_ids(midas_user)
    path = str(tree / "a.txt")
    (entry,) = _entries(midas_server.url, data, [path]).values()
    assert entry is not None
    for damaged in _damage(entry):
        with CacheStore() as store:
            # as a JSON text round trip gives it back (NaN and infinities included)
            Record(store).store(midas_server.url, entry_key(data, path),
                                json.loads(json.dumps(damaged)))
        _rewrite_keeping_size_and_mtime(tree / "a.txt", b"ALPHA")
        clock.advance(3)
        midas_server.clear_request_log()
        assert _upload().uploaded == 1, damaged
        (tree / "a.txt").write_bytes(b"alpha")
        clock.advance(3)
        _upload()
        clock.advance(3)


def test_a_dry_run_writes_nothing_to_the_record(tmp_path, monkeypatch, logged_in, clock,
                                                cache_dir, midas_server, midas_user):
    write_tree(tmp_path, {"data/a.txt": b"alpha"})
    monkeypatch.chdir(tmp_path)
    _upload()
    data = _folder("data", midas_user.private_folder_id)
    path = str(tmp_path / "data" / "a.txt")
    with CacheStore() as store:
        Record(store).forget(midas_server.url, entry_key(data, path))
    clock.advance(3)
    _upload(dry_run=True)
    assert _entries(midas_server.url, data, [path]) == {path: None}


# -- deferred verification ---------------------------------------------------------------------


def test_an_interrupted_run_leaves_no_entry_for_an_unverified_upload(
        tmp_path, monkeypatch, logged_in, clock, cache_dir, midas_server, midas_user):
    write_tree(tmp_path, {"data/a.txt": b"alpha", "data/b.txt": b"b" * 100_000})
    monkeypatch.chdir(tmp_path)
    interrupt_uploads_after(pydas.session.communicator, 50_000)
    with pytest.raises(KeyboardInterrupt):
        _upload()
    data = _folder("data", midas_user.private_folder_id)
    paths = [str(tmp_path / "data" / name) for name in ("a.txt", "b.txt")]
    assert _entries(midas_server.url, data, paths) == dict.fromkeys(paths)
    assert "midas.item.get" not in methods(midas_server)  # a.txt was sent, never verified
    pydas.login(email=midas_user.email, api_key=midas_user.api_key, url=midas_server.url)
    clock.advance(3)
    summary = _upload()
    assert (summary.uploaded, summary.unchanged) == (1, 1)  # a.txt verified, b.txt sent
    assert _server_files_flat(midas_server, data) == {"a.txt": md5(b"alpha"),
                                                      "b.txt": md5(b"b" * 100_000)}


def _server_files_flat(midas_server, folder_id):
    return {name: item_files(item["item_id"])[name]
            for name, item in _items(midas_server, folder_id).items()}


def test_a_failure_in_a_later_file_still_verifies_what_was_sent(
        tmp_path, monkeypatch, logged_in, clock, cache_dir, midas_server, midas_user):
    write_tree(tmp_path, {"data/a.txt": b"alpha", "data/b.txt": b"bravo"})
    monkeypatch.chdir(tmp_path)
    real = Remote.new_item_token

    def refuse_b(self, folder_id, name):
        if name == "b.txt":
            raise exceptions.InvalidPolicy("no", method="midas.upload.generatetoken", code=-151)
        return real(self, folder_id, name)

    monkeypatch.setattr(Remote, "new_item_token", refuse_b)
    with pytest.raises(exceptions.InvalidPolicy):
        _upload()
    assert methods(midas_server).count("midas.item.get") == 1  # a.txt, verified before raising
    data = _folder("data", midas_user.private_folder_id)
    path = str(tmp_path / "data" / "a.txt")
    assert _entries(midas_server.url, data, [path])[path]["bitstreams"] == {
        "a.txt": [5, md5(b"alpha")]}


def test_a_verification_that_finds_wrong_bytes_repairs_them(
        tmp_path, monkeypatch, logged_in, clock, cache_dir, waiting, midas_server, midas_user):
    write_tree(tmp_path, {"data/a.txt": b"alpha"})
    monkeypatch.chdir(tmp_path)
    clock.advance(3)
    advance = clock.advance

    def spoil_while_waiting(seconds):
        # the stored copy goes bad between the sending and the deferred verification
        midas_server.store.db.run("UPDATE bitstream SET checksum = ? WHERE name = 'a.txt'",
                                  (md5(b"wrong"),))
        advance(seconds)

    monkeypatch.setattr(clock, "sleep", spoil_while_waiting)
    use_clock(monkeypatch, clock)
    summary = _upload()
    assert (summary.uploaded, summary.repaired) == (1, 1)
    data = _folder("data", midas_user.private_folder_id)
    assert _server_files_flat(midas_server, data) == {"a.txt": md5(b"alpha")}
    (entry,) = _entries(midas_server.url, data, [str(tmp_path / "data" / "a.txt")]).values()
    assert entry["bitstreams"] == {"a.txt": [5, md5(b"alpha")]}


@pytest.mark.parametrize("seen", [-math.inf, math.nan, -(10 ** 400), "0", True, None])
def test_a_recorded_item_with_an_impossible_time_is_no_entry(seen):
    recorded = {"item_id": "1", "uuid": "u", "date_update": "2026-01-01 00:00:00",
                "sizebytes": "5", "seen": 0.0, "checked": 10.0}
    assert ItemState.from_json(recorded) is not None
    assert ItemState.from_json(json.loads(json.dumps(dict(recorded, seen=seen)))) is None


KILLED_WHILE_WAITING = textwrap.dedent("""
    import sys, threading, time, types
    import pydas
    from pydas._transfer import deferred
    url, email, key = sys.argv[1:4]

    def sleep(seconds):
        print("waiting to verify", flush=True)
        threading.Event().wait()  # until killed

    deferred.TAIL_SHARE = float("inf")
    deferred.time = types.SimpleNamespace(monotonic=time.monotonic, time=time.time, sleep=sleep)
    pydas.login(email=email, api_key=key, url=url)
    pydas.upload("data", reuse_existing=True, quiet=True, workers=2)  # verified by the workers
    print("returned", flush=True)
""")


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
def test_a_run_killed_before_its_deferred_verification_left_no_entry(
        tmp_path, monkeypatch, logged_in, cache_dir, midas_server, midas_user):
    write_tree(tmp_path, {"data/a.txt": b"alpha"})
    monkeypatch.chdir(tmp_path)
    arguments = [sys.executable, "-c", KILLED_WHILE_WAITING, midas_server.url,
                 midas_user.email, midas_user.api_key]
    with killable(arguments, stdout=subprocess.PIPE, stderr=subprocess.PIPE) as process:
        ready, _, _ = select.select([process.stdout], [], [], 30)
        assert ready and process.stdout.readline() == b"waiting to verify\n", (
            process.stderr.read1().decode(errors="replace") if ready else "timed out")
        sigkill(process)
    assert "midas.item.get" not in methods(midas_server)  # sent, never verified
    data = _folder("data", midas_user.private_folder_id)
    path = str(tmp_path / "data" / "a.txt")
    assert _entries(midas_server.url, data, [path]) == {path: None}
    midas_server.clear_request_log()
    summary = TransferSummary()
    pydas.upload("data", reuse_existing=True, quiet=True, summary=summary)
    assert (summary.uploaded, summary.unchanged, summary.bytes_sent) == (0, 1, 0)
    assert _asked(midas_server) == {"midas.item.get": 1}  # the verification the kill stopped
    assert _server_files_flat(midas_server, data) == {"a.txt": md5(b"alpha")}


def _removed_after_the_scan(monkeypatch, path):
    """Make the next upload's scan remove ``path`` once it has seen it."""
    real_scan = pydas._transfer.scan

    def scan_then_remove(*args):
        scanned = real_scan(*args)
        os.remove(path)
        return scanned

    monkeypatch.setattr(pydas._transfer, "scan", scan_then_remove)


@pytest.mark.parametrize("gone", ["data/a.txt", "data/sub/series/2.dcm"],
                         ids=["existing-item", "leaf-item"])
def test_a_file_gone_since_the_scan_fails_its_upload_with_a_transfer_error(
        tree, monkeypatch, clock, gone):
    _removed_after_the_scan(monkeypatch, gone)
    _rewrite_keeping_size_and_mtime(tree.parent / gone, b"x" * len(TREE[gone]))
    with pytest.raises(exceptions.TransferError, match="could not be read"):
        _upload()


@pytest.mark.parametrize("size", [3, 8193], ids=["stream", "maybe-multipart"])
def test_a_new_leaf_item_whose_file_is_gone_since_the_scan_fails_with_a_transfer_error(
        tmp_path, monkeypatch, logged_in, clock, cache_dir, size):
    write_tree(tmp_path, {"data/series/1.dcm": b"one", "data/series/2.dcm": b"0" * size})
    monkeypatch.chdir(tmp_path)
    _removed_after_the_scan(monkeypatch, "data/series/2.dcm")
    with pytest.raises(exceptions.TransferError, match="could not be read"):
        _upload()


@pytest.mark.parametrize("size", [3, 8193], ids=["stream", "maybe-multipart"])
def test_a_new_file_gone_since_the_scan_fails_with_a_transfer_error(
        tmp_path, monkeypatch, logged_in, clock, cache_dir, size):
    write_tree(tmp_path, {"data/a.txt": b"0" * size})
    monkeypatch.chdir(tmp_path)
    _removed_after_the_scan(monkeypatch, "data/a.txt")
    with pytest.raises(exceptions.TransferError, match="could not be read"):
        _upload()
