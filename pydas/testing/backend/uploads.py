"""Upload tokens and their temporary files, with one writer at a time per token.

A token ``<userid>/<itemid>/<64 alphanumerics>`` names a file under
``uploads/`` whose size is the upload's offset. The real server creates that
file with the token and keeps the token valid exactly as long as the file
exists; the emulator creates the file when the first bytes arrive, so a token
is valid while it is issued and unused in this run, or while its file exists
(a partial upload survives a restart with the same data directory).

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
import hashlib
import os
import threading
from dataclasses import dataclass, field
from typing import Any, Dict, Iterator, Optional, Set, Tuple

from pydas.testing.answers import ApiError
from pydas.testing.backend.files import CHUNK_SIZE, md5_of_file
from pydas.testing.backend.values import random_string

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
        self._issued: Set[str] = set()

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
        """Issue a new token (its file appears with the first bytes).

        :param user_id: the uploading user.
        :param item_id: the target item.
        :returns: the upload token.
        """
        while True:
            token = f"{user_id}/{item_id}/{random_string(64)}"
            with self._guard:
                if token not in self._issued:
                    self._issued.add(token)
                    return token

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

    def is_open(self, upload_token: str) -> bool:
        """Tell whether a token is valid: issued and not used up, or with a partial file."""
        path = self.path(upload_token)
        if path is None:
            return False
        with self._guard:
            if upload_token in self._issued:
                return True
        return os.path.isfile(path)

    def finish(self, upload_token: str, path: Optional[str] = None) -> None:
        """Spend a token; remove its file unless it was moved into the store.

        :param upload_token: the token.
        :param path: its file, to remove (``None`` when the file was taken over).
        """
        with self._guard:
            self._issued.discard(upload_token)
        if path is not None and os.path.exists(path):
            os.remove(path)

    def offset(self, upload_token: str) -> Optional[int]:
        """Return how many bytes a token holds (waiting for a running ``perform``).

        :param upload_token: the token.
        :returns: the size, ``None`` for an unknown or finished token.
        """
        with self.exclusive(upload_token) as path:
            if path is None or not self.is_open(upload_token):
                return None
            try:
                return os.path.getsize(path)
            except FileNotFoundError:
                return 0

    def receive(self, path: str, body: Any, length: int) -> Tuple[str, int]:
        """Append a request body to a token's file until it holds ``length`` bytes.

        The caller holds the token (:meth:`exclusive`). Reads are capped at the
        missing byte count, except the first read of a resumed upload, which
        takes a whole block: surplus bytes there are appended, as on the real
        server. A one-byte body ``0`` counts as no body (a PHP quirk).

        :param path: the token's file.
        :param body: the request body (``read(size)``), or ``None``.
        :param length: the announced total size.
        :returns: MD5 and size of the completed file (hashed while streaming when the
            upload started at byte 0, otherwise afterwards).
        :raises ApiError: -105 when the body ended early (the bytes received are kept).
        """
        with open(path, "ab") as handle:
            start = handle.tell()
            digest = hashlib.md5() if start == 0 else None
            size = start
            while body is not None and size < length:
                overshoot = start > 0 and size == start
                block = body.read(CHUNK_SIZE if overshoot else min(CHUNK_SIZE, length - size))
                if not block or (length == 1 and start == 0 and block == b"0"):
                    break
                handle.write(block)
                size += len(block)
                if digest is not None:
                    digest.update(block)
        if size < length:
            raise ApiError(-105, f"Failed to upload file - {size}/{length} bytes transferred")
        return md5_of_file(path) if digest is None else (digest.hexdigest(), size)

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
