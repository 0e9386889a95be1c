"""A TCP proxy that forwards bytes unchanged and records the HTTP requests it sees.

Put it in front of a server to count what a client really sent, e.g. to prove
that a re-run moved no file bytes::

    with CountingProxy("127.0.0.1", 8731) as proxy:
        client_talks_to(proxy.url)
    assert not [r for r in proxy.requests if r.verb == "PUT"]

Only the client-to-server direction is parsed (request line, headers and a
body framed by ``Content-Length`` or chunked encoding, so keep-alive
connections are followed request by request); answers are relayed as they
come. Query strings are not kept, only the API method named in them, so no
token or key ends up in a record.
"""

import socket
import threading
from dataclasses import dataclass
from typing import List, Optional, Tuple
from urllib.parse import parse_qs, urlsplit

__all__ = ["CountingProxy", "ProxiedRequest"]

_PIECE = 64 * 1024


@dataclass(frozen=True)
class ProxiedRequest:
    """One request seen by the proxy.

    :param verb: ``GET``, ``POST``, ``PUT`` ...
    :param path: the path, without the query string.
    :param api_method: the ``method`` of the query string (``midas.item.get``), if any.
    :param body_bytes: the size of the request body.
    """

    verb: str
    path: str
    api_method: Optional[str]
    body_bytes: int


class CountingProxy:
    """Relay ``127.0.0.1:<port>`` to ``host:port``, recording every request.

    :param host: the server's host.
    :param port: the server's port.
    """

    def __init__(self, host: str, port: int) -> None:
        self._upstream = (host, port)
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._lock = threading.Lock()
        self._requests: List[ProxiedRequest] = []
        self._sockets: List[socket.socket] = []
        self._closed = False
        self._acceptor = threading.Thread(target=self._accept, daemon=True)
        self._acceptor.start()

    @property
    def url(self) -> str:
        """``http://127.0.0.1:<port>`` of the proxy."""
        return f"http://127.0.0.1:{self._listener.getsockname()[1]}"

    @property
    def requests(self) -> List[ProxiedRequest]:
        """The requests seen so far, oldest first."""
        with self._lock:
            return list(self._requests)

    def clear(self) -> None:
        """Forget the requests seen so far."""
        with self._lock:
            self._requests = []

    def close(self) -> None:
        """Stop accepting and cut every relayed connection."""
        self._closed = True
        self._listener.close()
        with self._lock:
            sockets = list(self._sockets)
        for sock in sockets:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()
        self._acceptor.join(timeout=5)

    def __enter__(self) -> "CountingProxy":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            try:
                server = socket.create_connection(self._upstream, timeout=30)
            except OSError:
                client.close()
                continue
            server.settimeout(None)
            with self._lock:
                self._sockets += [client, server]
            threading.Thread(target=self._relay, args=(server, client), daemon=True).start()
            threading.Thread(target=self._requests_of, args=(client, server), daemon=True).start()

    @staticmethod
    def _relay(source: socket.socket, target: socket.socket) -> None:
        try:
            while True:
                data = source.recv(_PIECE)
                if not data:
                    break
                target.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, target):
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def _requests_of(self, client: socket.socket, server: socket.socket) -> None:
        reader = client.makefile("rb")
        try:
            while True:
                head = self._read_head(reader)
                if head is None:
                    break
                verb, target, headers = head[1]
                parts = urlsplit(target)
                method = (parse_qs(parts.query).get("method") or [None])[0]
                # Recorded before anything is forwarded, so that a client that
                # has its answer always finds its request here.
                with self._lock:
                    bucket, index = self._requests, len(self._requests)
                    bucket.append(ProxiedRequest(verb, parts.path, method, 0))
                server.sendall(head[0])
                sent = self._forward_body(reader, server, headers)
                with self._lock:
                    bucket[index] = ProxiedRequest(verb, parts.path, method, sent)
        except OSError:
            pass
        finally:
            reader.close()
            for sock in (client, server):
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    @staticmethod
    def _read_head(reader) -> Optional[Tuple[bytes, Tuple[str, str, dict]]]:
        lines = []
        while True:
            line = reader.readline(65537)
            if not line:
                return None
            lines.append(line)
            if line in (b"\r\n", b"\n"):
                if len(lines) == 1:  # tolerated blank line between requests
                    lines.clear()
                    continue
                break
        verb, target = lines[0].decode("latin-1").split(" ")[:2]
        headers = {}
        for line in lines[1:-1]:
            name, _, value = line.decode("latin-1").partition(":")
            headers[name.strip().lower()] = value.strip()
        return b"".join(lines), (verb, target, headers)

    @staticmethod
    def _forward_body(reader, server: socket.socket, headers: dict) -> int:
        """Forward the body of one request; return its size (chunk framing excluded)."""
        if "chunked" in headers.get("transfer-encoding", "").lower():
            total = 0
            while True:
                size_line = reader.readline(1024)
                server.sendall(size_line)
                size = int(size_line.split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while True:  # trailers, up to the blank line
                        trailer = reader.readline(65537)
                        server.sendall(trailer)
                        if trailer in (b"\r\n", b"\n", b""):
                            return total
                remaining = size + 2  # the chunk and its CRLF
                while remaining:
                    data = reader.read(min(_PIECE, remaining))
                    if not data:
                        return total
                    server.sendall(data)
                    remaining -= len(data)
                total += size
        remaining = int(headers.get("content-length", "0") or 0)
        total = 0
        while remaining:
            data = reader.read1(min(_PIECE, remaining))
            if not data:
                break
            server.sendall(data)
            remaining -= len(data)
            total += len(data)
        return total
