"""The content-addressed asset store: file contents kept once per MD5.

Bitstreams report the real server's layout as their ``path`` (``ab/cd/<md5>``);
on disk the contents sit side by side in ``assetstore/``, so storing a new
content never has to create a directory.
"""

import hashlib
import os
import tempfile
from typing import BinaryIO, List, Tuple

from pydas.testing.backend.dicom import read_dicom_tags
from pydas.testing.backend.values import sniff_mimetype

__all__ = ["Assets", "md5_of_file", "CHUNK_SIZE"]

#: Size of the blocks in which file bytes are copied, hashed and sent.
CHUNK_SIZE = 256 * 1024


class Assets:
    """The stored file contents of one data directory.

    :param directory: ``<data dir>/assetstore`` (created if missing).
    """

    def __init__(self, directory: str) -> None:
        self.directory = directory
        os.makedirs(directory, exist_ok=True)

    def path(self, checksum: str) -> str:
        """Return the absolute path of the stored content with this MD5.

        :param checksum: MD5 hex digest.
        :returns: the file (it exists once such content was stored).
        """
        return os.path.join(self.directory, checksum)

    @staticmethod
    def reported_path(checksum: str) -> str:
        """Return the ``path`` a bitstream reports for a content: ``ab/cd/<md5>``.

        :param checksum: MD5 hex digest.
        :returns: the relative path with ``/`` separators.
        """
        return f"{checksum[0:2]}/{checksum[2:4]}/{checksum}"

    def adopt(self, path: str, checksum: str) -> str:
        """Move a finished file into the store, or drop it if the content is known.

        :param path: the file to take over (removed afterwards either way).
        :param checksum: its MD5 hex digest.
        :returns: the bitstream path of the content.
        """
        target = self.path(checksum)
        if os.path.exists(target):
            os.remove(path)
        else:
            os.replace(path, target)
        return self.reported_path(checksum)

    def adopt_bytes(self, content: bytes) -> Tuple[str, str]:
        """Store bytes received whole (multipart uploads).

        :param content: the file content.
        :returns: ``(md5 hex digest, bitstream path)``.
        """
        checksum = hashlib.md5(content).hexdigest()
        if not os.path.exists(self.path(checksum)):
            handle_number, temporary = tempfile.mkstemp(prefix=".incoming-", dir=self.directory)
            with os.fdopen(handle_number, "wb") as handle:
                handle.write(content)
            os.replace(temporary, self.path(checksum))
        return checksum, self.reported_path(checksum)

    def mimetype(self, checksum: str) -> str:
        """Return the mime type of a stored content, judged from its first bytes."""
        with open(self.path(checksum), "rb") as handle:
            return sniff_mimetype(handle.read(4096))

    def size(self, checksum: str) -> int:
        """Return the size of a stored content, ``0`` if it is missing."""
        try:
            return os.path.getsize(self.path(checksum))
        except OSError:
            return 0

    def dicom_tags(self, checksum: str) -> List[Tuple[str, str]]:
        """Return the DICOM header tags of a stored content in file order (none if not DICOM)."""
        return read_dicom_tags(self.path(checksum))

    def open(self, checksum: str, offset: int = 0) -> BinaryIO:
        """Open a stored content for reading at an offset.

        :param checksum: MD5 hex digest.
        :param offset: where to start.
        :returns: the open file.
        """
        handle = open(self.path(checksum), "rb")
        if offset:
            handle.seek(offset)
        return handle


def md5_of_file(path: str) -> Tuple[str, int]:
    """Hash a file in chunks.

    :param path: the file.
    :returns: ``(md5 hex digest, size in bytes)``.
    """
    digest = hashlib.md5()
    size = 0
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(CHUNK_SIZE), b""):
            digest.update(block)
            size += len(block)
    return digest.hexdigest(), size
