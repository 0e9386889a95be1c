"""The server modules on a real server: dicomextractor, thumbnailcreator, solr, batchmake.

``mfa`` is exercised by ``test_live_login.py``, ``tracker`` by ``test_live_tracker.py``.
"""

import struct
import zlib

import pytest

from pydas import exceptions

covers = pytest.mark.covers

EXPLICIT_LITTLE_ENDIAN = b"1.2.840.10008.1.2.1"
SECONDARY_CAPTURE = b"1.2.840.10008.5.1.4.1.1.7"


def _dicom_element(tag, vr, value):
    """One explicit-VR little-endian element (short-length VRs only)."""
    if len(value) % 2:
        value += b"\x00" if vr == b"UI" else b" "
    return struct.pack("<HH", *tag) + vr + struct.pack("<H", len(value)) + value


def dicom_file(patient_name, modality, instance_uid):
    """A minimal DICOM Part-10 file (header only, no pixels) that dcmtk reads."""
    meta_body = (
        struct.pack("<HH", 0x0002, 0x0001) + b"OB\x00\x00" + struct.pack("<I", 2) + b"\x00\x01"
        + _dicom_element((0x0002, 0x0002), b"UI", SECONDARY_CAPTURE)
        + _dicom_element((0x0002, 0x0003), b"UI", instance_uid)
        + _dicom_element((0x0002, 0x0010), b"UI", EXPLICIT_LITTLE_ENDIAN)
    )
    meta = _dicom_element((0x0002, 0x0000), b"UL", struct.pack("<I", len(meta_body))) + meta_body
    dataset = b"".join(
        _dicom_element(tag, vr, value)
        for tag, vr, value in (
            ((0x0008, 0x0016), b"UI", SECONDARY_CAPTURE),
            ((0x0008, 0x0018), b"UI", instance_uid),
            ((0x0008, 0x0020), b"DA", b"20240131"),
            ((0x0008, 0x0060), b"CS", modality),
            ((0x0010, 0x0010), b"PN", patient_name),
            ((0x0010, 0x0020), b"LO", b"P-0001"),
        )
    )
    return b"\x00" * 128 + b"DICM" + meta + dataset


def png_file(width, height):
    """An RGB PNG image of a colour gradient."""

    def chunk(kind, data):
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))

    rows = b"".join(
        b"\x00" + b"".join(bytes((x * 255 // width, y * 255 // height, 128)) for x in range(width))
        for y in range(height)
    )
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows))
            + chunk(b"IEND", b""))


@covers("DicomextractorDriver.extract_dicommetadata")
def test_dicom_tags_become_metadata_of_the_item(live_user, scratch, tmp_path):
    communicator, token = live_user.communicator, live_user.token
    path = tmp_path / "slice.dcm"
    path.write_bytes(dicom_file(b"Doe^Jane", b"MR", b"1.2.826.0.1.3680043.2.1125.1"))
    item = communicator.create_item(token, "series", scratch["folder_id"])["item_id"]
    live_user.upload(item, path)

    revision = communicator.extract_dicommetadata(token, item)
    assert revision["item_id"] == item and revision["revision"] == "1"
    tags = {
        entry["qualifier"]: entry["value"]
        for entry in communicator.get_item_metadata(item, token)
        if entry["element"] == "DICOM"
    }
    assert tags["PatientName"] == "Doe^Jane"
    assert tags["Modality"] == "MR"
    assert tags["SOPInstanceUID"] == "1.2.826.0.1.3680043.2.1125.1"


@covers("DicomextractorDriver.extract_dicommetadata")
def test_dicom_extraction_of_a_missing_item_fails_with_code_0(live_user):
    # The module checks the item's policy without loading it first: code 0, not -151.
    with pytest.raises(exceptions.ServerCheckFailed, match="when checking Item policy"):
        live_user.communicator.extract_dicommetadata(live_user.token, 987654321)


@covers("ThumbnailCreatorDriver.create_big_thumbnail",
        "ThumbnailCreatorDriver.create_small_thumbnail")
def test_thumbnails_are_made_from_an_image(live_user, scratch, tmp_path):
    communicator, token = live_user.communicator, live_user.token
    path = tmp_path / "photo.png"
    path.write_bytes(png_file(200, 120))
    item = communicator.create_item(token, "photo", scratch["folder_id"])["item_id"]
    live_user.upload(item, path)
    bitstream = live_user.head(item)["bitstreams"][0]
    assert bitstream["mimetype"] == "image/png"

    big = communicator.create_big_thumbnail(token, bitstream["bitstream_id"], item, width=64)
    assert big["itemthumbnail_id"] and big["item_id"] == item
    small = communicator.create_small_thumbnail(token, item)
    assert small["item_id"] == item
    thumbnail_id = communicator.item_get(token, item)["thumbnail_id"]
    assert thumbnail_id not in ("", "0") and thumbnail_id == small["thumbnail_id"]


@covers("SolrDriver.solr_advanced_search")
def test_solr_is_not_enabled_so_its_search_does_not_exist(live_user):
    with pytest.raises(exceptions.UnknownMethod, match="solr.search.advanced"):
        live_user.communicator.solr_advanced_search("name:brain", live_user.token, limit=5)


@covers("BatchmakeDriver.add_condor_dag", "BatchmakeDriver.add_condor_job")
def test_batchmake_is_gone_from_midas_3_4_2(live_user):
    communicator, token = live_user.communicator, live_user.token
    with pytest.raises(exceptions.UnknownMethod, match="batchmake.add.condor.dag"):
        communicator.add_condor_dag(token, 1, "job.dag", "job.dag.dagman.out")
    with pytest.raises(exceptions.UnknownMethod, match="batchmake.add.condor.job"):
        communicator.add_condor_job(token, 1, "job.def", "out", "err", "log", "post")
