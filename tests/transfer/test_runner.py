"""Parallel workers: pydas._transfer.runner."""

import threading
import time

import pytest

from pydas._transfer.runner import Runner, Stopped


def test_runner_inline_runs_at_once_and_raises_at_once():
    runner = Runner(1)
    seen = []
    runner.submit(seen.append, 1)
    assert seen == [1]
    with pytest.raises(ZeroDivisionError):
        runner.submit(lambda: 1 / 0)


def test_runner_pool_raises_the_first_failure_and_stops():
    runner = Runner(3)
    started = []
    gate = threading.Event()

    def job(n):
        started.append(n)
        if n == 0:
            raise OSError("boom")
        gate.wait(5)

    try:
        runner.submit(job, 0)
        with pytest.raises(OSError, match="boom"):
            for n in range(1, 100):
                runner.submit(job, n)
            runner.wait()
    finally:
        gate.set()
        runner.close()
    assert len(started) < 100


@pytest.mark.parametrize("workers", [0, -1, 1.5, True])
def test_runner_rejects_bad_worker_counts(workers):
    with pytest.raises(ValueError, match="workers"):
        Runner(workers)


def test_runner_result_of_a_job_cancelled_by_a_failure_raises_that_failure():
    runner = Runner(2)
    fail_now, finish = threading.Event(), threading.Event()

    def fail():
        fail_now.wait(5)
        raise OSError("boom")

    try:
        runner.submit(finish.wait, 5)
        runner.submit(fail)
        runner.submit(finish.wait, 5)  # takes the worker that failed
        queued = runner.submit(len, "never started")
        fail_now.set()
        assert runner._stop.wait(5)
        threading.Timer(0.1, finish.set).start()
        with pytest.raises(OSError, match="boom"):
            runner.result(queued)
        assert queued.cancelled()
    finally:
        finish.set()
        runner.close()


def _checking(runner, started, stopped):
    """A job that works in small pieces, checking between them, for at most 5 s."""

    def job():
        started.set()
        deadline = time.monotonic() + 5
        try:
            while time.monotonic() < deadline:
                runner.check()
                time.sleep(0.001)
        except Stopped:
            stopped.set()
            raise

    return job


def test_runner_failure_stops_running_jobs_and_is_the_error_raised():
    runner = Runner(2)
    started, stopped = threading.Event(), threading.Event()
    try:
        runner.submit(_checking(runner, started, stopped))
        assert started.wait(5)
        runner.submit(lambda: 1 / 0)
        start = time.monotonic()
        with pytest.raises(ZeroDivisionError):
            runner.wait()
        assert stopped.wait(1) and time.monotonic() - start < 2
    finally:
        runner.close()


def test_runner_close_stops_running_jobs():
    runner = Runner(2)
    started, stopped = threading.Event(), threading.Event()
    runner.submit(_checking(runner, started, stopped))
    assert started.wait(5)
    start = time.monotonic()
    runner.close()
    assert stopped.is_set() and time.monotonic() - start < 2
