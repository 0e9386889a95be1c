"""The tracker driver on both tracker API generations: what goes over the wire.

The driver asks ``midas.methods.list`` once which generation the server has
(only 2.x lists ``tracker.submission.validate``), then sends the 1.x requests
(tracker 1.2, Midas 3.4.1 and earlier) or their 2.x equivalents (tracker
2.0.4, Midas 3.4.2), which the live tier checks against a real server.
"""

import json
import re

import pytest
import responses
from support.wire import BASE, ENDPOINT, api_method, envelope, failure, form_params, query_params

from pydas import drivers, exceptions
from pydas.core import Communicator, RetryPolicy

T = "tok" * 10
TRACKER_1 = ["version", "tracker.scalar.add", "tracker.results.upload.json",
             "tracker.item.associate", "tracker.submission.add"]
TRACKER_2 = ["version", "tracker.scalar.add", "tracker.item.associate", "tracker.submission.add",
             "tracker.submission.validate", "tracker.aggregatemetrics.update"]
UUID = re.compile(r"[0-9a-f]{32}")
SCALAR = {"scalar_id": "31", "trend_id": "4", "submission_id": "8", "value": "0.5"}
SUBMISSION = {"_id": "8", "_type": "Tracker_Submission", "submission_id": "8", "uuid": "su"}


class Server:
    """Answers ``midas.methods.list`` for one generation, and each other method from a queue."""

    def __init__(self, mocked, listed):
        self.answers = {}
        self.bodies = []
        self.listed = listed
        mocked.add_callback(responses.POST, ENDPOINT, callback=self)
        mocked.add_callback(responses.PUT, ENDPOINT, callback=self)

    def answer(self, method, *bodies):
        self.answers.setdefault(method, []).extend(bodies)

    def __call__(self, request):
        method = api_method(request)
        if request.method == "PUT":
            body = request.body
            self.bodies.append(body.read() if hasattr(body, "read") else b"".join(body))
        if method == "midas.methods.list":
            return 200, {}, envelope({"methods": [{"name": name} for name in self.listed]})
        queue = self.answers.get(method)
        if not queue:
            return 200, {}, failure("-101", f"Server error. Requested method {method} does "
                                            "not exist.")
        body = queue.pop(0)
        if isinstance(body, int):
            return body, {}, "bad gateway"
        return 200, {}, body


def sent(mocked):
    """``(method, parameters)`` of every request after the first ``midas.methods.list``."""
    calls = []
    for call in mocked.calls:
        request = call.request
        parameters = form_params(request) if request.method == "POST" else query_params(request)
        calls.append((api_method(request), parameters))
    assert calls[0] == ("midas.methods.list", {})
    assert [method for method, _ in calls].count("midas.methods.list") == 1
    return calls[1:]


@pytest.fixture
def tracker_1(mocked):
    return Server(mocked, TRACKER_1)


@pytest.fixture
def tracker_2(mocked):
    return Server(mocked, TRACKER_2)


def _driver():
    return drivers.TrackerDriver(BASE, retry=RetryPolicy(sleep=lambda seconds: None))


# -- tracker 1.x ------------------------------------------------------------------------------


SCALAR_ALL = dict(
    config_item_id=11, test_dataset_id=12, truth_dataset_id=13, silent=True, unofficial=True,
    build_results_url="http://ci/1", branch="main", submission_id=14, submission_uuid="su",
    params={"k": 1}, extra_urls=[{"label": "l", "text": "t", "href": "h"}], unit="mm",
    reproduction_command="make",
)


@pytest.mark.parametrize(
    "options, extra",
    [
        ({}, {}),
        (SCALAR_ALL,
         {"configItemId": "11", "testDatasetId": "12", "truthDatasetId": "13", "silent": "True",
          "unofficial": "True", "buildResultsUrl": "http://ci/1", "branch": "main",
          "submissionId": "14", "submissionUuid": "su", "params": '{"k": 1}',
          "extraUrls": '[{"label": "l", "text": "t", "href": "h"}]', "unit": "mm",
          "reproductionCommand": "make"}),
        ({"silent": False, "unofficial": 0}, {}),
    ],
    ids=["minimal", "all", "false-flags"],
)
def test_1_scalar(mocked, tracker_1, options, extra):
    tracker_1.answer("midas.tracker.scalar.add", envelope(SCALAR))
    assert _driver().add_scalar_data(T, 2, "prod", "acc", "abc1", "now", 0.5, **options) == SCALAR
    assert sent(mocked) == [("midas.tracker.scalar.add", {
        "token": T, "communityId": "2", "producerDisplayName": "prod", "metricName": "acc",
        "producerRevision": "abc1", "submitTime": "now", "value": "0.5", **extra})]


def test_1_json_results_are_put(mocked, tracker_1, tmp_path):
    results = tmp_path / "results.json"
    results.write_text(json.dumps({"a": {"acc": 0.9}}))
    tracker_1.answer("midas.tracker.results.upload.json", envelope([SCALAR]))
    returned = _driver().upload_json_results(
        T, str(results), 2, "prod", "ignored", "rev1", "2024-01-01", config_item_id=11,
        test_dataset_id=12, truth_dataset_id=13, parent_keys="a", silent=True,
        unofficial=False, build_results_url="http://ci", branch="main", params={"k": "v"},
        extra_urls=[{"label": "l", "text": "t", "href": "h"}],
    )
    assert returned == [SCALAR]
    assert mocked.calls[1].request.method == "PUT"
    assert tracker_1.bodies == [results.read_bytes()]
    assert sent(mocked) == [("midas.tracker.results.upload.json", {
        "token": T, "communityId": "2", "producerDisplayName": "prod", "metricName": "ignored",
        "producerRevision": "rev1", "submitTime": "2024-01-01", "configItemId": "11",
        "testDatasetId": "12", "truthDatasetId": "13", "parentKeys": "a", "silent": "True",
        "buildResultsUrl": "http://ci", "branch": "main", "params": '{"k": "v"}',
        "extraUrls": '[{"label": "l", "text": "t", "href": "h"}]'})]


def test_json_results_of_a_missing_file_send_nothing(mocked, tmp_path):
    with pytest.raises(FileNotFoundError):
        _driver().upload_json_results(T, str(tmp_path / "none.json"), 2, "p", "m", "r", "t")
    assert len(mocked.calls) == 0


def test_1_associate_sends_the_scalar(mocked, tracker_1):
    tracker_1.answer("midas.tracker.item.associate", envelope(""))
    assert _driver().associate_item_with_scalar_data(T, 7, 1, "input") is None
    assert sent(mocked) == [("midas.tracker.item.associate",
                             {"token": T, "scalarIds": "1", "itemId": "7", "label": "input"})]


def test_1_submission_is_added_for_a_producer(mocked, tracker_1):
    tracker_1.answer("midas.tracker.submission.add", envelope(SUBMISSION))
    assert _driver().create_submission(T, producer_id=5, uuid="u", name="n") == SUBMISSION
    assert sent(mocked) == [("midas.tracker.submission.add",
                             {"token": T, "producer_id": "5", "uuid": "u", "name": "n"})]


def test_1_submission_needs_its_producer(mocked, tracker_1):
    with pytest.raises(TypeError, match="producer_id"):
        _driver().create_submission(T, uuid="u")
    assert sent(mocked) == []


def test_the_generation_is_asked_once(mocked, tracker_1):
    tracker_1.answer("midas.tracker.scalar.add", envelope(SCALAR), envelope(SCALAR))
    driver = _driver()
    driver.add_scalar_data(T, 2, "p", "m", "r", "t", 1)
    driver.add_scalar_data(T, 2, "p", "m", "r", "t", 2)
    assert driver.tracker_api_version() == 1
    assert len(sent(mocked)) == 2


def test_a_malformed_method_list_is_reported(mocked):
    mocked.add(responses.POST, ENDPOINT, body=envelope({"methods": "all of them"}))
    with pytest.raises(exceptions.MalformedResponse, match="methods.list"):
        _driver().add_scalar_data(T, 2, "p", "m", "r", "t", 1)


def test_unknown_tracker_keyword_is_rejected_before_sending(mocked):
    with pytest.raises(TypeError, match="parent_keys"):
        _driver().add_scalar_data(T, 2, "p", "m", "r", "t", 1, parent_keys="a")
    with pytest.raises(TypeError, match="colour"):
        _driver().create_submission(T, colour="red")
    assert len(mocked.calls) == 0


# -- tracker 2.x ------------------------------------------------------------------------------


def _submission_add(parameters, uuid=None):
    """The ``submission.add`` a 2.x scalar needs, with its uuid checked and removed."""
    method, sent_parameters = parameters
    assert method == "midas.tracker.submission.add"
    made = sent_parameters.pop("uuid")
    assert UUID.fullmatch(made) if uuid is None else made == uuid
    return made, sent_parameters


def test_2_scalar_goes_into_a_new_submission(mocked, tracker_2):
    tracker_2.answer("midas.tracker.submission.add", envelope(SUBMISSION))
    tracker_2.answer("midas.tracker.scalar.add", envelope(SCALAR))
    assert _driver().add_scalar_data(T, 2, "prod", "acc", "abc1", "now", 0.5) == SCALAR
    submission, scalar = sent(mocked)
    made, submission = _submission_add(submission)
    assert submission == {"token": T, "communityId": "2", "producerDisplayName": "prod",
                          "producerRevision": "abc1", "branch": "master", "submitTime": "now"}
    assert scalar == ("midas.tracker.scalar.add", {
        "token": T, "communityId": "2", "producerDisplayName": "prod", "metricName": "acc",
        "value": "0.5", "submissionUuid": made})


def test_2_scalar_options_go_where_tracker_2_keeps_them(mocked, tracker_2):
    tracker_2.answer("midas.tracker.submission.add", envelope(SUBMISSION))
    tracker_2.answer("midas.tracker.scalar.add", envelope(SCALAR))
    _driver().add_scalar_data(T, 2, "prod", "acc", "abc1", "now", 0.5, **SCALAR_ALL)
    submission, scalar = sent(mocked)
    _, submission = _submission_add(submission, uuid="su")
    assert submission == {
        "token": T, "communityId": "2", "producerDisplayName": "prod",
        "producerRevision": "abc1", "branch": "main", "submitTime": "now",
        "buildResultsUrl": "http://ci/1", "reproductionCommand": "make", "params": '{"k": 1}',
        "extra_urls": '[{"label": "l", "text": "t", "href": "h"}]', "official": "0"}
    assert scalar == ("midas.tracker.scalar.add", {
        "token": T, "communityId": "2", "producerDisplayName": "prod", "metricName": "acc",
        "value": "0.5", "submissionUuid": "su", "configItemId": "11", "testDatasetId": "12",
        "truthDatasetId": "13", "unit": "mm"})


def test_2_scalar_of_an_existing_submission_uuid(mocked, tracker_2):
    tracker_2.answer("midas.tracker.submission.add",
                     failure("-150", "That uuid is already in use"))
    tracker_2.answer("midas.tracker.scalar.add", envelope(SCALAR))
    assert _driver().add_scalar_data(T, 2, "p", "m", "r", "t", 1, submission_uuid="su") == SCALAR
    assert [method for method, _ in sent(mocked)] == [
        "midas.tracker.submission.add", "midas.tracker.scalar.add"]


def test_2_another_submission_refusal_stops_the_scalar(mocked, tracker_2):
    tracker_2.answer("midas.tracker.submission.add", failure("-1", "Invalid submitTime value: x"))
    with pytest.raises(exceptions.ModuleError, match="submitTime"):
        _driver().add_scalar_data(T, 2, "p", "m", "r", "x", 1)
    assert [method for method, _ in sent(mocked)] == ["midas.tracker.submission.add"]


def test_2_submission_id_needs_a_known_uuid(mocked, tracker_2):
    with pytest.raises(exceptions.InvalidParameter, match="give submission_uuid"):
        _driver().add_scalar_data(T, 2, "p", "m", "r", "t", 1, submission_id=14)
    assert sent(mocked) == []


def test_2_submission_id_of_a_submission_made_here(mocked, tracker_2):
    tracker_2.answer("midas.tracker.submission.add",
                     envelope({**SUBMISSION, "submission_id": "14", "uuid": "u14"}))
    tracker_2.answer("midas.tracker.scalar.add", envelope(SCALAR))
    driver = _driver()
    driver.create_submission(T, community_id=2, producer_display_name="p", producer_revision="r")
    driver.add_scalar_data(T, 2, "p", "m", "r", "t", 1, submission_id=14)
    assert sent(mocked)[-1] == ("midas.tracker.scalar.add", {
        "token": T, "communityId": "2", "producerDisplayName": "p", "metricName": "m",
        "value": "1", "submissionUuid": "u14"})


def test_2_json_results_become_scalars_of_one_submission(mocked, tracker_2, tmp_path):
    results = tmp_path / "results.json"
    results.write_text(json.dumps({"a": 1, "b": "2.5", "c": "x", "d": True, "e": {"f": 3}}))
    tracker_2.answer("midas.tracker.submission.add", envelope(SUBMISSION), envelope(SUBMISSION))
    tracker_2.answer("midas.tracker.scalar.add", *[envelope(SCALAR)] * 3)
    driver = _driver()
    top = driver.upload_json_results(T, str(results), 2, "p", "ignored", "r", "t",
                                     branch="dev", config_item_id=11)
    nested = driver.upload_json_results(T, str(results), 2, "p", "ignored", "r", "t",
                                        parent_keys="e")
    assert top == [SCALAR, SCALAR] and nested == [SCALAR]
    calls = sent(mocked)
    made, submission = _submission_add(calls[0])
    assert submission["branch"] == "dev"
    assert [(m, p["metricName"], p["value"], p["submissionUuid"], p.get("configItemId"))
            for m, p in calls[1:3]] == [
        ("midas.tracker.scalar.add", "a", "1", made, "11"),
        ("midas.tracker.scalar.add", "b", "2.5", made, "11")]
    assert calls[4][1]["metricName"] == "f"


@pytest.mark.parametrize(
    "content, parent_keys, complaint",
    [("{not json", None, "not a JSON document"), ("[1, 2]", None, "not an object"),
     ('{"a": 1}', "a", "parent key 'a'"), ('{"a": {"b": 1}}', "a.c", "parent key 'a.c'")],
    ids=["not-json", "not-an-object", "parent-not-an-object", "parent-missing"],
)
def test_2_json_results_that_cannot_be_read_record_nothing(mocked, tracker_2, tmp_path,
                                                           content, parent_keys, complaint):
    results = tmp_path / "results.json"
    results.write_text(content)
    with pytest.raises(exceptions.LocalInputError, match=re.escape(complaint)):
        _driver().upload_json_results(T, str(results), 2, "p", "m", "r", "t",
                                      parent_keys=parent_keys)
    assert sent(mocked) == []


def test_2_json_results_without_numbers_make_no_submission(mocked, tracker_2, tmp_path):
    results = tmp_path / "results.json"
    results.write_text('{"label": "none here"}')
    assert _driver().upload_json_results(T, str(results), 2, "p", "m", "r", "t") == []
    assert sent(mocked) == []


def test_2_associate_goes_to_the_submission_of_the_scalar(mocked, tracker_2):
    tracker_2.answer("midas.tracker.submission.add", envelope(SUBMISSION))
    tracker_2.answer("midas.tracker.scalar.add", envelope(SCALAR))
    tracker_2.answer("midas.tracker.item.associate", envelope(""))
    driver = _driver()
    driver.add_scalar_data(T, 2, "p", "m", "r", "t", 1, submission_uuid="su")
    driver.associate_item_with_scalar_data(T, 7, SCALAR["scalar_id"], "output")
    assert sent(mocked)[-1] == ("midas.tracker.item.associate",
                                {"token": T, "submissionUuid": "su", "itemId": "7",
                                 "label": "output"})


def test_2_associate_of_an_unknown_scalar_sends_nothing(mocked, tracker_2):
    with pytest.raises(exceptions.InvalidParameter, match="submission of scalar 99"):
        _driver().associate_item_with_scalar_data(T, 7, 99, "output")
    assert sent(mocked) == []


def test_2_submission_is_created_with_what_tracker_2_needs(mocked, tracker_2):
    tracker_2.answer("midas.tracker.submission.add", envelope(SUBMISSION))
    returned = _driver().create_submission(
        T, uuid="u", name="nightly", community_id=2, producer_display_name="p",
        producer_revision="r9", submit_time="2024-01-01 00:00:00", unofficial=True)
    assert returned == SUBMISSION
    assert sent(mocked) == [("midas.tracker.submission.add", {
        "token": T, "communityId": "2", "producerDisplayName": "p", "producerRevision": "r9",
        "branch": "master", "submitTime": "2024-01-01 00:00:00", "uuid": "u",
        "name": "nightly", "official": "0"})]


def test_2_submission_needs_community_producer_and_revision(mocked, tracker_2):
    with pytest.raises(TypeError, match="community_id, producer_display_name, producer_revision"):
        _driver().create_submission(T, uuid="u")
    assert sent(mocked) == []


def test_2_a_new_submission_may_be_repeated_a_scalar_may_not(mocked, tracker_2):
    tracker_2.answer("midas.tracker.submission.add", 502, envelope(SUBMISSION))
    tracker_2.answer("midas.tracker.scalar.add", 502)
    with pytest.raises(exceptions.HTTPError):
        _driver().add_scalar_data(T, 2, "p", "m", "r", "t", 1)
    assert [method for method, _ in sent(mocked)] == [
        "midas.tracker.submission.add", "midas.tracker.submission.add",
        "midas.tracker.scalar.add"]


def test_a_communicator_forwards_to_the_tracker_driver(mocked, tracker_2):
    tracker_2.answer("midas.tracker.submission.add", envelope(SUBMISSION))
    tracker_2.answer("midas.tracker.scalar.add", envelope(SCALAR))
    communicator = Communicator(BASE)
    assert communicator.add_scalar_data(T, 1, "p", "m", "r", "t", 1) == SCALAR
    owner = communicator.add_scalar_data.__self__
    assert isinstance(owner, drivers.TrackerDriver) and owner in communicator.drivers
    assert [method for method, _ in sent(mocked)] == [
        "midas.tracker.submission.add", "midas.tracker.scalar.add"]


def test_2_submission_id_of_a_submission_seen_in_a_scalar(mocked, tracker_2):
    tracker_2.answer("midas.tracker.submission.add", envelope(SUBMISSION))
    tracker_2.answer("midas.tracker.scalar.add", envelope(SCALAR), envelope(SCALAR))
    driver = _driver()
    driver.add_scalar_data(T, 2, "p", "m", "r", "t", 1, submission_uuid="su")
    driver.add_scalar_data(T, 2, "p", "m2", "r", "t", 2, submission_id=SCALAR["submission_id"])
    assert sent(mocked)[-1][1]["submissionUuid"] == "su"
    assert [method for method, _ in sent(mocked)].count("midas.tracker.submission.add") == 1


def test_2_json_results_with_nan_are_not_json(mocked, tracker_2, tmp_path):
    results = tmp_path / "results.json"
    results.write_text('{"dice": NaN}')
    with pytest.raises(exceptions.LocalInputError, match="NaN"):
        _driver().upload_json_results(T, str(results), 2, "p", "m", "r", "t")
    assert sent(mocked) == []
