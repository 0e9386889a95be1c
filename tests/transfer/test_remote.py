"""Calls with the current token, and the answers the engine reads: remote and answers."""

from pydas._transfer.answers import item_record


def _bitstream(number):
    return {"bitstream_id": str(number), "name": "f", "sizebytes": "1",
            "checksum": "c4ca4238a0b923820dcc509a6f75849b"}


def test_the_head_revision_is_the_largest_number_not_the_last():
    item = item_record({"item_id": "1", "name": "i", "revisions": [
        {"revision": "2", "bitstreams": [_bitstream(2)]},
        {"revision": "10", "bitstreams": [_bitstream(10)]},
        {"revision": "1", "bitstreams": [_bitstream(1)]},
    ]})
    assert item.head.number == 10 and item.head.bitstreams[0].id == "10"
    assert item_record({"item_id": "1", "name": "i", "revisions": []}).head is None
