"""Upload tokens and their temporary files, with one writer at a time per token.

A token ``<userid>/<itemid>/<64 alphanumerics>`` names a file under
``uploads/``; the token is valid exactly as long as its file exists, which is
also how the real server decides, and the file's size is the upload's offset.

Unlike the real server, the emulator serialises the work on one token: while an
``upload.perform`` streams into a token's file, a second ``perform`` or a
``getoffset`` on that token waits until the first has finished, and nothing is
written into the file once it has been moved into the asset store.

:meth:`Uploads.write_later` reproduces on demand what the real server does
after a cut connection (see :meth:`~pydas.testing.FaultInjector.cut_request_after`):
bytes it had already received land in the file a little later, so a
``getoffset`` answered in between is stale.
"""

import contextlib
import os
import threading
from dataclasses import dataclass, field
from typing import Dict, Iterator, Optional, Set

from pydas.testing.values import random_string

__all__ = ["Uploads"]


@dataclass
class _Token:
    """The lock of one token, how many requests use it, and bytes due to land late."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    users: int = 0
    late: bytes = b""
    timer: Optional[threading.Timer] = None


class Uploads:
    """The temporary files of the open upload tokens of one data directory.

    :param directory: where the files live (created if missing).
    """

    def __init__(self, directory: str) -> None:
        self.directory = directory
        os.makedirs(directory, exist_ok=True)
        self._guard = threading.Lock()
        self._tokens: Dict[str, _Token] = {}
        self._timers: Set[threading.Timer] = set()

    def path(self, upload_token: str) -> Optional[str]:
        """Return the temporary file of a token, or ``None`` for a malformed token.

        :param upload_token: ``<userid>/<itemid>/<64 alphanumerics>``.
        :returns: the path (it exists only while the token is valid).
        """
        parts = upload_token.split("/")
        if len(parts) != 3 or not all(part.isalnum() and part.isascii() for part in parts):
            return None
        return os.path.join(self.directory, "_".join(parts))

    def create(self, user_id: int, item_id: int) -> str:
        """Create an empty temporary file and return its new token.

        :param user_id: the uploading user.
        :param item_id: the target item.
        :returns: the upload token.
        """
        while True:
            token = f"{user_id}/{item_id}/{random_string(64)}"
            path = self.path(token)
            assert path is not None
            try:
                with open(path, "xb"):
                    return token
            except FileExistsError:
                continue

    @contextlib.contextmanager
    def exclusive(self, upload_token: str, land_late_bytes: bool = False
                  ) -> Iterator[Optional[str]]:
        """Hold a token for one request: other requests on it wait until the block ends.

        :param upload_token: the token.
        :param land_late_bytes: first append the bytes still due from a cut request
            (a new ``perform`` starts writing after them, as on the real server).
        :returns: a context yielding the token's file path, ``None`` for a malformed
            token; the file exists only while the token is valid.
        """
        path = self.path(upload_token)
        if path is None:
            yield None
            return
        with self._guard:
            state = self._tokens.setdefault(upload_token, _Token())
            state.users += 1
        try:
            with state.lock:
                if land_late_bytes:
                    self._land(state, path)
                yield path
        finally:
            with self._guard:
                state.users -= 1
                if state.users == 0 and not state.late:
                    self._tokens.pop(upload_token, None)

    def offset(self, upload_token: str) -> Optional[int]:
        """Return the size of a token's file (waiting for a running ``perform``).

        :param upload_token: the token.
        :returns: the size, ``None`` for an unknown or finished token.
        """
        with self.exclusive(upload_token) as path:
            if path is None or not os.path.isfile(path):
                return None
            return os.path.getsize(path)

    def write_later(self, upload_token: str, data: bytes, seconds: float) -> None:
        """Append ``data`` to a token's file after ``seconds``, or before its next ``perform``.

        The caller holds the token (:meth:`exclusive`).

        :param upload_token: the token.
        :param data: bytes received but not yet written.
        :param seconds: how long they stay unwritten at most.
        """
        path = self.path(upload_token)
        if path is None or not data:
            return
        with self._guard:
            state = self._tokens.setdefault(upload_token, _Token())
            state.late += data
            timer = threading.Timer(seconds, self._land_when_due, (upload_token, path))
            timer.daemon = True
            state.timer = timer
            self._timers.add(timer)
        timer.start()

    def _land_when_due(self, upload_token: str, path: str) -> None:
        with self._guard:
            state = self._tokens.get(upload_token)
            if state is None:
                return
            state.users += 1
        try:
            with state.lock:
                self._land(state, path)
        finally:
            with self._guard:
                state.users -= 1
                if state.users == 0:
                    self._tokens.pop(upload_token, None)

    def _land(self, state: _Token, path: str) -> None:
        """Append the late bytes of a token (the caller holds its lock)."""
        with self._guard:
            data, state.late = state.late, b""
            if state.timer is not None:
                state.timer.cancel()
                self._timers.discard(state.timer)
                state.timer = None
        if data and os.path.isfile(path):
            with open(path, "ab") as handle:
                handle.write(data)

    def close(self) -> None:
        """Forget late bytes that have not landed yet (the server stops)."""
        with self._guard:
            for timer in self._timers:
                timer.cancel()
            self._timers.clear()
            self._tokens.clear()
