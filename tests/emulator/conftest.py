"""Helpers for the emulator tests: a raw HTTP caller and a few ready-made accounts.

The tests talk to the emulator over HTTP only: through the real pydas drivers
where the client API covers the call, and through :class:`Api` (plain
``requests``) where the test is about the wire format itself.
"""

from typing import Any, Dict, Optional, Tuple

import pytest
import requests

from pydas.drivers import CoreDriver
from pydas.testing import MidasServer, UserRecord


class Api:
    """Minimal raw caller of ``/api/json``: parameters in the form body, method in the URL."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.session = requests.Session()

    def raw(self, method: str, verb: str = "POST", **params: Any) -> requests.Response:
        """Send one call and return the HTTP response (redirects not followed).

        POST parameters travel in the form body, other verbs' in the query string.
        """
        present = {key: value for key, value in params.items() if value is not None}
        in_body = verb == "POST"
        return self.session.request(
            verb,
            f"{self.url}/api/json",
            params={"method": method, **({} if in_body else present)},
            data=present if in_body else None,
            allow_redirects=False,
            timeout=10,
        )

    def envelope(self, method: str, verb: str = "POST", **params: Any) -> Dict[str, Any]:
        """Send one call and return the decoded envelope."""
        response = self.raw(method, verb, **params)
        assert response.status_code == 200, response.text
        return response.json()

    def ok(self, method: str, **params: Any) -> Any:
        """Send one call that must succeed and return its ``data``."""
        body = self.envelope(method, **params)
        assert body["stat"] == "ok", body
        return body["data"]

    def fail(self, method: str, **params: Any) -> Tuple[str, str]:
        """Send one call that must fail and return ``(code, message)``."""
        body = self.envelope(method, **params)
        assert body["stat"] == "fail", body
        assert body["data"] == ""
        return body["code"], body["message"]

    def login(self, user: UserRecord) -> str:
        """Return a token for a user's Default key."""
        return self.ok("midas.login", email=user.email, apikey=user.api_key,
                       appname="Default")["token"]

    def upload(self, token: str, item_id: str, name: str, content: bytes,
               revision: Optional[str] = "head", checksum: Optional[str] = None) -> Any:
        """Upload bytes into an item with generatetoken + a PUT of perform."""
        upload_token = self.ok("midas.upload.generatetoken", token=token, itemid=item_id,
                               filename=name, checksum=checksum)["token"]
        if upload_token == "":
            return None
        params = {"method": "midas.upload.perform", "uploadtoken": upload_token,
                  "filename": name, "length": len(content)}
        if revision is not None:
            params["revision"] = revision
        response = self.session.put(f"{self.url}/api/json", params=params, data=content,
                                    timeout=10)
        body = response.json()
        assert body["stat"] == "ok", body
        return body["data"]

    def close(self) -> None:
        self.session.close()


@pytest.fixture
def api_for() -> Any:
    """Make an :class:`Api` for a server a test started itself; closed afterwards."""
    callers = []

    def make(server: MidasServer) -> Api:
        callers.append(Api(server.url))
        return callers[-1]

    yield make
    for caller in callers:
        caller.close()


@pytest.fixture
def api(midas_server: MidasServer, api_for: Any) -> Any:
    return api_for(midas_server)


@pytest.fixture
def core(midas_server: MidasServer) -> Any:
    driver = CoreDriver(midas_server.url)
    yield driver
    driver.close()


@pytest.fixture
def jane(midas_user: UserRecord) -> UserRecord:
    return midas_user


@pytest.fixture
def bob(midas_server: MidasServer) -> UserRecord:
    return midas_server.create_user("bob@example.com", "bobpass", "Bob", "Builder")


@pytest.fixture
def admin(midas_server: MidasServer) -> UserRecord:
    return midas_server.create_user("admin@example.com", "root", "Ada", "Admin", admin=True)


@pytest.fixture
def jane_token(api: Api, jane: UserRecord) -> str:
    return api.login(jane)


@pytest.fixture
def bob_token(api: Api, bob: UserRecord) -> str:
    return api.login(bob)
