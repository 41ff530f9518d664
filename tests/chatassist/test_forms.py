"""The little the settings page decides itself: how loosely a time may be typed."""

from __future__ import annotations

import pytest

from chatassist.pages.forms import tidy_clock


@pytest.mark.parametrize(
    ("typed", "is_end", "tidy"),
    [
        ("9", False, "09:00"),
        ("930", False, "09:30"),
        ("0930", False, "09:30"),
        ("9:30", False, "09:30"),
        ("9.30", False, "09:30"),
        (" 18:00 ", True, "18:00"),
        ("00:00", True, "24:00"),  # an end at midnight is the end of the day
        ("0", True, "24:00"),
        ("00:00", False, "00:00"),
        ("24:00", True, "24:00"),
        ("99", False, "99"),  # kept as typed, for the schedule maths to reject
        ("9:75", False, "9:75"),
        ("noon", False, "noon"),
        ("", False, ""),
        ("\u0669:30", False, "\u0669:30"),  # ASCII digits only (this is an Arabic-Indic 9)
        ("9\n", False, "09:00"),  # stripped, as any surrounding space
    ],
)
def test_loosely_typed_times_are_tidied(typed, is_end, tidy):
    assert tidy_clock(typed, is_end=is_end) == tidy
