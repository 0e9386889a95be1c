"""Local test data: trees of small files and one large file, all of fresh random bytes.

Every upload gets content the server has never seen: Midas answers
``upload.generatetoken`` with an empty token when it already holds a file of
the same checksum, and then no bytes are sent at all, which would make any
second upload of the same data look free.
"""

import os

__all__ = ["make_big_file", "make_tree", "restamp"]


def make_tree(root: str, files: int, folders: int, size: int) -> None:
    """``files`` files of ``size`` random bytes, spread evenly over ``folders`` folders."""
    for index in range(files):
        folder = os.path.join(root, f"series{index % folders:02d}")
        os.makedirs(folder, exist_ok=True)
        with open(os.path.join(folder, f"image{index:05d}.dcm"), "wb") as handle:
            handle.write(os.urandom(size))


def make_big_file(path: str, size: int) -> None:
    """Write ``size`` bytes that do not repeat within the file (so nothing can dedupe them)."""
    block = bytearray(os.urandom(1 << 20))
    with open(path, "wb") as handle:
        written = 0
        counter = 0
        while written < size:
            block[:8] = counter.to_bytes(8, "little")
            piece = bytes(block[: size - written])
            handle.write(piece)
            written += len(piece)
            counter += 1


def restamp(path: str) -> None:
    """Give the file a new checksum by overwriting its first 16 bytes in place."""
    with open(path, "r+b") as handle:
        handle.write(os.urandom(16))
