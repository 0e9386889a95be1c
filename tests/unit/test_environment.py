"""Proxies, CA bundle and .netrc: honoured as requests honours them, but read once.

The proxy is a local server on 127.0.0.1 that answers the absolute URLs a
client sends to an HTTP proxy; the "remote" host of those URLs is never
resolved.
"""

import base64
import os
from collections.abc import MutableMapping

import pytest
import requests
import responses
from support.local_server import LocalServer, answer
from support.wire import BASE, ENDPOINT, envelope

from pydas import drivers
from pydas.core import Communicator

VERSION = envelope({"version": "3.4.2"}).encode()


def _version_server():
    server = LocalServer()
    server.routes[("POST", "/midas/api/json")] = lambda h: answer(h, VERSION)
    yield server
    server.close()


proxy = pytest.fixture(_version_server, name="proxy")
direct = pytest.fixture(_version_server, name="direct")


def proxy_address(server):
    return server.url.rsplit("/midas", 1)[0]


def test_the_proxy_variables_are_honoured(monkeypatch, proxy):
    monkeypatch.setenv("HTTP_PROXY", proxy_address(proxy))
    communicator = Communicator("http://midas.invalid:9/midas")
    assert communicator.get_server_version() == "3.4.2"
    assert communicator.get_server_version() == "3.4.2"
    assert [seen[1] for seen in proxy.seen] == [
        "http://midas.invalid:9/midas/api/json?method=midas.version"] * 2


def test_no_proxy_sends_directly(monkeypatch, proxy, direct):
    monkeypatch.setenv("http_proxy", proxy_address(proxy))
    monkeypatch.setenv("NO_PROXY", "localhost,127.0.0.1")
    assert drivers.CoreDriver(direct.url).get_server_version() == "3.4.2"
    assert proxy.seen == [] and len(direct.seen) == 1


def test_a_redirect_to_a_host_without_proxy_goes_directly(monkeypatch, proxy, direct):
    proxy.routes[("GET", "/midas/api/json")] = lambda h: answer(
        h, b"", status=302, headers=[("Location", direct.url + "/download/?items=7")])
    direct.routes[("GET", "/midas/download/")] = lambda h: answer(
        h, b"file", headers=[("Content-Disposition", 'attachment; filename="a.txt"')])
    monkeypatch.setenv("HTTP_PROXY", proxy_address(proxy))
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    name, chunks = drivers.CoreDriver("http://midas.invalid:9/midas").download_item(7)
    assert (name, b"".join(chunks)) == ("a.txt", b"file")
    assert [seen[0] for seen in proxy.seen] == ["GET"]
    assert [seen[1] for seen in direct.seen] == ["/midas/download/?items=7"]


@pytest.mark.parametrize(
    "variables, verify_setting, sent",
    [({"REQUESTS_CA_BUNDLE": "/etc/ca/requests.pem"}, True, "/etc/ca/requests.pem"),
     ({"CURL_CA_BUNDLE": "/etc/ca/curl.pem"}, True, "/etc/ca/curl.pem"),
     ({"REQUESTS_CA_BUNDLE": "/etc/ca/requests.pem", "CURL_CA_BUNDLE": "/etc/ca/curl.pem"},
      True, "/etc/ca/requests.pem"),
     ({"REQUESTS_CA_BUNDLE": "/etc/ca/requests.pem"}, False, False),
     ({"REQUESTS_CA_BUNDLE": "/etc/ca/requests.pem"}, "/etc/ca/mine.pem", "/etc/ca/mine.pem"),
     ({}, True, True)],
    ids=["requests", "curl", "requests-first", "off", "explicit", "none"],
)
def test_the_ca_bundle_variables_are_honoured(
        monkeypatch, mocked, sent_kwargs, variables, verify_setting, sent):
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    driver = drivers.CoreDriver(BASE)
    driver.verify_ssl_certificate = verify_setting
    mocked.add(responses.POST, ENDPOINT, body=VERSION)
    driver.get_server_version()
    assert sent_kwargs["verify"] == sent


def test_netrc_credentials_are_sent_unless_auth_is_set(monkeypatch, tmp_path, direct):
    netrc = tmp_path / "netrc"
    netrc.write_text("machine 127.0.0.1 login netrc-user password netrc-pw\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    driver = drivers.CoreDriver(direct.url)
    driver.get_server_version()
    driver.auth = ("mine", "pw")
    driver.get_server_version()
    sent = [seen[2].get("Authorization") for seen in direct.seen]
    assert sent == [
        "Basic " + base64.b64encode(b"netrc-user:netrc-pw").decode(),
        "Basic " + base64.b64encode(b"mine:pw").decode(),
    ]


class CountingEnviron(MutableMapping):
    """``os.environ`` that counts every look at it."""

    def __init__(self, real):
        self.real = real
        self.looks = 0

    def __getitem__(self, key):
        self.looks += 1
        return self.real[key]

    def __setitem__(self, key, value):
        self.real[key] = value

    def __delitem__(self, key):
        del self.real[key]

    def __iter__(self):
        self.looks += 1
        return iter(self.real)

    def __len__(self):
        return len(self.real)

    def copy(self):
        self.looks += 1
        return dict(self.real)


def test_the_environment_is_not_read_per_request(monkeypatch, direct):
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    driver = drivers.CoreDriver(direct.url)
    driver.get_server_version()  # the first request to an address reads it
    counting = CountingEnviron(os.environ)
    monkeypatch.setattr(os, "environ", counting)
    for _ in range(20):
        driver.get_server_version()
    assert counting.looks == 0
    # what a session trusting the environment does, for comparison
    session = requests.Session()
    session.post(direct.url + "/api/json?method=midas.version")
    assert counting.looks > 0
    session.close()
