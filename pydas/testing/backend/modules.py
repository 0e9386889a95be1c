"""Tables of the small modules: thumbnailcreator's thumbnails and batchmake's tasks."""

from typing import TYPE_CHECKING, Any, Dict, Optional

from pydas.testing.backend.database import Database, Row

if TYPE_CHECKING:
    from pydas.testing.backend import Backend

__all__ = ["Thumbnails", "Batchmake"]


class Thumbnails:
    """Thumbnail records: bitstreams outside any revision, linked to an item.

    :param db: the database.
    :param backend: the whole backend (for items).
    """

    def __init__(self, db: Database, backend: "Backend") -> None:
        self.db = db
        self.backend = backend

    def set_big(self, item_id: int, source: Row) -> Dict[str, Any]:
        """Record a big thumbnail of a bitstream for an item, replacing the previous one.

        :returns: the ``itemthumbnail`` record as the module answers it.
        """
        items = self.backend.items
        thumbnail_id = items.add_loose_bitstream("big_thumbnail.jpeg", "image/jpeg", source)
        previous = self.db.one("SELECT * FROM itemthumbnail WHERE item_id = ?", (item_id,))
        if previous is not None:
            items.delete_bitstream(previous["thumbnail_id"])
            self.db.update("itemthumbnail", "itemthumbnail_id", previous["itemthumbnail_id"],
                           thumbnail_id=thumbnail_id)
            row_id = previous["itemthumbnail_id"]
        else:
            row_id = self.db.insert("itemthumbnail", item_id=item_id, thumbnail_id=thumbnail_id)
        return {"itemthumbnail_id": row_id, "item_id": item_id, "thumbnail_id": thumbnail_id}

    def set_small(self, item: Row, source: Row) -> None:
        """Record a small thumbnail of a bitstream as the item's ``thumbnail_id``."""
        items = self.backend.items
        thumbnail_id = items.add_loose_bitstream("thumbnail.jpeg", "image/jpeg", source)
        if item["thumbnail_id"] is not None:
            items.delete_bitstream(item["thumbnail_id"])
        items.update(item["item_id"], thumbnail_id=thumbnail_id)


class Batchmake:
    """BatchMake tasks with their Condor DAGs and jobs.

    :param db: the database.
    """

    def __init__(self, db: Database) -> None:
        self.db = db

    def create_task(self, user_id: int) -> int:
        """Create a task owned by a user and return its id."""
        return self.db.insert("batchmake_task", user_id=user_id)

    def task(self, task_id: int) -> Optional[Row]:
        """Return a task, or ``None``."""
        return self.db.one("SELECT * FROM batchmake_task WHERE batchmake_task_id = ?",
                           (task_id,))

    def add_dag(self, task_id: int, dag_filename: str, out_filename: str) -> int:
        """Add a Condor DAG to a task and return its id."""
        return self.db.insert("condor_dag", batchmake_task_id=task_id,
                              out_filename=out_filename, dag_filename=dag_filename)

    def first_dag(self, task_id: int) -> Optional[int]:
        """Return the id of a task's first DAG, or ``None``."""
        row = self.db.one(
            "SELECT condor_dag_id FROM condor_dag WHERE batchmake_task_id = ? "
            "ORDER BY condor_dag_id LIMIT 1",
            (task_id,),
        )
        return None if row is None else int(row["condor_dag_id"])

    def add_job(self, dag_id: int, **files: str) -> int:
        """Add a Condor job (its file names) to a DAG and return its id."""
        return self.db.insert("condor_job", condor_dag_id=dag_id, **files)
