"""A real HTTP receiver on 127.0.0.1 (a threaded ``http.server``) for the delivery tests.

Each request is recorded (path, headers, body); what it answers is scripted per request
with ``receiver.answer(...)`` (default 200), so a test can make the first attempt fail and
the next succeed, hang, redirect or send a huge body.
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from events import services


@dataclass(frozen=True)
class Answer:
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b"ok"
    delay: float = 0.0  # seconds before answering
    hold: threading.Event | None = None  # wait for it before answering


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    connection: tuple[str, int] = ("", 0)  # the client's address and port: one per connection


class Receiver:
    def __init__(self) -> None:
        self.requests: list[Received] = []
        self.answers: deque[Answer] = deque()
        self.arrived = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length)
                headers = {key.lower(): value for key, value in self.headers.items()}
                receiver.requests.append(Received(self.path, headers, body, self.client_address))
                receiver.arrived.set()
                answer = receiver.answers.popleft() if receiver.answers else Answer()
                if answer.hold is not None:
                    answer.hold.wait(30)
                if answer.delay:
                    threading.Event().wait(answer.delay)
                try:
                    self.send_response(answer.status)
                    for key, value in answer.headers.items():
                        self.send_header(key, value)
                    self.send_header("content-length", str(len(answer.body)))
                    self.end_headers()
                    self.wfile.write(answer.body)
                except OSError:
                    pass  # the client gave up (a timeout test)

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hooks"

    def answer(self, *answers: Answer) -> None:
        self.answers.extend(answers)

    def bodies(self) -> list[bytes]:
        return [each.body for each in self.requests]


@pytest.fixture
def receiver(settings):
    settings.EVENTS_ALLOW_PRIVATE_URLS = True
    running = Receiver()
    running.thread.start()
    yield running
    running.server.shutdown()
    running.server.server_close()


@pytest.fixture
def endpoint(receiver) -> services.CreatedSecret:
    return services.endpoint_add(url=receiver.url)
