"""Deferred verifications: run once due, by the workers or by a thread of their own."""

import threading
import time

import pytest

from pydas._transfer.deferred import Deferred
from pydas._transfer.runner import Runner

BOUND = 10.0  # seconds any wait in these tests may take at most


class Recorder:
    def __init__(self):
        self.ran = []
        self.threads = set()
        self.event = threading.Event()

    def job(self, name, fail=False):
        def work():
            self.threads.add(threading.current_thread().name)
            self.ran.append(name)
            self.event.set()
            if fail:
                raise RuntimeError(f"verification of {name} failed")
        return work


def test_a_thread_of_its_own_runs_due_jobs_without_being_called():
    deferred, seen = Deferred(background=True), Recorder()
    deferred.add(time.monotonic() - 1, seen.job("a"))
    assert seen.event.wait(BOUND)
    assert seen.ran == ["a"] and seen.threads == {"pydas-verify"}
    deferred.finish(Runner(1))
    assert len(deferred) == 0


def test_finish_returns_only_after_every_job_ran_hurrying_a_long_wait():
    deferred, seen = Deferred(background=True), Recorder()
    deferred.add(time.monotonic() + 3600, seen.job("late"))
    deferred.add(time.monotonic() - 1, seen.job("due"))
    deferred.finish(Runner(1))  # an hour's wait is far more than the tail share: run it now
    assert seen.ran == ["due", "late"]
    assert len(deferred) == 0


def test_a_failed_job_is_raised_in_the_transfer_and_stops_the_thread():
    deferred, seen = Deferred(background=True), Recorder()
    deferred.add(time.monotonic() - 2, seen.job("bad", fail=True))
    deferred.add(time.monotonic() + 3600, seen.job("waiting"))
    assert seen.event.wait(BOUND)
    deadline = time.monotonic() + BOUND
    while time.monotonic() < deadline:
        try:
            deferred.run_due()
        except RuntimeError as error:
            assert "bad failed" in str(error)
            break
        time.sleep(0.01)
    else:
        pytest.fail("the failure never reached the transfer's thread")
    with pytest.raises(RuntimeError, match="bad failed"):
        deferred.finish(Runner(1))
    assert seen.ran == ["bad"]
    deferred.run_all_now()  # after the failure: the rest now, in this thread
    assert seen.ran == ["bad", "waiting"]
    assert threading.current_thread().name in seen.threads


def test_close_stops_the_thread_and_leaves_what_waits():
    deferred, seen = Deferred(background=True), Recorder()
    deferred.add(time.monotonic() + 3600, seen.job("waiting"))
    deferred.close()
    assert seen.ran == [] and len(deferred) == 1
    assert not any(t.name == "pydas-verify" and t.is_alive() for t in threading.enumerate())


def test_without_a_thread_jobs_run_between_jobs_and_at_the_end():
    deferred, seen = Deferred(), Recorder()
    deferred.add(time.monotonic() - 1, seen.job("due"))
    deferred.add(time.monotonic() + 3600, seen.job("late"))
    deferred.run_due()
    assert seen.ran == ["due"] and seen.threads == {threading.current_thread().name}
    runner = Runner(2)
    try:
        deferred.finish(runner)
    finally:
        runner.close()
    assert seen.ran == ["due", "late"]


def test_an_upload_whose_verification_fails_on_the_thread_fails_and_counts_nothing(
        logged_in, midas_server, tmp_path, monkeypatch):
    from support.servertree import write_tree

    import pydas
    from pydas.api import TransferSummary
    from pydas.exceptions import PydasException

    write_tree(tmp_path, {"data/a.txt": b"a", "data/b.txt": b"bb", "data/c.txt": b"ccc"})
    monkeypatch.chdir(tmp_path)
    midas_server.faults.garbage_next(times=100, match="midas.item.get")
    summary = TransferSummary()
    with pytest.raises(PydasException) as failure:
        pydas.upload("data", quiet=True, summary=summary)
    assert "midas.item.get" in str(failure.value)
    assert summary.uploaded == 0  # nothing verified, nothing reported done
    assert not any(t.name == "pydas-verify" and t.is_alive() for t in threading.enumerate())
    midas_server.faults.clear()
    again = TransferSummary()
    pydas.upload("data", reuse_existing=True, quiet=True, summary=again)
    assert again.uploaded + again.unchanged == 3


@pytest.mark.parametrize("count, waits", [(2, False), (3, True)])
def test_many_verifications_waiting_at_the_end_are_run_at_their_moment(monkeypatch, count,
                                                                        waits):
    from pydas._transfer import deferred as module

    now = [1000.0]
    monkeypatch.setattr(module.time, "monotonic", lambda: now[0])
    monkeypatch.setattr(module, "TAIL_ITEMS", 3)
    deferred, seen, slept = Deferred(), Recorder(), []
    for index in range(count):
        deferred.add(now[0] + 2, seen.job(index))  # due in 2 s; the run took no time at all

    def sleep(seconds):
        slept.append(seconds)
        now[0] += seconds

    deferred.finish(Runner(1), sleep=sleep)
    assert seen.ran == list(range(count))
    # a short tail is verified at once; a long one at its moment (so its record settles)
    assert slept == ([2.0] if waits else [])
