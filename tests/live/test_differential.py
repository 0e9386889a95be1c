"""Differential tests: the same raw call sequences against the real server and a fresh emulator.

Each test runs one scenario on the configured real server (``live``) and on an
emulator with the kit's accounts and modules, and compares what came back
(see :mod:`support.differential`). Objects are created under unique names and
removed afterwards on the real server, which is shared.
"""

import hashlib
import struct
import uuid
import zlib
from typing import Dict, Iterator

import pytest
from support.differential import Account, Side, compare

from pydas.testing import MidasServer

#: The modules of the kit's server (SQLite), in its order; scheduler comes with them.
KIT_MODULES = "thumbnailcreator,mfa,dicomextractor"
#: The names the kit gives its accounts.
_NAMES = {"admin": ("Admin", "User"), "user": ("Normal", "User"), "otp": ("Otp", "User")}
_KEYS = {"admin": "MIDAS_ADMIN", "user": "MIDAS", "otp": "MIDAS_OTP"}


def _account(live: Dict[str, str], role: str) -> Account:
    prefix = _KEYS[role]
    return Account(live[f"{prefix}_EMAIL"], live[f"{prefix}_PASSWORD"], live[f"{prefix}_API_KEY"])


@pytest.fixture
def real(live) -> Iterator[Side]:
    side = Side("real", live["MIDAS_URL"], {role: _account(live, role) for role in _KEYS})
    yield side
    side.session.close()


def _emulator_side(server: MidasServer, live: Dict[str, str]) -> Side:
    """The emulator with the kit's accounts (same e-mails, passwords and names)."""
    accounts = {}
    for role in ("admin", "user", "otp"):
        wanted = _account(live, role)
        first, last = _NAMES[role]
        record = server.create_user(wanted.email, wanted.password, first, last,
                                    admin=role == "admin")
        accounts[role] = Account(record.email, record.password, record.api_key)
    server.set_otp(accounts["otp"].email)
    return Side("emulator", server.url, accounts)


@pytest.fixture
def emulator(live) -> Iterator[Side]:
    with MidasServer(modules=KIT_MODULES) as server:
        side = _emulator_side(server, live)
        yield side
        side.session.close()


@pytest.fixture
def unique() -> str:
    """A name no other run uses (the real server is shared)."""
    return f"pydas-diff-{uuid.uuid4().hex[:12]}"


def _private(side: Side, role: str = "user") -> str:
    folders = side.call("user.folders", "midas.user.folders", as_role=role)
    return next(folder["folder_id"] for folder in folders if folder["name"] == "Private")


def _scratch(side: Side, name: str, role: str = "user") -> str:
    """Create a scratch folder in the role's Private folder (recorded)."""
    folder = side.call("scratch", "midas.folder.create", as_role=role, name=name,
                       parentid=_private(side, role))
    return folder["folder_id"]


def _delete(side: Side, folder_id: str, role: str = "user") -> None:
    side.call("cleanup", "midas.folder.delete", as_role=role, id=folder_id)


# -- server information --------------------------------------------------------------------


def test_system_information(real, emulator):
    def scenario(side: Side) -> None:
        side.call("version", "midas.version")
        side.call("info", "midas.info")
        side.call("modules.list", "midas.modules.list")
        side.call("unknown method", "midas.no.such.method")
        side.call("no prefix", "version")
        side.call("listMethods", "midas.system.listMethods")

    compare(scenario, real, emulator)


def test_users_and_login(real, emulator):
    def scenario(side: Side) -> None:
        user = side.accounts["user"]
        side.call("login", "midas.login", email=user.email, apikey=user.api_key,
                  appname="Default")
        side.call("login wrong key", "midas.login", email=user.email, apikey="x" * 32,
                  appname="Default")
        side.call("login unknown user", "midas.login", email="nobody@example.com",
                  apikey="x" * 32, appname="Default")
        side.call("login missing appname", "midas.login", email=user.email, apikey="x")
        side.call("apikey.default", "midas.user.apikey.default", email=user.email,
                  password=user.password)
        side.call("apikey.default wrong password", "midas.user.apikey.default",
                  email=user.email, password="wrong")
        side.call("apikey.default by GET", "midas.user.apikey.default", verb="GET",
                  email=user.email, password=user.password)
        side.call("user.folders", "midas.user.folders", as_role="user")
        side.call("user.folders anonymous", "midas.user.folders")
        side.call("user.folders bad token", "midas.user.folders", token="x" * 32)
        side.call("user.get by email", "midas.user.get", email=user.email)
        side.call("user.get by name", "midas.user.get", firstname="Normal", lastname="User")
        side.call("user.get unknown", "midas.user.get", email="nobody@example.com")
        side.call("user.get no criteria", "midas.user.get")
        side.call("user.list missing limit", "midas.user.list")

    compare(scenario, real, emulator)


def test_otp_login(real, emulator):
    def scenario(side: Side) -> None:
        otp = side.accounts["otp"]
        pending = side.call("login", "midas.login", email=otp.email, apikey=otp.api_key,
                            appname="Default")
        side.call("otp.login", "midas.mfa.otp.login", mfaTokenId=pending["mfa_token_id"],
                  otp="123456")
        side.call("otp.login again", "midas.mfa.otp.login",
                  mfaTokenId=pending["mfa_token_id"], otp="123456")
        side.call("otp.login missing otp", "midas.mfa.otp.login", mfaTokenId="1")

    compare(scenario, real, emulator)


# -- folders, items, metadata ------------------------------------------------------------


def test_folders(real, emulator, unique):
    def scenario(side: Side) -> None:
        root = _scratch(side, unique)
        side.call("create again", "midas.folder.create", as_role="user", name=unique,
                  parentid=_private(side))
        child = side.call("create child", "midas.folder.create", as_role="user", name="child",
                          parentid=root, description="about")["folder_id"]
        side.call("create child again", "midas.folder.create", as_role="user", name="child",
                  parentid=root)
        side.call("create public", "midas.folder.create", as_role="user", name="open",
                  parentid=root, privacy="Public")
        side.call("create bad privacy", "midas.folder.create", as_role="user", name="odd",
                  parentid=root, privacy="Secret")
        side.call("create missing parent", "midas.folder.create", as_role="user", name="x")
        side.call("create unknown parent", "midas.folder.create", as_role="user", name="x",
                  parentid="987654321")
        side.call("create anonymous", "midas.folder.create", name="x", parentid=root)
        side.call("get", "midas.folder.get", as_role="user", id=child)
        side.call("get missing id", "midas.folder.get", as_role="user")
        side.call("get unknown", "midas.folder.get", as_role="user", id="987654321")
        side.call("get bad id", "midas.folder.get", as_role="user", id="abc")
        side.call("get as admin", "midas.folder.get", as_role="admin", id=child)
        side.call("get as other user", "midas.folder.get", as_role="otp", id=child)
        side.call("get anonymous", "midas.folder.get", id=child)
        side.call("children", "midas.folder.children", as_role="user", id=root)
        side.call("move", "midas.folder.move", as_role="user", id=child, dstfolderid=root)
        side.call("move into itself", "midas.folder.move", as_role="user", id=root,
                  dstfolderid=child)
        side.call("delete as other user", "midas.folder.delete", as_role="otp", id=child)
        side.call("delete", "midas.folder.delete", as_role="user", id=child)
        side.call("get deleted", "midas.folder.get", as_role="user", id=child)
        _delete(side, root)

    compare(scenario, real, emulator)


def test_items_and_metadata(real, emulator, unique):
    def scenario(side: Side) -> None:
        root = _scratch(side, unique)
        scan = f"{unique}-scan"
        item = side.call("item.create", "midas.item.create", as_role="user", name=scan,
                         parentid=root, description="a scan")["item_id"]
        side.call("item.create same name", "midas.item.create", as_role="user", name=scan,
                  parentid=root)
        side.call("item.create missing parent", "midas.item.create", as_role="user",
                  name="x")
        side.call("item.create unknown parent", "midas.item.create", as_role="user",
                  name="x", parentid="987654321")
        side.call("item.get", "midas.item.get", as_role="user", id=item)
        side.call("item.get unknown", "midas.item.get", as_role="user", id="987654321")
        side.call("item.get as other user", "midas.item.get", as_role="otp", id=item)
        side.call("item.exists", "midas.item.exists", as_role="user", parentid=root,
                  name=scan)
        side.call("item.exists not", "midas.item.exists", as_role="user", parentid=root,
                  name="nothing")
        side.call("getmetadata without revision", "midas.item.getmetadata", as_role="user",
                  id=item)
        side.call("generatetoken", "midas.upload.generatetoken", as_role="user", itemid=item,
                  filename="a.txt", checksum=hashlib.md5(b"text\n").hexdigest())
        upload = side.call("generatetoken", "midas.upload.generatetoken", as_role="user",
                           itemid=item, filename="a.txt")
        side.secret(upload["token"])
        side.put("perform", b"some text\n", uploadtoken=upload["token"], filename="a.txt",
                 length=10)
        side.call("setmetadata", "midas.item.setmetadata", as_role="user", itemId=item,
                  element="contributor", qualifier="author", value="Ada")
        side.call("setmetadata new element", "midas.item.setmetadata", as_role="user",
                  itemId=item, element="custom", value="v1")
        side.call("setmultiplemetadata", "midas.item.setmultiplemetadata", as_role="user",
                  itemid=item, count="2", element_1="a", value_1="1", element_2="b",
                  qualifier_2="q", value_2="2")
        side.call("getmetadata", "midas.item.getmetadata", as_role="user", id=item)
        side.call("getmetadata revision 1", "midas.item.getmetadata", as_role="user", id=item,
                  revision="1")
        side.call("getmetadata revision 9", "midas.item.getmetadata", as_role="user", id=item,
                  revision="9")
        side.call("deletemetadata itemId", "midas.item.deletemetadata", as_role="user",
                  itemId=item, element="custom")
        side.call("deletemetadata", "midas.item.deletemetadata", as_role="user", itemid=item,
                  element="custom")
        side.call("deletemetadata unknown", "midas.item.deletemetadata", as_role="user",
                  itemid=item, element="never")
        side.call("getmetadata after delete", "midas.item.getmetadata", as_role="user",
                  id=item)
        side.call("setmetadata as other user", "midas.item.setmetadata", as_role="otp",
                  itemId=item, element="x", value="y")
        copy = side.call("duplicate", "midas.item.duplicate", as_role="user", id=item,
                         dstfolderid=root) or {"item_id": "0"}
        side.call("get duplicate", "midas.item.get", as_role="user", id=copy["item_id"])
        side.call("share", "midas.item.share", as_role="user", id=item,
                  dstfolderid=_private(side))
        side.call("move", "midas.item.move", as_role="user", id=item,
                  srcfolderid=_private(side), dstfolderid=root)
        side.call("children", "midas.folder.children", as_role="user", id=root)
        side.call("searchbyname", "midas.item.searchbyname", as_role="user", name=scan)
        side.call("searchbynameandfolder", "midas.item.searchbynameandfolder",
                  as_role="user", name=f"{scan} (3)", folderId=root)
        side.call("item.delete as other user", "midas.item.delete", as_role="otp", id=item)
        side.call("item.delete", "midas.item.delete", as_role="user", id=item)
        side.call("item.get deleted", "midas.item.get", as_role="user", id=item)
        _delete(side, root)

    compare(scenario, real, emulator)


def test_links(real, emulator, unique):
    def scenario(side: Side) -> None:
        root = _scratch(side, unique)
        link = side.call("link.create", "midas.link.create", as_role="user", folderid=root,
                         url="http://example.com/data", itemname="remote")
        side.call("link.create bad url", "midas.link.create", as_role="user", folderid=root,
                  url="not a url")
        side.call("link.create by GET", "midas.link.create", verb="GET",
                  token=side.token("user"), folderid=root, url="http://example.com/x")
        link_id = (link or {"item_id": "0"})["item_id"]
        side.call("link item", "midas.item.get", as_role="user", id=link_id)
        side.fetch("link download", "midas.item.download", as_role="user", id=link_id)
        _delete(side, root)

    compare(scenario, real, emulator)


# -- uploads, bitstreams, downloads ------------------------------------------------------


def _upload(side: Side, label: str, item_id: str, name: str, content: bytes,
            **extra: str) -> None:
    answer = side.call(f"{label}: generatetoken", "midas.upload.generatetoken",
                       as_role="user", itemid=item_id, filename=name, **extra)
    token = side.secret(answer["token"])
    if token:
        side.put(f"{label}: perform", content, uploadtoken=token, filename=name,
                 length=len(content), revision=extra.get("revision", "head"))


def test_uploads(real, emulator, unique):
    content = f"{unique} text\n".encode() * 50
    checksum = hashlib.md5(content).hexdigest()

    def scenario(side: Side) -> None:
        root = _scratch(side, unique)
        item = side.call("item", "midas.item.create", as_role="user", name="data",
                         parentid=root)["item_id"]
        token = side.secret(side.call("generatetoken", "midas.upload.generatetoken",
                                      as_role="user", itemid=item, filename="a.txt")["token"])
        side.call("getoffset fresh", "midas.upload.getoffset", uploadtoken=token)
        side.put("perform short", content[:100], uploadtoken=token, filename="a.txt",
                 length=len(content))
        side.call("getoffset partial", "midas.upload.getoffset", uploadtoken=token)
        side.put("perform rest", content[100:], uploadtoken=token, filename="a.txt",
                 length=len(content), revision="head")
        side.call("getoffset done", "midas.upload.getoffset", uploadtoken=token)
        side.put("perform used token", b"x", uploadtoken=token, filename="a.txt", length=1)
        side.call("getoffset unknown", "midas.upload.getoffset", uploadtoken="1/2/abc")
        side.put("perform bad token", b"x", uploadtoken="junk", filename="a.txt", length=1)
        side.put("perform missing length", b"x", uploadtoken=token, filename="a.txt")
        _upload(side, "same checksum", item, "b.txt", content, checksum=checksum)
        _upload(side, "new revision", item, "c.bin",
                hashlib.sha256(b"pydas").digest() * 32, revision=None)
        _upload(side, "empty file", item, "empty.txt", b"")
        side.call("item after uploads", "midas.item.get", as_role="user", id=item)
        side.call("item head", "midas.item.get", as_role="user", id=item, head="1")
        folder_item = side.call("generatetoken into folder", "midas.upload.generatetoken",
                                as_role="user", folderid=root, filename="f.txt",
                                itemname="made here")
        side.secret(folder_item["token"])
        side.call("generatetoken both ids", "midas.upload.generatetoken", as_role="user",
                  folderid=root, itemid=item, filename="x")
        side.call("generatetoken no ids", "midas.upload.generatetoken", as_role="user",
                  filename="x")
        side.call("generatetoken other user", "midas.upload.generatetoken", as_role="otp",
                  itemid=item, filename="x")
        side.call("children", "midas.folder.children", as_role="user", id=root)
        _delete(side, root)

    compare(scenario, real, emulator)


def test_bitstreams_and_downloads(real, emulator, unique):
    text = f"{unique} plain text\n".encode()
    binary = hashlib.sha256(b"pydas differential").digest() * 320  # octet-stream for libmagic

    def scenario(side: Side) -> None:
        root = _scratch(side, unique)
        single = side.call("single item", "midas.item.create", as_role="user", name="one",
                           parentid=root)["item_id"]
        _upload(side, "text", single, "notes.txt", text)
        double = side.call("double item", "midas.item.create", as_role="user", name="two",
                           parentid=root)["item_id"]
        _upload(side, "binary", double, "blob.bin", binary)
        _upload(side, "second", double, "more.txt", text + b"more\n")
        empty = side.call("empty item", "midas.item.create", as_role="user", name="none",
                          parentid=root)["item_id"]
        revisions = side.call("item.get", "midas.item.get", as_role="user", id=double)
        bitstream = revisions["revisions"][0]["bitstreams"][0]["bitstream_id"]
        side.fetch("download single", "midas.item.download", as_role="user", id=single)
        side.fetch("download zip", "midas.item.download", as_role="user", id=double)
        side.fetch("download empty", "midas.item.download", as_role="user", id=empty)
        side.fetch("download revision 1", "midas.item.download", as_role="user", id=double,
                   revision="1")
        side.fetch("download folder", "midas.folder.download", as_role="user", id=root)
        side.fetch("bitstream", "midas.bitstream.download", as_role="user", id=bitstream)
        side.fetch("bitstream offset", "midas.bitstream.download", as_role="user",
                   id=bitstream, offset="1000")
        side.fetch("bitstream by checksum", "midas.bitstream.download", as_role="user",
                   checksum=hashlib.md5(binary).hexdigest())
        side.fetch("bitstream other user", "midas.bitstream.download", as_role="otp",
                   id=bitstream)
        side.fetch("bitstream unknown", "midas.bitstream.download", as_role="user",
                   id="987654321")
        side.fetch("bitstream no id", "midas.bitstream.download", as_role="user")
        side.fetch("download anonymous", "midas.item.download", id=single)
        side.call("bitstream.get", "midas.bitstream.get", as_role="user", id=bitstream)
        item_uuid = side.call("item uuid", "midas.item.get", as_role="user", id=double)["uuid"]
        side.call("bitstream.count", "midas.bitstream.count", as_role="user", uuid=item_uuid)
        side.call("bitstream.edit", "midas.bitstream.edit", as_role="user", id=bitstream,
                  name="renamed.bin", mimetype="application/x-test")
        side.call("bitstream.get after edit", "midas.bitstream.get", as_role="user",
                  id=bitstream)
        side.call("bitstream.delete other user", "midas.bitstream.delete", as_role="otp",
                  id=bitstream)
        side.call("bitstream.delete", "midas.bitstream.delete", as_role="user", id=bitstream)
        side.call("item after delete", "midas.item.get", as_role="user", id=double)
        _delete(side, root)

    compare(scenario, real, emulator)


# -- communities, search, errors -----------------------------------------------------------


def test_communities(real, emulator, unique):
    def scenario(side: Side) -> None:
        created = side.call("create", "midas.community.create", as_role="admin", name=unique,
                            description="about")
        community = (created or {"community_id": "0"})["community_id"]
        side.call("create again", "midas.community.create", as_role="admin", name=unique)
        side.call("create as user", "midas.community.create", as_role="user",
                  name=f"{unique}-user")
        side.call("create bad privacy", "midas.community.create", as_role="admin",
                  name=f"{unique}-odd", privacy="Secret")
        side.call("get", "midas.community.get", as_role="user", id=community)
        side.call("get by name", "midas.community.get", as_role="user", name=unique)
        side.call("get unknown", "midas.community.get", as_role="user", id="987654321")
        side.call("children", "midas.community.children", as_role="user", id=community)
        side.call("children unknown", "midas.community.children", as_role="user",
                  id="987654321")
        side.call("list.groups", "midas.community.list.groups", as_role="admin",
                  community_id=community)
        side.call("delete as user", "midas.community.delete", as_role="user", id=community)
        side.call("delete", "midas.community.delete", as_role="admin", id=community)
        side.call("get deleted", "midas.community.get", as_role="admin", id=community)

    compare(scenario, real, emulator)


def test_search(real, emulator, unique):
    def scenario(side: Side) -> None:
        root = _scratch(side, unique)
        side.call("item", "midas.item.create", as_role="user", name=f"{unique}-item",
                  parentid=root, description="findable")
        side.call("resource.search", "midas.resource.search", as_role="user", search=unique)
        side.call("resource.search other user", "midas.resource.search", as_role="otp",
                  search=unique)
        side.call("resource.search bad order", "midas.resource.search", as_role="user",
                  search=unique, order="size")
        side.call("searchbyname", "midas.item.searchbyname", as_role="user",
                  name=f"{unique}-item")
        side.call("searchbynameandfoldername", "midas.item.searchbynameandfoldername",
                  as_role="user", name=f"{unique}-item", folderName=unique)
        uuid = side.call("folder", "midas.folder.get", as_role="user", id=root)["uuid"]
        side.call("path.to.root", "midas.path.to.root", as_role="user", uuid=uuid)
        side.call("path.from.root", "midas.path.from.root", as_role="user", uuid=uuid)
        side.call("resource.get", "midas.resource.get", as_role="user", uuid=uuid)
        side.call("resource.get missing", "midas.resource.get", as_role="user")
        _delete(side, root)

    compare(scenario, real, emulator)


def test_errors(real, emulator):
    def scenario(side: Side) -> None:
        side.call("bad token", "midas.item.get", token="x" * 32, id="1")
        side.call("missing parameter", "midas.item.get", as_role="user")
        side.call("bad id", "midas.item.get", as_role="user", id="abc")
        side.call("unknown method", "midas.item.nothing", as_role="user")
        side.call("unknown module", "midas.nomodule.do", as_role="user")
        side.call("disabled module", "midas.solr.search.advanced", as_role="user",
                  query="x")
        side.call("upload perform by GET", "midas.upload.perform", verb="GET",
                  uploadtoken="1/1/x", filename="x", length="1")

    compare(scenario, real, emulator)


# -- modules --------------------------------------------------------------------------------


def test_thumbnails_and_dicom(real, emulator, unique):
    def scenario(side: Side) -> None:
        root = _scratch(side, unique)
        item = side.call("item", "midas.item.create", as_role="user", name="image",
                         parentid=root)["item_id"]
        side.call("small thumbnail without bitstreams", "midas.thumbnailcreator.create."
                  "small.thumbnail", as_role="user", itemId=item)
        side.call("dicom extract without revision", "midas.dicomextractor.extract",
                  as_role="user", item=item)
        side.call("dicom extract unknown item", "midas.dicomextractor.extract",
                  as_role="user", item="987654321")
        side.call("dicom extract missing item", "midas.dicomextractor.extract",
                  as_role="user")
        _delete(side, root)

    compare(scenario, real, emulator)


def test_permissions(real, emulator, unique):
    def scenario(side: Side) -> None:
        root = _scratch(side, unique)
        item = side.call("item", "midas.item.create", as_role="user", name="shared",
                         parentid=root)["item_id"]
        other = side.call("other user", "midas.user.get",
                          email=side.accounts["otp"].email)["user_id"]
        side.call("list folder", "midas.folder.list.permissions", as_role="user",
                  folder_id=root)
        side.call("list folder as other", "midas.folder.list.permissions", as_role="otp",
                  folder_id=root)
        side.call("list folder missing id", "midas.folder.list.permissions",
                  as_role="user")
        side.call("list item", "midas.item.list.permissions", as_role="user", item_id=item)
        side.call("other reads item", "midas.item.get", as_role="otp", id=item)
        side.call("add user read recursive", "midas.folder.add.policyuser", as_role="user",
                  folder_id=root, user_id=other, policy="Read", recursive="1")
        side.call("other reads item now", "midas.item.get", as_role="otp", id=item)
        side.call("other writes", "midas.item.create", as_role="otp", name="x",
                  parentid=root)
        side.call("add bad policy", "midas.item.add.policyuser", as_role="user",
                  item_id=item, user_id=other, policy="Owner")
        side.call("add unknown user", "midas.item.add.policyuser", as_role="user",
                  item_id=item, user_id="987654321", policy="Read")
        side.call("item add write", "midas.item.add.policyuser", as_role="user",
                  item_id=item, user_id=other, policy="Write")
        side.call("list item after", "midas.item.list.permissions", as_role="user",
                  item_id=item)
        side.call("item remove user", "midas.item.remove.policyuser", as_role="user",
                  item_id=item, user_id=other)
        side.call("folder remove user", "midas.folder.remove.policyuser", as_role="user",
                  folder_id=root, user_id=other)
        side.call("other reads item again", "midas.item.get", as_role="otp", id=item)
        side.call("public recursive", "midas.folder.set.privacy.recursive", as_role="user",
                  folder_id=root, privacy="Public")
        side.call("anonymous reads item", "midas.item.get", id=item)
        side.call("list item public", "midas.item.list.permissions", as_role="user",
                  item_id=item)
        side.call("add anonymous group", "midas.item.add.policygroup", as_role="user",
                  item_id=item, group_id="0", policy="Write")
        side.call("remove anonymous group", "midas.item.remove.policygroup", as_role="user",
                  item_id=item, group_id="0")
        side.call("anonymous reads item after", "midas.item.get", id=item)
        _delete(side, root)

    compare(scenario, real, emulator)


def test_upload_edge_cases(real, emulator, unique):
    def scenario(side: Side) -> None:
        root = _scratch(side, unique)
        item = side.call("item", "midas.item.create", as_role="user", name="edge",
                         parentid=root)["item_id"]
        _upload(side, "one zero byte", item, "zero.txt", b"0")
        _upload(side, "one other byte", item, "one.txt", b"1")
        token = side.secret(side.call("generatetoken", "midas.upload.generatetoken",
                                      as_role="user", itemid=item, filename="long")["token"])
        side.put("longer body than length", b"0123456789", uploadtoken=token,
                 filename="long", length=4, revision="head")
        token = side.secret(side.call("generatetoken", "midas.upload.generatetoken",
                                      as_role="user", itemid=item, filename="bad")["token"])
        side.put("length not a number", b"abc", uploadtoken=token, filename="bad",
                 length="abc", revision="head")
        token = side.secret(side.call("generatetoken", "midas.upload.generatetoken",
                                      as_role="user", itemid=item, filename="r")["token"])
        side.put("unknown revision", b"abc", uploadtoken=token, filename="r", length=3,
                 revision="9")
        side.call("item", "midas.item.get", as_role="user", id=item)
        _delete(side, root)

    compare(scenario, real, emulator)


def _png(width: int = 8, height: int = 8) -> bytes:
    """A small valid RGB PNG."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))
    rows = b"".join(
        b"\x00" + b"".join(bytes((x * 30 % 256, y * 30 % 256, 128)) for x in range(width))
        for y in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


def _dicom() -> bytes:
    """A tiny DICOM Part-10 file, explicit VR little endian, with a few tags."""
    def element(group: int, number: int, vr: bytes, value: bytes) -> bytes:
        if len(value) % 2:
            value += b" "
        return struct.pack("<HH", group, number) + vr + struct.pack("<H", len(value)) + value
    syntax = b"1.2.840.10008.1.2.1\x00"
    meta = element(0x0002, 0x0010, b"UI", syntax)
    group_length = struct.pack("<HH", 0x0002, 0x0000) + b"UL" + struct.pack("<HI", 4, len(meta))
    body = (element(0x0008, 0x0060, b"CS", b"MR")
            + element(0x0010, 0x0010, b"PN", b"Doe^Jane")
            + element(0x0010, 0x0020, b"LO", b"P-0001"))
    return bytes(128) + b"DICM" + group_length + meta + body


def test_thumbnails_and_dicom_with_content(real, emulator, unique):
    def scenario(side: Side) -> None:
        root = _scratch(side, unique)
        image = side.call("image item", "midas.item.create", as_role="user", name="picture",
                          parentid=root)["item_id"]
        _upload(side, "png", image, "picture.png", _png())
        bitstream = side.call("image get", "midas.item.get", as_role="user",
                              id=image)["revisions"][0]["bitstreams"][0]["bitstream_id"]
        side.call("small thumbnail", "midas.thumbnailcreator.create.small.thumbnail",
                  as_role="user", itemId=image)
        side.call("big thumbnail", "midas.thumbnailcreator.create.big.thumbnail",
                  as_role="user", itemId=image, bitstreamId=bitstream, width="4")
        side.call("image after", "midas.item.get", as_role="user", id=image)
        scan = side.call("dicom item", "midas.item.create", as_role="user", name="scan",
                         parentid=root)["item_id"]
        _upload(side, "dicom", scan, "scan.dcm", _dicom())
        side.call("extract", "midas.dicomextractor.extract", as_role="user", item=scan)
        side.call("metadata", "midas.item.getmetadata", as_role="user", id=scan)
        _delete(side, root)

    compare(scenario, real, emulator)


# -- tracker (a kit server with MariaDB) -----------------------------------------------------

@pytest.fixture
def tracker_real(tracker) -> Iterator[Side]:
    side = Side("real", tracker["MIDAS_URL"], {role: _account(tracker, role) for role in _KEYS})
    yield side
    side.session.close()


@pytest.fixture
def tracker_emulator(tracker) -> Iterator[Side]:
    with MidasServer(modules=f"{KIT_MODULES},tracker") as server:
        yield _emulator_side(server, tracker)


def test_tracker(tracker_real, tracker_emulator, unique):
    def scenario(side: Side) -> None:
        created = side.call("community", "midas.community.create", as_role="admin",
                            name=unique)
        community = (created or {"community_id": "0"})["community_id"]
        submission = side.call(
            "submission.add", "midas.tracker.submission.add", as_role="admin",
            communityId=community, producerDisplayName="nightly", producerRevision="abc",
            branch="main", submitTime="2024-01-02 03:04:05", uuid=f"{unique}-run",
            params='{"k": 1}') or {}
        side.call("submission.add again", "midas.tracker.submission.add", as_role="admin",
                  communityId=community, producerDisplayName="nightly", producerRevision="abc",
                  branch="main", submitTime="now", uuid=f"{unique}-run")
        side.call("submission.add no time", "midas.tracker.submission.add", as_role="admin",
                  communityId=community, producerDisplayName="nightly", producerRevision="abc",
                  branch="main")
        side.call("submission.add missing branch", "midas.tracker.submission.add",
                  as_role="admin", communityId=community, producerDisplayName="n",
                  producerRevision="r")
        side.call("scalar.add", "midas.tracker.scalar.add", as_role="admin",
                  communityId=community, producerDisplayName="nightly", metricName="accuracy",
                  value="0.5", submissionUuid=submission.get("uuid", "x"), unit="%")
        side.call("scalar.add new submission", "midas.tracker.scalar.add", as_role="admin",
                  communityId=community, producerDisplayName="nightly", metricName="speed",
                  value="3", submissionUuid=f"{unique}-other")
        side.call("scalar.add without submission", "midas.tracker.scalar.add",
                  as_role="admin", communityId=community, producerDisplayName="nightly",
                  metricName="m", value="1")
        side.call("scalar.add as user", "midas.tracker.scalar.add", as_role="user",
                  communityId=community, producerDisplayName="nightly", metricName="m",
                  value="1", submissionUuid="x")
        side.call("submission.validate", "midas.tracker.submission.validate", as_role="admin",
                  uuid=submission.get("uuid", "x"))
        side.call("submission.validate unknown", "midas.tracker.submission.validate",
                  as_role="admin", uuid=f"{unique}-none")
        side.call("aggregatemetrics.update", "midas.tracker.aggregatemetrics.update",
                  as_role="admin", uuid=submission.get("uuid", "x"))
        side.call("submission.create", "midas.tracker.submission.create", as_role="admin")
        side.call("results.upload.json", "midas.tracker.results.upload.json",
                  as_role="admin")
        side.call("cleanup", "midas.community.delete", as_role="admin", id=community)

    compare(scenario, tracker_real, tracker_emulator)
