"""The real server's race, reproduced by the emulator: late appends after a cut.

``cut_request_after(..., late_bytes=N, late_seconds=T)`` makes the emulator
behave as Midas behind Apache does: after the client saw the cut, N more body
bytes land in the upload's file within T seconds, and ``getoffset`` answers
the stale size until then. A resume from that size stores wrong bytes.
"""

import random
import time

import pytest
from support.servertree import md5, methods, write_tree
from support.sessions import log_in, no_sleep

import pydas
from pydas._transfer.remote import Remote
from pydas.api import TransferSummary
from pydas.exceptions import InvalidPolicy

DATA = random.Random(11).randbytes(1024 * 1024)


@pytest.fixture
def source(tmp_path):
    path = tmp_path / "scan.nii"
    path.write_bytes(DATA)
    return path


def _revisions(midas_user):
    communicator, token = pydas.session.communicator, pydas.session.token
    [item] = communicator.folder_children(token, midas_user.private_folder_id)["items"]
    item = communicator.item_get(token, item["item_id"])
    return {int(r["revision"]): [(b["name"], int(b["sizebytes"]), b["checksum"])
                                 for b in r["bitstreams"]] for r in item["revisions"]}


def test_a_late_append_is_waited_for_before_resuming(midas_server, midas_user, source):
    log_in(midas_server, midas_user, sleep=time.sleep)  # the offset must settle in real time
    midas_server.faults.cut_request_after(300_000, match="midas.upload.perform",
                                          late_bytes=200_000, late_seconds=0.05)
    summary = TransferSummary()
    pydas.upload(str(source), quiet=True, summary=summary)
    assert _revisions(midas_user) == {1: [("scan.nii", len(DATA), md5(DATA))]}
    assert (summary.resumed, summary.repaired) == (1, 0)
    performs = [r for r in midas_server.request_log if r.api_method == "midas.upload.perform"]
    assert performs[-1].body_bytes == len(DATA) - 500_000  # resumed after the late bytes


def test_an_append_later_than_the_settling_is_caught_and_repaired_in_place(
    midas_server, midas_user, source, capsys
):
    log_in(midas_server, midas_user, sleep=no_sleep)
    midas_server.faults.cut_request_after(300_000, match="midas.upload.perform",
                                          late_bytes=200_000, late_seconds=5)
    summary = TransferSummary()
    pydas.upload(str(source), summary=summary)
    # the wrong copy is deleted and the file uploaded again into the same revision
    assert _revisions(midas_user) == {1: [("scan.nii", len(DATA), md5(DATA))]}
    assert methods(midas_server).count("midas.bitstream.delete") == 1
    assert summary.repaired == 1 and summary.uploaded == 1
    assert "Replacing revision" not in capsys.readouterr().out


def test_without_permission_to_delete_the_wrong_copy_a_new_revision_replaces_it(
    midas_server, midas_user, tmp_path, monkeypatch, capsys
):
    log_in(midas_server, midas_user, sleep=no_sleep)
    write_tree(tmp_path, {"series/1.dcm": b"one" * 1000, "series/2.dcm": DATA})

    def refused(self, bitstream_id):
        raise InvalidPolicy("midas.bitstream.delete failed (code -151): Admin privileges "
                            "required on the containing item", method="midas.bitstream.delete",
                            code=-151)

    monkeypatch.setattr(Remote, "delete_bitstream", refused)
    write_tree(tmp_path, {"known/1.dcm": b"one" * 1000})
    pydas.upload(str(tmp_path / "known" / "1.dcm"), destination="Public", quiet=True)
    # 1.dcm is now known to the server (no bytes sent for it): the cut hits 2.dcm
    midas_server.faults.cut_request_after(300_000, match="midas.upload.perform",
                                          late_bytes=200_000, late_seconds=5)
    summary = TransferSummary()
    pydas.upload(str(tmp_path / "series"), leaf_folders_as_items=True, summary=summary)
    revisions = _revisions(midas_user)
    assert sorted(revisions) == [1, 2]
    # the current revision holds both files right (1.dcm added again by checksum)
    assert sorted(revisions[2]) == [("1.dcm", 3000, md5(b"one" * 1000)),
                                    ("2.dcm", len(DATA), md5(DATA))]
    wrong = [b for b in revisions[1] if b[0] == "2.dcm"]
    assert len(wrong) == 1 and wrong[0][2] != md5(DATA)  # where the warning says it stays
    assert "Replacing revision 1 of item series: the server's copy of" in capsys.readouterr().out
    assert summary.repaired == 1 and summary.uploaded == 2
