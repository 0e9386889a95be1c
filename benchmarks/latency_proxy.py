"""A user-space TCP proxy on 127.0.0.1 that adds a fixed delay in each direction.

Kernel ``netem`` is not available on the machines we measure on, and on bare
loopback a round trip costs nothing, which hides exactly the per-call and
per-connection costs that matter on a real network. Each chunk read from one
side is forwarded to the other side ``one_way_delay`` seconds later, so a
request/response exchange costs one emulated round trip (2 x one_way_delay).
A new connection costs one more round trip before its first request reaches
the server, as the TCP handshake does on a real network (the proxy accepts at
once, so it holds the client's first bytes back for that long instead).
With a :class:`~http_tally.Tally`, the proxy also counts the connections
opened and the requests sent through it (a delay of 0 only counts).
"""

import asyncio
import threading
from typing import Callable, Optional, Tuple

from http_tally import RequestStream, Tally

__all__ = ["LatencyProxy"]


class LatencyProxy:
    """Forward ``127.0.0.1:<port>`` to ``target`` with ``one_way_delay`` seconds each way."""

    def __init__(
        self, target: Tuple[str, int], one_way_delay: float, tally: Optional[Tally] = None
    ) -> None:
        self.target = target
        self.delay = one_way_delay
        self.tally = tally
        self.port: Optional[int] = None
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._server: Optional[asyncio.AbstractServer] = None

    @property
    def url(self) -> str:
        """The proxy's base URL (``http://127.0.0.1:PORT``)."""
        return f"http://127.0.0.1:{self.port}"

    async def _pipe(
        self,
        reader,
        writer,
        observe: Optional[Callable[[bytes], None]] = None,
        not_before: float = 0.0,
    ) -> None:
        """Forward ``reader`` to ``writer`` with the delay; nothing leaves before ``not_before``."""
        queue: asyncio.Queue = asyncio.Queue()

        async def sender() -> None:
            while True:
                due, data = await queue.get()
                wait = due - self._loop.time()
                if wait > 0:
                    await asyncio.sleep(wait)
                if data is None:
                    writer.close()
                    return
                writer.write(data)
                await writer.drain()

        task = asyncio.ensure_future(sender())
        try:
            while True:
                data = await reader.read(1 << 16)
                if observe is not None and data:
                    observe(data)
                due = max(self._loop.time(), not_before) + self.delay
                queue.put_nowait((due, data or None))
                if not data:
                    break
        except ConnectionError:
            queue.put_nowait((self._loop.time(), None))
        await task

    async def _handle(self, client_reader, client_writer) -> None:
        observe = None
        if self.tally is not None:
            self.tally.connection()
            observe = RequestStream(self.tally).feed
        try:
            server_reader, server_writer = await asyncio.open_connection(*self.target)
        except OSError:
            client_writer.close()
            return
        try:
            await asyncio.gather(
                self._pipe(
                    client_reader, server_writer, observe, self._loop.time() + 2 * self.delay
                ),
                self._pipe(server_reader, client_writer),
                return_exceptions=True,
            )
        except asyncio.CancelledError:
            client_writer.close()
            server_writer.close()

    def start(self) -> "LatencyProxy":
        self._thread.start()
        future = asyncio.run_coroutine_threadsafe(
            asyncio.start_server(self._handle, "127.0.0.1", 0), self._loop
        )
        self._server = future.result(10)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def _shutdown(self) -> None:
        if self._server is not None:
            self._server.close()
        tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def stop(self) -> None:
        asyncio.run_coroutine_threadsafe(self._shutdown(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
