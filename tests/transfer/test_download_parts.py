"""The temporary files of downloads: pydas._transfer.download."""

import os

from pydas._transfer import download


def test_the_temporary_file_fits_beside_a_long_non_ascii_name(tmp_path):
    target = tmp_path / ("\U0001f600" * 60 + ".txt")  # 244 bytes: a legal name
    handle, temporary = download._temporary_beside(str(target))
    os.close(handle)
    assert os.path.dirname(temporary) == str(tmp_path) and os.path.exists(temporary)
