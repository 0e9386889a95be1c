"""Re-runs of a download ask only for folder listings, and still notice every change.

The client's clock (``time.time``, that of the re-run record) and the
emulator's ``date_update`` stamps follow a fake clock, so that the settle rule
(2 s) is tested without sleeping: runs are "10 s apart" unless a test keeps
them in one second. File states keep the real clock (``time.time_ns``), that
of the file system.
"""

import collections
import os
import sqlite3
import time

import pytest
from support.clock import Clock, use_clock
from support.servertree import local_tree, md5, methods, write_tree

import pydas
from pydas._transfer import download
from pydas._transfer.cache import CACHE_FILE, CacheStore, cache_directory
from pydas._transfer.record import LocalState, Record
from pydas._transfer.rerun_download import download_key
from pydas.testing.backend import values

SOURCE = {
    "data/a.txt": b"a",
    "data/b.txt": b"bb",
    "data/sub/c.txt": b"ccc",
    "data/sub/series/1.dcm": b"one",
    "data/sub/series/2.dcm": b"two",
}
EXPECTED = {
    "data/": None,
    "data/a.txt": md5(b"a"),
    "data/b.txt": md5(b"bb"),
    "data/sub/": None,
    "data/sub/c.txt": md5(b"ccc"),
    "data/sub/series/": None,
    "data/sub/series/1.dcm": md5(b"one"),
    "data/sub/series/2.dcm": md5(b"two"),
}
ITEMS = 4  # a.txt, b.txt, sub/c.txt, sub/series


@pytest.fixture
def clock(monkeypatch):
    real_time_ns = time.time_ns
    fake = use_clock(monkeypatch, Clock())
    fake.now = float(int(fake.now))  # on a whole second, as the server's stamps are
    monkeypatch.setattr(time, "time_ns", real_time_ns)  # file states: the file system's clock
    return fake


@pytest.fixture
def world(logged_in, tmp_path, monkeypatch, clock):
    """The tree uploaded to ``Private/data``; ``target`` is where it is downloaded."""
    source = tmp_path / "source"
    write_tree(source, SOURCE)
    monkeypatch.chdir(source)
    pydas.add_item_upload_callback(lambda *args: None)  # verified at once, no 2 s wait
    _upload()
    pydas.allow_existing_download_paths()
    return tmp_path / "target"


def _upload():
    pydas.upload("data", reuse_existing=True, leaf_folders_as_items=True, quiet=True)


def _download(midas_server, target, **kwargs):
    """One download run: ``(Counter of API methods, summary)``; ``None`` counts /download/."""
    midas_server.clear_request_log()
    summary = pydas.TransferSummary()
    pydas.download("Private/data", str(target), quiet=True, summary=summary, **kwargs)
    return collections.Counter(methods(midas_server)), summary


def _settled(midas_server, target, clock):
    """Download, and download again 10 s later: the record now holds settled entries."""
    _download(midas_server, target)
    clock.advance(10)
    _download(midas_server, target)
    clock.advance(10)


def _change_on_server(clock, relative, content):
    """Another client uploads ``content`` as the new head of an item (later by the clock)."""
    write_tree(".", {relative: content})
    _upload()
    clock.advance(10)


def _counts(summary):
    return summary.downloaded, summary.unchanged


def _forget_sightings():
    """What this client saw of the items is lost (as if another client had uploaded them)."""
    with sqlite3.connect(os.path.join(cache_directory(), CACHE_FILE)) as connection:
        connection.execute("DELETE FROM entries WHERE tbl = 'sightings'")


def test_a_download_2_s_after_the_upload_is_free_to_run_again(world, midas_server, clock):
    clock.advance(2.0)
    first, _ = _download(midas_server, world)  # the upload saw the same date_update 2 s ago
    assert first["midas.item.get"] == ITEMS and first[None] == 5
    second, summary = _download(midas_server, world)
    assert second == {"midas.user.folders": 1, "midas.folder.children": 3}
    assert _counts(summary) == (0, 5) and summary.bytes_received == 0
    assert local_tree(world) == EXPECTED


def test_a_download_of_what_another_client_uploaded_settles_on_its_second_run(
        world, midas_server, clock):
    _forget_sightings()
    clock.advance(10)
    first, _ = _download(midas_server, world)
    assert first["midas.item.get"] == ITEMS and first[None] == 5
    clock.advance(10)
    second, _ = _download(midas_server, world)  # settles the entries of the first run
    assert second["midas.item.get"] == ITEMS and second[None] == 0
    clock.advance(10)
    third, summary = _download(midas_server, world)
    assert third == {"midas.user.folders": 1, "midas.folder.children": 3}
    assert _counts(summary) == (0, 5)
    assert local_tree(world) == EXPECTED


def test_a_download_right_after_the_upload_is_not_settled(world, midas_server, clock):
    _download(midas_server, world)  # in the second of the upload
    counts, _ = _download(midas_server, world)
    assert counts["midas.item.get"] == ITEMS


def test_the_first_run_settles_at_once_when_its_reads_came_late_enough(world, midas_server,
                                                                       clock, monkeypatch):
    # the item.get of a run comes 2 s after the listing that showed the same date_update
    real_lookup = download._Downloader.lookup
    late = [True]

    def late_lookup(self, listed):
        if late:
            clock.advance(2.0)
        return real_lookup(self, listed)

    monkeypatch.setattr(download._Downloader, "lookup", late_lookup)
    _forget_sightings()
    _download(midas_server, world)
    late.clear()
    counts, _ = _download(midas_server, world)
    assert counts["midas.item.get"] == 0


def test_an_unchanged_rerun_prints_what_a_full_run_prints(world, midas_server, clock, capsys,
                                                          monkeypatch):
    _settled(midas_server, world, clock)
    capsys.readouterr()
    for dry_run in (False, True):
        pydas.download("Private/data", str(world), dry_run=dry_run)
        with_record = capsys.readouterr().out
        monkeypatch.setenv("PYDAS_NO_RECORD", "1")
        pydas.download("Private/data", str(world), dry_run=dry_run)
        monkeypatch.delenv("PYDAS_NO_RECORD")
        assert with_record == capsys.readouterr().out
        assert ("Would skip" in with_record) == dry_run


def test_a_dry_run_uses_the_record_and_writes_nothing_to_it(world, midas_server, clock):
    _settled(midas_server, world, clock)
    before = _record_rows()
    counts, summary = _download(midas_server, world, dry_run=True)
    assert counts["midas.item.get"] == 0 and _counts(summary) == (0, 5)
    os.remove(world / "data" / "a.txt")
    counts, summary = _download(midas_server, world, dry_run=True)
    assert counts["midas.item.get"] == 1 and _counts(summary) == (1, 4)
    assert _record_rows() == before
    assert not (world / "data" / "a.txt").exists()


@pytest.mark.parametrize("how", ["environment", "check_all"])
def test_no_record_checks_every_item(world, midas_server, clock, monkeypatch, how):
    _settled(midas_server, world, clock)
    if how == "environment":
        monkeypatch.setenv("PYDAS_NO_RECORD", "1")
    counts, summary = _download(midas_server, world, check_all=how == "check_all")
    assert counts["midas.item.get"] == ITEMS and _counts(summary) == (0, 5)
    monkeypatch.delenv("PYDAS_NO_RECORD", raising=False)
    counts, _ = _download(midas_server, world)  # the full check wrote the record again
    assert counts["midas.item.get"] == 0


def test_download_callbacks_get_every_item(world, midas_server, clock):
    _settled(midas_server, world, clock)
    seen = []
    pydas.add_item_download_callback(lambda comm, token, item, path: seen.append(item["name"]))
    counts, _ = _download(midas_server, world)
    assert counts["midas.item.get"] == ITEMS
    assert sorted(seen) == ["a.txt", "b.txt", "c.txt", "series"]


# -- changes on the local side ---------------------------------------------------------


def _assert_one_fetched(midas_server, target, clock):
    counts, summary = _download(midas_server, target)
    assert counts["midas.item.get"] == 1 and counts[None] == 1
    assert _counts(summary) == (1, 4)
    assert local_tree(target) == EXPECTED


def test_a_deleted_file_is_downloaded_again(world, midas_server, clock):
    _settled(midas_server, world, clock)
    os.remove(world / "data" / "sub" / "series" / "2.dcm")
    _assert_one_fetched(midas_server, world, clock)


def test_content_changed_with_size_and_mtime_restored_is_noticed(world, midas_server, clock):
    _settled(midas_server, world, clock)
    path = world / "data" / "b.txt"
    info = os.stat(path)
    path.write_bytes(b"XX")
    os.utime(path, ns=(info.st_atime_ns, info.st_mtime_ns))
    _assert_one_fetched(midas_server, world, clock)


def test_a_file_replaced_by_another_file_is_noticed(world, midas_server, clock):
    _settled(midas_server, world, clock)
    path = world / "data" / "sub" / "c.txt"
    info = os.stat(path)
    other = world / "other"
    other.write_bytes(b"CCC")
    os.utime(other, ns=(info.st_atime_ns, info.st_mtime_ns))
    os.replace(other, path)
    _assert_one_fetched(midas_server, world, clock)


def test_a_truncated_file_is_noticed(world, midas_server, clock):
    _settled(midas_server, world, clock)
    with open(world / "data" / "sub" / "series" / "1.dcm", "r+b") as handle:
        handle.truncate(1)
    _assert_one_fetched(midas_server, world, clock)


def _record_state_now(midas_server, target, folder, name, read_ns):
    """Make the entry of ``folder/name`` hold the file's present state, read at ``read_ns``.

    This is what a change inside one tick of the file system's clock would
    leave: the recorded state equal to the changed file's.
    """
    server = str(pydas.session.communicator.url)
    folder_path = str(target / folder)
    path = os.path.join(folder_path, name)
    item_id = _item_id(folder, name)
    with CacheStore() as store:
        record = Record(store)
        key = download_key(item_id, folder_path)
        entry = record.lookup(server, key)
        assert entry is not None and entry["item"]["checked"] - entry["item"]["seen"] >= 2
        info = os.lstat(path)
        entry["files"][0]["state"] = LocalState.from_stat(info, read_ns).to_json()
        record.store(server, key, entry)


def _item_id(folder, name):
    communicator, token = pydas.session.communicator, pydas.session.token
    items = communicator.folder_children(token, _folder_id(folder))["items"]
    return next(i["item_id"] for i in items if i["name"] == name)


def _folder_id(relative):
    communicator, token = pydas.session.communicator, pydas.session.token
    folder = next(f for f in communicator.list_user_folders(token) if f["name"] == "Private")
    for part in relative.split("/"):
        children = communicator.folder_children(token, folder["folder_id"])["folders"]
        folder = next(f for f in children if f["name"] == part)
    return folder["folder_id"]


def test_a_racy_state_is_hashed_before_it_is_believed(world, midas_server, clock):
    _settled(midas_server, world, clock)
    path = world / "data" / "a.txt"
    path.write_bytes(b"z")
    _record_state_now(midas_server, world, "data", "a.txt", time.time_ns())
    _assert_one_fetched(midas_server, world, clock)


def test_a_state_recorded_well_after_the_change_is_believed(world, midas_server, clock):
    # the other side of the racy rule: what a test cannot make a file system do
    # (a change leaving every field of os.stat as it was) is only caught while racy
    _settled(midas_server, world, clock)
    path = world / "data" / "a.txt"
    path.write_bytes(b"z")
    info = os.lstat(path)
    _record_state_now(midas_server, world, "data", "a.txt",
                      max(info.st_mtime_ns, info.st_ctime_ns) + 3 * 10**9)
    counts, _ = _download(midas_server, world)
    assert counts["midas.item.get"] == 0
    assert path.read_bytes() == b"z"


def test_a_changed_exclude_is_a_full_check(world, midas_server, clock):
    _settled(midas_server, world, clock)
    counts, summary = _download(midas_server, world, exclude="2.dcm")
    assert counts["midas.item.get"] == 1 and _counts(summary) == (0, 4)


# -- changes on the server side --------------------------------------------------------


def test_a_new_revision_by_another_client_is_downloaded(world, midas_server, clock):
    _settled(midas_server, world, clock)
    _change_on_server(clock, "data/b.txt", b"a longer b")
    counts, summary = _download(midas_server, world)
    assert counts["midas.item.get"] == 1 and counts[None] == 1
    assert _counts(summary) == (1, 4)
    assert (world / "data" / "b.txt").read_bytes() == b"a longer b"


def test_content_replaced_with_the_same_size_is_downloaded(world, midas_server, clock):
    _settled(midas_server, world, clock)
    _change_on_server(clock, "data/sub/series/1.dcm", b"ONE")
    counts, summary = _download(midas_server, world)
    assert counts["midas.item.get"] == 1 and _counts(summary) == (1, 4)
    assert (world / "data" / "sub" / "series" / "1.dcm").read_bytes() == b"ONE"


def test_a_change_in_the_same_second_as_the_first_download_is_not_missed(world, midas_server,
                                                                       clock):
    _download(midas_server, world)  # in the second of the upload: not settled
    write_tree(".", {"data/a.txt": b"A"})
    _upload()  # stamped in that same second: the listing shows what it showed
    clock.advance(10)
    counts, summary = _download(midas_server, world)
    assert counts["midas.item.get"] == ITEMS and _counts(summary) == (1, 4)
    assert (world / "data" / "a.txt").read_bytes() == b"A"


def test_a_renamed_directory_item_is_downloaded_under_its_new_name(world, midas_server, clock):
    _settled(midas_server, world, clock)
    communicator, token = pydas.session.communicator, pydas.session.token
    item = communicator.item_get(token, _item_id("data/sub", "series"))
    communicator.create_item(token, "scans", _folder_id("data/sub"), uuid=item["uuid"])
    counts, summary = _download(midas_server, world)
    assert counts["midas.item.get"] == 1 and _counts(summary) == (2, 3)
    assert (world / "data" / "sub" / "scans" / "2.dcm").read_bytes() == b"two"


def test_an_item_deleted_and_made_again_is_downloaded(world, midas_server, clock):
    _settled(midas_server, world, clock)
    communicator, token = pydas.session.communicator, pydas.session.token
    communicator.delete_item(token, _item_id("data", "a.txt"))
    _change_on_server(clock, "data/a.txt", b"!")
    counts, summary = _download(midas_server, world)
    assert counts["midas.item.get"] == 1 and _counts(summary) == (1, 4)
    assert (world / "data" / "a.txt").read_bytes() == b"!"


def test_changed_metadata_makes_the_item_checked_again(world, midas_server, clock):
    _settled(midas_server, world, clock)
    communicator, token = pydas.session.communicator, pydas.session.token
    communicator.set_item_metadata(token, _item_id("data", "b.txt"), "note", "checked")
    counts, summary = _download(midas_server, world)
    assert counts["midas.item.get"] == 1 and _counts(summary) == (0, 5)


def test_names_that_clash_resolve_as_in_a_full_run(world, midas_server, clock, tmp_path):
    write_tree(".", {"data/A.TXT": b"upper"})
    _upload()
    clock.advance(10)
    _settled(midas_server, world, clock)
    _change_on_server(clock, "data/A.TXT", b"UPPER")
    counts, _ = _download(midas_server, world)
    assert counts["midas.item.get"] == 1
    fresh = tmp_path / "fresh"
    _download(midas_server, fresh)
    assert local_tree(world) == local_tree(fresh)
    assert len([p for p in local_tree(world) if p.lower().startswith("data/a")]) == 2


def test_a_damaged_record_costs_only_requests(world, midas_server, clock):
    _settled(midas_server, world, clock)
    with sqlite3.connect(os.path.join(cache_directory(), CACHE_FILE)) as connection:
        connection.execute("UPDATE entries SET value = '{not json' WHERE tbl = 'record'")
        connection.execute("UPDATE entries SET value = '[1, 2]' WHERE tbl = 'sightings'")
    counts, summary = _download(midas_server, world)
    assert counts["midas.item.get"] == ITEMS and _counts(summary) == (0, 5)
    assert local_tree(world) == EXPECTED


def _record_rows():
    with sqlite3.connect(os.path.join(cache_directory(), CACHE_FILE)) as connection:
        return sorted(connection.execute(
            "SELECT key, value FROM entries WHERE tbl IN ('record', 'sightings')").fetchall())


def test_parallel_reruns_skip_and_fetch_the_same_items(world, midas_server, clock):
    _settled(midas_server, world, clock)
    counts, _ = _download(midas_server, world, workers=3)
    assert counts["midas.item.get"] == 0
    _change_on_server(clock, "data/sub/c.txt", b"new c")
    os.remove(world / "data" / "a.txt")
    counts, summary = _download(midas_server, world, workers=3)
    assert counts["midas.item.get"] == 2 and counts[None] == 2
    assert _counts(summary) == (2, 3)
    assert local_tree(world) == {**EXPECTED, "data/sub/c.txt": md5(b"new c")}


def test_a_name_an_earlier_item_took_makes_the_later_one_read_again(logged_in, tmp_path,
                                                                    monkeypatch, midas_server,
                                                                    clock):
    write_tree(tmp_path / "source", {"pair/one.txt": b"1", "pair/two.txt": b"2"})
    monkeypatch.chdir(tmp_path / "source")
    pydas.add_item_upload_callback(lambda *args: None)
    pydas.upload("pair", quiet=True)
    pydas.allow_existing_download_paths()
    target = tmp_path / "target"

    def run():
        midas_server.clear_request_log()
        pydas.download("Private/pair", str(target), quiet=True)
        clock.advance(10)
        return collections.Counter(methods(midas_server))

    run()
    run()
    assert run()["midas.item.get"] == 0
    # the item one.txt now holds a file named two.txt: it claims that name first
    item_id = _item_id("pair", "one.txt")
    item = pydas.session.communicator.item_get(pydas.session.token, item_id)
    bitstream_id = item["revisions"][-1]["bitstreams"][0]["bitstream_id"]
    midas_server.store.items.rename_bitstream(int(bitstream_id), "two.txt")
    midas_server.store.items.update(int(item_id), date_update=values.timestamp())
    assert run()["midas.item.get"] == 2
    fresh = tmp_path / "fresh"
    pydas.download("Private/pair", str(fresh), quiet=True)
    assert local_tree(target / "pair") == {"one.txt": md5(b"1"), "two.txt": md5(b"1"),
                                           "two (1).txt": md5(b"2")}
    assert local_tree(fresh / "pair") == {"two.txt": md5(b"1"), "two (1).txt": md5(b"2")}
