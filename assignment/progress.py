"""Progress of a long command on a terminal (and silence everywhere else)."""

from __future__ import annotations

import time
from typing import TextIO

from django.core.management.base import OutputWrapper


class TerminalProgress:
    """A one-line counter on a terminal, redrawn at most every ``every`` seconds.

    Silent when ``stream`` is not a terminal (cron, a pipe, a log file), so scheduled runs
    stay quiet. Call it with the number done so far; ``finish()`` ends the line.
    """

    def __init__(
        self, stream: TextIO | OutputWrapper, *, label: str, total: int, every: float = 0.2
    ) -> None:
        isatty = getattr(stream, "isatty", None)
        self.enabled = bool(isatty and isatty()) and total > 0
        self.stream, self.label, self.total, self.every = stream, label, total, every
        self.started = time.monotonic()
        self.drawn_at: float | None = None

    def __call__(self, done: int) -> None:
        if not self.enabled:
            return
        moment = time.monotonic()
        if self.drawn_at is not None and moment - self.drawn_at < self.every:
            return
        self.drawn_at = moment
        self._draw(done, moment)

    def finish(self, done: int) -> None:
        if self.enabled and self.drawn_at is not None:
            self._draw(done, time.monotonic())
            self._write("\n")

    def _draw(self, done: int, moment: float) -> None:
        percent = min(100, done * 100 // self.total)
        rate = done / max(moment - self.started, 1e-6)
        self._write(f"\r{self.label}: {done:,} of {self.total:,} ({percent}%), {rate:,.0f}/s")

    def _write(self, text: str) -> None:
        if isinstance(self.stream, OutputWrapper):
            # A command's stderr: no newline added, and not coloured as an error.
            self.stream.write(text, style_func=_unstyled, ending="")
        else:
            self.stream.write(text)
        self.stream.flush()


def _unstyled(text: str) -> str:
    return text
