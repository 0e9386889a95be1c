"""Who is calling, and the policies of folders and items (midas-web-api.md §3.3).

A :class:`Caller` carries the user row and the groups it belongs to, looked up
once per request. A folder's or item's level for a caller is the highest of
its group policies (the anonymous group included) and its user policy; server
administrators have Admin everywhere. Communities grant by membership.
"""

from dataclasses import dataclass
from typing import Any, List, Optional, Tuple

from pydas.testing.answers import ApiError
from pydas.testing.backend.database import Database, Row

__all__ = ["Caller", "ANONYMOUS", "Policies", "NONE", "READ", "WRITE", "ADMIN", "ANONYMOUS_GROUP"]

#: Policy levels; a check for level L passes with any policy >= L.
NONE, READ, WRITE, ADMIN = -1, 0, 1, 2
#: The group every caller, including anonymous ones, belongs to.
ANONYMOUS_GROUP = 0

_KINDS = ("folder", "item")


@dataclass(frozen=True)
class Caller:
    """The user behind a request, with its groups.

    :param user: the user row, ``None`` when anonymous.
    :param groups: the ids of the groups it belongs to, the anonymous group first.
    """

    user: Optional[Row]
    groups: Tuple[int, ...] = (ANONYMOUS_GROUP,)

    @property
    def admin(self) -> bool:
        """Whether the caller is a server administrator."""
        return self.user is not None and bool(self.user["admin"])

    @property
    def user_id(self) -> Optional[int]:
        """The user's id, ``None`` when anonymous."""
        return None if self.user is None else int(self.user["user_id"])


#: The anonymous caller.
ANONYMOUS = Caller(None)


def _kind(kind: str) -> str:
    if kind not in _KINDS:
        raise ValueError(f"policies exist for folders and items, not {kind!r}")
    return kind


class Policies:
    """Policy checks and changes on folders and items.

    :param db: the database.
    """

    def __init__(self, db: Database) -> None:
        self.db = db

    def level_sql(self, kind: str, alias: str, caller: Caller) -> Tuple[str, Tuple[Any, ...]]:
        """Return an SQL expression of the caller's level on the row ``alias`` and its values.

        :param kind: ``"folder"`` or ``"item"``.
        :param alias: the table alias whose ``<kind>_id`` column is checked.
        :param caller: the caller.
        :returns: ``(expression, placeholder values)``; :data:`NONE` when no policy applies.
        """
        kind = _kind(kind)
        if caller.admin:
            return str(ADMIN), ()
        marks = ",".join("?" for _ in caller.groups)
        expression = (
            f"COALESCE((SELECT MAX(policy) FROM (SELECT policy FROM {kind}policygroup g "
            f"WHERE g.{kind}_id = {alias}.{kind}_id AND g.group_id IN ({marks}) "
            f"UNION ALL SELECT policy FROM {kind}policyuser u "
            f"WHERE u.{kind}_id = {alias}.{kind}_id AND u.user_id = ?)), {NONE})"
        )
        return expression, (*caller.groups, caller.user_id)

    def level(self, kind: str, object_id: int, caller: Caller) -> int:
        """Return the caller's level on a folder or item (:data:`NONE` if none).

        :param kind: ``"folder"`` or ``"item"``.
        :param object_id: its id.
        :param caller: the caller.
        :returns: the level.
        """
        if caller.admin:
            return ADMIN
        expression, values = self.level_sql(kind, "o", caller)
        row = self.db.one(f"SELECT {expression} AS level FROM (SELECT ? AS {kind}_id) o",
                          (*values, object_id))
        return NONE if row is None else int(row["level"])

    def community_level(self, community: Row, caller: Caller) -> int:
        """Return the caller's level on a community (membership based).

        :param community: the community row.
        :param caller: the caller.
        :returns: the level.
        """
        if caller.admin:
            return ADMIN
        groups = set(caller.groups)
        if community["admingroup_id"] in groups:
            return ADMIN
        if community["moderatorgroup_id"] in groups:
            return WRITE
        if community["membergroup_id"] in groups or community["privacy"] == 0:
            return READ
        return NONE

    def grant(self, kind: str, object_id: int, level: int, *, user_id: Any = None,
              group_id: Any = None) -> None:
        """Give a user or group at least ``level`` on a folder or item.

        :param kind: ``"folder"`` or ``"item"``.
        :param object_id: the folder or item id.
        :param level: :data:`READ`, :data:`WRITE` or :data:`ADMIN`.
        :param user_id: the user to grant to, or
        :param group_id: the group to grant to.
        """
        kind = _kind(kind)
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

    def copy(self, source_kind: str, source_id: int, kind: str, target_id: int) -> None:
        """Add the user and group policies of one folder/item to another folder/item.

        :param source_kind: ``"folder"`` or ``"item"``.
        :param source_id: where the policies come from.
        :param kind: ``"folder"`` or ``"item"``.
        :param target_id: where they are added.
        """
        source_kind, kind = _kind(source_kind), _kind(kind)
        for column, suffix in (("group_id", "policygroup"), ("user_id", "policyuser")):
            self.db.run(
                f"INSERT INTO {kind}{suffix} ({kind}_id, {column}, policy) "
                f"SELECT ?, {column}, policy FROM {source_kind}{suffix} "
                f"WHERE {source_kind}_id = ?"
                f"ON CONFLICT ({kind}_id, {column}) "
                "DO UPDATE SET policy = MAX(policy, excluded.policy)",
                (target_id, source_id),
            )

    def grant_groups_of(self, folder_id: int, item_id: int, level: int) -> None:
        """Give every group holding a policy on a folder ``level`` on an item.

        :param folder_id: the folder whose groups are taken.
        :param item_id: the item.
        :param level: the level given.
        """
        self.db.run(
            "INSERT INTO itempolicygroup (item_id, group_id, policy) "
            "SELECT ?, group_id, ? FROM folderpolicygroup WHERE folder_id = ?"
            "ON CONFLICT (item_id, group_id) DO UPDATE SET policy = MAX(policy, excluded.policy)",
            (item_id, level, folder_id),
        )

    def set_privacy(self, kind: str, object_id: int, privacy: str) -> None:
        """Apply ``Public`` (anonymous Read) or ``Private`` (no anonymous policy).

        :param kind: ``"folder"`` or ``"item"``.
        :param object_id: the folder or item id.
        :param privacy: exactly ``Public`` or ``Private``.
        :raises ApiError: -150 for any other value.
        """
        kind = _kind(kind)
        if privacy == "Public":
            self.grant(kind, object_id, READ, group_id=ANONYMOUS_GROUP)
        elif privacy == "Private":
            self.db.run(f"DELETE FROM {kind}policygroup WHERE {kind}_id = ? AND group_id = ?",
                        (object_id, ANONYMOUS_GROUP))
        else:
            raise ApiError(-150, "privacy should be one of [Public|Private]")

    def set(self, kind: str, object_id: int, level: int, *, user_id: Any = None,
            group_id: Any = None) -> None:
        """Give a user or group exactly ``level`` on a folder or item (replacing a policy)."""
        kind = _kind(kind)
        if user_id is not None:
            table, column, subject = f"{kind}policyuser", "user_id", user_id
        else:
            table, column, subject = f"{kind}policygroup", "group_id", group_id
        self.db.run(f"INSERT OR REPLACE INTO {table} ({kind}_id, {column}, policy) "
                    "VALUES (?, ?, ?)", (object_id, subject, level))

    def remove(self, kind: str, object_id: int, *, user_id: Any = None,
               group_id: Any = None) -> None:
        """Remove the policy of a user or group on a folder or item, if there is one."""
        kind = _kind(kind)
        if user_id is not None:
            table, column, subject = f"{kind}policyuser", "user_id", user_id
        else:
            table, column, subject = f"{kind}policygroup", "group_id", group_id
        self.db.run(f"DELETE FROM {table} WHERE {kind}_id = ? AND {column} = ?",
                    (object_id, subject))

    def of_users(self, kind: str, object_id: int) -> List[Row]:
        """Return the user policies of a folder or item with each user's ``email``."""
        kind = _kind(kind)
        return self.db.all(
            f"SELECT p.user_id, p.policy, u.email FROM {kind}policyuser p "
            f"JOIN user u ON u.user_id = p.user_id WHERE p.{kind}_id = ? ORDER BY p.rowid",
            (object_id,),
        )

    def of_groups(self, kind: str, object_id: int) -> List[Row]:
        """Return the group policies of a folder or item with each group's ``name``."""
        kind = _kind(kind)
        return self.db.all(
            f"SELECT p.group_id, p.policy, COALESCE(g.name, 'Anonymous') AS name "
            f"FROM {kind}policygroup p LEFT JOIN grp g ON g.group_id = p.group_id "
            f"WHERE p.{kind}_id = ? ORDER BY p.rowid",
            (object_id,),
        )

    def group(self, group_id: int) -> Optional[Row]:
        """Return a group (the anonymous group too), or ``None``."""
        if group_id == ANONYMOUS_GROUP:
            return self.db.one("SELECT 0 AS group_id, 0 AS community_id, 'Anonymous' AS name")
        return self.db.one("SELECT * FROM grp WHERE group_id = ?", (group_id,))

    def remove_all(self, kind: str, object_id: int) -> None:
        """Delete every policy of a folder or item."""
        kind = _kind(kind)
        for suffix in ("policyuser", "policygroup"):
            self.db.run(f"DELETE FROM {kind}{suffix} WHERE {kind}_id = ?", (object_id,))
