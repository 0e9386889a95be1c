"""A raw TCP server on 127.0.0.1 whose connections are handled by a plain function.

For answers no HTTP library would send: a status line dripped byte by byte,
a body that stops half way and keeps the connection open, an endless answer.
Every socket has a timeout, threads are daemons, and :meth:`RawServer.close`
stops accepting and closes what is still open.
"""

import socket
import threading
import time
from typing import Callable, List

__all__ = ["RawServer", "read_request_head"]


def read_request_head(conn: socket.socket) -> bytes:
    """Read a request up to the end of its headers (the body is left unread)."""
    data = b""
    while b"\r\n\r\n" not in data:
        piece = conn.recv(4096)
        if not piece:
            break
        data += piece
    return data


class RawServer:
    """Accepts connections on 127.0.0.1 and runs ``handle(conn)`` for each in a thread.

    :param handle: receives the connected socket; the server closes it afterwards.
    :param timeout: the timeout of every accepted socket, in seconds.
    """

    def __init__(self, handle: Callable[[socket.socket], None], timeout: float = 10.0) -> None:
        self.handle = handle
        self.timeout = timeout
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(16)
        self.listener.settimeout(0.05)
        self.port = self.listener.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}/midas"
        self.connections: List[socket.socket] = []
        self.errors: List[BaseException] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.listener.accept()
            except (socket.timeout, OSError):
                continue
            conn.settimeout(self.timeout)
            self.connections.append(conn)
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        try:
            self.handle(conn)
        except OSError:
            pass  # the client went away, as tests intend
        except BaseException as error:  # reported to the test
            self.errors.append(error)
        finally:
            conn.close()

    def drip(self, conn: socket.socket, data: bytes, pause: float) -> None:
        """Send ``data`` one byte at a time with ``pause`` seconds in between.

        Stops when the server closes, or raises :class:`OSError` when the
        client has gone.
        """
        for byte in data:
            if self._stop.is_set():
                return
            conn.sendall(bytes([byte]))
            time.sleep(pause)

    def idle(self, seconds: float) -> None:
        """Do nothing (read nothing) for ``seconds``, or until the server closes."""
        self._stop.wait(seconds)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self.listener.close()
        for conn in self.connections:
            try:
                conn.close()
            except OSError:
                pass
