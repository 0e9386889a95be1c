"""Tables of the tracker module's 1.2 API (``MidasServer(tracker="1.2")``)."""

from typing import Any, Dict, Optional

from pydas.testing.backend.database import Database, Row
from pydas.testing.backend.values import timestamp

__all__ = ["LegacyTracker"]


class LegacyTracker:
    """The records of the tracker 1.2 API: trends carry their datasets, scalars their run.

    :param db: the database.
    """

    def __init__(self, db: Database) -> None:
        self.db = db

    def producer(self, community_id: int, display_name: str) -> int:
        """Return the id of a community's producer of that name, creating it if needed."""
        row = self.db.one(
            "SELECT producer_id FROM tracker1_producer WHERE community_id = ? AND display_name = ?",
            (community_id, display_name),
        )
        if row is not None:
            return int(row["producer_id"])
        return self.db.insert("tracker1_producer", community_id=community_id,
                              display_name=display_name)

    def trend(self, producer_id: int, metric: str, unit: Optional[str], config: Optional[int],
              test: Optional[int], truth: Optional[int]) -> int:
        """Return the id of the trend with these properties, creating it if needed."""
        row = self.db.one(
            "SELECT trend_id FROM tracker1_trend WHERE producer_id = ? AND metric_name = ? "
            "AND unit IS ? AND config_item_id IS ? AND test_dataset_id IS ? "
            "AND truth_dataset_id IS ?",
            (producer_id, metric, unit, config, test, truth),
        )
        if row is not None:
            return int(row["trend_id"])
        return self.db.insert("tracker1_trend", producer_id=producer_id, metric_name=metric,
                              unit=unit, config_item_id=config, test_dataset_id=test,
                              truth_dataset_id=truth)

    def submission_id(self, submission_id: int) -> Optional[int]:
        """Return the id if such a submission exists, else ``None``."""
        row = self.db.one("SELECT submission_id FROM tracker1_submission WHERE submission_id = ?",
                          (submission_id,))
        return None if row is None else int(row["submission_id"])

    def submission_by_uuid(self, uuid: str) -> Optional[Row]:
        """Return the submission with this uuid, or ``None``."""
        return self.db.one("SELECT * FROM tracker1_submission WHERE uuid = ?", (uuid,))

    def create_submission(self, producer_id: Optional[int], name: str, uuid: str) -> Row:
        """Create a submission and return its row."""
        submission_id = self.db.insert("tracker1_submission", producer_id=producer_id, name=name,
                                       uuid=uuid, submit_time=timestamp())
        row = self.db.one("SELECT * FROM tracker1_submission WHERE submission_id = ?",
                          (submission_id,))
        assert row is not None
        return row

    def store_scalar(self, trend_id: int, user_id: int, submit_time: str,
                     **values: Any) -> Row:
        """Store a scalar, replacing the user's value of the trend at the same time.

        :param trend_id: the trend.
        :param user_id: the submitting user (``-1`` when anonymous).
        :param submit_time: the submission time.
        :param values: the other columns.
        :returns: the scalar row.
        """
        self.db.run(
            "DELETE FROM tracker1_scalar WHERE trend_id = ? AND submit_time = ? AND user_id = ?",
            (trend_id, submit_time, user_id),
        )
        scalar_id = self.db.insert("tracker1_scalar", trend_id=trend_id, user_id=user_id,
                                   submit_time=submit_time, **values)
        row = self.db.one("SELECT * FROM tracker1_scalar WHERE scalar_id = ?", (scalar_id,))
        assert row is not None
        return row

    def community_of_scalar(self, scalar_id: int) -> Optional[Row]:
        """Return the community a scalar's trend belongs to, or ``None`` for no such scalar."""
        return self.db.one(
            "SELECT c.* FROM tracker1_scalar s JOIN tracker1_trend t ON t.trend_id = s.trend_id "
            "JOIN tracker1_producer p ON p.producer_id = t.producer_id "
            "JOIN community c ON c.community_id = p.community_id WHERE s.scalar_id = ?",
            (scalar_id,),
        )

    def associate(self, scalar_id: int, item_id: int, label: str) -> None:
        """Associate an item with a scalar under a label."""
        self.db.insert("tracker1_scalar2item", scalar_id=scalar_id, item_id=item_id, label=label)

    @staticmethod
    def scalar_dict(row: Row) -> Dict[str, Any]:
        """Serialise a scalar."""
        return {
            name: row[name]
            for name in ("scalar_id", "trend_id", "user_id", "submission_id", "official",
                         "build_results_url", "extra_urls", "branch", "submit_time", "value",
                         "producer_revision", "reproduction_command")
        }
