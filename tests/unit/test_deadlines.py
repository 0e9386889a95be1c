"""Whole-call and stall deadlines, and the size cap, against real sockets on 127.0.0.1.

The servers here answer the way no HTTP library would: they drip bytes, stop
in the middle of a body and keep the connection open, or never end. The
deadlines are small, so each test takes about a second at most.
"""

import json
import socket
import time
import tracemalloc

import pytest
from support.raw_server import RawServer, read_request_head

from pydas import drivers, exceptions
from pydas.core import RetryPolicy, Timeout

ENVELOPE = json.dumps({"stat": "ok", "code": "0", "message": "", "data": {"version": "3"}})


def driver_for(server, timeout, attempts=1):
    return drivers.CoreDriver(server.url, timeout=timeout, retry=RetryPolicy(attempts=attempts))


@pytest.fixture
def serve():
    servers = []

    def start(handle):
        server = RawServer(handle)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.close()


def hold(conn, seconds=5.0):
    """Keep the connection open, without sending, until the client closes it."""
    conn.settimeout(seconds)
    try:
        while conn.recv(65536):
            pass
    except socket.timeout:
        pass


def test_an_answer_dripped_byte_by_byte_is_cut_at_the_whole_call_deadline(serve):
    def handle(conn):
        read_request_head(conn)
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                     b"Content-Length: 1000\r\n\r\n")
        server.drip(conn, b" " * 1000, 0.03)  # every read gets a byte well within 0.5 s

    server = serve(handle)
    started = time.monotonic()
    with pytest.raises(exceptions.TimedOut) as caught:
        driver_for(server, Timeout(connect=1, read=0.5, total=0.3)).get_server_version()
    elapsed = time.monotonic() - started
    assert 0.3 <= elapsed < 2
    assert str(caught.value) == (
        f"midas.version: {server.url} did not complete the call within 0.3 s "
        "(whole-call deadline)")
    assert isinstance(caught.value, exceptions.RequestError)


def test_a_status_line_dripped_byte_by_byte_is_cut_as_well(serve):
    def handle(conn):
        read_request_head(conn)
        server.drip(conn, b"HTTP/1.1 200 OK\r\nX-Padding: " + b"a" * 500, 0.03)

    server = serve(handle)
    started = time.monotonic()
    with pytest.raises(exceptions.TimedOut, match="whole-call deadline"):
        driver_for(server, Timeout(connect=1, read=0.5, total=0.3)).get_server_version()
    assert time.monotonic() - started < 2.5


def test_the_number_form_of_timeout_bounds_the_whole_call_too(serve):
    def handle(conn):
        read_request_head(conn)
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n")
        server.drip(conn, b" " * 1000, 0.03)

    server = serve(handle)
    driver = driver_for(server, 0.15)
    assert driver.timeout.total == 0.3
    started = time.monotonic()
    with pytest.raises(exceptions.TimedOut):
        driver.get_server_version()
    assert time.monotonic() - started < 2.5


def test_a_call_after_a_cut_one_works_on_a_new_connection(serve):
    calls = []

    def handle(conn):
        while True:
            if not read_request_head(conn):
                return
            calls.append(conn)
            if len(calls) == 1:
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 500\r\n\r\n")
                server.drip(conn, b" " * 500, 0.03)
            else:
                body = ENVELOPE.encode()
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))

    server = serve(handle)
    driver = driver_for(server, Timeout(connect=1, read=1, total=0.25))
    with pytest.raises(exceptions.TimedOut):
        driver.get_server_version()
    assert driver.get_server_version() == "3"
    assert calls[0] is not calls[1]


def test_an_announced_huge_answer_is_refused_without_reading_it(serve):
    def handle(conn):
        read_request_head(conn)
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 209715200\r\n\r\n")
        hold(conn)

    server = serve(handle)
    started = time.monotonic()
    with pytest.raises(exceptions.ResponseTooLarge) as caught:
        driver_for(server, 5).get_server_version()
    assert time.monotonic() - started < 2
    assert "larger than the limit of 67108864 bytes (209715200 bytes announced)" in str(
        caught.value)
    assert isinstance(caught.value, exceptions.ResponseError)


def test_an_endless_answer_is_cut_at_the_size_limit_with_bounded_memory(serve):
    sent = []

    def handle(conn):
        read_request_head(conn)
        conn.sendall(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n")
        piece = b" " * 65536
        for _ in range(320):  # 20 MiB of JSON whitespace, unless the client leaves
            conn.sendall(piece)
            sent.append(len(piece))

    server = serve(handle)
    driver = driver_for(server, 5)
    driver.max_answer_size = 1024 * 1024
    tracemalloc.start()
    try:
        with pytest.raises(exceptions.ResponseTooLarge, match="still growing"):
            driver.get_server_version()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 6 * 1024 * 1024
    time.sleep(0.2)
    assert sum(sent) < 20 * 1024 * 1024  # the client stopped reading


def _download_head(conn, length):
    read_request_head(conn)
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n"
                 b'Content-Disposition: attachment; filename="big.bin"\r\n'
                 b"Content-Length: %d\r\n\r\n" % length)


def test_a_download_that_stops_moving_is_cut_at_the_stall_deadline(serve):
    def handle(conn):
        _download_head(conn, 10_000_000)
        conn.sendall(b"x" * 100_000)
        hold(conn)

    server = serve(handle)
    driver = driver_for(server, Timeout(connect=1, read=5, stall=0.25))
    name, chunks = driver.download_item(7)
    started = time.monotonic()
    with pytest.raises(exceptions.TimedOut) as caught:
        b"".join(chunks)
    assert time.monotonic() - started < 2.5  # the stall deadline, well before the read timeout
    assert "stall deadline" in str(caught.value)
    assert chunks.response.raw.closed


def test_a_dripped_download_is_stalled_too(serve):
    def handle(conn):
        _download_head(conn, 10_000)
        server.drip(conn, b"y" * 10_000, 0.02)

    server = serve(handle)
    name, chunks = driver_for(server, Timeout(connect=1, read=5, stall=0.25)).download_item(7)
    started = time.monotonic()
    with pytest.raises(exceptions.TimedOut, match="stall"):
        b"".join(chunks)
    assert time.monotonic() - started < 2.5


def test_a_download_that_moves_may_take_longer_than_the_total_deadline(serve):
    size = 2 * 1024 * 1024

    def handle(conn):
        _download_head(conn, size)
        for _ in range(size // 65536):
            conn.sendall(b"z" * 65536)
            time.sleep(0.012)

    server = serve(handle)
    driver = driver_for(server, Timeout(connect=1, read=1, total=0.1, stall=1))
    started = time.monotonic()
    name, chunks = driver.download_item(7)
    assert sum(len(piece) for piece in chunks) == size
    assert time.monotonic() - started > 0.1


def test_an_upload_the_server_stops_reading_is_cut_at_the_stall_deadline(serve, tmp_path):
    big = tmp_path / "big.bin"
    with open(big, "wb") as handle:
        handle.truncate(64 * 1024 * 1024)  # far more than the socket buffers hold

    def handle(conn):
        read_request_head(conn)
        server.idle(5)  # reads none of the body

    server = serve(handle)
    driver = driver_for(server, Timeout(connect=5, read=5, stall=0.25))
    started = time.monotonic()
    with pytest.raises(exceptions.TimedOut) as caught:
        driver.perform_upload("1/2/token", "big.bin", filepath=str(big))
    assert time.monotonic() - started < 3
    assert "midas.upload.perform: the transfer made no progress for 0.25 s" in str(caught.value)


def test_with_a_session_of_ones_own_the_deadline_is_seen_between_pieces(serve):
    import requests

    def handle(conn):
        read_request_head(conn)
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 8388608\r\n\r\n")
        for _ in range(128):  # 8 MiB in 64 KiB pieces, 0.05 s apart: 6.4 s in all
            conn.sendall(b" " * 65536)
            time.sleep(0.05)

    server = serve(handle)
    with requests.Session() as session:
        driver = drivers.CoreDriver(server.url, session=session, retry=RetryPolicy(attempts=1),
                                    timeout=Timeout(connect=1, read=1, total=0.3))
        started = time.monotonic()
        with pytest.raises(exceptions.TimedOut, match="whole-call deadline"):
            driver.get_server_version()
    assert time.monotonic() - started < 2
