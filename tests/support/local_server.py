"""A tiny real HTTP server on 127.0.0.1 whose answers are plain functions."""

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable, Dict, List, Tuple
from urllib.parse import urlsplit

Handler = Callable[[BaseHTTPRequestHandler], None]


class LocalServer:
    """A tiny HTTP server on 127.0.0.1 whose answers are plain functions.

    ``routes[(verb, path)]`` receives the request handler and writes the answer;
    ``seen`` records ``(verb, path, headers, body)`` of every request.
    """

    def __init__(self) -> None:
        self.routes: Dict[Tuple[str, str], Handler] = {}
        self.seen: List[Tuple[str, str, Dict[str, str], bytes]] = []
        outer = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def log_message(self, *args):
                pass

            def _dispatch(self, verb):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                outer.seen.append((verb, self.path, dict(self.headers), body))
                handler = outer.routes.get((verb, urlsplit(self.path).path))
                if handler is None:
                    self.send_error(404)
                    return
                handler(self)

            def do_GET(self):
                self._dispatch("GET")

            def do_POST(self):
                self._dispatch("POST")

            def do_PUT(self):
                self._dispatch("PUT")

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/midas"
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def answer(handler: BaseHTTPRequestHandler, body: bytes, headers=(), status: int = 200,
           length=None) -> None:
    """Write a response; ``length`` overrides the announced Content-Length."""
    handler.send_response(status)
    for key, value in headers:
        handler.send_header(key, value)
    handler.send_header("Content-Length", str(len(body) if length is None else length))
    if length is not None and length != len(body):
        handler.send_header("Connection", "close")
        handler.close_connection = True
    handler.end_headers()
    handler.wfile.write(body)
    handler.wfile.flush()
