"""Server names made safe, distinct and contained: pydas._transfer.names."""

import os

import pytest

from pydas import exceptions
from pydas._transfer import names


@pytest.mark.parametrize(
    "name, expected",
    [
        ("plain.txt", "plain.txt"),
        ("with space é.nii", "with space é.nii"),
        ("../../etc/passwd", ".._.._etc_passwd"),
        ("/etc/passwd", "_etc_passwd"),
        ("..", "__"),
        (".", "_"),
        ("", "_"),
        ("a\\b", "a_b"),
        ("C:\\Windows", "C__Windows"),
        ("c:evil", "c_evil"),
        ("nul\x00byte", "nul_byte"),
        ("...", "___"),
    ],
)
def test_safe_name_is_one_harmless_component(name, expected):
    safe = names.safe_name(name)
    assert safe == expected
    assert os.sep not in safe and "/" not in safe and safe not in (".", "..", "")


@pytest.mark.parametrize(
    "name, expected",
    [
        ("report:v2.txt", "report_v2.txt"),
        ('a<b>c"d|e?f*g\x01.txt', "a_b_c_d_e_f_g_.txt"),
        ("trailing. ", "trailing__"),
        ("CON", "_CON"),
        ("nul.txt", "_nul.txt"),
        ("com1.tar.gz", "_com1.tar.gz"),
        ("CONSOLE.txt", "CONSOLE.txt"),
        ("..", "__"),
        ("C:\\x", "C__x"),
        ("plain é.nii", "plain é.nii"),
    ],
)
def test_safe_name_on_windows_also_avoids_streams_and_devices(name, expected):
    assert names.safe_name(name, windows=True) == expected


def test_safe_name_keeps_colons_elsewhere():
    assert names.safe_name("12:30 scan.nii", windows=False) == "12:30 scan.nii"


def test_repair_text_undoes_double_encoding_only_when_it_applies():
    assert names.repair_text("cafÃ©") == "café"
    assert names.repair_text("café") == "café"  # not double encoded: kept
    assert names.repair_text("plain") == "plain"
    assert names.repair_text("数据") == "数据"
    assert names.repair_text(42) == 42


def test_name_book_keeps_clashing_names_apart():
    book = names.NameBook()
    assert book.claim("a/b.txt") == "a_b.txt"
    assert book.claim("a_b.txt") == "a_b (1).txt"
    assert book.claim("A_B.txt") == "A_B (2).txt"
    assert book.claim("other") == "other"


def test_inside_refuses_a_symlink_that_leads_out(tmp_path):
    root = tmp_path / "root"
    root.mkdir()
    (root / "escape").symlink_to(tmp_path)
    assert names.inside(str(root), "fine") == str(root / "fine")
    with pytest.raises(exceptions.UnsafePathError):
        names.inside(str(root), "escape")


def test_a_long_name_is_shortened_deterministically_and_stays_unique():
    long_a = "a" * 300 + ".nii.gz"
    long_b = "a" * 299 + "b.nii.gz"
    short_a, short_b = names.fit(long_a), names.fit(long_b)
    assert names.fit(long_a) == short_a  # the same on every run
    assert short_a != short_b
    for short in (short_a, short_b):
        assert len(short.encode()) <= names.NAME_MAX
        assert short.startswith("a" * 200) and short.endswith(".gz")
    assert names.fit("plain.txt") == "plain.txt"


def test_a_long_non_ascii_name_is_cut_between_characters():
    name = "é" * 200 + ".txt"  # 404 bytes
    short = names.fit(name)
    assert len(short.encode()) <= names.NAME_MAX
    short.encode("utf-8")  # no half character
    assert short.endswith(".txt") and short.startswith("é" * 100)


def test_the_name_book_shortens_and_still_tells_clashes_apart():
    book = names.NameBook()
    first = book.claim("x" * 300)
    second = book.claim("x" * 300)
    assert first != second
    assert all(len(n.encode()) <= names.NAME_MAX for n in (first, second))


def test_peek_tells_the_next_claim_without_making_it():
    book = names.NameBook()
    assert book.peek("a.txt") == "a.txt"
    assert book.claim("a.txt") == "a.txt"
    assert book.peek("A.TXT") == "A (1).TXT"
    assert book.peek("A.TXT") == "A (1).TXT"
    assert book.claim("A.TXT") == "A (1).TXT"
