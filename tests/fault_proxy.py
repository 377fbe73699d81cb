"""A fault-injecting HTTP proxy of our own on 127.0.0.1 (port 0), in front of a real server:
the first requests get the faults of a script (a status with Retry-After, or the connection
reset without an answer), every later one is passed through unchanged."""

from __future__ import annotations

import socket
import struct
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx

RESET = 0  # in a script: drop the connection (RST) instead of answering
HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "content-encoding"}


class FaultProxy:
    def __init__(self, upstream: str, script: list[tuple[int, str | None]], repeat: bool = False):
        """`script`: (status or RESET, Retry-After) for the first requests, in order;
        `repeat`: play the script's last fault for ever (a server that never recovers)."""
        self.upstream = httpx.Client(base_url=upstream, timeout=60)
        self.script, self.repeat = list(script), repeat
        self.lock = threading.Lock()
        self.faults: list[tuple[str, int]] = []  # (request line, fault) as injected
        self.passed = 0

    def next_fault(self) -> tuple[int, str | None] | None:
        with self.lock:
            if self.script:
                return (
                    self.script[0] if self.repeat and len(self.script) == 1 else self.script.pop(0)
                )
            return None

    def handler(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def do_any(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                fault = proxy.next_fault()
                if fault is not None:
                    status, retry_after = fault
                    with proxy.lock:
                        proxy.faults.append((f"{self.command} {self.path}", status))
                    if status == RESET:
                        # SO_LINGER 0: close() sends a TCP RST, as a dropped connection does.
                        self.connection.setsockopt(
                            socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
                        )
                        self.connection.close()
                        self.close_connection = True
                        return
                    self.send_response(status)
                    if retry_after is not None:
                        self.send_header("Retry-After", retry_after)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                headers = {k: v for k, v in self.headers.items() if k.lower() != "host"}
                answer = proxy.upstream.request(
                    self.command, self.path, content=body, headers=headers
                )
                with proxy.lock:
                    proxy.passed += 1
                self.send_response(answer.status_code)
                for key, value in answer.headers.items():
                    if key.lower() not in HOP_BY_HOP:
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(answer.content)))
                self.end_headers()
                self.wfile.write(answer.content)

            do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = do_any

            def log_message(self, *args: object) -> None:
                pass

        return Handler


@contextmanager
def fault_proxy(
    upstream: str, script: list[tuple[int, str | None]], repeat: bool = False
) -> Iterator[tuple[str, FaultProxy]]:
    """The proxy's base URL (same path as `upstream`'s) and the proxy, for its counts."""
    url = httpx.URL(upstream)
    proxy = FaultProxy(f"{url.scheme}://{url.netloc.decode()}", script, repeat)
    server = ThreadingHTTPServer(("127.0.0.1", 0), proxy.handler())
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}{url.path}", proxy
    finally:
        server.shutdown()
        server.server_close()
        proxy.upstream.close()
