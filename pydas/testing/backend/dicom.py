"""Read the header tags of a DICOM file for the ``dicomextractor`` module.

The real module runs dcmtk's ``dcm2xml`` and stores every tag that has a value,
in file order, the file meta group included, named by its keyword. With
:mod:`pydicom` installed (the optional ``dicom`` extra) every element pydicom
names is reported the same way. Without it a small built-in reader handles
Part-10 files (128-byte preamble, ``DICM``) whose data set is little endian,
explicit or implicit VR, and names the tags of :data:`TAGS` (the file meta
group and the common patient, study, series and image tags) up to the pixel
data. Anything else yields no tags.
"""

import struct
from typing import BinaryIO, Dict, List, Optional, Tuple

__all__ = ["read_dicom_tags", "TAGS"]

#: (group, element) -> (keyword, VR) of the tags the built-in reader names.
TAGS: Dict[Tuple[int, int], Tuple[str, str]] = {
    (0x0002, 0x0000): ("FileMetaInformationGroupLength", "UL"),
    (0x0002, 0x0001): ("FileMetaInformationVersion", "OB"),
    (0x0002, 0x0002): ("MediaStorageSOPClassUID", "UI"),
    (0x0002, 0x0003): ("MediaStorageSOPInstanceUID", "UI"),
    (0x0002, 0x0010): ("TransferSyntaxUID", "UI"),
    (0x0002, 0x0012): ("ImplementationClassUID", "UI"),
    (0x0002, 0x0013): ("ImplementationVersionName", "SH"),
    (0x0008, 0x0005): ("SpecificCharacterSet", "CS"),
    (0x0008, 0x0008): ("ImageType", "CS"),
    (0x0008, 0x0016): ("SOPClassUID", "UI"),
    (0x0008, 0x0018): ("SOPInstanceUID", "UI"),
    (0x0008, 0x0020): ("StudyDate", "DA"),
    (0x0008, 0x0021): ("SeriesDate", "DA"),
    (0x0008, 0x0022): ("AcquisitionDate", "DA"),
    (0x0008, 0x0023): ("ContentDate", "DA"),
    (0x0008, 0x0030): ("StudyTime", "TM"),
    (0x0008, 0x0031): ("SeriesTime", "TM"),
    (0x0008, 0x0050): ("AccessionNumber", "SH"),
    (0x0008, 0x0060): ("Modality", "CS"),
    (0x0008, 0x0070): ("Manufacturer", "LO"),
    (0x0008, 0x0080): ("InstitutionName", "LO"),
    (0x0008, 0x0090): ("ReferringPhysicianName", "PN"),
    (0x0008, 0x1030): ("StudyDescription", "LO"),
    (0x0008, 0x103E): ("SeriesDescription", "LO"),
    (0x0008, 0x1090): ("ManufacturerModelName", "LO"),
    (0x0010, 0x0010): ("PatientName", "PN"),
    (0x0010, 0x0020): ("PatientID", "LO"),
    (0x0010, 0x0030): ("PatientBirthDate", "DA"),
    (0x0010, 0x0040): ("PatientSex", "CS"),
    (0x0010, 0x1010): ("PatientAge", "AS"),
    (0x0018, 0x0015): ("BodyPartExamined", "CS"),
    (0x0018, 0x0050): ("SliceThickness", "DS"),
    (0x0018, 0x0087): ("MagneticFieldStrength", "DS"),
    (0x0020, 0x000D): ("StudyInstanceUID", "UI"),
    (0x0020, 0x000E): ("SeriesInstanceUID", "UI"),
    (0x0020, 0x0010): ("StudyID", "SH"),
    (0x0020, 0x0011): ("SeriesNumber", "IS"),
    (0x0020, 0x0013): ("InstanceNumber", "IS"),
    (0x0020, 0x0032): ("ImagePositionPatient", "DS"),
    (0x0020, 0x0037): ("ImageOrientationPatient", "DS"),
    (0x0020, 0x0052): ("FrameOfReferenceUID", "UI"),
    (0x0028, 0x0002): ("SamplesPerPixel", "US"),
    (0x0028, 0x0004): ("PhotometricInterpretation", "CS"),
    (0x0028, 0x0010): ("Rows", "US"),
    (0x0028, 0x0011): ("Columns", "US"),
    (0x0028, 0x0030): ("PixelSpacing", "DS"),
    (0x0028, 0x0100): ("BitsAllocated", "US"),
    (0x0028, 0x0101): ("BitsStored", "US"),
    (0x0028, 0x0102): ("HighBit", "US"),
    (0x0028, 0x0103): ("PixelRepresentation", "US"),
}

_LONG_VRS = {b"OB", b"OD", b"OF", b"OL", b"OV", b"OW", b"SQ", b"SV", b"UC", b"UN", b"UR",
             b"UT", b"UV"}
#: Binary VRs shown as numbers, and their struct formats.
_NUMBERS = {"UL": "<I", "US": "<H", "SL": "<i", "SS": "<h", "FL": "<f", "FD": "<d"}
_UNDEFINED = 0xFFFFFFFF
_SEQUENCE_END = b"\xfe\xff\xdd\xe0\x00\x00\x00\x00"
_PIXEL_DATA = (0x7FE0, 0x0010)
_MAX_HEADER = 4 * 1024 * 1024


def _with_pydicom(path: str) -> Optional[List[Tuple[str, str]]]:
    try:
        import pydicom  # type: ignore[import-not-found,unused-ignore]  # optional; typed when installed
    except ImportError:
        return None
    try:
        dataset = pydicom.dcmread(path, stop_before_pixels=True)
    except Exception:
        return []
    found = []
    for element in [*dataset.file_meta, *dataset]:
        text = str(element.value).strip() if element.VR != "SQ" else ""
        if element.keyword and text:
            found.append((element.keyword, text))
    return found


def _value(raw: bytes, vr: str) -> str:
    number = _NUMBERS.get(vr)
    if number is not None:
        width = struct.calcsize(number)
        values = [struct.unpack_from(number, raw, offset)[0]
                  for offset in range(0, len(raw) - width + 1, width)]
        return "\\".join(f"{value:g}" if isinstance(value, float) else str(value)
                         for value in values)
    if vr in ("OB", "OW", "UN"):
        return ""
    return raw.rstrip(b"\x00 ").decode("latin-1").strip()


def _scan(data: bytes, position: int, explicit: bool) -> List[Tuple[str, str]]:
    found: List[Tuple[str, str]] = []
    size = len(data)
    while position + 8 <= size:
        group, element = struct.unpack_from("<HH", data, position)
        if (group, element) == _PIXEL_DATA:
            break
        explicit_here = explicit or group == 0x0002
        vr_bytes = data[position + 4:position + 6] if explicit_here else b""
        if explicit_here and group != 0xFFFE:
            if vr_bytes in _LONG_VRS:
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
        known = TAGS.get((group, element))
        if known is not None:
            keyword, vr = known
            text = _value(data[position:position + length],
                          vr_bytes.decode("latin-1") if vr_bytes else vr)
            if text:
                found.append((keyword, text))
        position += length
    return found


def _builtin(handle: BinaryIO) -> List[Tuple[str, str]]:
    data = handle.read(_MAX_HEADER)
    if len(data) < 132 or data[128:132] != b"DICM":
        return []
    position = 132
    transfer_syntax = ""
    while position + 8 <= len(data):
        group, element = struct.unpack_from("<HH", data, position)
        if group != 0x0002:
            break
        vr = data[position + 4:position + 6]
        length_at, header = (position + 8, 12) if vr in _LONG_VRS else (position + 6, 8)
        length = struct.unpack_from("<I" if header == 12 else "<H", data, length_at)[0]
        if element == 0x0010:
            transfer_syntax = _value(data[position + header:position + header + length], "UI")
        position += header + length
    if transfer_syntax not in ("1.2.840.10008.1.2", "1.2.840.10008.1.2.1", ""):
        return []
    return _scan(data, 132, explicit=transfer_syntax != "1.2.840.10008.1.2")


def read_dicom_tags(path: str) -> List[Tuple[str, str]]:
    """Return the named tags of a file that have a value, in file order (none if not DICOM).

    :param path: the stored file.
    :returns: ``(keyword, value text)`` pairs; several values are joined with ``\\``.
    """
    found = _with_pydicom(path)
    if found is not None:
        return found
    try:
        with open(path, "rb") as handle:
            return _builtin(handle)
    except (OSError, struct.error):
        return []
