"""Send the same raw call sequences to a real Midas server and to the emulator, and compare.

A *scenario* is a function of a :class:`Side`; it makes raw calls through the
side (``side.call``, ``side.put``, ``side.fetch``), which records a normalised
*observation* of each answer. :func:`compare` runs a scenario on both sides
and asserts that the observations are equal, listing every difference.

Normalising keeps what a client can rely on and hides what legitimately
differs between two servers:

* the HTTP status, the envelope's ``stat``, ``code`` and ``message``, and the
  shape of ``data`` (dict keys in order, list lengths, and for every leaf its
  JSON type — every value should be a string);
* the server's base URL becomes ``<base>``; ids become ``<kind>#n`` in the
  order a side first shows them (so the same logical object has the same name
  on both sides: a folder's ``parent_id`` must point at the folder seen
  earlier), negative and zero ids stay as they are;
* timestamps become ``<time>``, uuids ``<uuid>``, tokens and keys ``<secret>``,
  and any secret or token a side has seen is masked inside messages;
* everything else (names, sizes, checksums, mime types, privacy, counters)
  is compared exactly.

Downloads are compared by status, the headers a client uses, and content (the
bytes' MD5, or for a ZIP the member names and the MD5 of each member).
"""

import hashlib
import io
import json
import re
import zipfile
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Tuple
from urllib.parse import parse_qsl, urlsplit

import requests

__all__ = ["Account", "Side", "compare", "ID_KINDS"]

#: Keys whose values are ids, and the kind each id belongs to.
ID_KINDS = {
    "user_id": "user", "owner_id": "user",
    "folder_id": "folder", "parent_id": "folder", "dstfolderid": "folder",
    "item_id": "item", "itemid": "item", "owner_item": "item",
    "itemrevision_id": "revision",
    "bitstream_id": "bitstream", "thumbnail_id": "bitstream",
    "community_id": "community",
    "admingroup_id": "group", "moderatorgroup_id": "group", "membergroup_id": "group",
    "group_id": "group",
    "metadata_id": "metadata",
    "itemthumbnail_id": "itemthumbnail",
    "mfa_token_id": "mfa",
    "license_id": "license",
    "assetstore_id": "assetstore",
    "submission_id": "submission", "producer_id": "producer", "trend_id": "trend",
    "scalar_id": "scalar", "_id": "submission", "trendgroup_id": "trendgroup",
    "id": "id",
}
_OPAQUE_NUMBERS = frozenset({"left_index", "right_index"})
_SECRET_KEYS = frozenset({"token", "apikey"})
#: Dicts keyed by ids, and the kind of those ids.
_ID_KEYED = {"groups": "group"}
_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}")
_UUID = re.compile(r"^[0-9a-f]{32}$|^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
_DOWNLOAD_HEADERS = ("Content-Type", "Content-Disposition", "Content-Length")


@dataclass
class Account:
    """A login on one side."""

    email: str
    password: str
    api_key: str


@dataclass
class Side:
    """One server: its URL, its accounts by role, and what a scenario saw there.

    :param name: ``real`` or ``emulator`` (shown in differences).
    :param url: the Midas base URL.
    :param accounts: role (``admin``, ``user``, ``otp``) -> account.
    """

    name: str
    url: str
    accounts: Dict[str, Account]
    observations: List[Tuple[str, Any]] = field(default_factory=list)
    session: requests.Session = field(default_factory=requests.Session)
    _ids: Dict[Tuple[str, str], str] = field(default_factory=dict)
    _secrets: Dict[str, str] = field(default_factory=dict)
    _tokens: Dict[str, str] = field(default_factory=dict)
    _last_body: bytes = b""

    # -- calls --------------------------------------------------------------------------------

    def token(self, role: str) -> str:
        """Return (and remember) an API token of a role, logged in without recording."""
        if role not in self._tokens:
            account = self.accounts[role]
            answer = self.session.post(
                f"{self.url}/api/json", params={"method": "midas.login"},
                data={"email": account.email, "apikey": account.api_key, "appname": "Default"},
                timeout=30).json()
            data = answer["data"]
            if "mfa_token_id" in data:  # a second factor: the kit's device takes any OTP
                data = self.session.post(
                    f"{self.url}/api/json", params={"method": "midas.mfa.otp.login"},
                    data={"mfaTokenId": data["mfa_token_id"], "otp": "123456"},
                    timeout=30).json()["data"]
            self._tokens[role] = data["token"]
            self.secret(self._tokens[role])
        return self._tokens[role]

    def secret(self, value: str) -> str:
        """Mask a value wherever it appears in later messages, and return it."""
        if value:
            self._secrets.setdefault(value, "<secret>")
        return value

    def call(self, label: str, method: str, as_role: Optional[str] = None, verb: str = "POST",
             **params: Any) -> Any:
        """Make one API call, record its observation, and return its ``data`` (or ``None``).

        :param label: names the step in differences.
        :param method: the API method, e.g. ``midas.item.get``.
        :param as_role: send the token of this role.
        :param verb: ``POST`` (parameters in the form body) or ``GET`` (in the URL).
        :param params: the parameters (``None`` values are left out).
        """
        present = {key: str(value) for key, value in params.items() if value is not None}
        if as_role is not None:
            present["token"] = self.token(as_role)
        query = {"method": method}
        if verb == "POST":
            response = self.session.post(f"{self.url}/api/json", params=query, data=present,
                                         allow_redirects=False, timeout=60)
        else:
            response = self.session.request(verb, f"{self.url}/api/json",
                                            params={**query, **present},
                                            allow_redirects=False, timeout=60)
        return self._record_api(label, response)

    def put(self, label: str, body: bytes, **params: Any) -> Any:
        """Send ``upload.perform`` as a PUT with ``body``; record and return ``data``."""
        query = {"method": "midas.upload.perform",
                 **{key: str(value) for key, value in params.items() if value is not None}}
        response = self.session.put(f"{self.url}/api/json", params=query, data=body, timeout=60)
        return self._record_api(label, response)

    def fetch(self, label: str, method: str, as_role: Optional[str] = None,
              **params: Any) -> Optional[bytes]:
        """Call a download method, follow its redirect, record the download; return the bytes."""
        present = {key: str(value) for key, value in params.items() if value is not None}
        if as_role is not None:
            present["token"] = self.token(as_role)
        response = self.session.post(f"{self.url}/api/json", params={"method": method},
                                     data=present, allow_redirects=False, timeout=60)
        if response.status_code != 302:
            self._record_api(label, response)
            return None
        location = response.headers["Location"]
        target = self.session.get(_absolute(self.url, location), allow_redirects=False,
                                  timeout=60, stream=True)
        self.observations.append((label, {
            "redirect": self._location(location),
            "download": self._download(target),
        }))
        return self._last_body

    # -- normalising --------------------------------------------------------------------------

    def _record_api(self, label: str, response: requests.Response) -> Any:
        try:
            body = response.json()
        except ValueError:
            self.observations.append((label, {"status": response.status_code,
                                              "body": "not JSON"}))
            return None
        if response.status_code == 302:
            self.observations.append((label, {"status": 302}))
            return None
        if isinstance(body, dict) and isinstance(body.get("data"), dict):
            self._learn_secrets(body["data"])
        observed = {"status": response.status_code}
        if isinstance(body, dict) and set(body) == {"code", "data", "message", "stat"}:
            observed.update(stat=body["stat"], code=body["code"],
                            message=self._mask(body["message"]),
                            data=self._shape(body["data"]))
        else:
            observed["body"] = self._shape(body)
        self.observations.append((label, observed))
        return body.get("data") if isinstance(body, dict) else None

    def _learn_secrets(self, data: Dict[str, Any]) -> None:
        for key in ("token", "apikey"):
            value = data.get(key)
            if isinstance(value, str):
                self.secret(value)

    def _mask(self, text: Any) -> Any:
        if not isinstance(text, str):
            return self._shape(text)
        for secret, mask in self._secrets.items():
            text = text.replace(secret, mask)
        return text

    def _id(self, kind: str, value: str) -> str:
        if not value.isdigit() or value == "0":
            return value
        key = (kind, value)
        if key not in self._ids:
            count = sum(1 for known in self._ids if known[0] == kind)
            self._ids[key] = f"<{kind}#{count + 1}>"
        return self._ids[key]

    def _shape(self, value: Any, key: str = "") -> Any:
        if isinstance(value, dict):
            if key in _ID_KEYED:
                return [(self._id(_ID_KEYED[key], name), self._shape(item))
                        for name, item in value.items()]
            return [(name, self._shape(item, name)) for name, item in value.items()]
        if isinstance(value, list):
            return [self._shape(item, key) for item in value]
        if not isinstance(value, str):
            return f"<{type(value).__name__}: {value!r}>"
        if key in ID_KINDS:
            return self._id(ID_KINDS[key], value)
        if key in _OPAQUE_NUMBERS:
            return "<number>" if value.lstrip("-").isdigit() else value
        if key in _SECRET_KEYS and value:
            return "<secret>"
        if _TIME.match(value):
            return "<time>"
        if key == "uuid" and _UUID.match(value):
            return "<uuid>"
        if value.startswith("{") and value.endswith("}"):
            try:  # a JSON document inside a string (dicomextractor's answer)
                return ["<json>", self._shape(json.loads(value))]
            except ValueError:
                pass
        if value.startswith(self.url):
            return "<base>" + value[len(self.url):]
        return self._mask(value)

    def _location(self, location: str) -> Any:
        split = urlsplit(location)
        kinds = {"items": "item", "folders": "folder", "bitstream": "bitstream"}
        params = []
        for name, value in parse_qsl(split.query, keep_blank_values=True):
            if name == "authToken":
                value = "<secret>"
            elif name in kinds:
                first, comma, rest = value.partition(",")  # items=<id>[,<revision number>]
                value = self._id(kinds[name], first) + comma + rest
            params.append((name, value))
        return {"path": split.path.rsplit("/download", 1)[-1], "query": sorted(params)}

    def _download(self, response: requests.Response) -> Dict[str, Any]:
        observed: Dict[str, Any] = {"status": response.status_code}
        for name in _DOWNLOAD_HEADERS:
            observed[name] = response.headers.get(name)
        content = _read_all(response)
        self._last_body = content
        if response.headers.get("Content-Type", "").startswith("application/x-zip"):
            observed.pop("Content-Length")  # a streamed archive; its size varies with dates
            observed["zip"] = _zip_listing(content)
        elif response.status_code == 200:
            observed["md5"] = hashlib.md5(content).hexdigest()
            observed["size"] = len(content)
        else:
            observed["body"] = "error page"
        return observed


def _read_all(response: requests.Response) -> bytes:
    """Read a streamed body whole, or as much as arrives before a short end.

    (A download at an offset announces the full length and sends less.)
    """
    parts = []
    try:
        for block in response.raw.stream(65536, decode_content=False):
            parts.append(block)
    except Exception:  # the connection ended short of Content-Length
        pass
    finally:
        response.close()
    return b"".join(parts)


def _absolute(base: str, location: str) -> str:
    if location.startswith(("http://", "https://")):
        return location
    split = urlsplit(base)
    return f"{split.scheme}://{split.netloc}{location}"


def _zip_listing(content: bytes) -> Any:
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            return [(info.filename, hashlib.md5(archive.read(info)).hexdigest())
                    for info in archive.infolist()]
    except zipfile.BadZipFile:
        return f"not a ZIP ({len(content)} bytes)"


def compare(scenario: Callable[[Side], None], real: Side, emulator: Side,
            known: Optional[Dict[str, str]] = None) -> None:
    """Run a scenario on both sides and assert that every observation agrees.

    :param scenario: the calls to make.
    :param real: the real server.
    :param emulator: the emulator.
    :param known: step label -> reason, for differences documented in
        ``docs/testing.rst``: those steps are compared on status and envelope only.
    :raises AssertionError: listing each step that differs.
    """
    scenario(real)
    scenario(emulator)
    known = known or {}
    differences = []
    for index, ((label, seen), (_other, expected)) in enumerate(
            zip(emulator.observations, real.observations)):
        if label in known:
            seen, expected = _envelope_only(seen), _envelope_only(expected)
        if seen != expected:
            where, real_part, emulator_part = _first_difference(expected, seen)
            differences.append(f"step {index} {label}: first difference at {where}:\n"
                               f"  real:     {real_part}\n  emulator: {emulator_part}")
    if len(real.observations) != len(emulator.observations):
        differences.append(f"{len(real.observations)} steps on the real server, "
                           f"{len(emulator.observations)} on the emulator")
    assert not differences, "\n".join(differences)


def _first_difference(real: Any, emulator: Any, where: str = "") -> Tuple[str, Any, Any]:
    """Return the path of the first place two observations differ, and both values there."""
    if isinstance(real, dict) and isinstance(emulator, dict):
        if list(real) != list(emulator):
            return f"{where} keys", list(real), list(emulator)
        for key in real:
            if real[key] != emulator[key]:
                return _first_difference(real[key], emulator[key], f"{where}/{key}")
    if isinstance(real, list) and isinstance(emulator, list):
        pairs = all(isinstance(entry, tuple) for entry in real + emulator)
        if pairs and [key for key, _ in real] != [key for key, _ in emulator]:
            return f"{where} keys", [key for key, _ in real], [key for key, _ in emulator]
        if len(real) != len(emulator):
            return f"{where} length {len(real)} != {len(emulator)}", real, emulator
        for number, (left, right) in enumerate(zip(real, emulator)):
            if left != right:
                name = left[0] if pairs else number
                return _first_difference(left[1] if pairs else left,
                                         right[1] if pairs else right, f"{where}/{name}")
    return where or "/", real, emulator


def _envelope_only(observed: Any) -> Any:
    if isinstance(observed, dict):
        return {key: value for key, value in observed.items() if key not in ("data", "body")}
    return observed
