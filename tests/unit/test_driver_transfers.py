"""Streamed uploads (perform_upload) and downloads (tracker uploads: test_tracker_driver.py)."""

import os
from urllib.parse import parse_qs

import pytest
import requests
import responses
from support.local_server import answer
from support.wire import BASE, ENDPOINT, core, envelope, failure, form_params, query_params

from pydas import _transport, drivers, exceptions
from pydas._transport import CHUNK_SIZE, bodies
from pydas._transport.downloads import DOWNLOAD_PIECE

TOKEN = "Tk9secretTOKENvalue0123456789abc"
UPLOAD_TOKEN = "1/7/abcdefABCDEF0123456789"
ITEM = {"item_id": "7", "name": "data.bin"}




@pytest.fixture
def sample(tmp_path):
    path = tmp_path / "data.bin"
    path.write_bytes(bytes(range(256)) * 40)  # 10240 bytes
    return path


class BodyReader:
    """A responses callback that consumes a streamed body and records it."""

    def __init__(self, data=ITEM):
        self.bodies = []
        self.chunks = []
        self.data = data

    def __call__(self, request):
        chunks = [bytes(piece) for piece in request.body or ()]
        self.chunks.append([len(piece) for piece in chunks])
        self.bodies.append(b"".join(chunks))
        return 200, {}, envelope(self.data)


# -- perform_upload ----------------------------------------------------------------------


def test_perform_upload_defaults(mocked, sample):
    reader = BodyReader()
    mocked.add_callback(responses.PUT, ENDPOINT, callback=reader)
    assert core().perform_upload(UPLOAD_TOKEN, str(sample)) == ITEM
    request = mocked.calls[0].request
    assert request.method == "PUT"
    assert request.url.startswith(ENDPOINT + "?method=midas.upload.perform&")
    assert query_params(request) == {
        "uploadtoken": UPLOAD_TOKEN,
        "filename": str(sample),
        "revision": "head",
        "length": "10240",
    }
    assert request.headers["Content-Length"] == "10240"
    assert "Transfer-Encoding" not in request.headers
    assert "Content-Type" not in request.headers
    assert reader.bodies == [sample.read_bytes()]


@pytest.mark.parametrize(
    "kwargs, expected",
    [
        ({"mode": "stream"}, {"mode": "stream", "revision": "head"}),
        ({"folder_id": 3}, {"folderid": "3", "revision": "head"}),
        ({"item_id": 7}, {"itemid": "7", "revision": "head"}),
        ({"revision": 2}, {"revision": "2"}),
        ({"revision": 0}, {"revision": "0"}),
        ({"create_additional_revision": True}, {}),
        ({"create_additional_revision": True, "revision": "head"}, {"revision": "head"}),
        ({"create_additional_revision": False}, {"revision": "head"}),
        ({"changes": "second try"}, {"changes": "second try", "revision": "head"}),
    ],
    ids=["mode", "folder_id", "item_id", "revision", "revision-0", "new-revision",
         "new-revision-head", "no-new-revision", "changes"],
)
def test_perform_upload_options(mocked, sample, kwargs, expected):
    mocked.add_callback(responses.PUT, ENDPOINT, callback=BodyReader())
    core().perform_upload(UPLOAD_TOKEN, "name.bin", filepath=str(sample), **kwargs)
    sent = query_params(mocked.calls[0].request)
    assert sent == {"uploadtoken": UPLOAD_TOKEN, "filename": "name.bin", "length": "10240",
                    **expected}


def test_perform_upload_from_offset_with_progress(mocked, sample):
    reader = BodyReader()
    mocked.add_callback(responses.PUT, ENDPOINT, callback=reader)
    progress = []
    core().perform_upload(UPLOAD_TOKEN, "data.bin", filepath=str(sample), offset=4000,
                          progress=progress.append)
    request = mocked.calls[0].request
    assert query_params(request)["length"] == "10240"
    assert request.headers["Content-Length"] == "6240"
    assert reader.bodies == [sample.read_bytes()[4000:]]
    assert sum(progress) == 6240


def test_perform_upload_of_an_empty_file(mocked, tmp_path):
    empty = tmp_path / "empty"
    empty.write_bytes(b"")
    reader = BodyReader()
    mocked.add_callback(responses.PUT, ENDPOINT, callback=reader)
    core().perform_upload(UPLOAD_TOKEN, str(empty))
    assert query_params(mocked.calls[0].request)["length"] == "0"
    assert mocked.calls[0].request.headers["Content-Length"] == "0"
    assert reader.bodies == [b""]


def test_unknown_mode_and_a_multipart_offset_are_refused_before_sending(mocked, sample):
    with pytest.raises(ValueError, match="unknown mode 'chunks'"):
        core().perform_upload(UPLOAD_TOKEN, str(sample), mode="chunks")
    with pytest.raises(ValueError, match="cannot resume"):
        core().perform_upload(UPLOAD_TOKEN, str(sample), mode="multipart", offset=5)
    assert len(mocked.calls) == 0


def test_missing_local_file_is_reported_before_any_request(mocked, tmp_path):
    missing = tmp_path / "nope.bin"
    with pytest.raises(FileNotFoundError) as caught:
        core().perform_upload(UPLOAD_TOKEN, "nope.bin", filepath=str(missing))
    assert str(missing) in str(caught.value)
    with pytest.raises(IsADirectoryError):
        core().perform_upload(UPLOAD_TOKEN, str(tmp_path))
    assert len(mocked.calls) == 0


def test_offset_outside_the_file(mocked, sample):
    with pytest.raises(ValueError, match="offset"):
        core().perform_upload(UPLOAD_TOKEN, str(sample), offset=10241)
    assert len(mocked.calls) == 0


def test_unknown_upload_keyword(mocked, sample):
    with pytest.raises(TypeError, match="uploadtoken"):
        core().perform_upload(UPLOAD_TOKEN, str(sample), uploadtoken="x")


class ReadRecorder:
    """Wraps a binary file and records the size of every read from it."""

    def __init__(self, handle, sizes):
        self.handle, self.sizes = handle, sizes

    def read(self, size=-1):
        data = self.handle.read(size)
        self.sizes.append(len(data))
        return data

    def __getattr__(self, name):
        return getattr(self.handle, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.handle.close()


def test_large_sparse_upload_is_streamed_in_bounded_chunks(mocked, tmp_path, monkeypatch):
    big = tmp_path / "sparse.img"
    size = 200 * 1024 * 1024
    with open(big, "wb") as handle:
        handle.truncate(size)
    reads = []
    monkeypatch.setattr(bodies, "open",
                        lambda *args, **kw: ReadRecorder(open(*args, **kw), reads), raising=False)
    sent = []

    def consume(request):
        total = 0
        for piece in request.body:
            # the file is never read much further than what was sent
            assert sum(reads) - total <= 2 * CHUNK_SIZE
            total += len(piece)
        sent.append(total)
        return 200, {}, envelope(ITEM)

    mocked.add_callback(responses.PUT, ENDPOINT, callback=consume)
    core().perform_upload(UPLOAD_TOKEN, "sparse.img", filepath=str(big))
    assert sent == [size]
    assert sum(reads) == size
    assert max(reads) <= CHUNK_SIZE
    assert mocked.calls[0].request.headers["Content-Length"] == str(size)


def test_upload_retried_after_connect_failure_sends_the_whole_file(mocked, sample, sleeps):
    reader = BodyReader()
    mocked.add(responses.PUT, ENDPOINT, body=requests.exceptions.ConnectTimeout("no route"))
    mocked.add_callback(responses.PUT, ENDPOINT, callback=reader)
    assert core(sleeps).perform_upload(UPLOAD_TOKEN, str(sample)) == ITEM
    assert len(mocked.calls) == 2
    assert sleeps.waits == [0.5]
    assert reader.bodies == [sample.read_bytes()]


@pytest.mark.parametrize(
    "first",
    [
        {"body": requests.exceptions.ConnectionError("Connection aborted")},
        {"body": requests.exceptions.ReadTimeout("read")},
        {"status": 503, "body": "unavailable"},
        {"status": 502, "body": "bad gateway"},
    ],
    ids=["reset", "read-timeout", "503", "502"],
)
def test_upload_is_never_resent_after_bytes_may_have_left(mocked, sample, sleeps, first):
    mocked.add(responses.PUT, ENDPOINT, **first)
    mocked.add_callback(responses.PUT, ENDPOINT, callback=BodyReader())
    with pytest.raises(exceptions.PydasException):
        core(sleeps).perform_upload(UPLOAD_TOKEN, str(sample))
    assert len(mocked.calls) == 1
    assert sleeps.waits == []


def test_short_upload_reports_upload_failed(mocked, sample):
    mocked.add(responses.PUT, ENDPOINT,
               body=failure("-105", "Failed to upload file - 5/10240 bytes transferred"))
    with pytest.raises(exceptions.UploadFailed, match="5/10240"):
        core().perform_upload(UPLOAD_TOKEN, str(sample))


def test_real_streamed_upload(local_server, sample):
    local_server.routes[("PUT", "/midas/api/json")] = lambda h: answer(h, envelope(ITEM).encode())
    driver = core(url=local_server.url)
    assert driver.perform_upload(UPLOAD_TOKEN, "data.bin", filepath=str(sample), offset=240) == (
        ITEM
    )
    verb, path, headers, body = local_server.seen[0]
    assert verb == "PUT"
    assert headers["Content-Length"] == "10000"
    assert "Transfer-Encoding" not in headers
    assert body == sample.read_bytes()[240:]
    assert "length=10240" in path


def test_request_with_a_file_payload_is_a_streamed_put(mocked, sample):
    reader = BodyReader({"ok": "1"})
    mocked.add_callback(responses.PUT, ENDPOINT, callback=reader)
    with open(sample, "rb") as handle:
        handle.seek(40)
        result = core().request("midas.custom.put", {"a": 1, "b": None}, file_payload=handle)
    assert result == {"ok": "1"}
    request = mocked.calls[0].request
    assert query_params(request) == {"a": "1"}
    assert request.headers["Content-Length"] == "10200"
    assert reader.bodies == [sample.read_bytes()[40:]]


def test_file_payload_is_rewound_for_a_retry(mocked, sample, sleeps):
    reader = BodyReader({"ok": "1"})
    mocked.add(responses.PUT, ENDPOINT, body=requests.exceptions.ConnectTimeout("slow"))
    mocked.add_callback(responses.PUT, ENDPOINT, callback=reader)
    with open(sample, "rb") as handle:
        handle.seek(10)
        handle.read(100)  # as if a first attempt had consumed part of the stream
        handle.seek(10)
        core(sleeps).request("midas.custom.put", file_payload=handle)
    assert reader.bodies == [sample.read_bytes()[10:]]


class Unseekable:
    """A readable stream that can neither tell nor seek (like a pipe)."""

    def __init__(self, data):
        self.data = data

    def read(self, size):
        piece, self.data = self.data[:size], self.data[size:]
        return piece


def test_unseekable_payload_is_sent_chunked_and_never_retried(mocked, sleeps):
    reader = BodyReader({"ok": "1"})
    mocked.add_callback(responses.PUT, ENDPOINT, callback=reader)
    core(sleeps).request("midas.custom.put", file_payload=Unseekable(b"abc" * 1000))
    assert reader.bodies == [b"abc" * 1000]
    assert mocked.calls[0].request.headers["Transfer-Encoding"] == "chunked"
    mocked.replace(responses.PUT, ENDPOINT, body=requests.exceptions.ConnectTimeout("slow"))
    with pytest.raises(exceptions.RequestError):
        core(sleeps).request("midas.custom.put", file_payload=Unseekable(b"abc"))
    assert sleeps.waits == []


# -- downloads ----------------------------------------------------------------------------------

DOWNLOAD = BASE + "/download/"
REDIRECT = {"Location": "/midas/download/?items=7"}


def add_download(mocked, content=b"hello world", name="a.txt", extra=()):
    mocked.add(responses.GET, ENDPOINT, status=302, headers=REDIRECT)
    headers = {"Content-Length": str(len(content)), **dict(extra)}
    if name is not None:
        headers["Content-Disposition"] = f'attachment; filename="{name}"'
    mocked.add(responses.GET, DOWNLOAD, body=content, headers=headers,
               content_type="application/octet-stream")


def test_download_item(mocked):
    add_download(mocked, b"x" * (CHUNK_SIZE * 2 + 5), "scan.nii")
    name, chunks = core().download_item(7, token=TOKEN, revision=2)
    pieces = list(chunks)
    assert name == "scan.nii"
    assert b"".join(pieces) == b"x" * (CHUNK_SIZE * 2 + 5)
    assert max(len(piece) for piece in pieces) <= DOWNLOAD_PIECE
    assert chunks.response.raw.closed
    first = mocked.calls[0].request
    assert first.method == "GET"
    assert first.url.startswith(ENDPOINT + "?method=midas.item.download&")
    assert query_params(first) == {"id": "7", "token": TOKEN, "revision": "2"}
    assert form_params(first) == {}


def test_download_item_anonymous_and_revision_zero(mocked):
    add_download(mocked)
    name, chunks = core().download_item(7, revision=0)
    chunks.close()
    assert query_params(mocked.calls[0].request) == {"id": "7", "revision": "0"}


def test_download_item_returning_the_item_fetches_it_first(mocked):
    mocked.add(responses.POST, ENDPOINT, body=envelope(ITEM))
    add_download(mocked)
    name, chunks, item = core().download_item(7, TOKEN, return_item=True)
    assert (name, b"".join(chunks), item) == ("a.txt", b"hello world", ITEM)
    assert [call.request.method for call in mocked.calls][:2] == ["POST", "GET"]
    assert form_params(mocked.calls[0].request) == {"token": TOKEN, "id": "7"}


def test_download_error_envelope_raises_the_mapped_exception(mocked):
    mocked.add(responses.GET, ENDPOINT, body=failure(
        "-151", "This item doesn't exist or you don't have the permissions."))
    with pytest.raises(exceptions.InvalidPolicy) as caught:
        core().download_item(7, token=TOKEN)
    assert caught.value.method == "midas.item.download"
    assert caught.value.response.raw.closed


def test_upload_redirect_is_not_followed(mocked, sample):
    mocked.add(responses.PUT, ENDPOINT, status=307, headers={"Location": "https://x/midas/api/json"})
    with pytest.raises(exceptions.HTTPError, match="redirects"):
        core().perform_upload(UPLOAD_TOKEN, str(sample))
    assert len(mocked.calls) == 1


def test_download_error_envelope_after_a_scheme_redirect(mocked):
    secure = ENDPOINT.replace("http://", "https://")
    mocked.add(responses.GET, ENDPOINT, status=301, headers={"Location": secure + "?id=7"})
    mocked.add(responses.GET, secure, body=failure("-101", "Invalid token"))
    with pytest.raises(exceptions.InvalidToken):
        core().download_item(7, token=TOKEN)


def test_download_json_success_instead_of_a_file_is_a_parse_error(mocked):
    mocked.add(responses.GET, ENDPOINT, body=envelope({"odd": "1"}))
    with pytest.raises(exceptions.ParseError, match="instead of a file"):
        core().download_item(7)


def test_download_http_error_page(mocked):
    mocked.add(responses.GET, ENDPOINT, status=302, headers=REDIRECT)
    mocked.add(responses.GET, DOWNLOAD, status=404, body="<h1>Item does not exist: 7</h1>")
    with pytest.raises(exceptions.NotFound, match="Item does not exist"):
        core().download_item(7)


def test_download_link_item_uses_the_final_url(mocked):
    mocked.add(responses.GET, ENDPOINT, status=302, headers=REDIRECT)
    mocked.add(responses.GET, DOWNLOAD, status=302,
               headers={"Location": "http://127.0.0.1:9/files/data%20set.nii.gz?x=1"})
    mocked.add(responses.GET, "http://127.0.0.1:9/files/data%20set.nii.gz", body=b"remote")
    name, chunks = core().download_item(7)
    assert name == "data set.nii.gz"
    assert b"".join(chunks) == b"remote"


@pytest.mark.parametrize(
    "disposition, expected",
    [
        ('attachment; filename="a b.txt"', "a b.txt"),
        ('attachment; filename="x.txt"; size=10', "x.txt"),
        ("attachment; filename=plain.txt; size=3", "plain.txt"),
        ('attachment; filename="say "hi".txt"', 'say "hi".txt'),
    ],
    ids=["midas", "more-parameters", "unquoted", "unescaped-quotes"],
)
def test_download_name_forms(mocked, disposition, expected):
    add_download(mocked, name=None, extra={"Content-Disposition": disposition})
    name, chunks = core().download_item(7)
    chunks.close()
    assert name == expected


def test_download_name_rfc5987(mocked):
    add_download(mocked, name=None, extra={
        "Content-Disposition": "attachment; filename*=UTF-8''r%C3%A9sum%C3%A9.pdf"})
    name, chunks = core().download_item(7)
    chunks.close()
    assert name == "résumé.pdf"


def test_download_sends_http_auth(mocked):
    add_download(mocked)
    driver = core()
    driver.auth = ("user", "pw")
    driver.download_item(7)[1].close()
    assert mocked.calls[0].request.headers["Authorization"].startswith("Basic ")


def test_download_iterator_can_be_closed_early(mocked):
    add_download(mocked, b"y" * (DOWNLOAD_PIECE * 3))
    with core().download_item(7)[1] as chunks:
        assert len(next(chunks)) == DOWNLOAD_PIECE
    assert chunks.response.raw.closed
    assert list(chunks) == []


def test_download_non_ascii_name_over_real_http(local_server):
    name = "café 数据.txt"
    wire_name = name.encode("utf-8").decode("latin-1")

    def redirect(h):
        answer(h, b"", headers=[("Location", "/midas/download/?items=7")], status=302)

    def serve(h):
        answer(h, b"content", headers=[("Content-Disposition",
                                         f'attachment; filename="{wire_name}"')])

    local_server.routes[("GET", "/midas/api/json")] = redirect
    local_server.routes[("GET", "/midas/download/")] = serve
    got, chunks = core(url=local_server.url).download_item(7)
    assert got == name
    assert b"".join(chunks) == b"content"


def test_cut_connection_raises_request_error(local_server):
    def serve(h):
        answer(h, b"z" * 500, length=1000,
               headers=[("Content-Disposition", 'attachment; filename="cut.bin"')])

    local_server.routes[("GET", "/midas/api/json")] = serve
    name, chunks = core(url=local_server.url).download_item(7)
    assert name == "cut.bin"
    with pytest.raises(exceptions.RequestError) as caught:
        b"".join(chunks)
    assert caught.value.method == "midas.item.download"
    assert chunks.response.raw.closed


def test_bitstream_download_is_one_post_with_the_token_in_the_body(local_server):
    content = bytes(range(256)) * 4

    def serve(h):
        answer(h, content[100:], length=len(content),
               headers=[("Content-Disposition", 'attachment; filename="b.bin"')])

    local_server.routes[("POST", "/midas/download/")] = serve
    name, chunks = core(url=local_server.url).download_bitstream(
        9, token=TOKEN, offset=100, name="b b&c.bin")
    assert name == "b.bin"
    # the server announces the full size after an offset: the rest is complete
    assert b"".join(chunks) == content[100:]
    ((verb, path, headers, body),) = local_server.seen
    assert (verb, path) == ("POST", "/midas/download/")
    assert headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert parse_qs(body.decode()) == {
        "bitstream": ["9"], "offset": ["100"], "name": ["b b&c.bin"], "authToken": [TOKEN]}


def serve_bytes(local_server, body, announced):
    def serve(h):
        answer(h, body, length=announced,
               headers=[("Content-Disposition", 'attachment; filename="b.bin"')])

    local_server.routes[("POST", "/midas/download/")] = serve


def test_bitstream_download_with_offset_still_detects_a_cut(local_server):
    content = bytes(range(256)) * 4
    serve_bytes(local_server, content[100:600], len(content))
    name, chunks = core(url=local_server.url).download_bitstream(9, offset=100)
    with pytest.raises(exceptions.RequestError, match="after 500 bytes"):
        b"".join(chunks)
    assert chunks.response.raw.closed


def test_bitstream_download_with_offset_from_a_server_announcing_the_rest(local_server):
    content = bytes(range(256)) * 4
    serve_bytes(local_server, content[100:], len(content) - 100)
    name, chunks = core(url=local_server.url).download_bitstream(9, offset=100)
    assert b"".join(chunks) == content[100:]


def test_bitstream_download_parameters(mocked):
    mocked.add(responses.POST, DOWNLOAD, body=b"abc",
               headers={"Content-Disposition": 'attachment; filename="b.bin"'})
    name, chunks = core().download_bitstream(9)
    assert (name, b"".join(chunks)) == ("b.bin", b"abc")
    request = mocked.calls[0].request
    assert request.url == DOWNLOAD and parse_qs(request.body) == {"bitstream": ["9"]}


def test_bitstream_download_without_a_file_name_takes_the_name_asked_for(mocked):
    mocked.add(responses.POST, DOWNLOAD, body=b"%PDF")  # Midas sends PDFs without one
    assert core().download_bitstream(9, name="paper.pdf")[0] == "paper.pdf"
    assert core().download_bitstream(9)[0] == "download"


def _refusal_page(message):
    return ("<link href=\"/core/public/css/error/error.error.css\" rel=\"stylesheet\"/>"
            "<div class=\"viewMain\"><h1>An error occurred</h1><div class=\"errorMessage\">"
            f"The system has encountered the following error:<br/><h3>{message}<br/>In "
            "/midas/core/controllers/DownloadController.php, line: 85<br/>At 22:36:32"
            "</h3></div></div>")


def test_a_refused_bitstream_download_raises_the_api_methods_error(mocked, sleeps):
    # the endpoint answers an expired token with an HTML page; the API method says what it is
    mocked.add(responses.POST, DOWNLOAD, status=500, body=_refusal_page("Invalid token"))
    mocked.add(responses.POST, ENDPOINT, json={
        "stat": "fail", "code": "-101", "message": "Invalid token", "data": ""})
    with pytest.raises(exceptions.InvalidToken) as caught:
        core(sleeps).download_bitstream(9, token=TOKEN, offset=5)
    assert caught.value.method == "midas.bitstream.download" and TOKEN not in str(caught.value)
    question = mocked.calls[1].request
    assert question.url == ENDPOINT + "?method=midas.bitstream.download"
    assert parse_qs(question.body) == {
        "id": ["9"], "offset": ["5"], "token": [TOKEN]}
    assert sleeps.waits == []


def test_a_refusal_the_api_method_does_not_explain_raises_the_pages_error(mocked):
    mocked.add(responses.POST, DOWNLOAD, status=500,
               body=_refusal_page("Unable to find file on the disk"))
    location = f"/midas/download/?bitstream=9&offset=0&name=x&authToken={TOKEN}"
    mocked.add(responses.POST, ENDPOINT, status=302, headers={"Location": location})
    with pytest.raises(exceptions.InternalError) as caught:
        core().download_bitstream(9, token=TOKEN)
    assert str(caught.value) == (
        "midas.bitstream.download failed (HTTP 500): Unable to find file on the disk")
    assert len(mocked.calls) == 2  # the API's redirect was not followed
    not_found = ("<div class=\"errorMessage\">The requested resource was not found.</div>"
                 "<div class=\"exceptionText\">Details: <b>Invalid bitstream id</b></div>")
    mocked.replace(responses.POST, DOWNLOAD, status=404, body=not_found)
    with pytest.raises(exceptions.NotFound, match="Invalid bitstream id"):
        core().download_bitstream(9, token=TOKEN)


def test_download_connection_refused_is_retried(mocked, sleeps):
    mocked.add(responses.GET, ENDPOINT, body=requests.exceptions.ConnectTimeout("slow"))
    add_download(mocked)
    name, chunks = core(sleeps).download_item(7)
    assert b"".join(chunks) == b"hello world"
    assert sleeps.waits == [0.5]


def test_file_is_closed_after_upload(mocked, sample):
    mocked.add_callback(responses.PUT, ENDPOINT, callback=BodyReader())
    before = len(os.listdir("/proc/self/fd")) if os.path.isdir("/proc/self/fd") else None
    core().perform_upload(UPLOAD_TOKEN, str(sample))
    if before is not None:
        assert len(os.listdir("/proc/self/fd")) <= before


def test_download_error_answer_cut_by_the_connection(local_server):
    local_server.routes[("GET", "/midas/api/json")] = lambda h: answer(
        h, b'{"code": "-151", "da', length=500)
    with pytest.raises(exceptions.RequestError, match="while reading the answer"):
        core(url=local_server.url).download_item(7)


class Interrupted(BaseException):
    """Stands for a KeyboardInterrupt in the middle of a download."""


class StubResponse:
    headers: dict = {}
    raw = None
    closed = False

    def iter_content(self, size):
        yield b"first"
        raise Interrupted

    def close(self):
        self.closed = True


def test_chunk_iterator_releases_the_connection_on_any_interruption():
    response = StubResponse()
    chunks = _transport.ChunkIterator(response, "midas.item.download")
    assert next(chunks) == b"first"
    with pytest.raises(Interrupted):
        next(chunks)
    assert response.closed


# -- multipart mode --------------------------------------------------------------------------


def _form_parts(request):
    """The parts of a multipart/form-data request: name -> (file name or None, bytes)."""
    import email.parser
    import email.policy

    body = b"".join(bytes(piece) for piece in request.body)
    head = f"Content-Type: {request.headers['Content-Type']}\r\n\r\n".encode()
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + body)
    parts = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        key = name if part.get_filename() is None else f"{name} (file)"
        parts[key] = (part.get_filename(), part.get_payload(decode=True))
    return parts, body


def test_multipart_upload_sends_a_form_and_nothing_in_the_url(mocked, sample):
    seen = []

    def consume(request):
        seen.append(_form_parts(request))
        return 200, {}, envelope(ITEM)

    mocked.add_callback(responses.POST, ENDPOINT, callback=consume)
    progress = []
    returned = core().perform_upload(UPLOAD_TOKEN, "data.bin", filepath=str(sample),
                                     mode="multipart", changes="c", progress=progress.append)
    assert returned == ITEM
    request = mocked.calls[0].request
    assert request.method == "POST"
    assert request.url == ENDPOINT + "?method=midas.upload.perform"
    assert request.headers["Content-Type"].startswith("multipart/form-data; boundary=")
    (parts, body), = seen
    assert int(request.headers["Content-Length"]) == len(body)
    assert parts == {
        "uploadtoken": (None, UPLOAD_TOKEN.encode()),
        "filename": (None, b"data.bin"),
        "revision": (None, b"head"),
        "mode": (None, b"multipart"),
        "changes": (None, b"c"),
        "length": (None, b"10240"),
        "file": (None, b"data.bin"),
        "file (file)": ("data.bin", sample.read_bytes()),
    }
    assert sum(progress) == 10240


def test_multipart_quotes_a_name_as_php_reads_it(mocked, sample):
    mocked.add_callback(responses.POST, ENDPOINT,
                        callback=lambda request: (200, {}, envelope(ITEM)))
    core().perform_upload(UPLOAD_TOKEN, 'say "hi".bin', filepath=str(sample), mode="Multipart")
    body = b"".join(bytes(piece) for piece in mocked.calls[0].request.body)
    assert b'name="file"; filename="say \\"hi\\".bin"' in body
    with pytest.raises(ValueError, match="line breaks"):
        core().perform_upload(UPLOAD_TOKEN, "two\nlines", filepath=str(sample), mode="multipart")


def test_multipart_is_resent_only_when_nothing_was_sent(mocked, sample, sleeps):
    mocked.add(responses.POST, ENDPOINT, body=requests.exceptions.ConnectTimeout("no route"))
    mocked.add(responses.POST, ENDPOINT, body=envelope(ITEM))
    core(sleeps).perform_upload(UPLOAD_TOKEN, "a.bin", filepath=str(sample), mode="multipart")
    assert len(mocked.calls) == 2
    mocked.replace(responses.POST, ENDPOINT, status=503, body="busy")
    with pytest.raises(exceptions.InternalError):
        core(sleeps).perform_upload(UPLOAD_TOKEN, "a.bin", filepath=str(sample), mode="multipart")
    assert len(mocked.calls) == 3


def test_multipart_stores_a_file_holding_zero_that_stream_mode_cannot(midas_server, midas_user,
                                                                       tmp_path):
    zero = tmp_path / "zero.bin"
    zero.write_bytes(b"0")
    driver = drivers.CoreDriver(midas_server.url)
    token = driver.login_with_api_key(midas_user.email, midas_user.api_key)
    folder_id = driver.list_user_folders(token)[0]["folder_id"]
    item_id = driver.create_item(token, "zero", folder_id)["item_id"]
    upload_token = driver.generate_upload_token(token, item_id, "zero.bin")
    with pytest.raises(exceptions.UploadFailed, match="0/1 bytes"):
        driver.perform_upload(upload_token, "zero.bin", filepath=str(zero))
    item = driver.perform_upload(upload_token, "zero.bin", filepath=str(zero), mode="multipart")
    assert item["item_id"] == item_id
    (bitstream,) = driver.item_get(token, item_id)["revisions"][-1]["bitstreams"]
    assert (bitstream["name"], bitstream["sizebytes"], bitstream["checksum"]) == (
        "zero.bin", "1", "cfcd208495d565ef66e7dff9f98764da")
    # as on the real server, the upload token is not used up by a multipart upload
    assert driver.get_upload_offset(upload_token) == 0
