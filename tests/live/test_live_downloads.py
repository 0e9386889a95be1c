"""Downloads with the driver methods on a real server: files, ZIP archives, revisions, offsets."""

import io
import os
import zipfile

import pytest

covers = pytest.mark.covers


@pytest.fixture
def two_revisions(live_user, scratch, tmp_path):
    """An item whose revision 1 holds ``a.bin`` and ``b.txt`` and revision 2 ``c.bin``."""
    contents = {"a.bin": os.urandom(70_000), "b.txt": b"plain text\n", "c.bin": os.urandom(999)}
    for name, data in contents.items():
        (tmp_path / name).write_bytes(data)
    item = live_user.communicator.create_item(live_user.token, "pair", scratch["folder_id"])
    item_id = item["item_id"]
    live_user.upload(item_id, tmp_path / "a.bin")
    live_user.upload(item_id, tmp_path / "b.txt")
    live_user.upload(item_id, tmp_path / "c.bin", create_additional_revision=True)
    return item_id, contents


@covers("CoreDriver.download_item")
def test_a_single_file_item_arrives_as_that_file(live_user, two_revisions):
    item_id, contents = two_revisions
    name, chunks = live_user.communicator.download_item(item_id, live_user.token)
    assert (name, b"".join(chunks)) == ("c.bin", contents["c.bin"])


@covers("CoreDriver.download_item")
def test_an_earlier_revision_with_two_files_arrives_as_a_zip(live_user, two_revisions):
    item_id, contents = two_revisions
    name, chunks, item = live_user.communicator.download_item(
        item_id, live_user.token, revision=1, return_item=True
    )
    assert name == "pair.zip" and item["item_id"] == item_id
    archive = zipfile.ZipFile(io.BytesIO(b"".join(chunks)))
    assert sorted(archive.namelist()) == ["a.bin", "b.txt"]
    assert {entry: archive.read(entry) for entry in archive.namelist()} == {
        "a.bin": contents["a.bin"], "b.txt": contents["b.txt"]
    }


@covers("CoreDriver.download_item")
def test_an_item_without_revision_is_an_empty_zip(live_user, scratch):
    item = live_user.communicator.create_item(live_user.token, "nothing yet", scratch["folder_id"])
    name, chunks = live_user.communicator.download_item(item["item_id"], live_user.token)
    body = b"".join(chunks)
    assert name == "nothing yet.zip" and len(body) == 22
    assert zipfile.ZipFile(io.BytesIO(body)).namelist() == []


@covers("CoreDriver.download_bitstream")
def test_a_bitstream_arrives_whole_from_an_offset_or_under_another_name(live_user, two_revisions):
    item_id, contents = two_revisions
    communicator, token = live_user.communicator, live_user.token
    revision = next(r for r in communicator.item_get(token, item_id)["revisions"]
                    if r["revision"] == "1")
    bitstream = next(b for b in revision["bitstreams"] if b["name"] == "a.bin")["bitstream_id"]
    name, chunks = communicator.download_bitstream(bitstream, token)
    assert (name, b"".join(chunks)) == ("a.bin", contents["a.bin"])
    # The server still announces the full length after an offset; pydas takes the rest as whole.
    name, chunks = communicator.download_bitstream(bitstream, token, offset=65_536)
    assert (name, b"".join(chunks)) == ("a.bin", contents["a.bin"][65_536:])
    name, chunks = communicator.download_bitstream(bitstream, token, name="renamed.bin")
    assert (name, b"".join(chunks)) == ("renamed.bin", contents["a.bin"])


@pytest.fixture
def bitstream_named(live_user, scratch, tmp_path):
    """``bitstream_named(name)``: the id and bytes of a new bitstream of that name."""

    def make(name):
        data = os.urandom(64)
        (tmp_path / name).write_bytes(data)
        item = live_user.communicator.create_item(live_user.token, "awkward", scratch["folder_id"])
        live_user.upload(item["item_id"], tmp_path / name)
        return live_user.head(item["item_id"])["bitstreams"][0]["bitstream_id"], data

    return make


# The server writes the bitstream's name raw into its redirect
# (/download/?...&name=a b&c#d.bin&authToken=...): a client that follows it as
# it is loses the token to the fragment (refused: HTTP 500) and cuts the name.


@pytest.mark.parametrize("name", ["a b&c %d+e.bin", "notes #2.txt", "x&y#z.bin"],
                         ids=["spaces-ampersand-percent-plus", "hash", "both"])
@covers("CoreDriver.download_bitstream")
def test_a_bitstream_with_an_awkward_name_arrives_whole_under_its_name(live_user,
                                                                       bitstream_named, name):
    bitstream, data = bitstream_named(name)
    announced, chunks = live_user.communicator.download_bitstream(bitstream, live_user.token)
    assert (announced, b"".join(chunks)) == (name, data)


@covers("CoreDriver.download_bitstream")
def test_an_awkward_name_asked_for_is_announced_whole(live_user, bitstream_named):
    bitstream, data = bitstream_named("plain.bin")
    name, chunks = live_user.communicator.download_bitstream(
        bitstream, live_user.token, name="x&y #z.bin"
    )
    assert (name, b"".join(chunks)) == ("x&y #z.bin", data)
