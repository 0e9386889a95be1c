"""The wire format: envelope, string typing, name resolution, parameters, verbs."""

import http.client
import socket
from urllib.parse import urlsplit

import requests

from pydas.testing import MidasServer


def _all_leaves(value):
    if isinstance(value, dict):
        for item in value.values():
            yield from _all_leaves(item)
    elif isinstance(value, list):
        for item in value:
            yield from _all_leaves(item)
    else:
        yield value


def test_success_envelope_is_http_200_with_four_string_keys(api, jane_token):
    response = api.raw("midas.user.folders", token=jane_token)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/html; charset=UTF-8"
    assert response.text.startswith('{"code":"0","data":')
    body = response.json()
    assert list(body) == ["code", "data", "message", "stat"]
    assert body["code"] == "0" and body["message"] == "" and body["stat"] == "ok"


def test_every_scalar_in_data_is_a_string(api, jane, jane_token):
    item = api.ok("midas.item.create", token=jane_token, name="typed",
                  parentid=jane.private_folder_id)
    api.upload(jane_token, item["item_id"], "a.txt", b"abc")
    data = api.ok("midas.item.get", token=jane_token, id=item["item_id"])
    leaves = list(_all_leaves(data))
    assert leaves and all(isinstance(leaf, str) for leaf in leaves)
    assert data["thumbnail_id"] == ""  # NULL
    assert data["sizebytes"] == "3"
    assert data["extraFields"] == []
    assert api.ok("midas.item.setmetadata", token=jane_token, itemId=item["item_id"],
                  element="a", value="b") == "1"  # true


def test_failure_envelope_has_string_code_and_empty_data(api):
    response = api.raw("midas.folder.get", id="1", token="nonsense")
    assert response.status_code == 200
    assert response.json() == {"code": "-101", "data": "", "message": "Invalid token",
                               "stat": "fail"}


def test_slashes_and_angle_brackets_are_escaped(api, jane, jane_token):
    api.ok("midas.item.create", token=jane_token, name="a/b<c>",
           parentid=jane.private_folder_id)
    text = api.raw("midas.folder.children", token=jane_token, id=jane.private_folder_id).text
    assert "a\\/b\\u003Cc\\u003E" in text
    assert text.isascii()


def test_non_ascii_is_double_encoded_by_default(api, jane, jane_token):
    item = api.ok("midas.item.create", token=jane_token, name="café",
                  parentid=jane.private_folder_id)
    assert item["name"] == "cafÃ©"
    assert item["name"].encode("latin-1").decode("utf-8") == "café"


def test_double_encoding_can_be_switched_off(api_for):
    with MidasServer(double_encode=False) as server:
        user = server.create_user("x@example.com", "p", "X", "Y")
        api = api_for(server)
        item = api.ok("midas.item.create", token=api.login(user), name="café",
                      parentid=user.private_folder_id)
    assert item["name"] == "café"


def test_method_names_resolve_like_the_real_dispatcher(api, jane, jane_token):
    folder = jane.private_folder_id
    for name in ("midas.folder.get", "midas.FOLDER.GET", "midas.folderget",
                 "midas.fol.der.get"):
        assert api.ok(name, token=jane_token, id=folder)["folder_id"] == folder


def test_unknown_method_and_wrong_prefix_answer_minus_101(api):
    assert api.fail("midas.no.such") == (
        "-101", "Server error. Requested method midas.no.such does not exist.")
    assert api.fail("other.version")[0] == "-101"


def test_api_rest_is_an_alias(api):
    response = requests.post(f"{api.url}/api/rest", params={"method": "midas.version"},
                             timeout=10)
    assert response.json()["data"] == {"version": "3.4.2"}


def test_missing_method_gives_plain_text(api):
    response = requests.post(f"{api.url}/api/json", timeout=10)
    assert response.status_code == 200
    assert response.text == "Inconsistent request: please set a method parameter"


def test_query_string_beats_form_body(api, jane, jane_token):
    response = requests.post(
        f"{api.url}/api/json",
        params={"method": "midas.folder.get", "id": jane.public_folder_id},
        data={"id": jane.private_folder_id, "token": jane_token},
        timeout=10,
    )
    assert response.json()["data"]["name"] == "Public"


def test_multipart_form_parameters_are_read(api, jane, jane_token):
    response = requests.post(
        f"{api.url}/api/json?method=midas.folder.get",
        files={"id": (None, jane.private_folder_id), "token": (None, jane_token)},
        timeout=10,
    )
    assert response.json()["data"]["name"] == "Private"


def test_put_bodies_are_not_parsed_as_parameters(api, jane, jane_token):
    response = requests.put(
        f"{api.url}/api/json?method=midas.folder.get",
        data={"id": jane.private_folder_id, "token": jane_token},
        timeout=10,
    )
    assert response.json()["code"] == "-150"
    assert response.json()["message"] == "Parameter id is not defined"


def test_verb_checks(api, jane):
    assert api.fail("midas.user.apikey.default", verb="GET", email=jane.email,
                    password=jane.password) == ("-153", "POST method required")
    assert api.fail("midas.upload.perform", verb="GET", uploadtoken="1/1/x", filename="f",
                    length="1") == ("-153", "POST or PUT method required")


def test_missing_parameter_names_it(api):
    assert api.fail("midas.login", apikey="k", appname="Default") == (
        "-150", "Parameter email is not defined")


def test_info_modules_and_method_listing(api):
    info = api.ok("midas.info")
    assert info["version"] == "3.4.2"
    assert "tracker" in info["modules"] and "api" in info["modules"]
    assert info["name"] == "Midas Platform - Digital Archiving System"
    assert info["modules"] == ["api", "scheduler", "thumbnailcreator", "mfa", "dicomextractor",
                               "tracker", "solr", "batchmake"]
    assert list(info["resources"])[:9] == ["/item", "/itemrevision", "/group", "/system",
                                           "/bitstream", "/community", "/user", "/folder",
                                           "/thumbnailcreator/item"]
    assert info["resources"]["/item"] == f"{api.url}/rest/item"
    assert info["resources"]["/tracker/scalar"] == f"{api.url}/rest/tracker/scalar"
    assert api.ok("midas.modules.list")["modules"] == info["modules"]
    names = {entry["name"] for entry in api.ok("midas.methods.list")["methods"]}
    assert {"item.get", "upload.perform", "tracker.scalar.add"} <= names
    assert api.ok("midas.system.listMethods") == ["midas.system.listMethods"]


def test_modules_come_after_what_they_depend_on():
    assert MidasServer(modules="mfa,dicomextractor").config.modules == (
        "api", "mfa", "scheduler", "thumbnailcreator", "dicomextractor")
    assert MidasServer(modules=["scheduler"]).config.modules == ("api", "scheduler")


def test_fresh_objects_leave_their_counters_unset_as_on_the_real_server(api, jane, jane_token,
                                                                        admin):
    created = api.ok("midas.item.create", token=jane_token, name="new",
                     parentid=jane.private_folder_id)
    assert (created["sizebytes"], created["view"], created["download"]) == ("", "", "")
    read = api.ok("midas.item.get", token=jane_token, id=created["item_id"])
    assert (read["sizebytes"], read["view"], read["download"]) == ("0", "0", "0")
    link = api.ok("midas.link.create", token=jane_token, folderid=jane.private_folder_id,
                  url="http://example.com/x")
    assert (link["sizebytes"], link["view"], link["download"]) == ("0", "", "")
    community = api.ok("midas.community.create", token=api.login(admin), name="Fresh")
    assert community["view"] == ""


def test_redirects_declare_phps_default_content_type(api, jane, jane_token):
    response = api.raw("midas.folder.download", token=jane_token, id=jane.private_folder_id)
    assert response.status_code == 302
    assert response.headers["Content-Type"] == "text/html; charset=UTF-8"


def test_unknown_paths_get_an_html_404(api):
    response = requests.get(f"{api.url}/nowhere", timeout=10)
    assert response.status_code == 404
    assert "text/html" in response.headers["Content-Type"]


def test_malformed_requests_get_envelopes_not_tracebacks(api, jane_token):
    answers = [
        api.raw("midas.item.get", token=jane_token, id="abc").json(),
        api.raw("midas.folder.children", token=jane_token, id="999999").json(),
        api.raw("midas.item.getmetadata", token=jane_token, id="1", revision="x").json(),
        api.raw("midas.user.list", limit="lots").json(),
        api.raw("midas.item.get", token=jane_token, id="9" * 30).json(),
        api.raw("midas.item.create", token=jane_token, name="x", parentid="9" * 30).json(),
    ]
    assert [answer["stat"] for answer in answers] == ["fail", "fail", "fail", "ok", "fail",
                                                      "fail"]
    assert [answer["code"] for answer in answers[-2:]] == ["-151", "-150"]
    assert all("Traceback" not in str(answer) for answer in answers)


def test_keep_alive_connection_is_reused(midas_server):
    split = urlsplit(midas_server.url)
    connection = http.client.HTTPConnection(split.hostname, split.port, timeout=10)
    sockets = []
    for _ in range(3):
        connection.request("POST", f"{split.path}/api/json?method=midas.version")
        response = connection.getresponse()
        assert b'"version":"3.4.2"' in response.read()
        assert not response.will_close
        sockets.append(connection.sock)
    connection.close()
    assert sockets[0] is sockets[1] is sockets[2]


def _raw_exchange(url, request, first_only=False):
    split = urlsplit(url)
    with socket.create_connection((split.hostname, split.port), timeout=10) as raw:
        raw.sendall(request)
        answer = b""
        while True:
            block = raw.recv(65536)
            if not block:
                break
            answer += block
            if first_only:
                break
    return answer


def test_request_lines_and_headers_are_read_like_a_web_server(api):
    base = urlsplit(api.url).path
    version = f"GET {base}/api/json?method=midas.version".encode()
    # HTTP/1.0 closes after the answer unless it asks for keep-alive.
    assert b'"version":"3.4.2"' in _raw_exchange(api.url, version + b" HTTP/1.0\r\n\r\n")
    assert _raw_exchange(api.url, version + b" HTTP/2.0\r\n\r\n").startswith(b"HTTP/1.1 505")
    assert _raw_exchange(api.url, version + b" HTTP/1.x\r\n\r\n").startswith(b"HTTP/1.1 400")
    many = b"".join(b"X-%d: y\r\n" % number for number in range(120))
    assert _raw_exchange(api.url, version + b" HTTP/1.1\r\n" + many + b"\r\n").startswith(
        b"HTTP/1.1 431")
    folded = (f"POST {base}/api/json?method=midas.user.get HTTP/1.1\r\nHost: x\r\n"
              "Content-Type:\r\n application/x-www-form-urlencoded\r\nContent-Length: 11\r\n"
              "Connection: close\r\n\r\nemail=x@y.z").encode()
    assert b'"data":""' in _raw_exchange(api.url, folded)


def test_expect_100_continue_is_answered_before_the_body(api, jane, jane_token):
    item = api.ok("midas.item.create", token=jane_token, name="curl",
                  parentid=jane.private_folder_id)["item_id"]
    upload = api.ok("midas.upload.generatetoken", token=jane_token, itemid=item,
                    filename="c")["token"]
    split = urlsplit(api.url)
    with socket.create_connection((split.hostname, split.port), timeout=10) as raw:
        raw.sendall(f"PUT {split.path}/api/json?method=midas.upload.perform&uploadtoken="
                    f"{upload}&filename=c&length=3 HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n"
                    "Expect: 100-continue\r\n\r\n".encode())
        assert raw.recv(4096).startswith(b"HTTP/1.1 100 Continue")
        raw.sendall(b"abc")
        answer = b""
        while not answer.endswith(b"}"):
            answer += raw.recv(65536)
    assert b'"sizebytes":"3"' in answer
