"""Downloads: redirects, single files, ZIP archives, links, offsets, checks (§5)."""

import hashlib
import http.client
import io
import time
import warnings
import zipfile
from urllib.parse import urlsplit

import requests

from pydas.testing import MidasServer


def _item_with(api, token, folder, name, files):
    item = api.ok("midas.item.create", token=token, name=name, parentid=folder)["item_id"]
    for file_name, content in files:
        api.upload(token, item, file_name, content)
    return item


def test_item_download_redirects_then_sends_the_file(api, jane, jane_token):
    item = _item_with(api, jane_token, jane.private_folder_id, "one", [("a.txt", b"hello")])
    redirect = api.raw("midas.item.download", verb="GET", id=item, token=jane_token)
    assert redirect.status_code == 302
    assert redirect.headers["Location"] == (
        f"/midas/download/?items={item}&authToken={jane_token}")
    assert redirect.raw.headers.getlist("Content-Length") == ["0"]
    response = requests.get(f"{api.url}/api/json",
                            params={"method": "midas.item.download", "id": item,
                                    "token": jane_token}, timeout=10)
    assert response.content == b"hello"
    assert response.headers["Content-Disposition"] == 'attachment; filename="a.txt"'
    assert response.headers["Content-Length"] == "5"
    assert response.headers["Content-Type"] == "text/plain;charset=UTF-8"
    assert response.headers["Accept-Ranges"] == "bytes"
    # the counter moves once the last byte is sent, as on the real server: the
    # client may have read the body a moment before the server counted it
    deadline = time.monotonic() + 5
    while api.ok("midas.item.get", token=jane_token, id=item)["download"] != "1":
        assert time.monotonic() < deadline, "the download was never counted"
        time.sleep(0.01)


def test_revision_parameter_selects_the_revision(api, jane, jane_token):
    item = _item_with(api, jane_token, jane.private_folder_id, "two", [("v1.txt", b"one")])
    api.upload(jane_token, item, "v2.txt", b"two", revision=None)
    redirect = api.raw("midas.item.download", verb="GET", id=item, revision="1",
                       token=jane_token)
    assert redirect.headers["Location"] == (
        f"/midas/download/?items={item},1&authToken={jane_token}")
    response = requests.get(f"{api.url}/download/", params={"items": f"{item},1",
                                                           "authToken": jane_token}, timeout=10)
    assert response.content == b"one"


def test_non_ascii_file_names_arrive_as_raw_utf8(core, api, jane, jane_token):
    item = _item_with(api, jane_token, jane.private_folder_id, "x", [("café.txt", b"c")])
    response = requests.get(f"{api.url}/download/", params={"items": item,
                                                           "authToken": jane_token}, timeout=10)
    header = response.headers["Content-Disposition"]
    assert header.encode("latin-1") == 'attachment; filename="café.txt"'.encode()
    name, chunks = core.download_item(item, jane_token)
    assert name == "café.txt" and b"".join(chunks) == b"c"


def test_several_bitstreams_come_as_a_streamed_zip(api, jane, jane_token):
    files = [("a.txt", b"A" * 1000), ("b.bin", bytes(range(256)))]
    item = _item_with(api, jane_token, jane.private_folder_id, "bundle", files)
    response = requests.get(f"{api.url}/download/", params={"items": item,
                                                           "authToken": jane_token}, timeout=10)
    assert response.headers["Content-Type"] == "application/x-zip"
    assert response.headers["Content-Disposition"] == 'attachment; filename="bundle.zip"'
    assert "Content-Length" not in response.headers
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        assert archive.namelist() == ["a.txt", "b.bin"]
        assert archive.read("a.txt") == files[0][1] and archive.read("b.bin") == files[1][1]
        assert archive.getinfo("a.txt").compress_type == zipfile.ZIP_DEFLATED


def test_same_named_bitstreams_both_go_into_the_zip_without_a_warning(api, jane, jane_token):
    item = _item_with(api, jane_token, jane.private_folder_id, "twins",
                      [("same.txt", b"first"), ("same.txt", b"second")])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        response = requests.get(f"{api.url}/download/", params={"items": item,
                                                               "authToken": jane_token},
                                timeout=10)
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        assert [(info.filename, archive.open(info).read()) for info in archive.infolist()] == [
            ("same.txt", b"first"), ("same.txt", b"second")]


def test_a_line_break_in_a_file_name_cannot_inject_headers(api, jane, jane_token):
    item = _item_with(api, jane_token, jane.private_folder_id, "evil",
                      [("a\r\nSet-Cookie: x=1", b"data")])
    response = requests.get(f"{api.url}/download/", params={"items": item,
                                                           "authToken": jane_token}, timeout=10)
    assert response.content == b"data"
    assert "Set-Cookie" not in response.headers and "Content-Disposition" not in response.headers


def test_head_requests_get_the_headers_of_the_answer_without_its_body(midas_server, api, jane,
                                                                       jane_token):
    item = _item_with(api, jane_token, jane.private_folder_id, "h", [("h.txt", b"12345")])
    split = urlsplit(midas_server.url)
    connection = http.client.HTTPConnection(split.hostname, split.port, timeout=10)
    connection.request("HEAD", f"{split.path}/download/?items={item}&authToken={jane_token}")
    head = connection.getresponse()
    assert (head.status, head.getheader("Content-Length"), head.read()) == (200, "5", b"")
    assert head.getheader("Content-Disposition") == 'attachment; filename="h.txt"'
    connection.request("GET", f"{split.path}/api/json?method=midas.version")
    assert connection.getresponse().read() == b'{"code":"0","data":{"version":"3.4.2"},' \
                                              b'"message":"","stat":"ok"}'
    connection.close()
    assert api.ok("midas.item.get", token=jane_token, id=item)["download"] == "0"


def test_item_without_files_gives_an_empty_zip(api, jane, jane_token):
    item = api.ok("midas.item.create", token=jane_token, name="n" * 60,
                  parentid=jane.private_folder_id)["item_id"]
    response = requests.get(f"{api.url}/download/", params={"items": item,
                                                           "authToken": jane_token}, timeout=10)
    assert len(response.content) == 22
    assert response.headers["Content-Disposition"] == f'attachment; filename="{"n" * 50}.zip"'
    assert zipfile.ZipFile(io.BytesIO(response.content)).namelist() == []


def test_link_items_redirect_to_their_url(api, jane, jane_token):
    item = api.ok("midas.link.create", token=jane_token, folderid=jane.private_folder_id,
                  url="https://example.org/data.nii")["item_id"]
    response = requests.get(f"{api.url}/download/", params={"items": item,
                                                           "authToken": jane_token},
                            allow_redirects=False, timeout=10)
    assert response.status_code == 302
    assert response.headers["Location"] == "https://example.org/data.nii"


def test_download_endpoint_checks_token_and_permissions(api, jane, jane_token, bob_token):
    item = _item_with(api, jane_token, jane.private_folder_id, "p", [("p", b"p")])
    get = requests.get
    assert get(f"{api.url}/download/", params={"items": item}, timeout=10).status_code == 403
    assert get(f"{api.url}/download/", params={"items": item, "authToken": bob_token},
               timeout=10).status_code == 403
    bad = get(f"{api.url}/download/", params={"items": item, "authToken": "x"}, timeout=10)
    assert bad.status_code == 500 and "text/html" in bad.headers["Content-Type"]
    missing = get(f"{api.url}/download/", params={"items": "999"}, timeout=10)
    assert missing.status_code == 404 and "Item does not exist: 999" in missing.text
    assert api.fail("midas.item.download", id=item, token=bob_token) == (
        "-151", "This item doesn't exist or you don't have the permissions.")


def test_bitstream_download_with_offset_reproduces_the_length_bug(api, jane, jane_token):
    content = bytes(range(256)) * 40  # 10,240 bytes
    item = _item_with(api, jane_token, jane.private_folder_id, "o", [("o.bin", content)])
    bitstream = api.ok("midas.item.get", token=jane_token, id=item)["revisions"][0][
        "bitstreams"][0]
    redirect = api.raw("midas.bitstream.download", id=bitstream["bitstream_id"], offset="4",
                       name="new name", token=jane_token)
    assert redirect.status_code == 302
    location = redirect.headers["Location"]
    assert location.startswith(
        f"/midas/download/?bitstream={bitstream['bitstream_id']}&offset=4&name=new%20name")
    origin = api.url[: -len("/midas")]
    response = requests.get(f"{origin}{location}", stream=True, timeout=10)
    assert response.headers["Content-Length"] == "10240"
    assert response.headers["Content-Disposition"] == 'attachment; filename="new name"'
    assert response.raw.read(20_000, decode_content=False) == content[4:]
    response.close()
    # a rest of at most 8000 bytes: Apache holds the whole body and announces its length
    response = requests.get(f"{api.url}/download/", params={
        "bitstream": bitstream["bitstream_id"], "offset": 2240, "authToken": jane_token},
        timeout=10)
    assert response.headers["Content-Length"] == "8000" and response.content == content[2240:]
    assert response.headers.get("Connection") != "close"
    by_checksum = api.raw("midas.bitstream.download", checksum=bitstream["checksum"],
                          token=jane_token)
    assert by_checksum.status_code == 302
    assert api.fail("midas.bitstream.download") == (
        "-150", "Either an id or checksum parameter is required")


def test_offset_without_the_bug_announces_the_remaining_length():
    with MidasServer(faithful_offset_bug=False) as server:
        user = server.create_user("o@example.com", "p", "O", "P")
        session = requests.Session()
        url = f"{server.url}/api/json"

        def call(method, **data):
            return session.post(url, params={"method": method}, data=data,
                                timeout=10).json()["data"]

        token = call("midas.login", email=user.email, apikey=user.api_key,
                     appname="Default")["token"]
        item = call("midas.item.create", token=token, name="i",
                    parentid=user.private_folder_id)["item_id"]
        upload = call("midas.upload.generatetoken", token=token, itemid=item,
                      filename="f")["token"]
        session.put(url, params={"method": "midas.upload.perform", "uploadtoken": upload,
                                 "filename": "f", "length": 10}, data=b"0123456789", timeout=10)
        bitstream_id = call("midas.item.get", token=token, id=item)["revisions"][0][
            "bitstreams"][0]["bitstream_id"]
        response = session.get(f"{server.url}/download/", params={
            "bitstream": bitstream_id, "offset": 7, "authToken": token}, timeout=10)
        session.close()
    assert response.headers["Content-Length"] == "3" and response.content == b"789"


def test_folder_download_is_a_zip_of_the_readable_tree(api, jane, jane_token):
    top = api.ok("midas.folder.create", token=jane_token, name="study",
                 parentid=jane.private_folder_id)["folder_id"]
    sub = api.ok("midas.folder.create", token=jane_token, name="sub", parentid=top)["folder_id"]
    _item_with(api, jane_token, top, "same.txt", [("same.txt", b"1")])
    _item_with(api, jane_token, top, "multi", [("x", b"2"), ("y", b"3")])
    _item_with(api, jane_token, sub, "deep", [("d.txt", b"4")])
    api.ok("midas.item.create", token=jane_token, name="empty", parentid=sub)
    redirect = api.raw("midas.folder.download", verb="GET", id=top, token=jane_token)
    assert redirect.headers["Location"] == f"/midas/download/?folders={top}&authToken={jane_token}"
    response = requests.get(f"{api.url}/download/", params={"folders": top,
                                                           "authToken": jane_token}, timeout=10)
    assert response.headers["Content-Disposition"] == 'attachment; filename="JaneDoe-study.zip"'
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        contents = {name: archive.read(name) for name in archive.namelist()}
    assert contents == {
        "study/same.txt": b"1",
        "study/multi/x": b"2",
        "study/multi/y": b"3",
        "study/sub/deep/d.txt": b"4",
        "study/sub/empty": b"",
    }
    assert hashlib.md5(contents["study/same.txt"]).hexdigest()
    assert api.fail("midas.folder.download", id=top)[0] == "-151"


def _post_download(api, **form):
    return requests.post(f"{api.url}/download/", data=form, timeout=10)


def _bitstream_of(api, token, item):
    return api.ok("midas.item.get", token=token, id=item)["revisions"][-1]["bitstreams"][0]


def test_a_posted_form_downloads_a_bitstream_in_one_request(midas_server, api, jane, jane_token):
    content = b"posted " * 3000  # 21,000 bytes
    item = _item_with(api, jane_token, jane.private_folder_id, "form", [("f.bin", content)])
    bitstream = _bitstream_of(api, jane_token, item)
    midas_server.clear_request_log()
    response = _post_download(api, bitstream=bitstream["bitstream_id"], authToken=jane_token)
    assert response.status_code == 200 and response.content == content
    assert response.headers["Content-Length"] == "21000"
    assert response.headers["Content-Disposition"] == 'attachment; filename="f.bin"'
    (record,) = midas_server.request_log
    assert (record.verb, record.path, record.query) == ("POST", "/download/", {})
    # offset and name come from the body too; the length bug is the same
    response = requests.post(f"{api.url}/download/", stream=True, timeout=10, data={
        "bitstream": bitstream["bitstream_id"], "authToken": jane_token, "offset": 1000,
        "name": "other.bin"})
    assert response.headers["Content-Length"] == "21000"
    assert response.headers["Content-Disposition"] == 'attachment; filename="other.bin"'
    assert response.raw.read(30_000, decode_content=False) == content[1000:]
    response.close()
    # an offset beyond the end sends the whole file, as the real server does
    response = _post_download(api, bitstream=bitstream["bitstream_id"], authToken=jane_token,
                              offset=99_999)
    assert response.content == content


def test_posted_names_and_empty_files_arrive_intact(api, jane, jane_token):
    for name, content in (("a&b#c%d+e.bin", b"odd"), ("näme ü €.bin", b"utf"), ("empty", b"")):
        item = _item_with(api, jane_token, jane.private_folder_id, "n", [(name, content)])
        bitstream = _bitstream_of(api, jane_token, item)
        response = _post_download(api, bitstream=bitstream["bitstream_id"],
                                  authToken=jane_token)
        assert response.content == content
        assert response.headers["Content-Length"] == str(len(content))
        raw_name = response.headers["Content-Disposition"].encode("latin-1").decode("utf-8")
        assert raw_name == f'attachment; filename="{name}"'


def test_the_download_endpoint_answers_errors_with_the_real_servers_pages(
        api, jane, jane_token, bob_token):
    item = _item_with(api, jane_token, jane.private_folder_id, "e", [("e.bin", b"e")])
    bitstream_id = _bitstream_of(api, jane_token, item)["bitstream_id"]
    link = api.ok("midas.link.create", token=jane_token, folderid=jane.private_folder_id,
                  url="https://example.org/data.nii")["item_id"]
    link_id = _bitstream_of(api, jane_token, link)["bitstream_id"]
    cases = [
        ({"bitstream": bitstream_id, "authToken": "x" * 40}, 500, "Invalid token"),
        ({"bitstream": bitstream_id, "authToken": ""}, 500, "Invalid token"),
        ({"bitstream": bitstream_id}, 500, "Permission denied"),
        ({"bitstream": bitstream_id, "authToken": bob_token}, 500, "Permission denied"),
        ({"bitstream": "99999", "authToken": jane_token}, 404, "Invalid bitstream id"),
        ({"bitstream": "abc", "authToken": jane_token}, 500,
         "No parameters, expecting itemIds or folderIds."),
        ({"bitstream": link_id, "authToken": jane_token}, 500,
         "Unable to find file on the disk"),
    ]
    for form, status, text in cases:
        response = _post_download(api, **form)
        assert (response.status_code, text in response.text) == (status, True), form
        assert "text/html" in response.headers["Content-Type"]
        assert "Content-Disposition" not in response.headers


def test_setting_metadata_moves_the_items_date_update(midas_server, api, jane, jane_token):
    item = _item_with(api, jane_token, jane.private_folder_id, "m", [("m.txt", b"m")])
    long_ago = "2001-02-03 04:05:06"
    with midas_server.store.write():
        midas_server.store.items.update(int(item), date_update=long_ago)
    api.ok("midas.item.setmetadata", token=jane_token, itemId=item, element="a", value="1")
    listed = api.ok("midas.folder.children", token=jane_token, id=jane.private_folder_id)
    (entry,) = [entry for entry in listed["items"] if entry["item_id"] == item]
    assert entry["date_update"] > long_ago
    with midas_server.store.write():
        midas_server.store.items.update(int(item), date_update=long_ago)
    api.ok("midas.item.setmultiplemetadata", token=jane_token, itemid=item, count=1,
           element_1="b", value_1="2")
    assert api.ok("midas.item.get", token=jane_token, id=item)["date_update"] > long_ago
