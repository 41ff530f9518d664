"""A light HTTP/1.1 load generator: pre-built requests over keep-alive sockets, one thread
per sender.

Every request is built (and signed) before the clock starts, so a sender only writes bytes,
reads the status line, the headers and ``Content-Length`` bytes of body, and notes the
latency. Threads spend nearly all their time blocked in ``recv`` (outside the GIL), which
keeps this process far from being the bottleneck; ``run_senders`` reports its own CPU time
so the table can show that.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from dataclasses import dataclass, field

SOCKET_TIMEOUT = 15.0  # seconds; one stuck request must not hang the bench


class LoadError(Exception):
    """The server answered something this generator cannot read."""


@dataclass
class SenderResult:
    latencies: list[float] = field(default_factory=list)  # seconds, in send order
    statuses: list[int] = field(default_factory=list)
    reconnects: int = 0
    errors: list[str] = field(default_factory=list)
    unsent: int = 0  # left when the time limit was reached


@dataclass
class LoadResult:
    senders: list[SenderResult]
    wall_seconds: float
    cpu_seconds: float  # this process, all threads, user + system

    @property
    def latencies(self) -> list[float]:
        return [value for sender in self.senders for value in sender.latencies]

    @property
    def statuses(self) -> list[int]:
        return [value for sender in self.senders for value in sender.statuses]


def build_request(
    *, host: str, port: int, path: str, body: bytes, headers: dict[str, str]
) -> bytes:
    lines = [
        f"POST {path} HTTP/1.1",
        f"Host: {host}:{port}",
        "Content-Type: application/json",
        f"Content-Length: {len(body)}",
        *(f"{name}: {value}" for name, value in headers.items()),
        "",
        "",
    ]
    return "\r\n".join(lines).encode("latin-1") + body


class _Connection:
    def __init__(self, host: str, port: int) -> None:
        self.address = (host, port)
        self.sock: socket.socket | None = None
        self.buffer = b""

    def open(self) -> None:
        self.close()
        self.sock = socket.create_connection(self.address, timeout=SOCKET_TIMEOUT)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buffer = b""

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()
            self.sock = None

    def exchange(self, request: bytes) -> tuple[int, bool]:
        """Send one request, read its response; (status, server keeps the connection)."""
        assert self.sock is not None
        self.sock.sendall(request)
        while b"\r\n\r\n" not in self.buffer:
            self._fill()
        head, _, self.buffer = self.buffer.partition(b"\r\n\r\n")
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        status = int(status_line.split(" ", 2)[1])
        length, keep_alive = None, True
        for line in header_lines:
            name, _, value = line.partition(":")
            name = name.strip().lower()
            if name == "content-length":
                length = int(value)
            elif name == "connection" and value.strip().lower() == "close":
                keep_alive = False
            elif name == "transfer-encoding":
                raise LoadError(f"unexpected Transfer-Encoding: {value.strip()}")
        if length is None:
            raise LoadError("response without Content-Length")
        while len(self.buffer) < length:
            self._fill()
        self.buffer = self.buffer[length:]
        return status, keep_alive

    def _fill(self) -> None:
        assert self.sock is not None
        chunk = self.sock.recv(65536)
        if not chunk:
            raise ConnectionResetError("server closed the connection")
        self.buffer += chunk


def _send_all(
    host: str, port: int, requests: list[bytes], deadline: float, result: SenderResult
) -> None:
    connection = _Connection(host, port)
    try:
        connection.open()
        for index, request in enumerate(requests):
            if time.monotonic() > deadline:
                result.unsent = len(requests) - index
                return
            started = time.perf_counter()
            try:
                status, keep_alive = connection.exchange(request)
            except (ConnectionResetError, BrokenPipeError) as error:
                # An idle keep-alive connection the server closed: nothing was read from
                # it, so the request was not processed. Reconnect and send it once more.
                if connection.buffer:
                    raise LoadError(f"connection lost mid-response: {error}") from error
                result.reconnects += 1
                connection.open()
                started = time.perf_counter()
                status, keep_alive = connection.exchange(request)
            result.latencies.append(time.perf_counter() - started)
            result.statuses.append(status)
            if not keep_alive:
                result.reconnects += 1
                connection.open()
    except (OSError, LoadError, ValueError) as error:
        result.errors.append(f"{type(error).__name__}: {error}")
    finally:
        connection.close()


def run_senders(*, host: str, port: int, plans: list[list[bytes]], time_limit: float) -> LoadResult:
    """Run one thread per plan (a list of pre-built requests), all started together."""
    if host not in ("127.0.0.1", "localhost", "::1"):
        raise ValueError("the load generator only talks to this machine")
    results = [SenderResult() for _ in plans]
    deadline = time.monotonic() + time_limit
    threads = [
        threading.Thread(target=_send_all, args=(host, port, plan, deadline, result), daemon=True)
        for plan, result in zip(plans, results, strict=True)
    ]
    cpu_before, wall_before = os.times(), time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=time_limit + SOCKET_TIMEOUT * 2)
    wall = time.perf_counter() - wall_before
    cpu_after = os.times()
    cpu = (cpu_after.user - cpu_before.user) + (cpu_after.system - cpu_before.system)
    if any(thread.is_alive() for thread in threads):
        for result in results:
            result.errors.append("a sender thread did not finish in time")
    return LoadResult(results, wall, cpu)
