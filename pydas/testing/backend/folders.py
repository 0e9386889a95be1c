"""Folders: the tree of user homes and community roots, and what it contains."""

from typing import TYPE_CHECKING, Any, List, Optional

from pydas.testing.backend.access import READ, Caller
from pydas.testing.backend.database import Database, Row
from pydas.testing.backend.values import new_uuid, timestamp

if TYPE_CHECKING:
    from pydas.testing.backend import Backend

__all__ = ["Folders", "FOLDER_ROWS"]

#: Folder rows with their ``public`` column (see :mod:`~pydas.testing.backend.records`).
FOLDER_ROWS = (
    "SELECT f.*, EXISTS (SELECT 1 FROM folderpolicygroup p WHERE p.folder_id = f.folder_id "
    "AND p.group_id = 0) AS public FROM folder f"
)


class Folders:
    """The folder tree.

    :param db: the database.
    :param backend: the whole backend (for items and policies).
    """

    def __init__(self, db: Database, backend: "Backend") -> None:
        self.db = db
        self.backend = backend

    def get(self, folder_id: int) -> Optional[Row]:
        """Return the folder with this id, or ``None``."""
        return self.db.one(f"{FOLDER_ROWS} WHERE f.folder_id = ?", (folder_id,))

    def get_for(self, folder_id: int, caller: Caller) -> Optional[Row]:
        """Return the folder with this id and the caller's ``level`` on it, or ``None``."""
        expression, values = self.backend.policies.level_sql("folder", "f", caller)
        select = FOLDER_ROWS.replace(" FROM folder f", f", {expression} AS level FROM folder f")
        return self.db.one(f"{select} WHERE f.folder_id = ?", (*values, folder_id))

    def reload(self, folder_id: int) -> Row:
        """Return the folder with this id as it is now (it must exist)."""
        row = self.get(folder_id)
        assert row is not None, "the folder vanished"
        return row

    def by_uuid(self, uuid: str) -> Optional[Row]:
        """Return the folder with this uuid, or ``None``."""
        return self.db.one(f"{FOLDER_ROWS} WHERE f.uuid = ?", (uuid,))

    def child_named(self, parent_id: int, name: Any) -> Optional[Row]:
        """Return the sub-folder of that name, or ``None``."""
        return self.db.one(f"{FOLDER_ROWS} WHERE f.parent_id = ? AND f.name = ?",
                           (parent_id, name))

    def ids_named(self, name: Any) -> List[int]:
        """Return the ids of every folder with this exact name."""
        return [row["folder_id"]
                for row in self.db.all("SELECT folder_id FROM folder WHERE name = ?", (name,))]

    def children(self, folder_id: int, caller: Optional[Caller] = None,
                 level: int = READ) -> List[Row]:
        """Return the sub-folders of a folder sorted by name.

        :param folder_id: the parent.
        :param caller: keep only the sub-folders this caller holds ``level`` on
            (all when ``None``).
        :param level: the level needed.
        :returns: the folder rows.
        """
        if caller is None:
            return self.db.all(f"{FOLDER_ROWS} WHERE f.parent_id = ? ORDER BY f.name, f.folder_id",
                               (folder_id,))
        expression, values = self.backend.policies.level_sql("folder", "f", caller)
        return self.db.all(
            f"{FOLDER_ROWS} WHERE f.parent_id = ? AND {expression} >= ? "
            "ORDER BY f.name, f.folder_id",
            (folder_id, *values, level),
        )

    def matching(self, pattern: str, caller: Caller, limit: int) -> List[Row]:
        """Return readable folders whose name is LIKE ``pattern``, oldest first."""
        expression, values = self.backend.policies.level_sql("folder", "f", caller)
        return self.db.all(
            f"{FOLDER_ROWS} WHERE f.name LIKE ? AND {expression} >= ? ORDER BY f.folder_id "
            "LIMIT ?",
            (pattern, *values, READ, limit),
        )

    def create(self, name: str, parent_id: int, description: str = "",
               uuid: Optional[str] = None) -> int:
        """Insert a folder record (no policies).

        :returns: the new folder id.
        """
        now = timestamp()
        return self.db.insert(
            "folder", parent_id=parent_id, name=name, description=description,
            date_update=now, date_creation=now, uuid=uuid or new_uuid(),
        )

    def update(self, folder_id: int, **changes: Any) -> None:
        """Change columns of a folder."""
        self.db.update("folder", "folder_id", folder_id, **changes)

    def delete(self, folder_id: int) -> None:
        """Delete a folder recursively; its items go unless linked elsewhere too."""
        items = self.backend.items
        for child in self.children(folder_id):
            self.delete(child["folder_id"])
        for item_id in items.ids_in(folder_id):
            items.unlink(item_id, folder_id)
            if not items.folder_ids(item_id):
                items.delete(item_id)
        self.backend.policies.remove_all("folder", folder_id)
        self.db.run("DELETE FROM folder WHERE folder_id = ?", (folder_id,))

    def ancestors(self, folder_id: int) -> List[Row]:
        """Return a folder's parent, its parent, and so on up to the root."""
        rows = []
        current = self.get(folder_id)
        while current is not None and current["parent_id"] > 0:
            current = self.get(current["parent_id"])
            if current is not None:
                rows.append(current)
        return rows

    def is_descendant(self, folder_id: int, ancestor_id: int) -> bool:
        """Tell whether ``folder_id`` lies inside the tree of ``ancestor_id``."""
        row = self.db.one(
            "WITH RECURSIVE up(id) AS (SELECT ? UNION SELECT f.parent_id FROM folder f "
            "JOIN up ON f.folder_id = up.id WHERE f.parent_id > 0) "
            "SELECT 1 FROM up WHERE id = ?",
            (folder_id, ancestor_id),
        )
        return row is not None

    def owner_name(self, folder_id: int) -> str:
        """Return the name of the community or user whose tree holds a folder.

        :returns: the community's name, the user's first and last name run
            together, or ``""``.
        """
        row = self.db.one(
            "WITH RECURSIVE up(id, parent) AS (SELECT folder_id, parent_id FROM folder "
            "WHERE folder_id = ? UNION SELECT f.folder_id, f.parent_id FROM folder f "
            "JOIN up ON f.folder_id = up.parent WHERE up.parent > 0) "
            "SELECT (SELECT name FROM community WHERE folder_id = top.id) AS community, "
            "(SELECT firstname || lastname FROM user WHERE folder_id = top.id) AS person "
            "FROM (SELECT id FROM up WHERE parent <= 0 OR parent NOT IN (SELECT folder_id "
            "FROM folder) LIMIT 1) top",
            (folder_id,),
        )
        if row is None:
            return ""
        return str(row["community"] or row["person"] or "")
