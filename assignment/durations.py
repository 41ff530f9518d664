"""Durations as operators type them on a command line: "30m", "24h", "2d", "1d12h"."""

from __future__ import annotations

import re
from datetime import timedelta

# ASCII digits only: \d would also take other scripts' digits ("\u0663m").
_DURATION_PART = re.compile(r"([0-9]+)([smhd])")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86_400}
MAX_DURATION = timedelta(days=3650)


def parse_duration(text: str) -> timedelta:
    """``"30m"``, ``"24h"``, ``"2d"``, ``"1d12h"`` as a timedelta; ValueError says why not."""
    cleaned = text.strip().lower()
    parts = _DURATION_PART.findall(cleaned)
    if not cleaned or "".join(f"{number}{unit}" for number, unit in parts) != cleaned:
        raise ValueError(
            f"{text!r} is not a duration: use a whole number and a unit, s, m, h or d "
            "(e.g. 30m, 24h, 2d, 1d12h)."
        )
    seconds = sum(int(number) * _UNIT_SECONDS[unit] for number, unit in parts)
    if seconds <= 0:
        raise ValueError(f"{text!r} is not longer than zero.")
    if seconds > MAX_DURATION.total_seconds():
        raise ValueError(f"{text!r} is longer than {MAX_DURATION.days} days.")
    return timedelta(seconds=seconds)
