"""A TCP proxy on 127.0.0.1 that cuts chosen HTTP requests the way real networks do.

The proxy forwards every connection to one server. A test arms a cut with
:meth:`CuttingProxy.cut_request`; the next matching request then has its head
and the first ``after`` bytes of its body forwarded, after which the proxy
sends FIN to the server (it sees the body end early, as when a client's
connection drops) and RST to the client (it sees "connection reset", as after
a lost network). The server's answer to the cut request is read and dropped.

Unlike an in-process fault, nothing tells the server that the cut happened:
it goes on processing the bytes it already has while the client reconnects,
which is exactly the window in which a real Midas server answers
``midas.upload.getoffset`` with a stale size.

With ``rate`` the proxy also throttles both directions (bytes per second), so
that a test can kill a client in the middle of a transfer of a few MiB.

Every socket has a timeout, every thread is a daemon and is joined (bounded)
by :meth:`CuttingProxy.stop`, and nothing listens beyond 127.0.0.1.
"""

import socket
import struct
import threading
import time
from dataclasses import dataclass
from typing import List, Optional, Set, Tuple
from urllib.parse import parse_qs, urlsplit

__all__ = ["Cut", "CutRecord", "CuttingProxy"]

_HEAD_LIMIT = 64 * 1024
_PIECE = 64 * 1024


@dataclass
class Cut:
    """One armed cut: forward ``after`` body bytes of a matching request, then cut."""

    after: int
    match: str
    times: int


@dataclass
class CutRecord:
    """A cut that happened: the API method, the body length and the bytes let through."""

    method: str
    length: int
    forwarded: int


class _Closed(Exception):
    """The client closed its connection."""


class CuttingProxy:
    """Forward connections from ``127.0.0.1:<port>`` to the server of ``target_url``.

    :param target_url: the server's URL, e.g. ``http://127.0.0.1:8731/midas``;
        :attr:`url` is the same URL through the proxy
    :param timeout: seconds any socket may wait for data
    :param rate: if given, the most bytes per second passed in each direction
    """

    def __init__(self, target_url: str, timeout: float = 30.0,
                 rate: Optional[float] = None) -> None:
        parts = urlsplit(target_url)
        if parts.hostname not in ("127.0.0.1", "localhost"):
            raise ValueError("the proxy only forwards to 127.0.0.1")
        self._target = ("127.0.0.1", parts.port or 80)
        self._timeout = timeout
        #: the most bytes per second passed in each direction (``None``: no limit); may be changed
        self.rate = rate
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.2)
        port = self._listener.getsockname()[1]
        self.url = f"http://127.0.0.1:{port}{parts.path.rstrip('/')}"
        self.records: List[CutRecord] = []
        self._cuts: List[Cut] = []
        self._lock = threading.Lock()
        self._sockets: Set[socket.socket] = set()
        self._threads: List[threading.Thread] = []
        self._stopping = threading.Event()
        self._acceptor: Optional[threading.Thread] = None

    # -- control ---------------------------------------------------------------

    def start(self) -> "CuttingProxy":
        """Start accepting connections."""
        self._acceptor = threading.Thread(target=self._accept, daemon=True, name="cut-proxy")
        self._acceptor.start()
        return self

    def stop(self) -> None:
        """Close every connection and the listener; wait (bounded) for the threads."""
        self._stopping.set()
        with self._lock:
            sockets = list(self._sockets)
        for sock in sockets:
            _close(sock)
        if self._acceptor is not None:
            self._acceptor.join(5)
        self._listener.close()
        for thread in list(self._threads):
            thread.join(5)

    def __enter__(self) -> "CuttingProxy":
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def cut_request(self, after: int, match: str = "midas.upload.perform", times: int = 1) -> None:
        """Cut the next ``times`` requests of API method ``match`` after ``after`` body bytes.

        With ``after`` at least the body length the whole body reaches the
        server and only its answer is lost.
        """
        if after < 0 or times < 1:
            raise ValueError("after must be >= 0 and times >= 1")
        with self._lock:
            self._cuts.append(Cut(after, match.lower(), times))

    @property
    def pending(self) -> int:
        """How many cuts are still armed."""
        with self._lock:
            return sum(cut.times for cut in self._cuts)

    # -- connections -----------------------------------------------------------

    def _track(self, sock: socket.socket) -> socket.socket:
        sock.settimeout(self._timeout)
        # pieces are forwarded as they come: no Nagle delay (40 ms per call otherwise)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with self._lock:
            self._sockets.add(sock)
        return sock

    def _untrack(self, sock: socket.socket) -> None:
        with self._lock:
            self._sockets.discard(sock)
        _close(sock)

    def _thread(self, target, *args) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True)
        with self._lock:
            self._threads = [t for t in self._threads if t.is_alive()]
            self._threads.append(thread)
        thread.start()

    def _accept(self) -> None:
        while not self._stopping.is_set():
            try:
                client, _ = self._listener.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            self._thread(self._serve, self._track(client))

    def _take(self, method: str) -> Optional[Cut]:
        with self._lock:
            for cut in self._cuts:
                if cut.match == method:
                    cut.times -= 1
                    self._cuts = [c for c in self._cuts if c.times > 0]
                    return cut
        return None

    def _serve(self, client: socket.socket) -> None:
        try:
            upstream = self._track(socket.create_connection(self._target, self._timeout))
        except OSError:
            self._untrack(client)
            return
        state = {"cut": False}
        self._thread(self._answers, upstream, client, state)
        pending = b""
        try:
            while not self._stopping.is_set():
                head, pending = _read_head(client, pending)
                method = _api_method(head)
                length, chunked = _body_framing(head)
                cut = self._take(method)
                upstream.sendall(head)
                if chunked:  # not used by pydas; pass the rest of the connection through
                    self._pipe(client, upstream, pending)
                    return
                if cut is None:
                    pending = self._forward(client, upstream, pending, length)
                    continue
                forwarded = min(cut.after, length)
                self._forward(client, upstream, pending, forwarded)
                state["cut"] = True
                with self._lock:
                    self.records.append(CutRecord(method, length, forwarded))
                upstream.shutdown(socket.SHUT_WR)  # FIN: the server sees the body end
                _reset(client)  # RST: the client sees the connection reset
                return
        except (_Closed, OSError):
            pass
        finally:
            self._untrack(client)
            if not state["cut"]:
                self._untrack(upstream)

    def _answers(self, upstream: socket.socket, client: socket.socket, state: dict) -> None:
        """Pass the server's answers back; after a cut, read and drop them until it closes."""
        try:
            while True:
                data = upstream.recv(_PIECE)
                if not data:
                    break
                if not state["cut"]:
                    self._send(client, data)
        except OSError:
            pass
        finally:
            self._untrack(upstream)
            if not state["cut"]:
                self._untrack(client)


    # -- moving bytes ------------------------------------------------------------

    def _send(self, sink: socket.socket, data: bytes) -> None:
        """Send ``data``, no faster than the rate (in pieces of a twentieth of a second)."""
        rate = self.rate
        if rate is None:
            sink.sendall(data)
            return
        step = max(1, int(rate / 20))
        for start in range(0, len(data), step):
            piece = data[start:start + step]
            sink.sendall(piece)
            time.sleep(len(piece) / rate)

    def _forward(self, source: socket.socket, sink: socket.socket, pending: bytes,
                 count: int) -> bytes:
        """Send ``count`` body bytes (``pending`` first) to ``sink``; return the surplus read."""
        if len(pending) >= count:
            self._send(sink, pending[:count])
            return pending[count:]
        self._send(sink, pending)
        count -= len(pending)
        while count > 0:
            data = source.recv(min(_PIECE, count))
            if not data:
                raise _Closed("client closed inside a body")
            self._send(sink, data)
            count -= len(data)
        return b""

    def _pipe(self, source: socket.socket, sink: socket.socket, pending: bytes) -> None:
        self._send(sink, pending)
        while True:
            data = source.recv(_PIECE)
            if not data:
                return
            self._send(sink, data)


def _close(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    sock.close()


def _reset(sock: socket.socket) -> None:
    """Close ``sock`` with an RST instead of a FIN."""
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    except OSError:
        pass
    sock.close()


def _read_head(sock: socket.socket, pending: bytes) -> Tuple[bytes, bytes]:
    """Read one request head (through the blank line); returns it and what follows."""
    while b"\r\n\r\n" not in pending:
        if len(pending) > _HEAD_LIMIT:
            raise _Closed("request head too long")
        data = sock.recv(_PIECE)
        if not data:
            raise _Closed("client closed")
        pending += data
    end = pending.index(b"\r\n\r\n") + 4
    return pending[:end], pending[end:]


def _api_method(head: bytes) -> str:
    """The ``method`` query parameter of a request head, lower-cased ("" if none)."""
    parts = head.split(b"\r\n", 1)[0].decode("latin-1").split(" ")
    query = parse_qs(urlsplit(parts[1] if len(parts) > 1 else "").query)
    return (query.get("method") or [""])[0].lower()


def _body_framing(head: bytes) -> Tuple[int, bool]:
    length, chunked = 0, False
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            length = int(value.strip())
        elif name == b"transfer-encoding" and b"chunked" in value.lower():
            chunked = True
    return length, chunked


