"""The time zone picker: its list (CLDR names in each language, offsets now) and its search."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from chatassist.pages.time_zones import (
    listed_zone_names,
    parse_offset,
    search_zones,
    zone_entries,
)

WINTER = datetime(2026, 1, 15, 12, tzinfo=UTC)
SUMMER = datetime(2026, 7, 15, 12, tzinfo=UTC)
LANGUAGES = ["en", "zh-hant", "zh-hans", "ja"]


def found(query: str, *, language: str = "en", now: datetime = WINTER) -> list[str]:
    return [entry.zone for entry in search_zones(query, language=language, now=now)]


def labels(language: str, now: datetime = WINTER) -> dict[str, str]:
    return {entry.zone: entry.label for entry in zone_entries(language=language, now=now)}


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize(
    ("query", "zone"),
    [
        ("beijing", "Asia/Shanghai"),
        ("Beijing", "Asia/Shanghai"),
        ("北京", "Asia/Shanghai"),
        ("北京市", "Asia/Shanghai"),
        ("shanghai", "Asia/Shanghai"),
        ("台北", "Asia/Taipei"),
        ("臺北", "Asia/Taipei"),
        ("Taiwan", "Asia/Taipei"),
        ("台灣", "Asia/Taipei"),
        ("台湾", "Asia/Taipei"),
        ("taipei", "Asia/Taipei"),
        ("大阪", "Asia/Tokyo"),
        ("osaka", "Asia/Tokyo"),
        ("東京", "Asia/Tokyo"),
        ("日本", "Asia/Tokyo"),
        ("香港", "Asia/Hong_Kong"),
        ("new york", "America/New_York"),
        ("ニューヨーク", "America/New_York"),
        ("Asia/Taipei", "Asia/Taipei"),
    ],
)
def test_a_city_or_country_in_any_of_our_languages_finds_its_zone(query, zone, language):
    assert zone in found(query, language=language)


def test_china_finds_the_zones_of_china_only():
    assert found("china") == ["Asia/Urumqi", "Asia/Shanghai"]
    assert "Asia/Shanghai" in found("中国", language="zh-hans")
    assert "Asia/Shanghai" in found("中國", language="zh-hant")


@pytest.mark.parametrize("query", ["GMT+8", "UTC+08:00", "+8", "utc+8", "+08:00", "GMT +8", "＋８"])
def test_an_offset_finds_the_zones_at_that_offset_now(query):
    zones = found(query)
    assert {"Asia/Shanghai", "Asia/Taipei", "Asia/Hong_Kong", "Asia/Singapore"} <= set(zones)
    assert all(
        entry.offset == "UTC+08:00" for entry in search_zones(query, language="en", now=WINTER)
    )
    # Etc/GMT+8 is UTC-08:00 (POSIX signs): never offered, so never found for "GMT+8".
    assert not any(zone.startswith("Etc/") for zone in zones)


def test_an_offset_search_follows_daylight_saving():
    assert "Europe/London" in found("UTC+0", now=WINTER)
    assert "Europe/London" not in found("UTC+0", now=SUMMER)
    assert "Europe/London" in found("UTC+1", now=SUMMER)
    assert "America/St_Johns" in found("UTC-3:30", now=WINTER)
    assert "Asia/Kolkata" in found("+0530")


@pytest.mark.parametrize(
    ("text", "minutes"),
    [("GMT+8", 480), ("UTC-05:00", -300), ("−3:30", -210), ("+0545", 345), ("UTC", 0)],
)
def test_offsets_are_read_in_the_usual_spellings(text, minutes):
    assert parse_offset(text) == minutes


@pytest.mark.parametrize("text", ["taipei", "+25", "8", "UTC+8:75", ""])
def test_other_text_is_no_offset(text):
    assert parse_offset(text) is None


def test_nothing_matches_nonsense():
    assert found("zzzz") == []
    assert found("taipei zzzz") == []


def test_entries_read_in_the_page_language_with_offset_and_id():
    assert labels("en")["Asia/Taipei"] == "(UTC+08:00) Taipei, Taiwan — Asia/Taipei"
    assert labels("zh-hant")["Asia/Taipei"] == "(UTC+08:00) 台北, 台灣 — Asia/Taipei"
    assert labels("zh-hans")["Asia/Shanghai"] == "(UTC+08:00) 上海, 中国 — Asia/Shanghai"
    assert labels("ja")["Asia/Tokyo"] == "(UTC+09:00) 東京, 日本 — Asia/Tokyo"
    assert labels("en")["UTC"] == "(UTC+00:00) UTC"
    assert labels("en", SUMMER)["Europe/London"].startswith("(UTC+01:00) London")
    assert labels("en", WINTER)["America/St_Johns"].startswith("(UTC-03:30) St. John")


def test_legacy_aliases_and_etc_zones_are_not_listed():
    listed = set(listed_zone_names())
    assert {"Asia/Taipei", "Asia/Shanghai", "Asia/Tokyo", "UTC"} <= listed
    assert not listed & {"Hongkong", "Japan", "US/Eastern", "PRC", "ROC", "Etc/GMT+8", "GMT"}
    assert not any(zone.startswith("Etc/") for zone in listed)


def test_a_saved_legacy_zone_is_kept_in_the_list_of_its_form():
    kept = {entry.zone for entry in zone_entries(language="en", now=WINTER, keep="Japan")}
    assert "Japan" in kept
    assert "Japan" not in {entry.zone for entry in zone_entries(language="en", now=WINTER)}


def test_the_list_is_sorted_by_offset():
    offsets = [entry.offset_minutes for entry in zone_entries(language="ja", now=WINTER)]
    assert offsets == sorted(offsets)
    assert offsets[0] < 0 < offsets[-1]
