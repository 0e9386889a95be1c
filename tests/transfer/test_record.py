"""The transfer cache, the re-run record and the MD5 cache, on their own."""

import hashlib
import logging
import os
import stat
import subprocess
import sys
import textwrap
import threading
import time

import pytest

from pydas._transfer import cache as cache_module
from pydas._transfer import record as record_module
from pydas._transfer.cache import CACHE_FILE, CacheStore
from pydas._transfer.digests import Digest, MD5Cache
from pydas._transfer.record import ItemState, LocalState, Record, record_key

SERVER = "http://127.0.0.1:1/midas"
LISTED = {"item_id": "7", "uuid": "u-7", "date_update": "2026-12-01 10:00:00",
          "sizebytes": "4"}


@pytest.fixture
def cache_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("PYDAS_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache"


def _old(path, seconds=60):
    """Date a file's modification back, and wait out the racy window of its change time."""
    then = time.time() - seconds
    os.utime(path, (then, then))


def test_entries_are_found_again_by_a_later_store_and_the_files_are_private(cache_dir):
    with CacheStore() as store:
        Record(store).store(SERVER, record_key("upload", 5, "/d/a"), {"n": 1})
    assert stat.S_IMODE(os.stat(cache_dir).st_mode) == 0o700
    for name in os.listdir(cache_dir):
        assert stat.S_IMODE(os.stat(cache_dir / name).st_mode) == 0o600, name
    with CacheStore() as store:
        record = Record(store)
        assert record.lookup(SERVER, record_key("upload", 5, "/d/a")) == {"n": 1}
        assert record.lookup(SERVER, record_key("upload", 6, "/d/a")) is None
        assert record.lookup("http://other", record_key("upload", 5, "/d/a")) is None
        record.forget(SERVER, record_key("upload", 5, "/d/a"))
        assert record.lookup(SERVER, record_key("upload", 5, "/d/a")) is None


def test_a_loose_mode_of_an_existing_cache_file_is_tightened(cache_dir):
    cache_dir.mkdir(mode=0o700)
    (cache_dir / CACHE_FILE).write_bytes(b"")
    os.chmod(cache_dir / CACHE_FILE, 0o644)
    with CacheStore() as store:
        Record(store).store(SERVER, "k", {})
    assert stat.S_IMODE(os.stat(cache_dir / CACHE_FILE).st_mode) == 0o600


def test_no_record_makes_lookups_find_nothing_but_still_stores(cache_dir, monkeypatch):
    with CacheStore() as store:
        Record(store).store(SERVER, "k", {"n": 1})
    monkeypatch.setenv("PYDAS_NO_RECORD", "1")
    with CacheStore() as store:
        record = Record(store)
        assert record.lookup(SERVER, "k") is None
        record.store(SERVER, "k", {"n": 2})
    monkeypatch.setenv("PYDAS_NO_RECORD", "0")
    with CacheStore() as store:
        assert Record(store).lookup(SERVER, "k") == {"n": 2}


def test_a_damaged_cache_file_is_replaced(cache_dir, caplog):
    cache_dir.mkdir()
    (cache_dir / CACHE_FILE).write_bytes(b"this is not a database" * 100)
    with caplog.at_level(logging.WARNING, logger="pydas"), CacheStore() as store:
        record = Record(store)
        assert record.lookup(SERVER, "k") is None
        record.store(SERVER, "k", {"n": 1})
        assert record.lookup(SERVER, "k") == {"n": 1}
    assert "damaged" in caplog.text


def test_an_unusable_cache_directory_only_costs_the_record(tmp_path, monkeypatch, caplog):
    (tmp_path / "file").write_bytes(b"")
    monkeypatch.setenv("PYDAS_CACHE_DIR", str(tmp_path / "file"))
    with caplog.at_level(logging.WARNING, logger="pydas"), CacheStore() as store:
        assert not store.usable
        record = Record(store)
        record.store(SERVER, "k", {"n": 1})
        assert record.lookup(SERVER, "k") is None
    assert "Not using the transfer cache" in caplog.text


def test_the_record_keeps_at_most_its_limit_dropping_the_least_recently_used(cache_dir,
                                                                              monkeypatch):
    monkeypatch.setattr(record_module, "RECORD_LIMIT", 10)
    with CacheStore() as store:
        record = Record(store)
        for index in range(10):
            record.store(SERVER, f"k{index}", {"n": index})
    time.sleep(0.01)
    with CacheStore() as store:
        assert Record(store).lookup(SERVER, "k0") == {"n": 0}  # used again: kept
    with CacheStore() as store:
        record = Record(store)
        for index in range(10, 13):
            record.store(SERVER, f"k{index}", {"n": index})
    with CacheStore() as store:
        found = Record(store).lookup_many(SERVER, [f"k{index}" for index in range(13)])
    assert len(found) == 9  # 13 is beyond the limit: down to 90% of it
    assert {"k0", "k10", "k11", "k12"} <= set(found)


def test_entries_unused_for_too_long_are_removed(cache_dir, monkeypatch):
    with CacheStore() as store:
        Record(store).store(SERVER, "k", {"n": 1})
    monkeypatch.setattr(cache_module, "MAX_AGE", -1)
    with CacheStore() as store:
        assert Record(store).lookup(SERVER, "k") is None


def test_threads_and_processes_write_the_record_at_the_same_time(cache_dir):
    script = textwrap.dedent("""
        import sys
        from pydas._transfer.cache import CacheStore
        from pydas._transfer.record import Record
        with CacheStore() as store:
            record = Record(store)
            for index in range(200):
                record.store("s", f"{sys.argv[1]}-{index}", {"n": index})
                record.lookup("s", f"{sys.argv[1]}-{index // 2}")
    """)
    env = dict(os.environ)
    processes = [subprocess.Popen([sys.executable, "-c", script, f"p{n}"], env=env,
                                  stderr=subprocess.PIPE) for n in range(3)]
    with CacheStore() as store:
        record = Record(store)

        def work(name):
            for index in range(200):
                record.store("s", f"{name}-{index}", {"n": index})

        threads = [threading.Thread(target=work, args=(f"t{n}",)) for n in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    for process in processes:
        _, errors = process.communicate(timeout=60)
        assert process.returncode == 0 and b"Not using" not in errors, errors
    with CacheStore() as store:
        names = [f"{who}-{index}" for who in ("p0", "p1", "p2", "t0", "t1", "t2", "t3")
                 for index in range(200)]
        assert len(Record(store).lookup_many("s", names)) == len(names)


# -- the rules ------------------------------------------------------------------------------


def test_a_file_is_the_same_only_with_size_times_inode_and_device_equal(tmp_path):
    path = tmp_path / "f"
    path.write_bytes(b"abcd")
    _old(path)
    before = LocalState.of(str(path))
    assert before.same_file(LocalState.of(str(path)))
    assert LocalState.from_json(before.to_json()) == before
    info = os.stat(path)
    time.sleep(0.02)
    path.write_bytes(b"wxyz")  # same size, other content...
    os.utime(path, ns=(info.st_atime_ns, info.st_mtime_ns))  # ...and the old mtime
    after = LocalState.of(str(path))
    assert (after.size, after.mtime_ns) == (before.size, before.mtime_ns)
    assert not before.same_file(after)  # the change time moved
    (tmp_path / "g").write_bytes(b"abcd")
    os.replace(tmp_path / "g", path)  # another file in its place
    os.utime(path, ns=(info.st_atime_ns, info.st_mtime_ns))
    assert not before.same_file(LocalState.of(str(path)))


def test_a_state_read_right_after_a_change_is_racy(tmp_path):
    path = tmp_path / "f"
    path.write_bytes(b"abcd")
    assert LocalState.of(str(path)).racy
    _old(path)
    state = LocalState.of(str(path))
    assert state.racy  # the change time is still recent
    assert not LocalState(4, 0, 0, 1, 1, read_ns=3_000_000_000).racy
    assert LocalState(4, 0, 1_500_000_000, 1, 1, read_ns=3_000_000_000).racy


def test_an_item_state_settles_two_seconds_after_its_last_change_was_seen():
    state = ItemState.observed(LISTED, asked=100.0, answered=100.1)
    assert state.seen == 100.1 and state.checked == 100.0 and not state.settled
    assert state.listed_as(LISTED) and state.listed_as({**LISTED, "item_id": 7})
    for name in LISTED:
        assert not state.listed_as({**LISTED, name: "other"})
        assert not state.listed_as({k: v for k, v in LISTED.items() if k != name})
    # the upload's answer showed the same date_update 2 s before the item.get
    later = ItemState.observed(LISTED, asked=102.5, answered=102.6, earlier=[(LISTED, 100.4)])
    assert later.seen == 100.4 and later.settled
    # an answer with another date_update does not count
    other = {**LISTED, "date_update": "2026-12-01 09:59:59"}
    assert not ItemState.observed(LISTED, 102.5, 102.6, earlier=[(other, 90.0)]).settled
    # a recorded state with the same date_update does
    again = ItemState.observed(LISTED, asked=200.0, answered=200.1, previous=state)
    assert again.seen == 100.1 and again.settled
    assert ItemState.from_json(again.to_json()) == again
    assert ItemState.observed({**LISTED, "uuid": None}, 1.0, 1.0) is None
    assert ItemState.from_json({**again.to_json(), "seen": "x"}) is None


# -- the MD5 cache and the digest of an upload -------------------------------------------


def test_the_md5_cache_answers_only_for_the_same_unchanged_file(tmp_path, cache_dir):
    path = tmp_path / "f"
    path.write_bytes(b"abcd")
    _old(path)
    with CacheStore() as store:
        cache = MD5Cache(store)
        state = LocalState.of(str(path))
        assert cache.lookup(str(path), state) is None
        cache.remember(str(path), LocalState(*[getattr(state, f) for f in (
            "size", "mtime_ns", "ctime_ns", "inode", "device")], read_ns=state.read_ns + 10**10),
            hashlib.md5(b"abcd").hexdigest())
    with CacheStore() as store:
        cache = MD5Cache(store)
        assert cache.lookup(str(path), LocalState.of(str(path))) == hashlib.md5(b"abcd").hexdigest()
        info = os.stat(path)
        path.write_bytes(b"wxyz")
        os.utime(path, ns=(info.st_atime_ns, info.st_mtime_ns))
        assert cache.lookup(str(path), LocalState.of(str(path))) is None
        assert cache.md5(str(path)) == hashlib.md5(b"wxyz").hexdigest()  # hashed again


def test_a_digest_made_right_after_a_change_is_not_believed(tmp_path, cache_dir):
    path = tmp_path / "f"
    path.write_bytes(b"abcd")
    with CacheStore() as store:
        cache = MD5Cache(store)
        assert cache.md5(str(path)) == hashlib.md5(b"abcd").hexdigest()
        assert cache.lookup(str(path), LocalState.of(str(path))) is None  # racy when hashed


def test_a_digest_takes_pieces_in_any_order_and_reads_only_the_gaps(tmp_path):
    data = os.urandom(3_000_000)
    path = tmp_path / "f"
    path.write_bytes(data)
    digest = Digest(str(path), LocalState.of(str(path)))
    digest.add(0, data[:1000])
    digest.add(500, data[500:2000])  # a resume from an earlier offset
    digest.add(2_500_000, data[2_500_000:2_600_000])  # beyond: the gap is read
    assert digest.finish() == hashlib.md5(data).hexdigest()
    assert digest.unchanged()
    path.write_bytes(data[:10])
    assert not digest.unchanged()


def test_a_large_file_is_hashed_on_a_second_thread_while_it_is_sent(tmp_path, monkeypatch):
    import threading

    from pydas._transfer import digests

    monkeypatch.setattr(digests, "BACKGROUND_MIN", 1_000_000)
    data = os.urandom(3_000_000)
    path = tmp_path / "f"
    path.write_bytes(data)
    digest = Digest(str(path), LocalState.of(str(path)))
    sent = []
    with digests.SendingFile(str(path), 0, len(data), digest, sent.append) as body:
        assert any(t.name == "pydas-md5" for t in threading.enumerate())
        while body.tell() < 2_000_000:
            body.read(65536)
    assert not any(t.name == "pydas-md5" for t in threading.enumerate())  # stopped by close
    with digests.SendingFile(str(path), 1_500_000, len(data), digest, sent.append) as body:
        while body.read(65536):  # a resume from an earlier offset, to the end
            pass
    assert digest.finish() == hashlib.md5(data).hexdigest()
    assert sum(sent) == 2_031_616 + 1_500_000
    assert not any(t.name == "pydas-md5" for t in threading.enumerate())
