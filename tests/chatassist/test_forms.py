"""The little the settings page decides itself: how loosely a time may be typed."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from chatassist.pages.forms import tidy_clock, zone_options


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


def test_zones_are_offered_with_their_offset_at_the_time():
    winter = dict(zone_options(datetime(2026, 1, 15, 12, tzinfo=UTC)))
    summer = dict(zone_options(datetime(2026, 7, 15, 12, tzinfo=UTC)))

    assert winter["Asia/Taipei"] == summer["Asia/Taipei"] == "Asia/Taipei (UTC+08:00)"
    assert winter["Europe/London"] == "Europe/London (UTC+00:00)"
    assert summer["Europe/London"] == "Europe/London (UTC+01:00)"
    assert winter["America/St_Johns"] == "America/St_Johns (UTC-03:30)"
