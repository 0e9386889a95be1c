"""MD5 on a second thread (pydas._transfer.hashing) and the part files that use it."""

import hashlib
import os
import threading

from pydas._transfer.hashing import BATCH, BackgroundMD5
from pydas._transfer.parts import Part


def _pieces(total, size):
    data = os.urandom(total)
    return data, [data[start:start + size] for start in range(0, total, size)]


def test_the_background_digest_is_the_md5_of_what_was_fed():
    for total, size in ((0, 1), (10, 3), (BATCH - 1, 4096), (3 * BATCH + 5, 65536),
                        (BATCH, BATCH), (2 * BATCH, 7 * BATCH)):
        data, pieces = _pieces(total, size)
        digest = BackgroundMD5()
        for piece in pieces:
            digest.update(piece)
        assert digest.hexdigest() == hashlib.md5(data).hexdigest(), (total, size)


def test_it_continues_a_digest_and_hashes_what_comes_after_the_end_itself():
    start = hashlib.md5(b"held ")
    digest = BackgroundMD5(start)
    digest.update(b"x" * (BATCH + 1))
    first = digest.hexdigest()
    assert first == hashlib.md5(b"held " + b"x" * (BATCH + 1)).hexdigest()
    digest.update(b"tail")
    assert digest.hexdigest() == hashlib.md5(b"held " + b"x" * (BATCH + 1) + b"tail").hexdigest()


def test_close_stops_the_thread_without_waiting_for_the_hashing():
    before = threading.active_count()
    digests = [BackgroundMD5() for _ in range(3)]
    for digest in digests:
        for _ in range(6):
            digest.update(b"y" * BATCH)
        digest.close()
        digest.close()
    assert threading.active_count() == before


BIG = os.urandom(9 * 1024 * 1024)  # enough to be hashed on a second thread
BIG_MD5 = hashlib.md5(BIG).hexdigest()


def test_a_large_part_file_is_hashed_on_a_second_thread(tmp_path):
    data, checksum, target = BIG, BIG_MD5, tmp_path / "big.bin"
    part = Part(str(target), checksum, len(data))
    assert isinstance(part.digest, BackgroundMD5)
    for start in range(0, len(data), 300_000):
        part.write(data[start:start + 300_000])
    assert part.digest.hexdigest() == checksum
    part.commit()
    assert target.read_bytes() == data


def test_a_large_part_file_continued_or_restarted_keeps_a_right_digest(tmp_path):
    data, checksum, target = BIG, BIG_MD5, tmp_path / "big.bin"
    first = Part(str(target), checksum, len(data))
    first.write(data[:1_000_000])
    first.close()  # the run dies; its thread is gone
    second = Part(str(target), checksum, len(data))
    assert second.held == 1_000_000 and isinstance(second.digest, BackgroundMD5)
    second.write(b"wrong" * 10)
    second.restart()
    second.write(data)
    assert second.digest.hexdigest() == checksum
    second.discard()
    assert not os.listdir(tmp_path)
