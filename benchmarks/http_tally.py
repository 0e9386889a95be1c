"""Count the HTTP requests and body bytes a client sends, as seen on the wire.

The benchmark proxy feeds every byte a client sends into one
:class:`RequestStream` per connection. The stream splits it into HTTP/1.1
requests (request line, headers, then a body of ``Content-Length`` bytes or
in chunked encoding) and records, per request, the API method (the
``method=`` of the query string, which both the old and the new client use)
and the number of body bytes. Nothing is changed on the way. Counting on the
wire works the same for every client (old pydas, pydas, curl) and every server
(the emulator, the real Midas server).
"""

import threading
from collections import Counter
from typing import Dict, Optional
from urllib.parse import parse_qs, urlsplit

__all__ = ["RequestStream", "Tally"]

_MAX_HEAD = 1 << 16


class Tally:
    """Thread-safe totals of connections, requests per API method and body bytes."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self.connections = 0
            self.requests: Counter = Counter()
            self.body_bytes: Counter = Counter()

    def connection(self) -> None:
        with self._lock:
            self.connections += 1

    def request(self, kind: str, body_bytes: int) -> None:
        with self._lock:
            self.requests[kind] += 1
            self.body_bytes[kind] += body_bytes

    def snapshot(self) -> Dict[str, object]:
        """Return the totals so far as plain data (for the results file)."""
        with self._lock:
            return {
                "connections": self.connections,
                "requests": sum(self.requests.values()),
                "by_method": dict(self.requests),
                "body_bytes": sum(self.body_bytes.values()),
                "upload_bytes": self.body_bytes["midas.upload.perform"],
            }


def request_kind(target: str) -> str:
    """Name a request by its API method, or by its path when it has none.

    ``/api/json?method=midas.folder.get`` is ``midas.folder.get``; the
    server's download redirect ``/download/?items=...`` is ``/download/``.
    """
    split = urlsplit(target)
    method = parse_qs(split.query).get("method")
    if method:
        return method[0]
    return split.path or "/"


class RequestStream:
    """Incremental parser of the requests on one client-to-server connection."""

    def __init__(self, tally: Tally) -> None:
        self.tally = tally
        self._buffer = b""
        self._kind: Optional[str] = None
        self._remaining = 0  # body bytes still expected (Content-Length)
        self._chunked = False
        self._body = 0
        self._broken = False

    def feed(self, data: bytes) -> None:
        """Take the next bytes the client sent; count each request once its body is complete."""
        if self._broken:
            return
        self._buffer += data
        try:
            self._consume()
        except ValueError:
            self._broken = True  # not HTTP we understand: stop counting this connection

    def _consume(self) -> None:
        while self._buffer and not self._broken:
            if self._kind is None:
                if not self._head():
                    return
            elif self._chunked:
                if not self._chunk():
                    return
            else:
                taken = min(self._remaining, len(self._buffer))
                self._buffer = self._buffer[taken:]
                self._remaining -= taken
                self._body += taken
            if self._kind is not None and not self._chunked and self._remaining == 0:
                self._finish()

    def _head(self) -> bool:
        end = self._buffer.find(b"\r\n\r\n")
        if end < 0:
            if len(self._buffer) > _MAX_HEAD:
                self._broken = True
            return False
        head = self._buffer[:end].decode("latin-1").split("\r\n")
        self._buffer = self._buffer[end + 4:]
        parts = head[0].split(" ")
        if len(parts) != 3:
            self._broken = True
            return False
        headers = {}
        for line in head[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        self._kind = request_kind(parts[1])
        self._body = 0
        self._chunked = "chunked" in headers.get("transfer-encoding", "").lower()
        self._remaining = 0 if self._chunked else int(headers.get("content-length") or 0)
        return True

    def _chunk(self) -> bool:
        """Consume one chunk (size line, data, CRLF); the last one ends the body."""
        line_end = self._buffer.find(b"\r\n")
        if line_end < 0:
            return False
        size = int(self._buffer[:line_end].split(b";")[0], 16)
        if size == 0:
            trailer_end = self._buffer.find(b"\r\n\r\n", line_end)
            if trailer_end < 0:
                return False
            self._buffer = self._buffer[trailer_end + 4:]
            self._chunked = False
            self._finish()
            return True
        needed = line_end + 2 + size + 2
        if len(self._buffer) < needed:
            return False
        self._buffer = self._buffer[needed:]
        self._body += size
        return True

    def _finish(self) -> None:
        if self._kind is not None:
            self.tally.request(self._kind, self._body)
        self._kind = None
        self._remaining = 0
        self._body = 0
