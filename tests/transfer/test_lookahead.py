"""Lookups a few ahead of their use, on a thread of their own."""

import threading

import pytest

from pydas._transfer.lookahead import Lookahead

BOUND = 10.0


def test_results_come_in_order_from_another_thread():
    threads = set()

    def fetch(key):
        threads.add(threading.current_thread().name)
        return key * 10

    with Lookahead(depth=3) as ahead:
        assert [f.result(BOUND) for f in ahead.map(fetch, range(7))] == [
            0, 10, 20, 30, 40, 50, 60]
    assert len(threads) == 1 and threads.pop().startswith("pydas-lookup")


def test_no_more_than_depth_lookups_are_started_ahead_of_use():
    started = []

    def fetch(key):
        started.append(key)
        return key

    with Lookahead(depth=2) as ahead:
        futures = ahead.map(fetch, range(10))
        first = next(futures)
        assert first.result(BOUND) == 0
        ahead._pool.submit(lambda: None).result(BOUND)  # the queue before it has run
        assert started == [0, 1, 2]  # the one in use, and two ahead
        assert [f.result(BOUND) for f in futures] == list(range(1, 10))


def test_a_failed_lookup_is_raised_when_its_result_is_used():
    def fetch(key):
        if key == 1:
            raise LookupError("item 1 is gone")
        return key

    with Lookahead() as ahead:
        futures = list(ahead.map(fetch, range(3)))
        assert futures[0].result(BOUND) == 0
        with pytest.raises(LookupError, match="item 1 is gone"):
            futures[1].result(BOUND)
        assert futures[2].result(BOUND) == 2


def test_close_drops_the_lookups_not_started():
    gate, started = threading.Event(), []

    def fetch(key):
        started.append(key)
        gate.wait(BOUND)
        return key

    ahead = Lookahead(depth=4)
    futures = ahead.map(fetch, range(10))
    next(futures)
    gate.set()
    ahead.close()
    assert len(started) <= 5  # never the whole folder
