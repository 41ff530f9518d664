"""The translation catalogues (locale/<lang>/LC_MESSAGES/django.po and djangojs.po) against
the source: which strings are missing, untranslated or fuzzy.

``catalogue_problems`` runs ``makemessages`` into a temporary directory (the committed
catalogues are left as they are) and compares its message ids, context included, with each
committed catalogue. ``manage.py messages_check`` prints the result and fails on a problem;
``make messages`` updates the catalogues themselves (README: "Languages").
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.test.utils import override_settings

# The catalogues we keep; English is the source language and has none.
CATALOGUE_LANGUAGES = ("zh_Hant", "zh_Hans", "ja")
DOMAINS = ("django", "djangojs")
# What makemessages reads: our code and templates, not the virtualenv, tests or benchmarks.
IGNORED = [".venv/*", "tests/*", "bench/*", "staticfiles/*", "build/*", "*.egg-info/*"]


@dataclass(frozen=True)
class Entry:
    msgid: str
    context: str = ""
    plural: str = ""

    def __str__(self) -> str:
        return f"[{self.context}] {self.msgid}" if self.context else self.msgid


@dataclass(frozen=True)
class CatalogueProblems:
    path: Path
    missing: list[Entry] = field(default_factory=list)  # in the source, not in the file
    untranslated: list[Entry] = field(default_factory=list)
    fuzzy: list[Entry] = field(default_factory=list)
    obsolete: list[Entry] = field(default_factory=list)  # in the file, no longer in the source

    @property
    def failing(self) -> bool:
        return bool(self.missing or self.untranslated or self.fuzzy)


@dataclass
class _PoEntry:
    entry: Entry
    translated: bool
    fuzzy: bool


def catalogue_problems(*, locale_dir: Path | None = None) -> list[CatalogueProblems]:
    """One result per committed catalogue, each listing what is wrong with it."""
    locale_dir = locale_dir or Path(settings.LOCALE_PATHS[0])
    with _fresh_catalogues() as fresh_dir:
        results = []
        for domain in DOMAINS:
            source = {item.entry for item in read_po(_fresh_po(fresh_dir, domain))}
            for language in CATALOGUE_LANGUAGES:
                path = locale_dir / language / "LC_MESSAGES" / f"{domain}.po"
                results.append(_compare(path, source))
    return results


def _compare(path: Path, source: set[Entry]) -> CatalogueProblems:
    items = read_po(path) if path.exists() else []
    present = {item.entry for item in items}
    in_source = [item for item in items if item.entry in source]
    return CatalogueProblems(
        path=path,
        missing=sorted(source - present, key=str),
        untranslated=[item.entry for item in in_source if not item.translated],
        fuzzy=[item.entry for item in in_source if item.fuzzy],
        obsolete=sorted(present - source, key=str),
    )


def _fresh_po(fresh_dir: Path, domain: str) -> Path:
    return fresh_dir / "en" / "LC_MESSAGES" / f"{domain}.po"


@contextmanager
def _fresh_catalogues() -> Iterator[Path]:
    """makemessages for one language into a temporary directory: every msgid of the source."""
    # Inside the project: makemessages writes each file's strings to the first locale path
    # whose parent holds the file. A dot-directory, which makemessages does not read itself.
    with tempfile.TemporaryDirectory(dir=settings.BASE_DIR, prefix=".messages-check-") as temporary:
        fresh_dir = Path(temporary)
        previous = Path.cwd()
        os.chdir(settings.BASE_DIR)  # makemessages reads the current directory
        try:
            with override_settings(LOCALE_PATHS=[str(fresh_dir)]):
                for domain in DOMAINS:
                    call_command(
                        "makemessages",
                        locale=["en"],
                        domain=domain,
                        # Skipping locale/ keeps makemessages from writing there instead.
                        ignore_patterns=[*IGNORED, "locale"],
                        no_location=True,
                        verbosity=0,
                    )
        finally:
            os.chdir(previous)
        yield fresh_dir


# --- Reading a .po file (the little of the format makemessages and translators write) ---------


def read_po(path: Path) -> list[_PoEntry]:
    entries: list[_PoEntry] = []
    for block in path.read_text(encoding="utf-8").split("\n\n"):
        parsed = _parse_block(block)
        if parsed is not None:
            entries.append(parsed)
    return entries


def _parse_block(block: str) -> _PoEntry | None:
    fields: dict[str, str] = {}
    flags: set[str] = set()
    current = ""
    for line in block.splitlines():
        line = line.strip()
        if line.startswith("#,"):
            flags |= {flag.strip() for flag in line[2:].split(",")}
        elif line.startswith("#~"):
            return None  # an obsolete entry kept at the end of the file
        elif line.startswith("#") or not line:
            continue
        elif line.startswith('"'):
            fields[current] += _unquote(line)
        else:
            current, _, value = line.partition(" ")
            fields[current] = _unquote(value)
    msgid = fields.get("msgid")
    if not msgid:
        return None  # the header
    translations = [value for key, value in fields.items() if key.startswith("msgstr")]
    entry = Entry(msgid, fields.get("msgctxt", ""), fields.get("msgid_plural", ""))
    return _PoEntry(
        entry, translated=all(translations) and bool(translations), fuzzy="fuzzy" in flags
    )


def _unquote(text: str) -> str:
    text = text.strip()
    if len(text) >= 2 and text[0] == text[-1] == '"':
        text = text[1:-1]
    escapes = {"n": "\n", "t": "\t", '"': '"', "\\": "\\"}
    out, index = [], 0
    while index < len(text):
        char = text[index]
        if char == "\\" and index + 1 < len(text):
            out.append(escapes.get(text[index + 1], text[index + 1]))
            index += 2
        else:
            out.append(char)
            index += 1
    return "".join(out)
