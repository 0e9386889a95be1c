"""Read a few header tags of a DICOM file for the ``dicomextractor`` module.

With :mod:`pydicom` installed (the optional ``dicom`` extra) it is used and
every tag in :data:`TAGS` that the file has is returned. Without it a small
built-in reader handles Part-10 files (128-byte preamble, ``DICM``) whose data
set is little endian, explicit or implicit VR, and returns the same tags as
long as they appear before the pixel data. Anything else yields no tags.
"""

import struct
from typing import BinaryIO, Dict, Optional, Tuple

__all__ = ["read_dicom_tags", "TAGS"]

#: (group, element) -> keyword of the tags the extractor reports.
TAGS: Dict[Tuple[int, int], str] = {
    (0x0008, 0x0018): "SOPInstanceUID",
    (0x0008, 0x0020): "StudyDate",
    (0x0008, 0x0021): "SeriesDate",
    (0x0008, 0x0030): "StudyTime",
    (0x0008, 0x0060): "Modality",
    (0x0008, 0x0070): "Manufacturer",
    (0x0008, 0x1030): "StudyDescription",
    (0x0008, 0x103E): "SeriesDescription",
    (0x0010, 0x0010): "PatientName",
    (0x0010, 0x0020): "PatientID",
    (0x0010, 0x0030): "PatientBirthDate",
    (0x0010, 0x0040): "PatientSex",
    (0x0020, 0x000D): "StudyInstanceUID",
    (0x0020, 0x000E): "SeriesInstanceUID",
}

_LONG_VRS = {b"OB", b"OD", b"OF", b"OL", b"OV", b"OW", b"SQ", b"SV", b"UC", b"UN", b"UR",
             b"UT", b"UV"}
_UNDEFINED = 0xFFFFFFFF
_SEQUENCE_END = b"\xfe\xff\xdd\xe0\x00\x00\x00\x00"
_MAX_HEADER = 4 * 1024 * 1024


def _with_pydicom(path: str) -> Optional[Dict[str, str]]:
    try:
        import pydicom  # type: ignore[import-not-found]
    except ImportError:
        return None
    try:
        dataset = pydicom.dcmread(path, stop_before_pixels=True)
    except Exception:
        return {}
    found = {}
    for keyword in TAGS.values():
        value = dataset.get(keyword)
        if value is not None and str(value) != "":
            found[keyword] = str(value)
    return found


def _text(raw: bytes) -> str:
    return raw.rstrip(b"\x00 ").decode("latin-1").strip()


def _scan(data: bytes, position: int, explicit: bool) -> Dict[str, str]:
    found: Dict[str, str] = {}
    size = len(data)
    while position + 8 <= size:
        group, element = struct.unpack_from("<HH", data, position)
        if group > 0x0020 and group != 0xFFFE:
            break
        if explicit and group != 0xFFFE:
            vr = data[position + 4:position + 6]
            if vr in _LONG_VRS:
                if position + 12 > size:
                    break
                (length,) = struct.unpack_from("<I", data, position + 8)
                position += 12
            else:
                (length,) = struct.unpack_from("<H", data, position + 6)
                position += 8
        else:
            (length,) = struct.unpack_from("<I", data, position + 4)
            position += 8
        if length == _UNDEFINED:
            end = data.find(_SEQUENCE_END, position)
            if end < 0:
                break
            position = end + len(_SEQUENCE_END)
            continue
        keyword = TAGS.get((group, element))
        if keyword is not None:
            value = _text(data[position:position + length])
            if value:
                found[keyword] = value
        position += length
    return found


def _builtin(handle: BinaryIO) -> Dict[str, str]:
    data = handle.read(_MAX_HEADER)
    if len(data) < 132 or data[128:132] != b"DICM":
        return {}
    position = 132
    transfer_syntax = ""
    while position + 8 <= len(data):
        group, element = struct.unpack_from("<HH", data, position)
        if group != 0x0002:
            break
        vr = data[position + 4:position + 6]
        if vr in _LONG_VRS:
            (length,) = struct.unpack_from("<I", data, position + 8)
            position += 12
        else:
            (length,) = struct.unpack_from("<H", data, position + 6)
            position += 8
        if element == 0x0010:
            transfer_syntax = _text(data[position:position + length])
        position += length
    if transfer_syntax not in ("1.2.840.10008.1.2", "1.2.840.10008.1.2.1", ""):
        return {}
    return _scan(data, position, explicit=transfer_syntax != "1.2.840.10008.1.2")


def read_dicom_tags(path: str) -> Dict[str, str]:
    """Return the :data:`TAGS` found in a file, by keyword (empty if not DICOM).

    :param path: the stored file.
    :returns: keyword -> value text.
    """
    found = _with_pydicom(path)
    if found is not None:
        return found
    try:
        with open(path, "rb") as handle:
            return _builtin(handle)
    except (OSError, struct.error):
        return {}
