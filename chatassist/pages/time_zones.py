"""The time zone picker's list and search, in the page's language.

Each canonical zone of the IANA database (one line of tzdata's ``zone.tab``, which also names
its country, plus UTC) becomes an entry "(UTC+08:00) Taipei, Taiwan — Asia/Taipei": its
offset now, its exemplar city and its country as CLDR (through Babel) names them in the
page's language. Legacy aliases ("Hongkong", "Japan", "US/Eastern") and the ``Etc/GMT±N``
zones (whose sign is the reverse of what they say) are not listed; the schedule maths still
accepts them, so a configuration file that uses one imports as before.

A search matches an entry by any of its names in English and in each language the app
speaks (so "台北", "Taipei" and "taiwan" all find Asia/Taipei on any page), or by an offset
("GMT+8", "UTC+08:00", "+8" find the zones now at UTC+08:00). CLDR names a zone by one city
only; ``EXTRA_PLACE_NAMES`` adds the few big cities that managers type and that are no
zone's exemplar city (Beijing lives in Asia/Shanghai, Osaka in Asia/Tokyo).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from importlib import resources
from zoneinfo import ZoneInfo

from babel import Locale
from babel.core import get_global
from babel.dates import get_timezone_location
from django.conf import settings
from django.utils import translation

from staff import schedule

# Django's language code -> Babel's (CLDR) locale.
BABEL_LOCALES = {"en": "en", "zh-hant": "zh_Hant", "zh-hans": "zh_Hans", "ja": "ja"}

# Cities that are no zone's CLDR exemplar city, in the spellings managers type. Kept to big
# cities asked for by stores; a zone's own city and country come from CLDR.
EXTRA_PLACE_NAMES: dict[str, tuple[str, ...]] = {
    "Asia/Shanghai": (
        "Beijing",
        "Peking",
        "北京",
        "北京市",
        "Shenzhen",
        "深圳",
        "Guangzhou",
        "广州",
    ),
    "Asia/Tokyo": ("Osaka", "大阪", "おおさか", "Kyoto", "京都", "Yokohama", "横浜"),
    "Asia/Taipei": ("Kaohsiung", "高雄", "Taichung", "台中", "臺北", "臺灣"),
    "Asia/Hong_Kong": ("Kowloon", "九龍", "九龙"),
}
_OFFSET_QUERY = re.compile(r"(?:utc|gmt)?\s*([+-])\s*(\d{1,2})(?::?(\d{2}))?")
_MINUS_SIGNS = str.maketrans({"−": "-", "–": "-", "＋": "+"})


@dataclass(frozen=True)
class ZoneEntry:
    """One line of the picker: the zone's id, its offset now and its name in one language."""

    zone: str
    offset_minutes: int
    offset: str  # "UTC+08:00"
    place: str  # "Taipei, Taiwan"
    search_text: str  # every name of the zone, normalised, for search_zones

    @property
    def label(self) -> str:
        """ "(UTC+08:00) Taipei, Taiwan — Asia/Taipei"."""
        if not self.place or self.place == self.zone:
            return f"({self.offset}) {self.zone}"
        return f"({self.offset}) {self.place} — {self.zone}"


@dataclass(frozen=True)
class OffsetGroup:
    offset: str
    entries: list[ZoneEntry]


def zone_entries(*, language: str, now: datetime, keep: str = "") -> list[ZoneEntry]:
    """The listed zones sorted by offset now, then by name; ``keep`` (a zone already saved,
    even a legacy alias) is added when it is not listed, so an edit never loses it."""
    entries = _entries(_babel_locale(language), _hour(now))
    if keep and keep not in {entry.zone for entry in entries}:
        extra = _entry_or_none(keep, _babel_locale(language), _hour(now))
        if extra is not None:
            entries = sorted([*entries, extra], key=_sort_key)
    return entries


def grouped_by_offset(entries: list[ZoneEntry]) -> list[OffsetGroup]:
    groups: list[OffsetGroup] = []
    for entry in entries:
        if not groups or groups[-1].offset != entry.offset:
            groups.append(OffsetGroup(entry.offset, []))
        groups[-1].entries.append(entry)
    return groups


def search_zones(query: str, *, language: str, now: datetime) -> list[ZoneEntry]:
    """The listed zones that ``query`` finds: by offset if it is one, else every word of it
    in one of the zone's names (in any of our languages, or its IANA id)."""
    entries = zone_entries(language=language, now=now)
    offset = parse_offset(query)
    if offset is not None:
        return [entry for entry in entries if entry.offset_minutes == offset]
    words = normalise(query).split()
    if not words:
        return entries
    return [entry for entry in entries if all(word in entry.search_text for word in words)]


def parse_offset(query: str) -> int | None:
    """Minutes east of UTC for "GMT+8", "UTC+08:00", "+8", "+0530", "UTC-3:30"; "UTC" and
    "GMT" alone are 0; None for anything else."""
    text = unicodedata.normalize("NFKC", query).translate(_MINUS_SIGNS).strip().lower()
    if text in ("utc", "gmt", "z"):
        return 0
    match = _OFFSET_QUERY.fullmatch(text)
    if match is None:
        return None
    sign, hours, minutes = match[1], int(match[2]), int(match[3] or 0)
    if hours > 14 or minutes >= 60:
        return None
    return (-1 if sign == "-" else 1) * (hours * 60 + minutes)


def normalise(text: str) -> str:
    """Lower case, full-width folded, "_" and "/" as spaces, 臺 read as 台."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    return re.sub(r"[_/,()]+", " ", folded.replace("臺", "台"))


def format_offset(minutes: int) -> str:
    sign = "-" if minutes < 0 else "+"
    hours, rest = divmod(abs(minutes), 60)
    return f"UTC{sign}{hours:02d}:{rest:02d}"


# --- Building the list ------------------------------------------------------------------------


def _babel_locale(language: str) -> str:
    return BABEL_LOCALES.get(language.lower(), "en")


def _hour(now: datetime) -> datetime:
    # Offsets change with daylight saving, so the list is rebuilt (at most) each hour.
    return now.replace(minute=0, second=0, microsecond=0)


@lru_cache(maxsize=8)
def _entries(locale: str, hour: datetime) -> list[ZoneEntry]:
    built = (_entry_or_none(zone, locale, hour) for zone in listed_zone_names())
    return sorted((entry for entry in built if entry is not None), key=_sort_key)


def _sort_key(entry: ZoneEntry) -> tuple[int, str]:
    return entry.offset_minutes, entry.place.casefold() or entry.zone


def _entry_or_none(zone: str, locale: str, hour: datetime) -> ZoneEntry | None:
    try:
        offset = hour.astimezone(ZoneInfo(zone)).utcoffset()
    except (ValueError, KeyError, OSError):
        return None
    if offset is None:
        return None
    minutes = int(offset.total_seconds() // 60)
    return ZoneEntry(
        zone=zone,
        offset_minutes=minutes,
        offset=format_offset(minutes),
        place=_place(zone, locale),
        search_text=_search_text(zone),
    )


@lru_cache(maxsize=2048)
def _place(zone: str, locale: str) -> str:
    if zone == "UTC":
        return ""
    city = get_timezone_location(zone, locale=locale, return_city=True)
    # A legacy alias ("Japan") has the country of the zone it stands for ("Asia/Tokyo").
    canonical = get_global("zone_aliases").get(zone, zone)
    country_code = zone_countries().get(zone) or zone_countries().get(canonical)
    country = Locale.parse(locale).territories.get(country_code or "", "")
    if not country or city in country:
        return city or country
    return f"{city}, {country}"


@lru_cache(maxsize=2048)
def _search_text(zone: str) -> str:
    names = {zone, *EXTRA_PLACE_NAMES.get(zone, ())}
    for locale in BABEL_LOCALES.values():
        names.add(_place(zone, locale))
    return normalise(" | ".join(sorted(names)))


@lru_cache(maxsize=1)
def zone_countries() -> dict[str, str]:
    """Canonical zone -> ISO 3166 country code, from tzdata's zone.tab."""
    text = resources.files("tzdata.zoneinfo").joinpath("zone.tab").read_text(encoding="utf-8")
    countries = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            code, _coordinates, zone, *_comment = line.split("\t")
            countries[zone] = code
    return countries


def listed_zone_names() -> list[str]:
    """The zones the picker lists: one per line of zone.tab that this machine knows, and UTC."""
    known = set(schedule.known_zone_names())
    return sorted(zone for zone in [*zone_countries(), "UTC"] if zone in known)


def page_language() -> str:
    return translation.get_language() or settings.LANGUAGE_CODE
