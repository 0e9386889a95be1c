"""The tracker module on a real server (a kit server on MariaDB: tracker 2.0.4).

What the server then holds is read back through its REST API
(``/rest/tracker/scalar|submission|trend/{id}``) and, for what no API shows
(submission parameters, items associated with a submission), from the kit's
database over its unix socket.
"""

import json
import uuid

import pytest
import requests

from pydas import exceptions

covers = pytest.mark.covers

TRACKER_1_ONLY = (
    "TrackerDriver speaks the tracker 1.2 API; the server runs tracker 2.0.4, which wants a "
    "submission for every scalar and has no results.upload.json or submission.create "
    "(issue 8 item 4, live helper)"
)


@pytest.fixture
def community(tracker_admin, make_community):
    return make_community(tracker_admin, privacy="Public")


@pytest.fixture
def rest(tracker, tracker_admin):
    """``rest(kind, id)``: a tracker record read through the server's REST API."""

    def read(kind, record_id):
        answer = requests.get(f"{tracker['MIDAS_URL']}/rest/tracker/{kind}/{record_id}",
                              params={"token": tracker_admin.token}, timeout=30)
        answer.raise_for_status()
        return answer.json()

    return read


def _submission_of(rest, scalar):
    return rest("submission", rest("scalar", scalar["scalar_id"])["submission_id"])


@covers("TrackerDriver.add_scalar_data")
def test_a_scalar_is_stored_with_its_revision_time_and_links(tracker_admin, community, rest,
                                                             tracker_database):
    communicator, token = tracker_admin.communicator, tracker_admin.token
    scalar = communicator.add_scalar_data(
        token, community["community_id"], "Segmenter", "dice", "r1234", "2024-01-02 03:04:05",
        0.93, branch="release", build_results_url="http://127.0.0.1:9/build/7", unit="mm",
        params={"seed": 7, "mode": "fast"}, reproduction_command="make check",
        extra_urls=[{"label": "log", "text": "log", "href": "http://127.0.0.1:9/log"}],
    )
    assert float(rest("scalar", scalar["scalar_id"])["value"]) == pytest.approx(0.93)
    trend = rest("trend", scalar["trend_id"])
    assert (trend["metric_name"], trend["unit"]) == ("dice", "mm")
    submission = _submission_of(rest, scalar)
    assert (submission["producer_revision"], submission["submit_time"], submission["branch"]) == (
        "r1234", "2024-01-02 03:04:05", "release")
    assert submission["build_results_url"] == "http://127.0.0.1:9/build/7"
    assert submission["reproduction_command"] == "make check"
    assert json.loads(submission["extra_urls"]) == [
        {"label": "log", "text": "log", "href": "http://127.0.0.1:9/log"}]
    assert sorted(tracker_database(
        f"SELECT param_name, param_type, COALESCE(text_value, numeric_value) FROM tracker_param "
        f"WHERE submission_id = {int(submission['submission_id'])}")) == [
        ["mode", "text", "fast"], ["seed", "numeric", "7"]]


@covers("TrackerDriver.add_scalar_data")
def test_scalars_of_one_submission_uuid_share_the_submission(tracker_admin, community, rest):
    communicator, token = tracker_admin.communicator, tracker_admin.token
    shared = uuid.uuid4().hex
    first, second = (
        communicator.add_scalar_data(token, community["community_id"], "Segmenter", metric,
                                     "r9", "2024-03-04 05:06:07", value, submission_uuid=shared)
        for metric, value in (("dice", 0.8), ("jaccard", 0.7))
    )
    assert first["submission_id"] == second["submission_id"]
    submission = _submission_of(rest, first)
    assert (submission["uuid"], submission["producer_revision"]) == (shared, "r9")


@covers("TrackerDriver.add_scalar_data")
def test_an_unofficial_scalar_has_an_unofficial_submission(tracker_admin, community, rest):
    scalar = tracker_admin.communicator.add_scalar_data(
        tracker_admin.token, community["community_id"], "Segmenter", "dice", "r1",
        "2024-01-01 00:00:00", 0.5, unofficial=True, silent=True,
    )
    assert _submission_of(rest, scalar)["official"] == "0"


@covers("TrackerDriver.add_scalar_data")
def test_a_scalar_needs_write_permission_on_the_community(tracker_user, community):
    with pytest.raises(exceptions.Forbidden, match="Write permission required"):
        tracker_user.communicator.add_scalar_data(
            tracker_user.token, community["community_id"], "Segmenter", "dice", "r1",
            "2024-01-01 00:00:00", 0.5, submission_uuid=uuid.uuid4().hex,
        )


@covers("TrackerDriver.upload_json_results")
def test_json_results_become_one_scalar_per_number(tracker_admin, community, rest, tmp_path):
    path = tmp_path / "results.json"
    path.write_text(json.dumps({"dice": 0.91, "hausdorff": 3, "label": "liver",
                                "per_organ": {"kidney": 0.8, "spleen": "0.75"}}))
    communicator, token = tracker_admin.communicator, tracker_admin.token
    top = communicator.upload_json_results(
        token, str(path), community["community_id"], "Segmenter", "ignored", "r5",
        "2024-05-06 07:08:09", branch="main",
    )
    assert sorted(rest("trend", s["trend_id"])["metric_name"] for s in top) == ["dice", "hausdorff"]
    assert len({s["submission_id"] for s in top}) == 1
    assert _submission_of(rest, top[0])["producer_revision"] == "r5"
    nested = communicator.upload_json_results(
        token, str(path), community["community_id"], "Segmenter", "ignored", "r5",
        "2024-05-06 07:08:09", parent_keys="per_organ",
    )
    assert sorted(rest("trend", s["trend_id"])["metric_name"] for s in nested) == [
        "kidney", "spleen"]


@covers("TrackerDriver.associate_item_with_scalar_data")
def test_an_item_is_associated_with_the_submission_of_a_scalar(tracker_admin, community,
                                                               tracker_database):
    communicator, token = tracker_admin.communicator, tracker_admin.token
    scalar = communicator.add_scalar_data(token, community["community_id"], "Segmenter", "dice",
                                          "r1", "2024-01-01 00:00:00", 0.5)
    folder = communicator.get_community_children(community["community_id"], token)["folders"][0]
    item = communicator.create_item(token, "segmentation", folder["folder_id"])
    communicator.associate_item_with_scalar_data(token, item["item_id"], scalar["scalar_id"],
                                                 "output")
    assert tracker_database(
        f"SELECT item_id, label FROM tracker_submission2item "
        f"WHERE submission_id = {int(scalar['submission_id'])}") == [[item["item_id"], "output"]]


@covers("TrackerDriver.create_submission")
def test_a_submission_is_created_with_its_uuid_and_name(tracker_admin, community, rest):
    wanted = uuid.uuid4().hex
    submission = tracker_admin.communicator.create_submission(
        tracker_admin.token, uuid=wanted, name="nightly", community_id=community["community_id"],
        producer_display_name="Segmenter", producer_revision="r77", branch="main",
    )
    stored = rest("submission", submission["submission_id"])
    assert (stored["uuid"], stored["name"], stored["producer_revision"]) == (
        wanted, "nightly", "r77")


@covers("TrackerDriver.tracker_api_version", "TrackerDriver.add_scalar_data")
def test_the_driver_finds_the_tracker_api_of_each_server(tracker_admin, live_admin):
    assert tracker_admin.communicator.tracker_api_version() == 2
    # The SQLite server has no tracker module: its refusal comes from the call itself.
    assert live_admin.communicator.tracker_api_version() == 1
    with pytest.raises(exceptions.UnknownMethod, match="tracker.scalar.add"):
        live_admin.communicator.add_scalar_data(live_admin.token, 1, "p", "m", "r", "now", 1)


@covers("TrackerDriver.create_submission", "TrackerDriver.add_scalar_data")
def test_a_scalar_goes_into_a_submission_given_by_id(tracker_admin, community, rest,
                                                     tracker_database):
    communicator, token = tracker_admin.communicator, tracker_admin.token
    submission = communicator.create_submission(
        token, community_id=community["community_id"], producer_display_name="Segmenter",
        producer_revision="r8", submit_time="2024-02-02 02:02:02")
    folder = communicator.get_community_children(community["community_id"], token)["folders"][0]
    config = communicator.create_item(token, "config", folder["folder_id"])["item_id"]
    scalar = communicator.add_scalar_data(
        token, community["community_id"], "Segmenter", "dice", "ignored", "ignored", 0.7,
        submission_id=submission["submission_id"], config_item_id=config)
    assert scalar["submission_id"] == submission["submission_id"]
    assert rest("submission", submission["submission_id"])["producer_revision"] == "r8"
    trendgroup = rest("trend", scalar["trend_id"])["trendgroup_id"]
    assert tracker_database(f"SELECT config_item_id FROM tracker_trendgroup "
                            f"WHERE trendgroup_id = {int(trendgroup)}") == [[config]]


@covers("TrackerDriver.create_submission", "TrackerDriver.associate_item_with_scalar_data",
        "TrackerDriver.upload_json_results")
def test_what_tracker_2_cannot_do_is_refused_before_sending(tracker_admin, community,
                                                            tmp_path):
    communicator, token = tracker_admin.communicator, tracker_admin.token
    with pytest.raises(TypeError, match="producer_display_name"):
        communicator.create_submission(token, community_id=community["community_id"])
    with pytest.raises(exceptions.InvalidParameter, match="submission of scalar 987654321"):
        communicator.associate_item_with_scalar_data(token, 1, 987654321, "output")
    (tmp_path / "broken.json").write_text("{not json")
    with pytest.raises(exceptions.LocalInputError, match="not a JSON document"):
        communicator.upload_json_results(token, str(tmp_path / "broken.json"),
                                         community["community_id"], "Segmenter", "m", "r1", "now")
