"""Part files of downloads: named, locked, continued and cleaned up (pydas._transfer.parts)."""

import hashlib
import os
import subprocess
import sys
import textwrap

from pydas._transfer.parts import SUFFIX, Part

MD5 = hashlib.md5(b"hello world").hexdigest()


def _parts(directory):
    return sorted(name for name in os.listdir(directory) if name.endswith(SUFFIX))


def test_the_part_file_fits_beside_a_long_non_ascii_name(tmp_path):
    target = tmp_path / ("\U0001f600" * 60 + ".txt")  # 244 bytes: a legal name
    part = Part(str(target), MD5, 11)
    part.write(b"hello world")
    part.commit()
    assert target.read_bytes() == b"hello world" and _parts(tmp_path) == []


def test_a_part_file_left_by_a_dead_run_is_continued(tmp_path):
    target = tmp_path / "f.txt"
    first = Part(str(target), MD5, 11)
    first.write(b"hello")
    first.close()  # the run dies here
    second = Part(str(target), MD5, 11)
    assert second.path == first.path and second.held == 5
    second.write(b" world")
    assert second.digest.hexdigest() == MD5
    second.commit()
    assert target.read_bytes() == b"hello world" and _parts(tmp_path) == []


def test_a_part_file_longer_than_the_content_starts_again(tmp_path):
    target = tmp_path / "f.txt"
    stale = Part(str(target), MD5, 100)
    stale.write(b"x" * 50)
    stale.close()
    part = Part(str(target), MD5, 11)
    assert part.held == 0 and os.path.getsize(part.path) == 0
    part.discard()


def test_part_files_of_other_content_that_nobody_holds_are_removed(tmp_path):
    target = tmp_path / "f.txt"
    old = Part(str(target), "0" * 32, 3)
    old.write(b"old")
    old.close()
    (tmp_path / ".f.txt.1234abcd.pydas-part").write_bytes(b"from an older pydas")
    (tmp_path / ".other.txt.1234abcd.pydas-part").write_bytes(b"another target's")
    part = Part(str(target), MD5, 11)
    assert _parts(tmp_path) == sorted([os.path.basename(part.path),
                                       ".other.txt.1234abcd.pydas-part"])
    part.discard()


def test_two_processes_never_write_one_part_file(tmp_path):
    target = tmp_path / "f.txt"
    held = Part(str(target), MD5, 11)
    held.write(b"hel")
    script = textwrap.dedent(f"""
        from pydas._transfer.parts import Part
        part = Part({str(target)!r}, {MD5!r}, 11)
        print(part.path, part.held)
        part.discard()
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         check=True, timeout=60).stdout.split()
    assert out[0] != held.path and out[1] == "0"
    assert os.path.getsize(held.path) == 3  # the other process did not touch it
    held.discard()
