"""Calls with the current token, and what the engine reads from answers: pydas._transfer.remote."""

from pydas._transfer.remote import head_revision


def test_head_revision_is_the_largest_number_not_the_last():
    item = {"revisions": [{"revision": "2", "x": "b"}, {"revision": "10", "x": "c"},
                          {"revision": "1", "x": "a"}]}
    assert head_revision(item)["x"] == "c"
    assert head_revision({"revisions": []}) is None
