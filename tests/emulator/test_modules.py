"""Server modules: dicomextractor, thumbnailcreator, solr, tracker, batchmake."""

import json
import socket
import struct
from urllib.parse import urlencode

import pytest
import requests

from pydas import exceptions
from pydas.drivers import (
    BatchmakeDriver,
    DicomextractorDriver,
    SolrDriver,
    ThumbnailCreatorDriver,
    TrackerDriver,
)
from pydas.testing import MidasServer


def _element(group, element, vr, value):
    if len(value) % 2:
        value += b" "
    return struct.pack("<HH", group, element) + vr + struct.pack("<H", len(value)) + value


def _dicom_bytes():
    meta = _element(0x0002, 0x0010, b"UI", b"1.2.840.10008.1.2.1\x00")
    dataset = (_element(0x0008, 0x0020, b"DA", b"20200131")
               + _element(0x0008, 0x0060, b"CS", b"MR")
               + _element(0x0010, 0x0010, b"PN", b"Doe^Jane")
               + struct.pack("<HH", 0x7FE0, 0x0010) + b"OW\x00\x00" + struct.pack("<I", 4)
               + b"\x00\x01\x02\x03")
    return b"\x00" * 128 + b"DICM" + meta + dataset


@pytest.fixture
def item_with_file(api, jane, jane_token):
    item = api.ok("midas.item.create", token=jane_token, name="scan",
                  parentid=jane.private_folder_id)["item_id"]
    api.upload(jane_token, item, "scan.dcm", _dicom_bytes())
    return item


def test_dicomextractor_stores_header_tags(midas_server, api, jane_token, bob_token,
                                          item_with_file):
    text = api.ok("midas.dicomextractor.extract", token=jane_token, item=item_with_file)
    assert isinstance(text, str)  # the server sends JSON inside a string
    inner = json.loads(text)
    assert inner["_model"] == "ItemRevision" and inner["saved"] is True
    assert inner["item_id"] == item_with_file and inner["license_id"] is None
    with DicomextractorDriver(midas_server.url) as driver:
        assert "itemrevision_id" in str(driver.extract_dicommetadata(jane_token, item_with_file))
        with pytest.raises(exceptions.InvalidPolicy):
            driver.extract_dicommetadata(bob_token, item_with_file)
    metadata = api.ok("midas.item.getmetadata", token=jane_token, id=item_with_file)
    found = {m["qualifier"]: m["value"] for m in metadata if m["element"] == "DICOM"}
    assert found == {"TransferSyntaxUID": "1.2.840.10008.1.2.1", "StudyDate": "20200131",
                     "Modality": "MR", "PatientName": "Doe^Jane"}


def test_dicomextractor_reads_implicit_vr_and_ignores_other_files(api, jane, jane_token):
    def implicit(group, element, value):
        return struct.pack("<HHI", group, element, len(value)) + value

    meta = _element(0x0002, 0x0010, b"UI", b"1.2.840.10008.1.2\x00")
    dataset = implicit(0x0008, 0x0060, b"CT") + implicit(0x0010, 0x0020, b"ID42")
    item = api.ok("midas.item.create", token=jane_token, name="implicit",
                  parentid=jane.private_folder_id)["item_id"]
    api.upload(jane_token, item, "a.dcm", b"\x00" * 128 + b"DICM" + meta + dataset)
    api.upload(jane_token, item, "notes.txt", b"DICM but not a DICOM file")
    api.upload(jane_token, item, "cut.dcm", b"\x00" * 128 + b"DICM\x02\x00")
    api.ok("midas.dicomextractor.extract", token=jane_token, item=item)
    metadata = api.ok("midas.item.getmetadata", token=jane_token, id=item)
    # Only the first file is read (as the real module does), in file order, meta group too.
    assert [(m["qualifier"], m["value"]) for m in metadata] == [
        ("TransferSyntaxUID", "1.2.840.10008.1.2"), ("Modality", "CT"), ("PatientID", "ID42")]


def test_thumbnails(midas_server, api, jane, jane_token, item_with_file):
    bitstream = api.ok("midas.item.get", token=jane_token, id=item_with_file)["revisions"][0][
        "bitstreams"][0]
    with ThumbnailCreatorDriver(midas_server.url) as driver:
        big = driver.create_big_thumbnail(jane_token, bitstream["bitstream_id"], item_with_file)
        assert big["item_id"] == item_with_file and big["thumbnail_id"].isdigit()
        item = driver.create_small_thumbnail(jane_token, item_with_file)
        assert item["item_id"] == item_with_file and item["thumbnail_id"] != ""
        empty = api.ok("midas.item.create", token=jane_token, name="e",
                       parentid=jane.private_folder_id)
        with pytest.raises(exceptions.InvalidPolicy, match="does not contain any revisions"):
            driver.create_small_thumbnail(jane_token, empty["item_id"])
    for source in ({}, {"bitstreamId": "9999"}):
        assert api.fail("midas.thumbnailcreator.create.big.thumbnail", token=jane_token,
                        itemId=item_with_file, **source) == (
            "-100", "Could not create thumbnail from the bitstream")
    assert api.fail("midas.thumbnailcreator.create.big.thumbnail", token=jane_token,
                    bitstreamId=bitstream["bitstream_id"]) == (
        "-150", "Parameter id is not defined")
    # thumbnails belong to no revision: the item's revision still has one bitstream
    assert len(api.ok("midas.item.get", token=jane_token, id=item_with_file)["revisions"][0][
        "bitstreams"]) == 1


def test_solr_simple_queries(midas_server, api, jane, jane_token, bob_token, item_with_file):
    api.ok("midas.item.setmetadata", token=jane_token, itemId=item_with_file,
           element="subject", qualifier="keyword", value="Brain MRI")
    public = api.ok("midas.item.create", token=jane_token, name="atlas",
                    description="a brain atlas", parentid=jane.public_folder_id)["item_id"]
    with SolrDriver(midas_server.url) as solr:
        assert [r["id"] for r in solr.solr_advanced_search("brain", jane_token)] == [
            public]  # bare terms look at name and description only
        hits = solr.solr_advanced_search("subject.keyword:brain AND name:scan", jane_token)
        assert [hit["id"] for hit in hits] == [item_with_file]
        assert hits[0]["public"] == "" and hits[0]["folder_id"] == jane.private_folder_id
        assert len(hits[0]["bitstreams"]) == 1 and len(hits[0]["revisions"]) == 1
        assert solr.solr_advanced_search('description:"brain atlas"', bob_token)[0][
            "public"] == "1"
        assert solr.solr_advanced_search("subject:brain", bob_token) == []
        with pytest.raises(exceptions.ModuleError, match="Syntax error in query"):
            solr.solr_advanced_search("brain OR atlas")


@pytest.fixture
def tracker12(api_for):
    """An emulator answering the tracker 1.2 API, with Jane, an admin and their caller."""
    with MidasServer(tracker="1.2") as server:
        jane = server.create_user("user@example.com", "password", "Jane", "Doe")
        admin = server.create_user("admin@example.com", "root", "Ada", "Admin", admin=True)
        api = api_for(server)
        yield server, api, jane, admin, api.login(jane)


def test_tracker_1_2(tracker12, tmp_path):
    midas_server, api, jane, admin, jane_token = tracker12
    community = midas_server.create_community("results", jane.email)
    item = api.ok("midas.item.create", token=jane_token, name="output",
                  parentid=community.private_folder_id)["item_id"]
    with TrackerDriver(midas_server.url) as tracker:
        scalar = tracker.add_scalar_data(
            jane_token, community.community_id, "nightly", "accuracy", "abc123",
            "2024-01-02 03:04:05", 0.5, branch="main", params={"k": 1}, unit="%")
        assert scalar["value"] == "0.5" and scalar["official"] == "1"
        assert scalar["submission_id"] == "-1" and scalar["branch"] == "main"
        assert scalar["submit_time"] == "2024-01-02 03:04:05"
        assert tracker.associate_item_with_scalar_data(
            jane_token, item, scalar["scalar_id"], "output") in ("", None)
        results = tmp_path / "results.json"
        results.write_text(json.dumps({"speed": 3, "name": "x", "nested": {"depth": 7}}))
        scalars = tracker.upload_json_results(jane_token, str(results), community.community_id,
                                              "nightly", "ignored", "abc123",
                                              "2024-01-02 03:04:05")
        assert [s["value"] for s in scalars] == ["3"]
        with pytest.raises(TypeError, match="producer_id"):
            tracker.create_submission(jane_token, name="x")
        other = api.login(admin)
        with pytest.raises(exceptions.ModuleError, match="Invalid submitTime"):
            tracker.add_scalar_data(other, community.community_id, "p", "m", "r", "whenever", 1)
        with pytest.raises(exceptions.NotFound):
            tracker.associate_item_with_scalar_data(jane_token, "9999", scalar["scalar_id"], "x")
    query = {"method": "midas.tracker.results.upload.json", "token": jane_token,
             "communityId": community.community_id, "producerDisplayName": "p",
             "producerRevision": "r"}
    answer = requests.put(f"{api.url}/api/json", params={**query, "parentKeys": "missing"},
                          data=b'{"a": 1}', timeout=10).json()
    assert (answer["code"], answer["message"]) == (
        "-1", 'Specified parent key "missing" does not exist or is not an array type')
    nested = requests.put(f"{api.url}/api/json",
                          params={**query, "parentKeys": "n.m", "branch": "dev"},
                          data=b'{"n": {"m": {"x": 1.5, "y": "2"}}}', timeout=10).json()["data"]
    assert [(s["value"], s["branch"]) for s in nested] == [("1.5", "dev"), ("2", "dev")]
    answer = requests.put(f"{api.url}/api/json", params=query, data=b"{nope",
                          timeout=10).json()
    assert answer["message"] == "Invalid JSON upload contents"
    submission = api.ok("midas.tracker.submission.add", token=jane_token, producer_id="1",
                        uuid="u-1", name="run")
    assert submission["_type"] == "Tracker_Submission" and submission["uuid"] == "u-1"
    assert api.fail("midas.tracker.submission.add", token=jane_token, producer_id="1",
                    uuid="u-1") == ("-150", "That uuid is already in use.")
    assert api.fail("midas.tracker.scalar.add", communityId=community.community_id,
                    producerDisplayName="p", metricName="m", value="1", producerRevision="r",
                    submitTime="now") == ("403", "Write permission required on community")


def test_batchmake(midas_server, api, jane, jane_token, bob_token):
    task = midas_server.create_batchmake_task(jane.email)
    with BatchmakeDriver(midas_server.url) as batchmake:
        with pytest.raises(exceptions.InvalidParameter, match="no condor dag"):
            batchmake.add_condor_job(jane_token, task, "j.def", "o", "e", "l", "p")
        dag = batchmake.add_condor_dag(jane_token, task, "flow.dag", "flow.out")
        assert dag == {"condor_dag_id": dag["condor_dag_id"], "batchmake_task_id": task,
                       "out_filename": "flow.out", "dag_filename": "flow.dag"}
        job = batchmake.add_condor_job(jane_token, task, "j.def", "o", "e", "l", "p")
        assert job["condor_dag_id"] == dag["condor_dag_id"] and job["post_filename"] == "p"
        with pytest.raises(exceptions.InvalidPolicy, match="not the owner"):
            batchmake.add_condor_dag(bob_token, task, "x", "y")
    assert api.fail("midas.batchmake.add.condor.dag", batchmaketaskid=task, dagfilename="a",
                    outfilename="b") == ("-151", "Anonymous users may not add condor dags")


def test_disabled_modules_do_not_resolve():
    with MidasServer(modules=[]) as server:
        user = server.create_user("d@example.com", "p", "D", "E")
        with SolrDriver(server.url) as solr:
            with pytest.raises(exceptions.UnknownMethod):
                solr.solr_advanced_search("x")
            assert solr.login_with_api_key(user.email, user.api_key)
    with pytest.raises(ValueError, match="unknown emulator module"):
        MidasServer(modules=["nope"])
    assert MidasServer(modules="mfa, Solr").config.modules == ("api", "mfa", "solr")


def test_results_upload_json_edge_documents_and_a_slow_body(tracker12):
    midas_server, api, jane, _admin, jane_token = tracker12
    community = midas_server.create_community("slow", jane.email)
    target = f"{api.url}/api/json"
    query = {"method": "midas.tracker.results.upload.json", "token": jane_token,
             "communityId": community.community_id, "producerDisplayName": "p",
             "producerRevision": "r"}
    assert requests.put(target, params=query, data=b"42", timeout=10).json()["data"] == []
    answer = requests.put(target, params=query, data=b"null", timeout=10).json()
    assert answer["message"] == "Invalid JSON upload contents"
    # A sender that stalls mid-body must not block other clients.
    port = int(api.url.split(":")[2].split("/")[0])
    with socket.create_connection(("127.0.0.1", port), timeout=5) as raw:
        raw.sendall(f"PUT /midas/api/json?{urlencode(query)} HTTP/1.1\r\nHost: x\r\n"
                    "Content-Length: 10\r\n\r\n{\"a\": ".encode())
        other = requests.post(target, params={"method": "midas.version"}, timeout=3)
        assert other.json()["data"] == {"version": "3.4.2"}
        raw.sendall(b"1}    ")
        answer = b""
        while b"}]" not in answer:
            block = raw.recv(4096)
            assert block, answer
            answer += block
    assert b'"value":"1"' in answer


def test_tracker_2_0_4_is_the_default(midas_server, api, admin, jane, jane_token, bob_token):
    community = midas_server.create_community("results", jane.email)
    item = api.ok("midas.item.create", token=jane_token, name="output",
                  parentid=community.private_folder_id)["item_id"]
    submission = api.ok("midas.tracker.submission.add", token=jane_token,
                        communityId=community.community_id, producerDisplayName="nightly",
                        producerRevision=" abc123 ", branch="main",
                        submitTime="2024-01-02 03:04:05", params='{"k": 1, "s": "x"}',
                        extraUrls='[{"label": "log"}]')
    assert submission["_type"] == "Tracker_Submission" and submission["_id"] == submission[
        "submission_id"]
    assert (submission["producer_revision"], submission["branch"], submission["submit_time"],
            submission["user_id"], submission["official"]) == (
        "abc123", "main", "2024-01-02 03:04:05", "", "")
    assert submission["extra_urls"] == [{"label": "log"}]
    assert api.fail("midas.tracker.submission.add", token=jane_token,
                    communityId=community.community_id, producerDisplayName="nightly",
                    producerRevision="r", branch="main", submitTime="now",
                    uuid=submission["uuid"]) == ("-150", "That uuid is already in use")
    assert api.fail("midas.tracker.submission.add", token=jane_token,
                    communityId=community.community_id, producerDisplayName="nightly",
                    producerRevision="r", branch="main") == ("-1", "Invalid submitTime value: ")
    assert api.fail("midas.tracker.submission.add", communityId=community.community_id,
                    producerDisplayName="n", producerRevision="r", branch="b") == (
        "-151", "Only authenticated users can create submissions.")
    scalar = api.ok("midas.tracker.scalar.add", token=jane_token,
                    communityId=community.community_id, producerDisplayName="nightly",
                    metricName="accuracy", value="0.5", submissionUuid=submission["uuid"],
                    unit="%", configItemId=item)
    assert list(scalar) == ["scalar_id", "trend_id", "submission_id", "submit_time", "branch",
                            "official", "value"]
    assert (scalar["value"], scalar["submission_id"], scalar["branch"]) == (
        "0.5", submission["submission_id"], "")
    fresh = api.ok("midas.tracker.scalar.add", token=jane_token,
                   communityId=community.community_id, producerDisplayName="nightly",
                   metricName="accuracy", value="2x", submissionUuid="new-run")
    assert fresh["value"] == "2" and fresh["submission_id"] != submission["submission_id"]
    assert api.fail("midas.tracker.scalar.add", token=jane_token,
                    communityId=community.community_id, producerDisplayName="nightly",
                    metricName="m", value="1") == ("-1", "Parameter submissionUuid must be set.")
    assert api.fail("midas.tracker.scalar.add", token=bob_token,
                    communityId=community.community_id, producerDisplayName="n",
                    metricName="m", value="1", submissionUuid="u") == (
        "403", "Write permission required on community")
    assert api.ok("midas.tracker.item.associate", token=jane_token,
                  submissionUuid=submission["uuid"], itemId=item, label="output") == ""
    assert api.fail("midas.tracker.item.associate", token=jane_token, submissionUuid="none",
                    itemId=item, label="x") == ("404", "Invalid submission uuid: none")
    assert api.ok("midas.tracker.submission.validate", token=jane_token,
                  uuid=submission["uuid"], submissionDocument='{"a": 1}') == ""
    assert api.fail("midas.tracker.submission.validate", token=jane_token, uuid="none") == (
        "403", "The submission does not exist")
    assert api.ok("midas.tracker.aggregatemetrics.update", token=jane_token,
                  uuid=submission["uuid"]) == []
    assert api.fail("midas.tracker.aggregatemetrics.update", token=bob_token,
                    uuid=submission["uuid"])[0] == "403"
    for gone in ("midas.tracker.submission.create", "midas.tracker.results.upload.json"):
        assert api.fail(gone, token=jane_token)[0] == "-101"
