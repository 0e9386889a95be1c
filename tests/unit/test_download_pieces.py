"""The pieces of a download: what a cut leaves, connections kept, a trickle is no progress."""

import socket
import struct
import time

try:
    import fcntl
    import termios
except ImportError:  # Windows: the test waits a moment instead
    fcntl = termios = None

import pytest
from support.raw_server import RawServer, read_request_head

from pydas import drivers, exceptions
from pydas.core import RetryPolicy, Timeout

SIZE = 1_000_000
DATA = bytes(range(256)) * (SIZE // 256) + bytes(SIZE % 256)


def _head(length, close=False):
    return (b"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n"
            b'Content-Disposition: attachment; filename="f.bin"\r\n'
            + (b"Connection: close\r\n" if close else b"")
            + b"Content-Length: %d\r\n\r\n" % length)


@pytest.fixture
def serve():
    servers = []

    def start(handle):
        servers.append(RawServer(handle))
        return servers[-1]

    yield start
    for server in servers:
        server.close()


def _until_delivered(conn, seconds=5.0):
    """Wait until the client's side has acknowledged every byte sent (an abortive
    close drops what is still in the send buffer)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if termios is None or not hasattr(termios, "TIOCOUTQ"):
            time.sleep(0.2)
            return
        if struct.unpack("i", fcntl.ioctl(conn, termios.TIOCOUTQ, b"\0" * 4))[0] == 0:
            return
        time.sleep(0.005)


def _driver(server):
    return drivers.CoreDriver(server.url, timeout=Timeout(connect=2, read=5, stall=5),
                              retry=RetryPolicy(attempts=1))


def test_a_reset_connection_keeps_every_byte_that_arrived(serve):
    cut = 300_001  # not a multiple of any piece size

    def handle(conn):
        read_request_head(conn)
        conn.sendall(_head(SIZE) + DATA[:cut])
        _until_delivered(conn)
        # an abortive close: RST instead of FIN, as a proxy or a crashed server does
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))

    server = serve(handle)
    name, chunks = _driver(server).download_bitstream(9)
    received = []
    with pytest.raises(exceptions.RequestError, match=f"lost after {cut} bytes"):
        for piece in chunks:
            received.append(piece)
    assert b"".join(received) == DATA[:cut]


def test_downloads_one_after_another_share_one_connection(serve):
    def handle(conn):
        for _ in range(3):
            if not read_request_head(conn):
                return
            conn.sendall(_head(SIZE) + DATA)

    server = serve(handle)
    driver = _driver(server)
    for _ in range(3):
        name, chunks = driver.download_bitstream(9)
        assert b"".join(chunks) == DATA
    assert len(server.connections) == 1


def test_a_body_that_arrives_in_tiny_pieces_is_stalled(serve):
    def handle(conn):
        read_request_head(conn)
        conn.sendall(_head(SIZE))
        server.drip(conn, DATA, 0.01)  # 100 bytes a second: no progress worth the name

    server = serve(handle)
    driver = drivers.CoreDriver(server.url, timeout=Timeout(connect=2, read=5, stall=0.3),
                                retry=RetryPolicy(attempts=1))
    name, chunks = driver.download_bitstream(9)
    with pytest.raises(exceptions.TimedOut, match="stall"):
        b"".join(chunks)
