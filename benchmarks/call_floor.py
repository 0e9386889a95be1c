"""The floor of one small call: the same ``midas.folder.get``, three ways.

Usage::

    python benchmarks/call_floor.py [--calls 2000] [--rtt MS] [--real-server CREDENTIALS]

Against the emulator in its own process (or the real server), on the
loopback (or through ``latency_proxy.py`` with ``--rtt``, as ``run.py``'s
small calls), the same call is made ``--calls`` times on one kept-alive
connection by

* ``http.client``: a hand-written POST, the least a Python client can do;
* ``requests``: ``Session.post`` with ``trust_env`` off, what pydas wraps;
* ``pydas``: ``Communicator.folder_get``, i.e. the transport, the driver and
  the answer's checks on top of ``requests``.

Printed per call: the wall time, and the client's CPU time
(``time.thread_time`` of the calling thread; the proxy runs in another one).
The wall time of ``http.client`` is the server's time plus the smallest
client; the CPU differences between the rows are what
each layer costs. Through the proxy, ``http.client``'s time over the RTT is
what the proxy and the server add, which no client can remove. The per-call
target of issue 11 (RTT + 1.5 ms) is read against these figures in
``RESULTS.rst``.
"""

import argparse
import http.client
import os
import statistics
import sys
import time
from typing import Callable, Dict, List, Tuple
from urllib.parse import urlencode, urlsplit

import requests
from latency_proxy import LatencyProxy
from targets import Target, emulator_target, read_credentials

from pydas.core import Communicator

__all__ = ["main"]

Measure = Callable[[], None]


def _raw(token: str, url: str, folder_id: str) -> Tuple[Measure, Callable[[], None]]:
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port or 80)
    path = parts.path + "/api/json?method=midas.folder.get"
    body = urlencode({"token": token, "id": folder_id})
    headers = {"Content-Type": "application/x-www-form-urlencoded"}

    def call() -> None:
        connection.request("POST", path, body, headers)
        response = connection.getresponse()
        if response.status != 200:
            raise RuntimeError(f"HTTP {response.status}")
        response.read()

    return call, connection.close


def _requests(token: str, url: str, folder_id: str) -> Tuple[Measure, Callable[[], None]]:
    session = requests.Session()
    session.trust_env = False
    url += "/api/json?method=midas.folder.get"
    data = {"token": token, "id": folder_id}

    def call() -> None:
        session.post(url, data=data).raise_for_status()

    return call, session.close


def _pydas(token: str, url: str, folder_id: str) -> Tuple[Measure, Callable[[], None]]:
    communicator = Communicator(url)

    def call() -> None:
        communicator.folder_get(token, folder_id)

    return call, communicator.close


WAYS = {"http.client": _raw, "requests": _requests, "pydas": _pydas}


def _measure(make: Callable[..., Tuple[Measure, Callable[[], None]]], target: Target,
             url: str, folder_id: str, calls: int) -> Tuple[float, float]:
    # a token of its own for each way (a long series on one token ended in
    # "Invalid token" from the real server)
    token = target.communicator.login_with_api_key(target.email, target.api_key)
    call, close = make(token, url, folder_id)
    try:
        for _ in range(20):  # warm: connection open, caches filled
            call()
        wall, cpu = time.perf_counter(), time.thread_time()
        for _ in range(calls):
            call()
        wall, cpu = time.perf_counter() - wall, time.thread_time() - cpu
    finally:
        close()
    return wall / calls * 1000, cpu / calls * 1000


def _run(target: Target, calls: int, rounds: int,
         rtt_ms: float) -> Dict[str, List[Tuple[float, float]]]:
    folder_id = str(target.private_id)
    found: Dict[str, List[Tuple[float, float]]] = {name: [] for name in WAYS}
    proxy = None
    url = target.url
    if rtt_ms > 0:
        split = urlsplit(target.url)
        proxy = LatencyProxy((split.hostname or "127.0.0.1", split.port or 80),
                             rtt_ms / 2000).start()
        url = proxy.url + split.path
    try:
        for _ in range(rounds):  # interleaved, so that a busy moment hits every way alike
            for name, make in WAYS.items():
                found[name].append(_measure(make, target, url, folder_id, calls))
    finally:
        if proxy is not None:
            proxy.stop()
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--rtt", type=float, default=0.0, metavar="MS",
                        help="through the latency proxy with this round-trip time")
    parser.add_argument("--real-server", metavar="CREDENTIALS")
    args = parser.parse_args()
    if args.real_server:
        values = read_credentials(args.real_server)
        target = Target("real server", values["MIDAS_URL"], values["MIDAS_EMAIL"],
                        values["MIDAS_API_KEY"])
        results = _run(target, args.calls, args.rounds, args.rtt)
    else:
        with emulator_target() as target:
            results = _run(target, args.calls, args.rounds, args.rtt)
    route = f"through the proxy at {args.rtt:g} ms RTT" if args.rtt else "no proxy"
    print(f"{args.calls} x midas.folder.get on one connection, {route}, against the "
          f"{target.kind}; median of {args.rounds} rounds [min-max]; {os.cpu_count()} cores")
    print(f"{'client':<12} {'wall ms/call':>22} {'client CPU ms/call':>24}")
    for name, values in results.items():
        walls = [w for w, _ in values]
        cpus = [c for _, c in values]
        print(f"{name:<12} {statistics.median(walls):>8.3f} [{min(walls):.3f}-{max(walls):.3f}]"
              f" {statistics.median(cpus):>10.3f} [{min(cpus):.3f}-{max(cpus):.3f}]")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
