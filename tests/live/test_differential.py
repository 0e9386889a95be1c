"""Differential tests: the same raw call sequences against the real server and a fresh emulator.

Each test runs one scenario on the configured real server (``live``) and on an
emulator with the kit's accounts and modules, and compares what came back
(see :mod:`support.differential`). Objects are created under unique names and
removed afterwards on the real server, which is shared.
"""

import hashlib
import uuid
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


@pytest.fixture
def emulator(live) -> Iterator[Side]:
    with MidasServer(modules=KIT_MODULES) as server:
        accounts = {}
        for role in ("admin", "user", "otp"):
            wanted = _account(live, role)
            first, last = _NAMES[role]
            record = server.create_user(wanted.email, wanted.password, first, last,
                                        admin=role == "admin")
            accounts[role] = Account(record.email, record.password, record.api_key)
        server.set_otp(accounts["otp"].email)
        side = Side("emulator", server.url, accounts)
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
        item = side.call("item.create", "midas.item.create", as_role="user", name="scan",
                         parentid=root, description="a scan")["item_id"]
        side.call("item.create same name", "midas.item.create", as_role="user", name="scan",
                  parentid=root)
        side.call("item.create missing parent", "midas.item.create", as_role="user",
                  name="x")
        side.call("item.create unknown parent", "midas.item.create", as_role="user",
                  name="x", parentid="987654321")
        side.call("item.get", "midas.item.get", as_role="user", id=item)
        side.call("item.get unknown", "midas.item.get", as_role="user", id="987654321")
        side.call("item.get as other user", "midas.item.get", as_role="otp", id=item)
        side.call("item.exists", "midas.item.exists", as_role="user", parentid=root,
                  name="scan")
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
        side.call("deletemetadata", "midas.item.deletemetadata", as_role="user", itemId=item,
                  element="custom")
        side.call("getmetadata after delete", "midas.item.getmetadata", as_role="user",
                  id=item)
        side.call("setmetadata as other user", "midas.item.setmetadata", as_role="otp",
                  itemId=item, element="x", value="y")
        copy = side.call("duplicate", "midas.item.duplicate", as_role="user", id=item,
                         dstfolderid=root)
        if copy:
            side.call("get duplicate", "midas.item.get", as_role="user", id=copy["item_id"])
        side.call("share", "midas.item.share", as_role="user", id=item,
                  dstfolderid=_private(side))
        side.call("move", "midas.item.move", as_role="user", id=item,
                  srcfolderid=_private(side), dstfolderid=root)
        side.call("children", "midas.folder.children", as_role="user", id=root)
        side.call("searchbyname", "midas.item.searchbyname", as_role="user", name="scan")
        side.call("searchbynameandfolder", "midas.item.searchbynameandfolder",
                  as_role="user", name="scan", folderId=root)
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
        if link:
            side.call("link item", "midas.item.get", as_role="user", id=link["item_id"])
            side.fetch("link download", "midas.item.download", as_role="user",
                       id=link["item_id"])
        _delete(side, root)

    compare(scenario, real, emulator)
