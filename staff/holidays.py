"""Public holidays by country, subdivision and year, from the ``holidays`` package.

Its data ships with the package (no network). The names come in the package's default
language for the country, or in one of its translations when asked (``language``), as
``holiday_language`` maps a Django language code onto what the country supports.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import lru_cache

import holidays
from django.utils.translation import gettext
from holidays import registry

FIRST_YEAR, LAST_YEAR = 1900, 2100  # what a store may sensibly ask for


class HolidayLookupError(ValueError):
    """An unknown country, subdivision or year; the message says which and what exists."""


@dataclass(frozen=True)
class PublicHoliday:
    day: date
    name: str


@lru_cache(maxsize=1)
def countries() -> tuple[tuple[str, str], ...]:
    """Every country the package knows, as ``(code, English name)``, by name."""
    names = {entry[1]: key.replace("_", " ").title() for key, entry in registry.COUNTRIES.items()}
    return tuple(sorted(names.items(), key=lambda item: item[1]))


def country_name(code: str) -> str:
    return dict(countries()).get(code, code)


@lru_cache(maxsize=256)
def subdivisions(code: str) -> tuple[tuple[str, str], ...]:
    """The subdivisions of country ``code`` as ``(code, name)`` (name = code when the
    package gives none); empty where it has none."""
    entity = _entity(code, None, None)
    aliases = {value: alias for alias, value in entity.subdivisions_aliases.items()}
    return tuple((subdiv, aliases.get(subdiv, subdiv)) for subdiv in entity.subdivisions)


def holiday_language(code: str, django_language: str | None) -> str | None:
    """The country's supported language closest to ``django_language`` ("zh-hant" ->
    "zh_TW", "ja" -> "ja", "en" -> "en_US"); None (the country's default) if none fits."""
    if not django_language:
        return None
    supported = _entity(code, None, None).supported_languages
    wanted = django_language.replace("-", "_").lower()
    aliases = {"zh_hant": "zh_tw", "zh_hans": "zh_cn", "zh_hk": "zh_tw", "en": "en_us"}
    candidates = [wanted, aliases.get(wanted, wanted), wanted.split("_")[0]]
    by_lower = {language.lower(): language for language in supported}
    for candidate in candidates:
        if candidate in by_lower:
            return by_lower[candidate]
    prefix = wanted.split("_")[0]
    return next((language for language in supported if language.lower().startswith(prefix)), None)


def public_holidays(
    *, country: str, year: int, subdiv: str | None = None, language: str | None = None
) -> list[PublicHoliday]:
    """The public holidays of ``country`` (and ``subdiv``) in ``year``, by date; several on
    one date are one entry with their names joined. HolidayLookupError if unknown."""
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise HolidayLookupError(
            gettext("The year must be between %(first)d and %(last)d.")
            % {"first": FIRST_YEAR, "last": LAST_YEAR}
        )
    # Without a language the package reads the process's locale; the country's own default
    # is what a manager of a store there expects.
    language = language or _entity(country, None, None).default_language
    entity = _entity(country, subdiv or None, year, language=language)
    return [PublicHoliday(day, name) for day, name in sorted(entity.items())]


def _entity(
    country: str, subdiv: str | None, year: int | None, *, language: str | None = None
) -> holidays.HolidayBase:
    code = country.strip().upper() if isinstance(country, str) else ""
    if code not in dict(countries()):
        raise HolidayLookupError(
            gettext(
                "%(country)r is not a country code the holidays data knows (e.g. TW, JP, US, GB)."
            )
            % {"country": country}
        )
    try:
        return holidays.country_holidays(
            code, subdiv=subdiv, years=year if year is not None else [], language=language
        )
    except NotImplementedError:
        known = ", ".join(holidays.list_supported_countries()[code]) or "none"
        raise HolidayLookupError(
            gettext("%(subdiv)r is not a subdivision of %(country)s (known: %(known)s).")
            % {"subdiv": subdiv, "country": code, "known": known}
        ) from None
