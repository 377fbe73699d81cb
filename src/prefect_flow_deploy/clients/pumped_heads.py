"""Manifest HEADs asked from the thread that reads the folders: sent as they come, answered
later, without a thread or a wait of their own.

A plan asks the registry once per folder whether its image is there. Asked from a pool of
threads, the answers could only come after the reading: every answer that wakes a thread
takes the interpreter's lock from the reading (measured: the plan got slower, see
image_questions.py). Here the reading thread sends each question as soon as the folder's tag
is known and, between folders, takes in what has come (`poll` never waits): the registry
answers on the other core while this one reads.

The questions go out pipelined (RFC 9112 §9.3.2), a few to a write on each of a few kept
connections: on this machine a write to the loopback registry costs 0.2 ms whatever its size
(it wakes the registry), as much as reading a small folder. h11 (httpx's HTTP/1.1 state
machine, which comes with it) writes each question and reads its answer, one h11 connection
per question, the bytes after one answer handed to the next (`trailing_data`).

Only the plain case is answered here, as in direct_heads.py (whose rules these are): a
status the caller reads as it is. A status the retry policy retries, a redirect, a registry
that stops answering or a host that cannot be reached is handed back (None) for the caller to
ask through its httpx client. A question left unanswered when a connection ends (a kept one
the server closed, a pipelined one after an answer that closed it) is sent again once, on a
new connection, as RFC 9112 §9.3.1-2 lets a client do for idempotent requests. A host is
asked one question until it answers: one that wants a login is asked once here.
"""

from __future__ import annotations

import select
import socket
import ssl
from collections import deque
from collections.abc import Hashable
from dataclasses import dataclass, field, replace
from urllib.parse import urlsplit

import h11
import httpx

from prefect_flow_deploy.clients.http_retry import (
    bounded_timeouts,
    note_answered,
    retryable_status,
    run_deadline,
    tls_context,
)

CONNECTIONS = 4  # per host
BATCH = 8  # questions to a write (`finish` sends what is left)
Host = tuple[str, str]  # (scheme, host:port)


@dataclass
class _Question:
    key: Hashable
    host: Host
    request: h11.Request
    resent: bool = False
    http: h11.Connection = field(default_factory=lambda: h11.Connection(h11.CLIENT))
    status: int = 0
    headers: list[tuple[bytes, bytes]] = field(default_factory=list)

    def again(self) -> _Question:
        """The same question, to send on another connection (a new h11 state)."""
        return _Question(self.key, self.host, self.request, self.resent)


@dataclass
class _Link:
    """One kept connection and its questions in flight, in the order they were sent."""

    host: Host
    sock: socket.socket
    in_flight: deque[_Question] = field(default_factory=deque)


class PumpedHeads:
    """Used from one thread: `ask` (sent at the next `poll`), `poll` between other work,
    `finish` once. Each key's answer: an httpx.Response (status and headers), or None to ask
    again through httpx."""

    def __init__(self, timeout: float, connections: int = CONNECTIONS, batch: int = BATCH):
        self.timeout, self.connections, self.batch = timeout, connections, batch
        self._waiting: dict[Host, deque[_Question]] = {}
        self._links: dict[Host, list[_Link]] = {}
        self._busy: dict[socket.socket, _Link] = {}
        self._closed: set[Host] = set()  # unreachable or wants a login: handed back
        self._open: set[Host] = set()  # has answered: asked many at once
        self._one_by_one: set[Host] = set()  # ended a connection with questions behind
        self.answers: dict[Hashable, httpx.Response | None] = {}

    def ask(self, key: Hashable, url: str, headers: dict[str, str]) -> None:
        parts = urlsplit(url)
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        fields = [("Host", parts.netloc), *headers.items()]
        host = (parts.scheme, parts.netloc)
        try:
            request = h11.Request(method="HEAD", target=target, headers=fields)
        except h11.LocalProtocolError:  # a header HTTP/1.1 cannot carry: httpx says why
            self.answers[key] = None
            return
        self._waiting.setdefault(host, deque()).append(_Question(key, host, request))

    def poll(self) -> None:
        """Send the batches that are full, take in what has come; never waits."""
        self._send(whole_batches=True)
        self._receive(0.0)

    def finish(self) -> dict[Hashable, httpx.Response | None]:
        """Every answer, waiting for those still to come; a registry silent for the timeout
        has every question left handed back."""
        limit = bounded_timeouts({"request": self.timeout}, run_deadline().remaining())
        patience = limit["request"] or self.timeout
        while any(self._waiting.values()) or self._busy:
            self._send(whole_batches=False)
            if self._busy and not self._receive(patience):
                for link in list(self._busy.values()):
                    self._end(link, resend=False)
        return self.answers

    def close(self) -> None:
        for links in self._links.values():
            for link in links:
                link.sock.close()
        self._links.clear()
        self._busy.clear()

    # -- sending ------------------------------------------------------------------------------
    def _send(self, whole_batches: bool) -> None:
        for host, waiting in self._waiting.items():
            if host in self._closed:
                while waiting:
                    self.answers[waiting.popleft().key] = None
                continue
            # One question to a host until it answers; then batches on every connection.
            size = self.batch if host in self._open and host not in self._one_by_one else 1
            while waiting and (len(waiting) >= size or not whole_batches):
                if waiting[0].resent:  # alone, on a new connection: a kept one failed it
                    link = self._fresh_link(host)
                    count = 1
                else:
                    link = self._link_for(host)
                    count = min(size, len(waiting))
                if link is None:
                    break
                self._write(link, [waiting.popleft() for _ in range(count)])

    def _link_for(self, host: Host) -> _Link | None:
        """The host's connection with the fewest questions in flight, a new one while there
        are fewer than `connections` and each has some; None: wait for answers."""
        links = self._links.setdefault(host, [])
        if host not in self._open:
            return (
                None if links and links[0].in_flight else (links[0] if links else self._new(host))
            )
        depth = 1 if host in self._one_by_one else 4 * self.batch
        for link in [link for link in links if not link.in_flight and _closed_by_peer(link)]:
            self._end(link, resend=False)
        idle = min(links, key=lambda link: len(link.in_flight), default=None)
        if idle is not None and (not idle.in_flight or len(links) >= self.connections):
            return idle if len(idle.in_flight) < depth else None
        return self._new(host)

    def _fresh_link(self, host: Host) -> _Link | None:
        """A new connection (an idle one closed to make room); None: wait for answers."""
        links = self._links.setdefault(host, [])
        if len(links) >= self.connections:
            idle = next((link for link in links if not link.in_flight), None)
            if idle is None:
                return None
            self._end(idle, resend=False)
        return self._new(host)

    def _new(self, host: Host) -> _Link | None:
        scheme, netloc = host
        parts = urlsplit(f"{scheme}://{netloc}")
        address = (parts.hostname or "", parts.port or (443 if scheme == "https" else 80))
        try:
            sock = socket.create_connection(address, timeout=self.timeout)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if scheme == "https":
                sock = tls_context(True).wrap_socket(sock, server_hostname=address[0])
            sock.setblocking(False)
        except (OSError, ssl.SSLError):
            self._closed.add(host)
            return None
        link = _Link(host, sock)
        self._links[host].append(link)
        return link

    def _write(self, link: _Link, batch: list[_Question]) -> None:
        data = b"".join(q.http.send(q.request) + q.http.send(h11.EndOfMessage()) for q in batch)
        link.in_flight.extend(batch)
        self._busy[link.sock] = link
        try:
            sent = link.sock.send(data)
        except (OSError, ssl.SSLError):
            sent = -1
        if sent != len(data):  # a few small requests fit any socket's buffer: it failed
            self._end(link, resend=True)

    # -- receiving ----------------------------------------------------------------------------
    def _receive(self, wait: float) -> bool:
        """Read every connection with something to read, waiting up to `wait` seconds for
        one; False when none had anything."""
        if not self._busy:
            return False
        pending = [s for s in self._busy if isinstance(s, ssl.SSLSocket) and s.pending()]
        ready = pending or select.select(list(self._busy), [], [], wait)[0]
        for sock in ready:
            link = self._busy.get(sock)
            if link is not None:
                self._read(link)
        return bool(ready)

    def _read(self, link: _Link) -> None:
        try:
            data = link.sock.recv(65536)
        except (ssl.SSLWantReadError, BlockingIOError):
            return  # a TLS record not yet whole
        except (OSError, ssl.SSLError):
            data = b""
        if not data:  # closed: what is in flight goes again on a new connection
            self._end(link, resend=True)
            return
        while link.in_flight:
            question = link.in_flight[0]
            question.http.receive_data(data)
            try:
                done = self._parse(question)
            except h11.ProtocolError:
                self._end(link, resend=False)
                return
            if not done:
                return
            link.in_flight.popleft()
            self._answered(question)
            data = question.http.trailing_data[0]  # the next answers' bytes
            if question.http.their_state is h11.MUST_CLOSE:
                self._end(link, resend=True)
                return
            if not data:
                break
        if not link.in_flight:
            del self._busy[link.sock]

    @staticmethod
    def _parse(question: _Question) -> bool:
        """Whether the question's whole answer is in."""
        while True:
            event = question.http.next_event()
            if event is h11.NEED_DATA:
                return False
            if isinstance(event, h11.Response):
                question.status, question.headers = event.status_code, list(event.headers)
            elif isinstance(event, h11.EndOfMessage):
                return True

    def _answered(self, question: _Question) -> None:
        status, host = question.status, question.host
        note_answered(host[1])
        if status == 401:
            self._closed.add(host)
        else:
            self._open.add(host)
        plain = not retryable_status("HEAD", status) and not 300 <= status < 400
        self.answers[question.key] = (
            httpx.Response(status, headers=[(k.decode(), v.decode()) for k, v in question.headers])
            if plain
            else None
        )

    def _end(self, link: _Link, resend: bool) -> None:
        """The connection is done. The question it ended on goes again once (`resend`) or
        is handed back; those behind it had no answer yet and go again, first in line. A
        host that ends connections with questions behind is sent one at a time."""
        self._busy.pop(link.sock, None)
        links = self._links.get(link.host, [])
        if link in links:
            links.remove(link)
        link.sock.close()
        waiting = self._waiting.setdefault(link.host, deque())
        if len(link.in_flight) > 1:
            self._one_by_one.add(link.host)
        questions = list(link.in_flight)
        link.in_flight.clear()
        for question in reversed(questions[1:]):
            waiting.appendleft(question.again())
        if questions:
            first = questions[0]
            if resend and not first.resent:
                waiting.appendleft(replace(first.again(), resent=True))
            else:
                self.answers[first.key] = None


def _closed_by_peer(link: _Link) -> bool:
    """An idle kept connection with something to read has been closed (or spoken on out of
    turn): not to be written to."""
    return bool(select.select([link.sock], [], [], 0)[0])
