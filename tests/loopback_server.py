"""The fakes' HTTP server (GitHub's API, Prefect Cloud, the fault and stall proxies, a forward
proxy): a threading server on loopback that leaves no thread behind when it is closed.

socketserver's ThreadingHTTPServer runs each connection in a daemon thread it does not join,
and a handler speaking HTTP/1.1 waits in that thread for the client's next request for as
long as the client keeps the connection. A client dropped without closing it (a pool left to
the cycle collector) ended that thread only when some later collection closed its socket:
in the middle of a later test, whose own count of cyclic garbage then found the thread's
(tests/unit/clients/test_registry.py, 43 objects, under `-n 2`). Here each connection still
open is shut down when the server closes, and every connection's thread is joined."""

from __future__ import annotations

import socket
import threading
from contextlib import suppress
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class LoopbackServer(ThreadingHTTPServer):
    daemon_threads = False  # joined by server_close (socketserver's block_on_close)

    def __init__(self, handler: type[BaseHTTPRequestHandler]) -> None:
        super().__init__(("127.0.0.1", 0), handler)
        self._open: set[socket.socket] = set()
        self._open_lock = threading.Lock()
        self._serving: threading.Thread | None = None

    def start(self, poll_interval: float = 0.5) -> LoopbackServer:
        self._serving = threading.Thread(
            target=self.serve_forever, args=(poll_interval,), daemon=True
        )
        self._serving.start()
        return self

    def stop(self) -> None:
        """Stop accepting, end the connections still open, join every thread."""
        if self._serving is not None:
            self.shutdown()
        self.server_close()

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._open_lock:
            self._open.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._open_lock:
            self._open.discard(request)
        super().shutdown_request(request)

    def server_close(self) -> None:
        with self._open_lock:
            still_open = list(self._open)
        for connection in still_open:  # its thread reads EOF and ends
            with suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
        super().server_close()
