"""Download entries of the re-run record: what a damaged entry becomes, and the local checks."""

import hashlib

import pytest

from pydas._transfer.digests import MD5Cache
from pydas._transfer.record import ItemState
from pydas._transfer.rerun_download import DownloadEntry, RecordedFile, local_state

LISTED = {"item_id": "7", "uuid": "u", "date_update": "2026-01-01 00:00:00", "sizebytes": "3",
          "name": "x.txt"}


def _entry(tmp_path, content=b"abc"):
    path = tmp_path / "x.txt"
    path.write_bytes(content)
    state = local_state(str(path))
    item = ItemState("7", "u", "2026-01-01 00:00:00", "3", seen=0.0, checked=10.0)
    md5 = hashlib.md5(content).hexdigest()
    return DownloadEntry(item, "x.txt", "x.txt", False,
                         (RecordedFile("x.txt", len(content), md5, "x.txt", state),))


def test_an_entry_survives_its_json(tmp_path):
    entry = _entry(tmp_path)
    assert DownloadEntry.from_json(entry.to_json()) == entry


@pytest.mark.parametrize("damage", [
    lambda data: data.update(files="x"),
    lambda data: data.update(files=[]),  # one file's item without its file
    lambda data: data.update(directory="no"),
    lambda data: data.update(local=""),
    lambda data: data["files"][0].update(md5="not an md5"),
    lambda data: data["files"][0].update(size=True),
    lambda data: data["files"][0].update(state={"size": 3}),
    lambda data: data["files"][0].update(local=None),  # a state without a file
    lambda data: data["item"].update(seen="soon"),
    lambda data: data.pop("claim"),
])
def test_a_damaged_entry_is_no_entry(tmp_path, damage):
    data = _entry(tmp_path).to_json()
    damage(data)
    assert DownloadEntry.from_json(data) is None


def test_the_check_reads_the_local_file(tmp_path):
    entry = _entry(tmp_path)
    md5s = MD5Cache(None)
    never = lambda parent, name: False  # noqa: E731
    kept = entry.check(LISTED, str(tmp_path), never, md5s)
    assert kept is not None  # just written: racy, so hashed, and found equal
    assert kept.files[0].state.same_file(local_state(str(tmp_path / "x.txt")))
    assert entry.check({**LISTED, "sizebytes": "4"}, str(tmp_path), never, md5s) is None
    assert entry.check(LISTED, str(tmp_path), lambda parent, name: True, md5s) is None
    (tmp_path / "x.txt").write_bytes(b"abd")
    assert entry.check(LISTED, str(tmp_path), never, md5s) is None
    (tmp_path / "x.txt").unlink()
    (tmp_path / "x.txt").symlink_to(tmp_path / "elsewhere")
    assert entry.check(LISTED, str(tmp_path), never, md5s) is None


def test_an_unsettled_entry_is_never_trusted(tmp_path):
    entry = _entry(tmp_path)
    unsettled = DownloadEntry(ItemState("7", "u", "2026-01-01 00:00:00", "3", 5.0, 6.0),
                              entry.claim, entry.local, False, entry.files)
    assert unsettled.check(LISTED, str(tmp_path), lambda p, n: False, MD5Cache(None)) is None
