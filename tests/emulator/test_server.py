"""Server life cycle, fault injection, request log, CLI and robustness."""

import logging
import os
import socket
import threading
import time

import pytest
import requests

from pydas.testing import MidasServer
from pydas.testing.__main__ import main
from pydas.testing.dispatch import ALL_MODULES, resolve


def _version(url, **kwargs):
    return requests.post(f"{url}/api/json", params={"method": "midas.version"}, timeout=10,
                         **kwargs)


# -- faults ------------------------------------------------------------------------------


def test_fail_next_answers_with_the_status_then_recovers(midas_server):
    midas_server.faults.fail_next(times=2, status=503, match="midas.version")
    assert requests.post(f"{midas_server.url}/api/json", params={"method": "midas.info"},
                         timeout=10).status_code == 200
    assert [_version(midas_server.url).status_code for _ in range(3)] == [503, 503, 200]
    assert midas_server.faults.pending == []


def test_garbage_next_sends_a_php_error_page(midas_server):
    midas_server.faults.garbage_next(status=500)
    response = _version(midas_server.url)
    assert response.status_code == 500 and "Fatal error" in response.text
    with pytest.raises(ValueError):
        response.json()
    assert _version(midas_server.url).json()["stat"] == "ok"


def test_delay_holds_the_answer(midas_server):
    midas_server.faults.delay(0.3, match="midas.version")
    started = time.monotonic()
    assert _version(midas_server.url).status_code == 200
    assert time.monotonic() - started >= 0.3


def test_cut_response_after_processes_the_request_but_truncates_the_answer(api, midas_server,
                                                                            jane, jane_token):
    midas_server.faults.cut_response_after(10, match="midas.item.create")
    with pytest.raises(requests.exceptions.RequestException):
        api.raw("midas.item.create", token=jane_token, name="lost",
                parentid=jane.private_folder_id).json()
    items = api.ok("midas.folder.children", token=jane_token, id=jane.private_folder_id)["items"]
    assert [item["name"] for item in items] == ["lost"]
    record = [r for r in midas_server.request_log if r.api_method == "midas.item.create"][0]
    assert record.status == 200 and record.response_bytes == 10


def test_cut_request_after_drops_an_ordinary_call_unprocessed(api, midas_server, jane,
                                                              jane_token):
    midas_server.faults.cut_request_after(5)
    with pytest.raises(requests.exceptions.ConnectionError):
        api.raw("midas.item.create", token=jane_token, name="never",
                parentid=jane.private_folder_id)
    assert api.ok("midas.folder.children", token=jane_token,
                  id=jane.private_folder_id)["items"] == []
    dropped = [r for r in midas_server.request_log if r.api_method == "midas.item.create"][0]
    assert dropped.status == 0 and dropped.body_bytes == 5


def test_faults_match_download_paths_and_can_be_cleared(api, midas_server, jane, jane_token):
    item = api.ok("midas.item.create", token=jane_token, name="f",
                  parentid=jane.private_folder_id)["item_id"]
    api.upload(jane_token, item, "f", b"x" * 1000)
    midas_server.faults.fail_next(status=502, match="/download")
    url = f"{midas_server.url}/download/"
    params = {"items": item, "authToken": jane_token}
    assert requests.get(url, params=params, timeout=10).status_code == 502
    midas_server.faults.fail_next(times=5)
    midas_server.faults.clear()
    assert requests.get(url, params=params, timeout=10).content == b"x" * 1000
    with pytest.raises(ValueError):
        midas_server.faults.delay(-1)
    with pytest.raises(ValueError, match="upload.perform"):
        midas_server.faults.fail_next(match="upload.perform")
    with pytest.raises(ValueError, match="HTTP status"):
        midas_server.faults.garbage_next(status=0)
    assert midas_server.faults.pending == []


def test_a_fault_matches_any_spelling_of_its_method(midas_server):
    midas_server.faults.fail_next(match="midas.VERSION")
    midas_server.faults.fail_next(match="midas.itemget", status=500)
    assert requests.post(f"{midas_server.url}/api/json", timeout=10,
                         params={"method": "midas.item.get", "id": "1"}).status_code == 500
    assert _version(midas_server.url).status_code == 503
    assert _version(midas_server.url).status_code == 200


# -- request log ----------------------------------------------------------------------------


def test_request_log_records_canonical_names_and_masks_secrets(api, midas_server, jane,
                                                               jane_token):
    midas_server.clear_request_log()
    api.raw("midas.FOLDER.GET", token=jane_token, id=jane.private_folder_id)
    api.raw("midas.no.such.thing")
    requests.get(f"{midas_server.url}/download/", params={"items": "1"}, timeout=10)
    log = midas_server.request_log
    assert [(r.verb, r.path, r.api_method) for r in log] == [
        ("POST", "/api/json", "midas.folder.get"),
        ("POST", "/api/json", "midas.no.such.thing"),
        ("GET", "/download/", None),
    ]
    assert log[0].params["token"] == jane_token and "token" not in log[0].query
    assert jane_token not in repr(log[0]) and log[0].body_bytes > 0
    assert log[0].status == 200 and log[0].response_bytes > 100
    midas_server.clear_request_log()
    assert midas_server.request_log == []


def test_log_lines_mask_secrets_in_urls(api, midas_server, jane, jane_token, caplog):
    caplog.set_level(logging.DEBUG, logger="pydas.testing")
    api.raw("midas.folder.download", verb="GET", id=jane.private_folder_id, token=jane_token)
    requests.get(f"{api.url}/download/", params={"items": "1", "authToken": jane_token},
                 timeout=10)
    requests.put(f"{api.url}/api/json", params={"method": "midas.upload.perform",
                                                "uploadtoken": "1/1/secretupload",
                                                "filename": "f", "length": 1}, timeout=10)
    port = int(api.url.split(":")[2].split("/")[0])
    with socket.create_connection(("127.0.0.1", port), timeout=5) as raw:
        raw.sendall(f"GET /midas/api/json?password=hunter2 &token={jane_token} x y\r\n\r\n"
                    .encode())
        assert b"400" in raw.recv(4096)
    text = caplog.text
    assert "password=*** &token=***" in text and "hunter2" not in text
    assert "method=midas.upload.perform&uploadtoken=***&filename=f" in text
    assert f"id={jane.private_folder_id}&token=***" in text
    assert "/download/?items=1&authToken=***" in text
    assert jane_token not in text and "secretupload" not in text


# -- robustness -----------------------------------------------------------------------------


def test_an_internal_error_gives_a_plain_500_and_the_server_lives_on(midas_server, monkeypatch):
    def explode(context):
        raise RuntimeError("boom")

    monkeypatch.setattr(resolve("midas.version", ALL_MODULES), "function", explode)
    response = _version(midas_server.url)
    assert response.status_code == 500
    assert "boom" not in response.text and "Traceback" not in response.text
    monkeypatch.undo()
    assert _version(midas_server.url).json()["data"] == {"version": "3.4.2"}


def test_chunked_upload_bodies_are_accepted(api, jane, jane_token):
    item = api.ok("midas.item.create", token=jane_token, name="c",
                  parentid=jane.private_folder_id)["item_id"]
    token = api.ok("midas.upload.generatetoken", token=jane_token, itemid=item,
                   filename="c")["token"]
    parts = [b"abc" * 1000, b"def" * 2000]
    answer = requests.put(f"{api.url}/api/json", params={
        "method": "midas.upload.perform", "uploadtoken": token, "filename": "c",
        "length": 9000, "revision": "head"}, data=iter(parts), timeout=10).json()
    assert answer["stat"] == "ok" and answer["data"]["sizebytes"] == "9000"


def test_an_ipv6_host_is_served_and_bracketed_in_the_url():
    try:
        with socket.socket(socket.AF_INET6) as probe:
            probe.bind(("::1", 0))
    except OSError:
        pytest.skip("no IPv6 loopback here")
    with MidasServer(host="::1") as server:
        assert server.url.startswith("http://[::1]:")
        assert _version(server.url).json()["data"] == {"version": "3.4.2"}


def test_garbage_bytes_on_the_socket_do_not_kill_the_server(midas_server):
    port = int(midas_server.url.split(":")[2].split("/")[0])
    with socket.create_connection(("127.0.0.1", port), timeout=5) as raw:
        raw.sendall(b"\x16\x03\x01 not http at all\r\n\r\n")
        raw.recv(1024)
    assert _version(midas_server.url).status_code == 200


# -- life cycle -----------------------------------------------------------------------------


def test_temporary_data_dir_is_removed_and_url_needs_a_running_server():
    server = MidasServer()
    with pytest.raises(RuntimeError):
        server.url  # noqa: B018
    server.start()
    with pytest.raises(RuntimeError):
        server.start()
    directory = server.store.data_dir
    assert server.url.startswith("http://127.0.0.1:") and server.url.endswith("/midas")
    assert os.path.isdir(directory)
    server.stop()
    assert not os.path.exists(directory)
    server.stop()  # a second stop is harmless


def test_a_persistent_data_dir_survives_a_restart(tmp_path, api_for):
    with MidasServer(data_dir=str(tmp_path), base_path="/") as server:
        assert server.url.endswith(str(server.port))
        user = server.create_user("p@example.com", "pw", "P", "Q")
        api = api_for(server)
        token = api.login(user)
        item = api.ok("midas.item.create", token=token, name="kept",
                      parentid=user.private_folder_id)["item_id"]
        api.upload(token, item, "k", b"kept")
    assert (tmp_path / "midas.sqlite").exists()
    with MidasServer(data_dir=tmp_path) as server:
        response = requests.get(f"{server.url}/download/",
                                params={"items": item, "authToken": token}, timeout=10)
        assert response.content == b"kept"


def test_fixture_user(midas_server, midas_user):
    assert (midas_user.email, midas_user.password) == ("user@example.com", "password")
    assert (midas_user.firstname, midas_user.lastname) == ("Jane", "Doe")
    assert midas_user.folder_id != midas_user.private_folder_id != midas_user.public_folder_id


def test_command_line_reports_a_taken_port(capsys):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert main(["--port", str(port)]) == 1
    error = capsys.readouterr().err
    assert error.startswith(f"Cannot start the Midas emulator on 127.0.0.1:{port}: ")
    assert "Traceback" not in error


def test_command_line_runs_until_stopped(capsys, tmp_path):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    stop = threading.Event()
    result = []
    thread = threading.Thread(target=lambda: result.append(main(
        ["--port", str(port), "--data-dir", str(tmp_path), "--no-double-encode"], stop)))
    thread.start()
    url = f"http://127.0.0.1:{port}/midas"
    out = ""
    try:
        for _ in range(200):
            out += capsys.readouterr().out
            if "Press Ctrl-C" in out:
                break
            time.sleep(0.02)
        assert url in out and "user@example.com" in out
        key = out.split("API key:")[1].split()[0]
        login = requests.post(f"{url}/api/json", params={"method": "midas.login"},
                              data={"email": "user@example.com", "apikey": key,
                                    "appname": "Default"}, timeout=10).json()
        assert login["stat"] == "ok"
    finally:
        stop.set()
        thread.join(10)
    assert result == [0]


def test_default_api_key_of_an_existing_user(midas_server):
    user = midas_server.create_user("Kim@Example.com", "pw", "Kim", "Lee")
    assert midas_server.default_api_key("kim@example.com") == user.api_key
    with pytest.raises(ValueError, match="no user"):
        midas_server.default_api_key("nobody@example.com")


def test_stopping_while_a_request_still_uses_the_database(monkeypatch, caplog):
    from pydas.testing.backend.items import Items

    server = MidasServer().start()
    user = server.create_user("s@example.com", "pw", "S", "T")
    token = requests.post(f"{server.url}/api/json", params={"method": "midas.login"},
                          data={"email": user.email, "apikey": user.api_key,
                                "appname": "Default"}, timeout=10).json()["data"]["token"]
    item = requests.post(f"{server.url}/api/json", params={"method": "midas.item.create"},
                         data={"token": token, "name": "i", "parentid": user.private_folder_id},
                         timeout=10).json()["data"]["item_id"]
    upload = requests.post(f"{server.url}/api/json",
                           params={"method": "midas.upload.generatetoken"},
                           data={"token": token, "itemid": item, "filename": "f"},
                           timeout=10).json()["data"]["token"]
    requests.put(f"{server.url}/api/json", params={
        "method": "midas.upload.perform", "uploadtoken": upload, "filename": "f", "length": 3},
        data=b"abc", timeout=10)
    counting, stopped = threading.Event(), threading.Event()
    count_download = Items.count_download

    def count_after_the_stop(self, item_id):
        counting.set()
        stopped.wait(5)
        count_download(self, item_id)

    monkeypatch.setattr(Items, "count_download", count_after_the_stop)
    response = requests.get(f"{server.url}/download/", params={"items": item,
                                                               "authToken": token}, timeout=10)
    assert response.content == b"abc"  # the download is counted after the body was sent
    assert counting.wait(5)
    with caplog.at_level(logging.DEBUG, logger="pydas.testing"):
        server.stop()
        stopped.set()
        time.sleep(0.2)
    assert not [record for record in caplog.records if record.levelno >= logging.ERROR]
