"""What the engine reads from server answers, checked before anything is done with it.

Every answer the transfer engine uses goes through one function here, which
returns it in the shape the engine relies on or raises
:class:`pydas.exceptions.MalformedResponse` naming the API method and what
was wrong. So a server (or a proxy) that answers garbage gives a typed error
before any file is written, never a ``KeyError`` halfway through.

Midas sends every scalar as a string (midas-web-api.md §1.5): ids and sizes
are digit strings, and are accepted as integers too.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, FrozenSet, List, Optional, Tuple

from pydas._transfer.verify import is_md5
from pydas.exceptions import MalformedResponse

__all__ = [
    "Bitstream",
    "Item",
    "Listing",
    "Revision",
    "count",
    "created_id",
    "folder_record",
    "head_revision",
    "home_folders",
    "item_record",
    "listing",
    "token_item_id",
    "upload_token",
    "uploaded_item",
]


def _malformed(method: str, what: str) -> MalformedResponse:
    return MalformedResponse(f"{method}: the server's answer {what}", method=method)


def _kind(value: Any) -> str:
    return "null" if value is None else type(value).__name__


def _mapping(value: Any, method: str, what: str) -> Dict[str, Any]:
    if not isinstance(value, dict):
        raise _malformed(method, f"has {what} that is a {_kind(value)}, not an object")
    return value


def _sequence(value: Any, method: str, what: str) -> List[Any]:
    if not isinstance(value, list):
        raise _malformed(method, f"has {what} that is a {_kind(value)}, not a list")
    return value


def count(value: Any, method: str, what: str) -> int:
    """Read a non-negative integer sent as digits (``"12"``) or as a number.

    :raises MalformedResponse: for anything else (``"12 kB"``, ``"-5"``, ``None``)
    """
    if isinstance(value, bool):
        raise _malformed(method, f"has {what} {value!r}, not a byte count")
    if isinstance(value, int):
        number = value
    elif isinstance(value, str) and value.strip().isdigit() and value.strip().isascii():
        number = int(value.strip())
    else:
        raise _malformed(method, f"has {what} {str(value)[:40]!r}, not a non-negative integer")
    if number < 0:
        raise _malformed(method, f"has {what} {number}, not a non-negative integer")
    return number


def _identifier(entry: Dict[str, Any], key: str, method: str, what: str) -> str:
    value = entry.get(key)
    if isinstance(value, bool) or not isinstance(value, (str, int)) or str(value).strip() == "":
        raise _malformed(method, f"has {what} without {key!r}")
    return str(value).strip()


def _name(entry: Dict[str, Any], method: str, what: str) -> str:
    value = entry.get("name")
    if not isinstance(value, str):
        raise _malformed(method, f"has {what} without a name")
    return value


def _named(value: Any, key: str, method: str, what: str) -> Dict[str, Any]:
    """An object with a ``name`` and the id ``key``."""
    entry = _mapping(value, method, what)
    _identifier(entry, key, method, what)
    _name(entry, method, what)
    return entry


@dataclass(frozen=True)
class Listing:
    """The children of a folder (``midas.folder.children``): folder and item objects."""

    folders: Tuple[Dict[str, Any], ...]
    items: Tuple[Dict[str, Any], ...]


def listing(data: Any) -> Listing:
    """Check an answer of ``midas.folder.children``."""
    method = "midas.folder.children"
    data = _mapping(data, method, "data")
    folders = _sequence(data.get("folders", []), method, "'folders'")
    items = _sequence(data.get("items", []), method, "'items'")
    return Listing(
        tuple(_named(entry, "folder_id", method, "a folder") for entry in folders),
        tuple(_named(entry, "item_id", method, "an item") for entry in items),
    )


def home_folders(data: Any) -> List[Dict[str, Any]]:
    """Check an answer of ``midas.user.folders`` (the folders of the user's home)."""
    method = "midas.user.folders"
    return [
        _named(entry, "folder_id", method, "a folder")
        for entry in _sequence(data, method, "data")
    ]


def folder_record(data: Any, method: str) -> Dict[str, Any]:
    """Check an answer that is one folder (``midas.folder.get``) or holds its ``folder_id``."""
    entry = _mapping(data, method, "data")
    _identifier(entry, "folder_id", method, "data")
    return entry


def created_id(data: Any, key: str, method: str) -> str:
    """The id (``key``) of an object a create call made (``item.create``, ``folder.create``)."""
    return _identifier(_mapping(data, method, "data"), key, method, "data")


def upload_token(data: Any) -> str:
    """The token of an answer of ``midas.upload.generatetoken`` (``""``: content known)."""
    method = "midas.upload.generatetoken"
    entry = _mapping(data, method, "data")
    if "token" not in entry:
        raise _malformed(method, "has no 'token'")
    token = entry["token"]
    if not isinstance(token, str):
        # the kind only: a token is a secret
        raise _malformed(method, f"has a 'token' that is a {_kind(token)}, not text")
    return token


def token_item_id(token: str) -> Optional[str]:
    """The item id a Midas upload token carries, if it has the shape ``<user>/<item>/<random>``.

    Midas 3 names the temporary file of an upload after the token, made of
    the user's and the item's ids and random characters. That is how the
    server is built, not a promise of its API, so the id is only a hint (the
    answer of ``upload.perform`` names the item).
    """
    parts = token.split("/")
    if len(parts) == 3 and parts[1].isdigit() and parts[1].isascii() and parts[2]:
        return str(int(parts[1]))
    return None


def uploaded_item(data: Any) -> Dict[str, Any]:
    """Check an answer of ``midas.upload.perform``: the item the file went into."""
    method = "midas.upload.perform"
    entry = _mapping(data, method, "data")
    return dict(entry, item_id=_identifier(entry, "item_id", method, "data"))


@dataclass(frozen=True)
class Bitstream:
    """One file of a revision, as the engine uses it.

    :param id: the bitstream id
    :param name: its name, as the server sends it (still double-encoded)
    :param size: ``sizebytes``
    :param checksum: the MD5 (lower case); for a link, whatever the server holds
    :param link: whether it points to another web site instead of stored bytes
    """

    id: str
    name: str
    size: int
    checksum: str
    link: bool


@dataclass(frozen=True)
class Revision:
    """One revision of an item: its number and its files."""

    number: int
    bitstreams: Tuple[Bitstream, ...]


@dataclass(frozen=True)
class Item:
    """An answer of ``midas.item.get``, checked; ``raw`` is the answer itself."""

    id: str
    name: str
    revisions: Tuple[Revision, ...]
    raw: Dict[str, Any]

    @property
    def head(self) -> Optional[Revision]:
        """The revision with the largest number (the server does not sort them, §3.2)."""
        if not self.revisions:
            return None
        return max(self.revisions, key=lambda revision: revision.number)

    def revision(self, number: int) -> Optional[Revision]:
        """The revision with this number, if the item has it."""
        for revision in self.revisions:
            if revision.number == number:
                return revision
        return None

    def bitstream_ids(self) -> FrozenSet[str]:
        """The ids of every bitstream of every revision."""
        return frozenset(b.id for revision in self.revisions for b in revision.bitstreams)


def _bitstream(value: Any, method: str) -> Bitstream:
    entry = _mapping(value, method, "a bitstream")
    identifier = _identifier(entry, "bitstream_id", method, "a bitstream")
    name = _name(entry, method, f"bitstream {identifier}")
    link = entry.get("mimetype") == "url" or str(entry.get("path", "")).startswith(
        ("http://", "https://")
    )
    checksum = str(entry.get("checksum") or "").strip().lower()
    if link:
        size = 0
    else:
        size = count(entry.get("sizebytes"), method, f"a sizebytes of bitstream {identifier}")
        if not is_md5(checksum):
            raise _malformed(method, f"has bitstream {identifier} without an MD5 checksum")
    return Bitstream(identifier, name, size, checksum, link)


def _revision(value: Any, method: str) -> Revision:
    entry = _mapping(value, method, "a revision")
    number = count(entry.get("revision"), method, "a revision number")
    bitstreams = _sequence(entry.get("bitstreams"), method, f"revision {number} with bitstreams")
    return Revision(number, tuple(_bitstream(b, method) for b in bitstreams))


def item_record(data: Any) -> Item:
    """Check an answer of ``midas.item.get``."""
    method = "midas.item.get"
    entry = _mapping(data, method, "data")
    identifier = _identifier(entry, "item_id", method, "data")
    name = _name(entry, method, "data")
    revisions = _sequence(entry.get("revisions"), method, "'revisions'")
    return Item(identifier, name, tuple(_revision(r, method) for r in revisions), entry)


def head_revision(data: Any) -> Optional[Dict[str, Any]]:
    """The head revision of an answer of ``midas.item.get``, as the server sent it.

    :returns: the revision object with the largest number, or ``None`` if the
        item has no revision
    :raises MalformedResponse: if the answer does not have the shape of an item
    """
    method = "midas.item.get"
    item = item_record(data)
    head = item.head
    if head is None:
        return None
    for value in _sequence(item.raw["revisions"], method, "'revisions'"):
        revision = _mapping(value, method, "a revision")
        if count(revision.get("revision"), method, "a revision number") == head.number:
            return revision
    return None
