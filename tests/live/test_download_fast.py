"""Downloads in two requests per file on a real server: item.get, then one POST /download/.

What the engine relies on, checked on the real thing: the download endpoint
takes ``bitstream``/``offset``/``name``/``authToken`` from a form body and
sends the file at once; after an offset it announces the full length when
more than 8000 bytes remain (Apache corrects the length of a body it holds
whole); its refusals are HTML pages, which pydas turns into the API method's
typed errors; and a whole ``pydas.download`` leaves no secret in the server's
access log. The emulator tests (``tests/emulator/test_downloads.py``) hold
the emulator to the same answers.
"""

import collections
import hashlib
import os
import time
from urllib.parse import urlsplit

import pytest
import requests
from support.counting_proxy import CountingProxy

import pydas
from pydas import exceptions

covers = pytest.mark.covers
DATA = bytes(range(256)) * 80  # 20,480 bytes
#: The credentials file (read now: the tests' environment is scrubbed of PYDAS_* variables).
CREDENTIALS_PATH = os.environ.get("PYDAS_LIVE_CREDENTIALS") or ""


def _md5(data):
    return hashlib.md5(data).hexdigest()


@pytest.fixture
def stored(live_user, scratch, tmp_path):
    """``stored(name, data)``: the bitstream id of a new one-file item holding ``data``."""

    def make(name, data, item_name=None):
        (tmp_path / "upload.bin").write_bytes(data)
        item = live_user.communicator.create_item(
            live_user.token, item_name or name, scratch["folder_id"])
        live_user.upload(item["item_id"], tmp_path / "upload.bin", name=name)
        return live_user.head(item["item_id"])["bitstreams"][0]["bitstream_id"]

    return make


@covers("CoreDriver.download_bitstream")
def test_an_offset_is_honoured_whatever_length_the_server_announces(live_user, stored):
    bitstream = stored("offsets.bin", DATA)
    communicator, token = live_user.communicator, live_user.token
    for offset, announced in ((1, len(DATA)), (len(DATA) - 8001, len(DATA)),
                              (len(DATA) - 8000, 8000), (len(DATA), 0)):
        name, chunks = communicator.download_bitstream(bitstream, token, offset=offset)
        assert chunks.response.headers["Content-Length"] == str(announced), offset
        assert b"".join(chunks) == DATA[offset:], offset
    # an offset beyond the end is ignored: the whole file comes
    assert b"".join(communicator.download_bitstream(bitstream, token, offset=99_999)[1]) == DATA


@covers("CoreDriver.download_bitstream")
def test_awkward_names_and_an_empty_file_arrive_intact(live_user, stored):
    for name, data in (("a&b#c%d+e.bin", b"odd"), ("n\u00e4me \u00fc \u20ac.bin", b"utf"),
                       ("empty.bin", b"")):
        bitstream = stored(name, data)
        announced, chunks = live_user.communicator.download_bitstream(bitstream, live_user.token)
        assert (announced, b"".join(chunks)) == (name, data)


@covers("CoreDriver.download_bitstream")
def test_refusals_raise_the_api_methods_errors(live_user, live_otp, stored, scratch):
    bitstream = stored("mine.bin", b"mine")
    with pytest.raises(exceptions.InvalidToken):
        live_user.communicator.download_bitstream(bitstream, "x" * 40)
    with pytest.raises(exceptions.InvalidPolicy, match="Read permission required"):
        live_otp.communicator.download_bitstream(bitstream, live_otp.token)
    with pytest.raises(exceptions.InvalidParameter, match="does not exist"):
        live_user.communicator.download_bitstream(999_999_999, live_user.token)


def test_the_download_endpoint_answers_as_the_emulator_does(live, live_user, live_otp, stored,
                                                            scratch):
    """The same table as the emulator's test of the endpoint's pages."""
    bitstream = stored("e.bin", b"e")
    link = live_user.communicator.create_link(
        live_user.token, scratch["folder_id"], "https://example.org/data.nii", item_name="link")
    link_bitstream = live_user.head(link["item_id"])["bitstreams"][0]["bitstream_id"]
    token = live_user.token
    cases = [
        ({"bitstream": bitstream, "authToken": token}, 200, None),
        ({"bitstream": bitstream, "authToken": "x" * 40}, 500, "Invalid token"),
        ({"bitstream": bitstream, "authToken": ""}, 500, "Invalid token"),
        ({"bitstream": bitstream}, 500, "Permission denied"),
        ({"bitstream": bitstream, "authToken": live_otp.token}, 500, "Permission denied"),
        ({"bitstream": "999999999", "authToken": token}, 404, "Invalid bitstream id"),
        ({"bitstream": "abc", "authToken": token}, 500,
         "No parameters, expecting itemIds or folderIds."),
        ({"bitstream": link_bitstream, "authToken": token}, 500,
         "Unable to find file on the disk"),
    ]
    for form, status, text in cases:
        # a fresh session each time: the endpoint logs a PHP session in with the token, and a
        # client that keeps the cookie is served as that user whatever token it sends next
        response = requests.post(live["MIDAS_URL"] + "/download/", data=form, timeout=30)
        assert response.status_code == status, form.get("bitstream")
        if text is None:
            assert response.content == b"e"
        else:
            assert text in response.text and "Content-Disposition" not in response.headers


@pytest.fixture
def access_log():
    """The real server's access log (a kit server beside its credentials file), or a skip."""
    path = os.path.join(os.path.dirname(CREDENTIALS_PATH), "var", "access.log")
    if not os.access(path, os.R_OK):
        pytest.skip("the live server is not a local kit server (no readable var/access.log)")
    return path


def _new_lines(path, start, wanted, seconds=10.0):
    """The lines written to ``path`` after byte ``start``, once ``wanted`` of them are there.

    Apache writes a line when an answer is complete; the server is shared, so
    other clients' lines are there too.
    """
    deadline = time.monotonic() + seconds
    while True:
        with open(path, "rb") as handle:
            handle.seek(start)
            lines = handle.read().decode("utf-8", "replace").splitlines()
        if len(lines) >= wanted or time.monotonic() > deadline:
            return lines
        time.sleep(0.1)


def test_a_whole_download_is_two_requests_per_file_and_leaves_no_secret_in_the_access_log(
        live, live_user, scratch, tmp_path, access_log):
    parts = urlsplit(live["MIDAS_URL"])
    host, port = parts.hostname, parts.port or 80
    source = tmp_path / "source" / "fast"
    (source / "sub").mkdir(parents=True)
    files = {"one.bin": os.urandom(300_000), "a&b #c%+.txt": b"awkward", "empty": b"",
             "sub/n\u00e4me.txt": b"utf"}
    for relative, data in files.items():
        (source / relative).write_bytes(data)
    # one item of two files: downloaded one by one, into a directory named after the item
    pair = live_user.communicator.create_item(live_user.token, "pair", scratch["folder_id"])
    for name in ("left.bin", "right.bin"):
        (tmp_path / name).write_bytes(name.encode() * 100)
        live_user.upload(pair["item_id"], tmp_path / name)
    live_user.communicator.create_link(live_user.token, scratch["folder_id"],
                                       "https://example.org/elsewhere.nii", item_name="link")
    with CountingProxy(host, port) as proxy:
        pydas.login(email=live["MIDAS_EMAIL"], api_key=live["MIDAS_API_KEY"], url=proxy.url)
        try:
            pydas.upload(str(source), destination=f"Private/{scratch['name']}", quiet=True)
            start = os.path.getsize(access_log)
            proxy.clear()
            pydas.download(f"Private/{scratch['name']}", str(tmp_path / "copy"), quiet=True)
            seen = proxy.requests
            token = pydas.session.token
        finally:
            pydas.session.communicator.close()
    copy = tmp_path / "copy" / scratch["name"]
    for relative, data in files.items():
        assert _md5((copy / "fast" / relative).read_bytes()) == _md5(data), relative
    assert sorted(os.listdir(copy / "pair")) == ["left.bin", "right.bin"]
    assert not (copy / "link").exists()
    counts = collections.Counter((r.verb, r.path, r.api_method) for r in seen)
    posts = counts[("POST", urlsplit(live["MIDAS_URL"]).path + "/download/", None)]
    item_gets = sum(n for (verb, path, method), n in counts.items() if method == "midas.item.get")
    # six items (the link's without a download), six files (the pair's two one by one) of
    # which the empty one needs no request
    assert posts == 5 and item_gets == 6
    assert not [r for r in seen if r.verb == "GET" or r.api_method == "midas.bitstream.download"]
    lines = _new_lines(access_log, start, len(seen))
    assert sum(" POST /download/ " in line for line in lines) >= posts
    assert not [line for line in lines if token in line]  # nor in any URL of the log
