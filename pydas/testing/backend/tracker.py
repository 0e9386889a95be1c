"""Tables of the tracker module 2.0.4: producers, trend groups, trends, submissions, scalars.

In tracker 2.x a *submission* holds a run (revision, branch, time, user,
parameters); a *trend* is one metric of a *trend group* (a producer with its
configuration, test and truth datasets); a *scalar* is one value of a trend in
a submission.
"""

import json
from typing import Any, Dict, List, Optional

from pydas.testing.backend.database import Database, Row

__all__ = ["Tracker", "SUBMISSION_FIELDS", "SCALAR_FIELDS"]

#: The fields of a submission record, in the order the real server sends them.
SUBMISSION_FIELDS = ("submission_id", "producer_id", "name", "uuid", "submit_time", "user_id",
                     "official", "build_results_url", "extra_urls", "branch",
                     "producer_revision", "document", "reproduction_command")
#: The fields of a scalar record (the last three come from its submission).
SCALAR_FIELDS = ("scalar_id", "trend_id", "submission_id", "submit_time", "branch", "official",
                 "value")


class Tracker:
    """The tracker module's records.

    :param db: the database.
    """

    def __init__(self, db: Database) -> None:
        self.db = db

    def producer(self, community_id: int, display_name: str) -> int:
        """Return the id of a community's producer of that name, creating it if needed."""
        row = self.db.one(
            "SELECT producer_id FROM tracker_producer WHERE community_id = ? AND display_name = ?",
            (community_id, display_name),
        )
        if row is not None:
            return int(row["producer_id"])
        return self.db.insert("tracker_producer", community_id=community_id,
                              display_name=display_name)

    def community_of_producer(self, producer_id: int) -> Optional[Row]:
        """Return the community a producer belongs to, or ``None``."""
        return self.db.one(
            "SELECT c.* FROM tracker_producer p "
            "JOIN community c ON c.community_id = p.community_id WHERE p.producer_id = ?",
            (producer_id,),
        )

    def trendgroup(self, producer_id: int, config: Optional[int], test: Optional[int],
                   truth: Optional[int]) -> int:
        """Return the id of the trend group with these datasets, creating it if needed."""
        row = self.db.one(
            "SELECT trendgroup_id FROM tracker_trendgroup WHERE producer_id = ? "
            "AND config_item_id IS ? AND test_dataset_id IS ? AND truth_dataset_id IS ?",
            (producer_id, config, test, truth),
        )
        if row is not None:
            return int(row["trendgroup_id"])
        return self.db.insert("tracker_trendgroup", producer_id=producer_id,
                              config_item_id=config, test_dataset_id=test,
                              truth_dataset_id=truth)

    def trend(self, trendgroup_id: int, metric: str, unit: str) -> int:
        """Return the id of a trend group's trend of a metric, creating it if needed."""
        row = self.db.one(
            "SELECT trend_id FROM tracker_trend WHERE trendgroup_id = ? AND metric_name = ?",
            (trendgroup_id, metric),
        )
        if row is not None:
            return int(row["trend_id"])
        return self.db.insert("tracker_trend", trendgroup_id=trendgroup_id, metric_name=metric,
                              display_name=metric, unit=unit)

    def submission(self, uuid: str) -> Optional[Row]:
        """Return the submission with this uuid, or ``None``."""
        return self.db.one("SELECT * FROM tracker_submission WHERE uuid = ?", (uuid,))

    def submission_of_producer(self, producer_id: int, uuid: str) -> int:
        """Return the id of a producer's submission with this uuid, creating it if needed."""
        row = self.db.one(
            "SELECT submission_id FROM tracker_submission WHERE uuid = ? AND producer_id = ?",
            (uuid, producer_id),
        )
        if row is not None:
            return int(row["submission_id"])
        return self.db.insert("tracker_submission", producer_id=producer_id, uuid=uuid)

    def create_submission(self, values: Dict[str, Any]) -> int:
        """Insert a submission from the given columns and return its id."""
        stored = dict(values)
        if isinstance(stored.get("extra_urls"), (list, dict)):
            stored["extra_urls"] = json.dumps(stored["extra_urls"])
        return self.db.insert("tracker_submission", **stored)

    def add_params(self, submission_id: int, params: Dict[str, Any]) -> None:
        """Store a submission's parameters, numeric ones as numbers."""
        for name, value in params.items():
            numeric = isinstance(value, (int, float)) and not isinstance(value, bool)
            self.db.insert("tracker_param", submission_id=submission_id, param_name=name,
                           param_type="numeric" if numeric else "text",
                           text_value=None if numeric else str(value),
                           numeric_value=float(value) if numeric else None)

    def add_scalar(self, trend_id: int, submission_id: int, value: float) -> int:
        """Add a value to a trend in a submission and return the scalar's id."""
        return self.db.insert("tracker_scalar", trend_id=trend_id, submission_id=submission_id,
                              value=value)

    def associate(self, submission_id: int, item_id: int, label: str,
                  trendgroup_id: int) -> None:
        """Associate an item with a submission under a label."""
        self.db.insert("tracker_submission2item", submission_id=submission_id, item_id=item_id,
                       label=label, trendgroup_id=trendgroup_id)

    def set_document(self, submission_id: int, document: str) -> None:
        """Store a submission's JSON document."""
        self.db.update("tracker_submission", "submission_id", submission_id, document=document)

    def aggregate_metrics(self, submission_id: int) -> List[Dict[str, Any]]:
        """Return a submission's aggregate metrics (the emulator defines no specs: none)."""
        return []
