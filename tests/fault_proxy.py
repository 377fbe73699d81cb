"""A fault-injecting HTTP proxy of our own on 127.0.0.1 (port 0), in front of a real server
(the stack's Prefect server, or its registry, which the Docker engine then pushes through).

A script is a list of `Fault`s: each request gets the first fault it matches (method, path)
that has uses left, else it is passed through unchanged. Passed through as a registry needs
it: the client's Host header (the registry writes it into the Location of an upload), the
Location it answers, chunked request bodies (the engine streams layers), a HEAD's headers.
"""

from __future__ import annotations

import re
import socket
import struct
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from http.server import BaseHTTPRequestHandler

import httpx

from tests.loopback_server import LoopbackServer

RESET = 0  # a fault's status: drop the connection (RST) instead of answering
LOST = -2  # a fault's status: pass the request on, then drop the connection (the server
# acted, its answer is lost: a retry repeats a write that happened)
DELAY = -3  # a fault's status: pass the request on after `retry_after` seconds (latency)
SERVE = -4  # a fault's status: answer with what the server answers for the path `serve`
# (a registry, or a cache in front of it, that serves another image under the tag)
FOREVER = -1  # a fault's times: a server that never recovers
# The registry's error code for a status (distribution's registry/api/errcode and v2
# descriptors): the Docker engine decides from it whether to retry a layer upload itself.
ERROR_CODES = {401: "UNAUTHORIZED", 403: "DENIED", 429: "TOOMANYREQUESTS"}
HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "content-encoding"}


@dataclass
class Fault:
    status: int  # an HTTP status, or RESET
    retry_after: str | None = None
    method: str | None = None  # only requests of this method (None: any)
    path: str | None = None  # only requests whose path matches this regular expression
    times: int = 1  # how many matching requests get it (FOREVER: all)
    serve: str | None = None  # SERVE: the path whose answer is given instead
    # Only once a request matching this ("METHOD path") has been passed through (a HEAD of
    # a tag after its manifest was PUT, not the plan's HEAD before the build).
    armed_by: str | None = None

    def matches(self, method: str, path: str, passed: list[str] | None = None) -> bool:
        armed = self.armed_by is None or any(
            re.search(self.armed_by, line) for line in passed or []
        )
        return (
            self.times != 0
            and armed
            and (self.method is None or self.method == method)
            and (self.path is None or re.search(self.path, path) is not None)
        )


class FaultProxy:
    def __init__(
        self, upstream: str, script: list[Fault | tuple[int, str | None]], repeat: bool = False
    ):
        """`script`: Faults, or (status, Retry-After) for the next request whatever it is;
        `repeat`: the script's last fault for ever."""
        self.upstream = httpx.Client(base_url=upstream, timeout=120)
        self.lock = threading.Lock()
        self.play(script, repeat)

    def play(self, script: list[Fault | tuple[int, str | None]], repeat: bool = False) -> None:
        """From now on, this script (copied: a case's table stays as written); counts reset."""
        with self.lock:
            self.script = [replace(f) if isinstance(f, Fault) else Fault(*f) for f in script]
            if repeat and self.script:
                self.script[-1].times = FOREVER
            self.faults: list[tuple[str, int]] = []  # (request line, fault) as injected
            self.passed: list[str] = []  # request lines passed through

    def fault_for(self, method: str, path: str) -> Fault | None:
        with self.lock:
            for fault in self.script:
                if fault.matches(method, path, self.passed):
                    if fault.times > 0:
                        fault.times -= 1
                    self.faults.append((f"{method} {path}", fault.status))
                    return fault
            self.passed.append(f"{method} {path}")
            return None

    def handler(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as registries and Prefect answer

            def do_any(self) -> None:
                body = self._body()
                fault = proxy.fault_for(self.command, self.path)
                if fault is not None and fault.status == DELAY:
                    time.sleep(float(fault.retry_after or 0))
                    fault = None
                if fault is not None and fault.status == SERVE:
                    self._pass_through(body, fault.serve)
                    return
                if fault is not None and fault.status == LOST:
                    proxy.upstream.request(
                        self.command, self.path, content=body, headers=self._headers()
                    )
                if fault is not None and fault.status in (RESET, LOST):
                    # SO_LINGER 0: close() sends a TCP RST, as a dropped connection does.
                    self.connection.setsockopt(
                        socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
                    )
                    self.connection.close()
                    self.close_connection = True
                    return
                if fault is not None:
                    self.send_response(fault.status)
                    if fault.retry_after is not None:
                        self.send_header("Retry-After", fault.retry_after)
                    self.send_header("Content-Type", "application/json")
                    code = ERROR_CODES.get(fault.status, "UNAVAILABLE")
                    error = b'{"errors":[{"code":"%s","message":"injected"}]}' % code.encode()
                    self.send_header("Content-Length", str(len(error)))
                    self.end_headers()
                    if self.command != "HEAD":
                        self.wfile.write(error)
                    return
                self._pass_through(body)

            def _body(self) -> bytes:
                if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                    chunks = []
                    while True:
                        size = int(self.rfile.readline().split(b";")[0].strip(), 16)
                        if size == 0:
                            while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                                pass  # trailers
                            return b"".join(chunks)
                        chunks.append(self.rfile.read(size))
                        self.rfile.readline()
                return self.rfile.read(int(self.headers.get("Content-Length") or 0))

            def _headers(self) -> list[tuple[str, str]]:
                return [
                    (k, v)
                    for k, v in self.headers.items()
                    if k.lower() not in ("transfer-encoding", "content-length", "connection")
                ]

            def _pass_through(self, body: bytes, path: str | None = None) -> None:
                answer = proxy.upstream.request(
                    self.command, path or self.path, content=body, headers=self._headers()
                )
                self.send_response(answer.status_code)
                for key, value in answer.headers.multi_items():
                    if key.lower() not in HOP_BY_HOP:
                        self.send_header(key, value)
                # A HEAD's Content-Length is the size of what a GET would answer.
                length = answer.headers.get("Content-Length", "0")
                self.send_header(
                    "Content-Length", length if self.command == "HEAD" else str(len(answer.content))
                )
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(answer.content)

            do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = do_HEAD = do_any

            def log_message(self, *args: object) -> None:
                pass

        return Handler


@contextmanager
def fault_proxy(
    upstream: str, script: list[Fault | tuple[int, str | None]], repeat: bool = False
) -> Iterator[tuple[str, FaultProxy]]:
    """The proxy's base URL (same path as `upstream`'s) and the proxy, for its counts."""
    url = httpx.URL(upstream)
    proxy = FaultProxy(f"{url.scheme}://{url.netloc.decode()}", script, repeat)
    server = LoopbackServer(proxy.handler())
    server.handle_error = lambda *_: None  # type: ignore[method-assign]  # a client's reset
    server.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}{url.path}", proxy
    finally:
        server.stop()
        proxy.upstream.close()
