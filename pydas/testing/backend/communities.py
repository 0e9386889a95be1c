"""Communities with their groups, root folder and policies (midas-web-api.md §3.2)."""

from typing import TYPE_CHECKING, Any, List, Optional

from pydas.testing.answers import ApiError
from pydas.testing.backend.access import ADMIN, ANONYMOUS_GROUP, READ, WRITE, Caller
from pydas.testing.backend.database import Database, Row
from pydas.testing.backend.folders import FOLDER_ROWS
from pydas.testing.backend.values import capitalize_first, new_uuid, timestamp

if TYPE_CHECKING:
    from pydas.testing.backend import Backend

__all__ = ["Communities"]

_ROLE_COLUMNS = {"member": "membergroup_id", "moderator": "moderatorgroup_id",
                 "admin": "admingroup_id"}


class Communities:
    """Communities.

    :param db: the database.
    :param backend: the whole backend (for folders, users and policies).
    """

    def __init__(self, db: Database, backend: "Backend") -> None:
        self.db = db
        self.backend = backend

    def get(self, community_id: int) -> Optional[Row]:
        """Return the community with this id, or ``None``."""
        return self.db.one("SELECT * FROM community WHERE community_id = ?", (community_id,))

    def by_name(self, name: Any) -> Optional[Row]:
        """Return the community with this exact name, or ``None``."""
        return self.db.one("SELECT * FROM community WHERE name = ?", (name,))

    def reload(self, community_id: int) -> Row:
        """Return the community with this id as it is now (it must exist)."""
        row = self.get(community_id)
        assert row is not None, "the community vanished"
        return row

    def by_uuid(self, uuid: str) -> Optional[Row]:
        """Return the community with this uuid, or ``None``."""
        return self.db.one("SELECT * FROM community WHERE uuid = ?", (uuid,))

    def visible(self, caller: Caller) -> List[Row]:
        """Return the communities a caller sees listed, by name case-insensitively.

        Administrators see all; others the first 20 public ones plus those they
        are a member of.
        """
        if caller.admin:
            rows = self.db.all("SELECT * FROM community")
        else:
            rows = list(self.db.all("SELECT * FROM community WHERE privacy = 0 LIMIT 20"))
            if caller.user is not None:
                marks = ",".join("?" for _ in caller.groups)
                rows += self.db.all(
                    f"SELECT * FROM community WHERE membergroup_id IN ({marks})", caller.groups
                )
        unique = {row["community_id"]: row for row in rows}
        return sorted(unique.values(), key=lambda row: (row["name"].lower(), row["community_id"]))

    def matching(self, pattern: str) -> List[Row]:
        """Return the communities whose name is LIKE ``pattern``."""
        return self.db.all("SELECT * FROM community WHERE name LIKE ?", (pattern,))

    def create(self, name: str, owner_id: int, description: str = "", privacy: str = "Public",
               can_join: str = "Everyone", uuid: Optional[str] = None) -> Row:
        """Create a community with its groups, folders and policies.

        :returns: the community row.
        :raises ApiError: code 0 if the name exists; -150 for a bad privacy/canjoin.
        """
        if privacy not in ("Public", "Private"):
            raise ApiError(-150, "privacy should be one of [Public|Private]")
        if can_join not in ("Everyone", "Invitation"):
            raise ApiError(-150, "privacy should be one of [Everyone|Invitation]")
        name = capitalize_first(name)
        if self.by_name(name) is not None:
            raise ApiError(0, "Community already exists.")
        folders, policies = self.backend.folders, self.backend.policies
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
        root = folders.create(f"community_{community_id}", -2)
        self.db.update(
            "community", "community_id", community_id, folder_id=root,
            admingroup_id=groups["Administrator"], moderatorgroup_id=groups["Moderators"],
            membergroup_id=groups["Members"],
        )
        for group in ("Administrator", "Members"):
            self.backend.users.join_group(groups[group], owner_id)
        policies.grant("folder", root, ADMIN, group_id=groups["Administrator"])
        policies.grant("folder", root, READ, group_id=groups["Moderators"])
        policies.grant("folder", root, READ, group_id=groups["Members"])
        for child in ["Private", "Public"] if public else ["Private"]:
            folder_id = folders.create(child, root)
            policies.grant("folder", folder_id, ADMIN, group_id=groups["Administrator"])
            policies.grant("folder", folder_id, WRITE, group_id=groups["Moderators"])
            policies.grant("folder", folder_id, READ, group_id=groups["Members"])
            if child == "Public":
                policies.grant("folder", folder_id, READ, group_id=ANONYMOUS_GROUP)
        community = self.get(community_id)
        assert community is not None
        return community

    def update(self, community_id: int, **changes: Any) -> None:
        """Change columns of a community."""
        self.db.update("community", "community_id", community_id, **changes)

    def groups(self, community_id: int) -> List[Row]:
        """Return the groups of a community, oldest first."""
        return self.db.all("SELECT * FROM grp WHERE community_id = ? ORDER BY group_id",
                           (community_id,))

    def delete(self, community: Row) -> None:
        """Delete a community with its groups and its folder tree."""
        self.backend.folders.delete(community["folder_id"])
        for group in self.groups(community["community_id"]):
            self.db.run("DELETE FROM group_user WHERE group_id = ?", (group["group_id"],))
            for kind in ("folder", "item"):
                self.db.run(f"DELETE FROM {kind}policygroup WHERE group_id = ?",
                            (group["group_id"],))
        self.db.run("DELETE FROM grp WHERE community_id = ?", (community["community_id"],))
        self.db.run("DELETE FROM community WHERE community_id = ?", (community["community_id"],))

    def folder(self, community: Row, name: str) -> Optional[Row]:
        """Return the ``Public``/``Private`` child of a community root, or ``None``."""
        return self.db.one(f"{FOLDER_ROWS} WHERE f.parent_id = ? AND f.name = ?",
                           (community["folder_id"], name))

    def add_member(self, community: Row, user_id: int, role: str) -> None:
        """Add a user to a community's Members group and to the group of ``role``.

        :param community: the community row.
        :param user_id: the user.
        :param role: ``member``, ``moderator`` or ``admin``.
        :raises ValueError: for another role.
        """
        if role not in _ROLE_COLUMNS:
            raise ValueError(f"role must be one of {', '.join(_ROLE_COLUMNS)}, got {role!r}")
        for column in {"membergroup_id", _ROLE_COLUMNS[role]}:
            self.backend.users.join_group(community[column], user_id)
