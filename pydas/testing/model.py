"""The Midas data model on top of :class:`~pydas.testing.store.Store`.

Serialisation of each resource (field order and content of midas-web-api.md
§3.1), permission checks (§3.3) and the operations that several API methods and
the :class:`~pydas.testing.MidasServer` helpers share: creating users,
communities, folders and items with the policies the real server gives them,
revisions and bitstreams, API keys and tokens.

Callers hold :attr:`Store.lock` (the dispatcher runs each API call inside one
transaction), so the methods here do not lock on their own.
"""

import hashlib
import mimetypes
import sqlite3
import time
import uuid as uuid_module
from typing import Any, Dict, List, Optional

from pydas.testing.envelope import ApiError
from pydas.testing.store import Store
from pydas.testing.values import random_string, timestamp

__all__ = ["Model", "as_int", "READ", "WRITE", "ADMIN", "NONE", "ANONYMOUS_GROUP", "Row"]

Row = sqlite3.Row

#: Policy levels; a check for level L passes with any policy >= L.
NONE, READ, WRITE, ADMIN = -1, 0, 1, 2
#: The group every caller, including anonymous ones, belongs to.
ANONYMOUS_GROUP = 0
#: Token lifetime of the ``Default`` API key, in minutes.
DEFAULT_LIFETIME = 100

_USER_FIELDS = (
    "user_id", "firstname", "lastname", "email", "thumbnail", "company", "creation",
    "folder_id", "admin", "privacy", "view", "uuid", "city", "country", "website",
    "biography", "dynamichelp",
)
_COMMUNITY_FIELDS = (
    "community_id", "name", "description", "creation", "privacy", "folder_id",
    "admingroup_id", "moderatorgroup_id", "membergroup_id", "can_join", "view", "uuid",
)
_ITEM_FIELDS = (
    "item_id", "name", "description", "type", "sizebytes", "date_creation", "date_update",
    "thumbnail_id", "view", "download",
)
_REVISION_FIELDS = (
    "itemrevision_id", "item_id", "revision", "date", "changes", "user_id", "license_id", "uuid",
)
_BITSTREAM_FIELDS = (
    "bitstream_id", "itemrevision_id", "assetstore_id", "name", "mimetype", "sizebytes",
    "checksum", "path", "date",
)


def new_uuid() -> str:
    """Return a fresh uuid as the server formats it: 32 lowercase hex characters."""
    return uuid_module.uuid4().hex


def hash_password(password: str, salt: str) -> str:
    """Return the stored form of a password.

    :param password: the plain text.
    :param salt: the user's salt.
    :returns: a salted SHA-256 hex digest.
    """
    return hashlib.sha256((salt + password).encode("utf-8")).hexdigest()


def capitalize_first(text: str) -> str:
    """Upper-case the first letter only, as the server does for names."""
    return text[:1].upper() + text[1:]


def guess_mimetype(name: str) -> str:
    """Guess a bitstream's mime type from its name (at most 30 characters, as stored).

    :param name: the file name.
    :returns: the type, ``application/octet-stream`` when unknown.
    """
    guessed = mimetypes.guess_type(name)[0] or "application/octet-stream"
    return guessed[:30]


class Model:
    """Data-model operations over one :class:`Store`.

    :param db: the store.
    """

    def __init__(self, db: Store) -> None:
        self.db = db

    # -- serialisation ----------------------------------------------------------------

    def user_dict(self, user: Row) -> Dict[str, Any]:
        """Serialise a user (never its password, hash or salt)."""
        return {field: user[field] for field in _USER_FIELDS}

    def community_dict(self, community: Row) -> Dict[str, Any]:
        """Serialise a community."""
        return {field: community[field] for field in _COMMUNITY_FIELDS}

    def folder_dict(self, folder: Row) -> Dict[str, Any]:
        """Serialise a folder; ``privacy_status`` is derived from the anonymous policy."""
        folder_id = folder["folder_id"]
        return {
            "folder_id": folder_id,
            "left_index": 2 * folder_id,
            "right_index": 2 * folder_id + 1,
            "parent_id": folder["parent_id"],
            "name": folder["name"],
            "description": folder["description"],
            "date_update": folder["date_update"],
            "date_creation": folder["date_creation"],
            "view": folder["view"],
            "teaser": folder["teaser"],
            "privacy_status": 0 if self.folder_is_public(folder_id) else 2,
            "uuid": folder["uuid"],
        }

    def item_dict(self, item: Row) -> Dict[str, Any]:
        """Serialise an item; ``privacy_status`` is derived from the anonymous policy."""
        result = {field: item[field] for field in _ITEM_FIELDS}
        result["privacy_status"] = 0 if self.item_is_public(item["item_id"]) else 2
        result["uuid"] = item["uuid"]
        return result

    def revision_dict(self, revision: Row) -> Dict[str, Any]:
        """Serialise an item revision."""
        return {field: revision[field] for field in _REVISION_FIELDS}

    def bitstream_dict(self, bitstream: Row) -> Dict[str, Any]:
        """Serialise a bitstream."""
        return {field: bitstream[field] for field in _BITSTREAM_FIELDS}

    # -- lookups ------------------------------------------------------------------------

    def user(self, user_id: Any) -> Optional[Row]:
        """Return the user with this id, or ``None``."""
        return self.db.one("SELECT * FROM user WHERE user_id = ?", (as_int(user_id),))

    def user_by_email(self, email: str) -> Optional[Row]:
        """Return the user with this exact (stored lower-case) e-mail, or ``None``."""
        return self.db.one("SELECT * FROM user WHERE email = ?", (email,))

    def folder(self, folder_id: Any) -> Optional[Row]:
        """Return the folder with this id, or ``None``."""
        return self.db.one("SELECT * FROM folder WHERE folder_id = ?", (as_int(folder_id),))

    def item(self, item_id: Any) -> Optional[Row]:
        """Return the item with this id, or ``None``."""
        return self.db.one("SELECT * FROM item WHERE item_id = ?", (as_int(item_id),))

    def community(self, community_id: Any) -> Optional[Row]:
        """Return the community with this id, or ``None``."""
        return self.db.one(
            "SELECT * FROM community WHERE community_id = ?", (as_int(community_id),)
        )

    def item_folders(self, item_id: int) -> List[Row]:
        """Return the folders an item is linked into, in linking order."""
        return self.db.all(
            "SELECT f.* FROM item2folder l JOIN folder f ON f.folder_id = l.folder_id "
            "WHERE l.item_id = ? ORDER BY l.link_id",
            (item_id,),
        )

    def revisions(self, item_id: int) -> List[Row]:
        """Return the revisions of an item in database order."""
        return self.db.all(
            "SELECT * FROM itemrevision WHERE item_id = ? ORDER BY itemrevision_id", (item_id,)
        )

    def head_revision(self, item_id: int) -> Optional[Row]:
        """Return the revision with the largest number, or ``None``."""
        return self.db.one(
            "SELECT * FROM itemrevision WHERE item_id = ? ORDER BY revision DESC LIMIT 1",
            (item_id,),
        )

    def revision_by_number(self, item_id: int, number: int) -> Optional[Row]:
        """Return revision ``number`` of an item, or ``None``."""
        return self.db.one(
            "SELECT * FROM itemrevision WHERE item_id = ? AND revision = ?", (item_id, number)
        )

    def bitstreams(self, revision_id: int) -> List[Row]:
        """Return the bitstreams of a revision in database order."""
        return self.db.all(
            "SELECT * FROM bitstream WHERE itemrevision_id = ? ORDER BY bitstream_id",
            (revision_id,),
        )

    def child_folders(self, folder_id: int) -> List[Row]:
        """Return the sub-folders of a folder sorted by name."""
        return self.db.all(
            "SELECT * FROM folder WHERE parent_id = ? ORDER BY name, folder_id", (folder_id,)
        )

    def child_items(self, folder_id: int) -> List[Row]:
        """Return the items linked into a folder sorted by name."""
        return self.db.all(
            "SELECT i.* FROM item2folder l JOIN item i ON i.item_id = l.item_id "
            "WHERE l.folder_id = ? ORDER BY i.name, i.item_id",
            (folder_id,),
        )

    # -- permissions --------------------------------------------------------------------

    def group_ids(self, user: Optional[Row]) -> List[int]:
        """Return the groups of a caller: the anonymous group plus memberships."""
        groups = [ANONYMOUS_GROUP]
        if user is not None:
            groups += [
                row["group_id"]
                for row in self.db.all(
                    "SELECT group_id FROM group_user WHERE user_id = ?", (user["user_id"],)
                )
            ]
        return groups

    def _level(self, kind: str, object_id: int, user: Optional[Row]) -> int:
        if user is not None and user["admin"]:
            return ADMIN
        groups = self.group_ids(user)
        marks = ",".join("?" for _ in groups)
        row = self.db.one(
            f"SELECT MAX(policy) AS p FROM {kind}policygroup "
            f"WHERE {kind}_id = ? AND group_id IN ({marks})",
            (object_id, *groups),
        )
        level = NONE if row is None or row["p"] is None else row["p"]
        if user is not None:
            row = self.db.one(
                f"SELECT policy FROM {kind}policyuser WHERE {kind}_id = ? AND user_id = ?",
                (object_id, user["user_id"]),
            )
            if row is not None:
                level = max(level, row["policy"])
        return level

    def folder_level(self, folder_id: int, user: Optional[Row]) -> int:
        """Return the caller's policy level on a folder (:data:`NONE` if none)."""
        return self._level("folder", folder_id, user)

    def item_level(self, item_id: int, user: Optional[Row]) -> int:
        """Return the caller's policy level on an item (:data:`NONE` if none)."""
        return self._level("item", item_id, user)

    def community_level(self, community: Row, user: Optional[Row]) -> int:
        """Return the caller's level on a community (membership based, §3.3)."""
        if user is not None and user["admin"]:
            return ADMIN
        groups = set(self.group_ids(user))
        if community["admingroup_id"] in groups:
            return ADMIN
        if community["moderatorgroup_id"] in groups:
            return WRITE
        if community["membergroup_id"] in groups or community["privacy"] == 0:
            return READ
        return NONE

    def folder_is_public(self, folder_id: int) -> bool:
        """Tell whether the anonymous group holds any policy on a folder."""
        return (
            self.db.one(
                "SELECT 1 FROM folderpolicygroup WHERE folder_id = ? AND group_id = ?",
                (folder_id, ANONYMOUS_GROUP),
            )
            is not None
        )

    def item_is_public(self, item_id: int) -> bool:
        """Tell whether the anonymous group holds any policy on an item."""
        return (
            self.db.one(
                "SELECT 1 FROM itempolicygroup WHERE item_id = ? AND group_id = ?",
                (item_id, ANONYMOUS_GROUP),
            )
            is not None
        )

    def grant(self, kind: str, object_id: int, level: int, *, user_id: Any = None,
              group_id: Any = None) -> None:
        """Give a user or group at least ``level`` on a folder or item.

        :param kind: ``"folder"`` or ``"item"``.
        :param object_id: the folder or item id.
        :param level: :data:`READ`, :data:`WRITE` or :data:`ADMIN`.
        :param user_id: the user to grant to, or
        :param group_id: the group to grant to.
        """
        if user_id is not None:
            table, column, subject = f"{kind}policyuser", "user_id", user_id
        else:
            table, column, subject = f"{kind}policygroup", "group_id", group_id
        self.db.run(
            f"INSERT INTO {table} ({kind}_id, {column}, policy) VALUES (?, ?, ?) "
            f"ON CONFLICT ({kind}_id, {column}) "
            "DO UPDATE SET policy = MAX(policy, excluded.policy)",
            (object_id, subject, level),
        )

    def copy_policies(self, source_kind: str, source_id: int, kind: str, target_id: int) -> None:
        """Add the user and group policies of one folder/item to another folder/item.

        :param source_kind: ``"folder"`` or ``"item"``.
        :param source_id: where the policies come from.
        :param kind: ``"folder"`` or ``"item"``.
        :param target_id: where they are added.
        """
        for column in ("group_id", "user_id"):
            table = "policygroup" if column == "group_id" else "policyuser"
            for row in self.db.all(
                f"SELECT {column}, policy FROM {source_kind}{table} WHERE {source_kind}_id = ?",
                (source_id,),
            ):
                self.grant(kind, target_id, row["policy"], **{column: row[column]})

    def set_privacy(self, kind: str, object_id: int, privacy: str) -> None:
        """Apply ``Public`` (anonymous Read) or ``Private`` (no anonymous policy).

        :param kind: ``"folder"`` or ``"item"``.
        :param object_id: the folder or item id.
        :param privacy: exactly ``Public`` or ``Private``.
        :raises ApiError: -150 for any other value.
        """
        if privacy == "Public":
            self.grant(kind, object_id, READ, group_id=ANONYMOUS_GROUP)
        elif privacy == "Private":
            self.db.run(
                f"DELETE FROM {kind}policygroup WHERE {kind}_id = ? AND group_id = ?",
                (object_id, ANONYMOUS_GROUP),
            )
        else:
            raise ApiError(-150, "privacy should be one of [Public|Private]")

    # -- creation -----------------------------------------------------------------------

    def create_folder(self, name: str, parent_id: int, description: str = "",
                      uuid: Optional[str] = None) -> int:
        """Insert a folder record (no policies).

        :returns: the new folder id.
        """
        now = timestamp()
        return self.db.insert(
            "folder", parent_id=parent_id, name=name, description=description,
            date_update=now, date_creation=now, uuid=uuid or new_uuid(),
        )

    def create_user(self, email: str, password: str, firstname: str, lastname: str,
                    admin: bool = False) -> Row:
        """Create an account with its home folders and ``Default`` API key.

        :returns: the user row.
        :raises ValueError: if the e-mail is already registered.
        """
        email = email.lower()
        if self.user_by_email(email) is not None:
            raise ValueError(f"a user with e-mail {email} already exists")
        salt = random_string(16)
        user_id = self.db.insert(
            "user", email=email, password_hash=hash_password(password, salt), salt=salt,
            firstname=capitalize_first(firstname), lastname=capitalize_first(lastname),
            creation=timestamp(), admin=1 if admin else 0, uuid=new_uuid(),
        )
        home = self.create_folder(f"user_{user_id}", -1)
        self.db.update("user", "user_id", user_id, folder_id=home)
        self.grant("folder", home, ADMIN, user_id=user_id)
        for child in ("Private", "Public"):
            folder_id = self.create_folder(child, home)
            self.grant("folder", folder_id, ADMIN, user_id=user_id)
            if child == "Public":
                self.grant("folder", folder_id, READ, group_id=ANONYMOUS_GROUP)
        self.create_api_key(user_id, "Default", DEFAULT_LIFETIME)
        user = self.user(user_id)
        assert user is not None
        return user

    def create_api_key(self, user_id: int, application: str, lifetime: int) -> str:
        """Create an API key for an application.

        :returns: the 32-character key.
        """
        key = random_string(32)
        self.db.insert("apikey", user_id=user_id, application=application, apikey=key,
                       lifetime=lifetime)
        return key

    def default_api_key(self, user_id: int) -> Optional[str]:
        """Return the user's ``Default`` key, or ``None``."""
        row = self.db.one(
            "SELECT apikey FROM apikey WHERE user_id = ? AND application = 'Default' "
            "ORDER BY apikey_id LIMIT 1",
            (user_id,),
        )
        return None if row is None else row["apikey"]

    def issue_token(self, user_id: int, apikey_row: Row) -> Row:
        """Return the still-valid token of an API key, or a new one.

        :returns: the token row.
        """
        now = time.time()
        row = self.db.one(
            "SELECT * FROM token WHERE apikey_id = ? AND expires > ? ORDER BY token_id DESC",
            (apikey_row["apikey_id"], now),
        )
        if row is not None:
            return row
        token_id = self.db.insert(
            "token", user_id=user_id, apikey_id=apikey_row["apikey_id"],
            token=random_string(32), expires=now + 60 * apikey_row["lifetime"],
        )
        row = self.db.one("SELECT * FROM token WHERE token_id = ?", (token_id,))
        assert row is not None
        return row

    def create_community(self, name: str, owner_id: int, description: str = "",
                         privacy: str = "Public", can_join: str = "Everyone",
                         uuid: Optional[str] = None) -> Row:
        """Create a community with its groups, folders and policies (§3.2).

        :returns: the community row.
        :raises ApiError: code 0 if the name exists; -150 for a bad privacy/canjoin.
        """
        if privacy not in ("Public", "Private"):
            raise ApiError(-150, "privacy should be one of [Public|Private]")
        if can_join not in ("Everyone", "Invitation"):
            raise ApiError(-150, "privacy should be one of [Everyone|Invitation]")
        name = capitalize_first(name)
        if self.db.one("SELECT 1 FROM community WHERE name = ?", (name,)) is not None:
            raise ApiError(0, "Community already exists.")
        public = privacy == "Public"
        community_id = self.db.insert(
            "community", name=name, description=description, creation=timestamp(),
            privacy=0 if public else 1, can_join=1 if public and can_join == "Everyone" else 0,
            uuid=uuid or new_uuid(),
        )
        groups = {
            label: self.db.insert("grp", community_id=community_id, name=label)
            for label in ("Administrator", "Moderators", "Members")
        }
        root = self.create_folder(f"community_{community_id}", -2)
        self.db.update(
            "community", "community_id", community_id, folder_id=root,
            admingroup_id=groups["Administrator"], moderatorgroup_id=groups["Moderators"],
            membergroup_id=groups["Members"],
        )
        for group in ("Administrator", "Members"):
            self.db.run("INSERT OR IGNORE INTO group_user VALUES (?, ?)", (groups[group], owner_id))
        self.grant("folder", root, ADMIN, group_id=groups["Administrator"])
        self.grant("folder", root, READ, group_id=groups["Moderators"])
        self.grant("folder", root, READ, group_id=groups["Members"])
        children = ["Private", "Public"] if public else ["Private"]
        for child in children:
            folder_id = self.create_folder(child, root)
            self.grant("folder", folder_id, ADMIN, group_id=groups["Administrator"])
            self.grant("folder", folder_id, WRITE, group_id=groups["Moderators"])
            self.grant("folder", folder_id, READ, group_id=groups["Members"])
            if child == "Public":
                self.grant("folder", folder_id, READ, group_id=ANONYMOUS_GROUP)
        community = self.community(community_id)
        assert community is not None
        return community

    def community_folder(self, community: Row, name: str) -> Optional[Row]:
        """Return the ``Public``/``Private`` child of a community root, or ``None``."""
        return self.db.one(
            "SELECT * FROM folder WHERE parent_id = ? AND name = ?", (community["folder_id"], name)
        )

    def unique_item_name(self, folder_id: int, name: str) -> str:
        """Return ``name``, or ``name (n)`` with the first free n, within a folder."""
        taken = {
            row["name"]
            for row in self.db.all(
                "SELECT i.name FROM item2folder l JOIN item i ON i.item_id = l.item_id "
                "WHERE l.folder_id = ?",
                (folder_id,),
            )
        }
        if name not in taken:
            return name
        number = 1
        while f"{name} ({number})" in taken:
            number += 1
        return f"{name} ({number})"

    def link_item(self, item_id: int, folder_id: int) -> None:
        """Link an item into a folder (no-op if already linked)."""
        if self.db.one(
            "SELECT 1 FROM item2folder WHERE item_id = ? AND folder_id = ?", (item_id, folder_id)
        ) is None:
            self.db.insert("item2folder", item_id=item_id, folder_id=folder_id)

    def create_item(self, name: str, folder_id: int, creator_id: Optional[int],
                    description: str = "", uuid: Optional[str] = None) -> int:
        """Create an item in a folder: unique name, parent policies, Admin for the creator.

        :param creator_id: the user who gets Admin, or ``None`` for no explicit grant.
        :returns: the new item id.
        """
        now = timestamp()
        item_id = self.db.insert(
            "item", name=self.unique_item_name(folder_id, name), description=description,
            date_creation=now, date_update=now, uuid=uuid or new_uuid(),
        )
        self.link_item(item_id, folder_id)
        self.copy_policies("folder", folder_id, "item", item_id)
        if creator_id is not None:
            self.grant("item", item_id, ADMIN, user_id=creator_id)
        return item_id

    def create_revision(self, item_id: int, user_id: int, changes: str = "",
                        license_id: Any = None) -> Row:
        """Append a revision numbered one past the current head.

        :returns: the revision row.
        """
        head = self.head_revision(item_id)
        number = 1 if head is None else head["revision"] + 1
        revision_id = self.db.insert(
            "itemrevision", item_id=item_id, revision=number, date=timestamp(),
            changes=changes, user_id=user_id, license_id=license_id, uuid=new_uuid(),
        )
        row = self.db.one("SELECT * FROM itemrevision WHERE itemrevision_id = ?", (revision_id,))
        assert row is not None
        return row

    def add_bitstream(self, revision: Row, name: str, mimetype: str, size: int,
                      checksum: str, path: str) -> int:
        """Add a bitstream to a revision and update the item's size and date.

        :returns: the new bitstream id.
        """
        bitstream_id = self.db.insert(
            "bitstream", itemrevision_id=revision["itemrevision_id"], name=name,
            mimetype=mimetype, sizebytes=size, checksum=checksum, path=path, date=timestamp(),
        )
        total = self.db.one(
            "SELECT COALESCE(SUM(sizebytes), 0) AS s FROM bitstream WHERE itemrevision_id = ?",
            (revision["itemrevision_id"],),
        )
        self.db.update(
            "item", "item_id", revision["item_id"], sizebytes=total["s"] if total else size,
            date_update=timestamp(),
        )
        return bitstream_id

    # -- deletion -----------------------------------------------------------------------

    def delete_item(self, item_id: int) -> None:
        """Delete an item everywhere: links, revisions, bitstream records, policies."""
        for revision in self.revisions(item_id):
            self.db.run("DELETE FROM bitstream WHERE itemrevision_id = ?",
                        (revision["itemrevision_id"],))
            self.db.run("DELETE FROM metadatavalue WHERE itemrevision_id = ?",
                        (revision["itemrevision_id"],))
        thumbnail = self.db.one("SELECT thumbnail_id FROM item WHERE item_id = ?", (item_id,))
        if thumbnail is not None and thumbnail["thumbnail_id"] is not None:
            self.db.run("DELETE FROM bitstream WHERE bitstream_id = ?",
                        (thumbnail["thumbnail_id"],))
        self.db.run(
            "DELETE FROM bitstream WHERE bitstream_id IN "
            "(SELECT thumbnail_id FROM itemthumbnail WHERE item_id = ?)",
            (item_id,),
        )
        for table in ("itemrevision", "item2folder", "itempolicyuser", "itempolicygroup",
                      "itemthumbnail", "item"):
            self.db.run(f"DELETE FROM {table} WHERE item_id = ?", (item_id,))

    def delete_folder(self, folder_id: int) -> None:
        """Delete a folder recursively; its items go unless linked elsewhere too."""
        for child in self.child_folders(folder_id):
            self.delete_folder(child["folder_id"])
        for row in self.db.all("SELECT item_id FROM item2folder WHERE folder_id = ?",
                               (folder_id,)):
            self.db.run("DELETE FROM item2folder WHERE item_id = ? AND folder_id = ?",
                        (row["item_id"], folder_id))
            if self.db.one("SELECT 1 FROM item2folder WHERE item_id = ?",
                           (row["item_id"],)) is None:
                self.delete_item(row["item_id"])
        for table in ("folderpolicyuser", "folderpolicygroup", "folder"):
            self.db.run(f"DELETE FROM {table} WHERE folder_id = ?", (folder_id,))

    def is_descendant(self, folder_id: int, ancestor_id: int) -> bool:
        """Tell whether ``folder_id`` lies inside the tree of ``ancestor_id``."""
        current = self.folder(folder_id)
        while current is not None:
            if current["folder_id"] == ancestor_id:
                return True
            current = self.folder(current["parent_id"]) if current["parent_id"] > 0 else None
        return False

    def top_folder(self, folder_id: int) -> Optional[Row]:
        """Return the root (home or community) folder of a folder's tree."""
        current = self.folder(folder_id)
        while current is not None and current["parent_id"] > 0:
            parent = self.folder(current["parent_id"])
            if parent is None:
                break
            current = parent
        return current


def as_int(value: Any) -> int:
    """Convert an id parameter to an int; anything else becomes ``-9``.

    Non-numeric ids, and numbers beyond SQLite's 64-bit range, never match a
    row, like an unknown id on the real server.
    """
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        return -9
    return number if -(2**63) <= number < 2**63 else -9

