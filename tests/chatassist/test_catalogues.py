"""The catalogue check CI runs: it names every source string a catalogue lacks, leaves
untranslated or marks fuzzy, and passes on the committed catalogues."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from chatassist.catalogues import Entry, catalogue_problems

LOCALE = Path(settings.BASE_DIR, "locale")


@pytest.fixture(scope="module")
def committed():
    return {result.path.relative_to(LOCALE).as_posix(): result for result in catalogue_problems()}


def test_the_committed_catalogues_cover_every_source_string(committed):
    assert set(committed) == {
        f"{language}/LC_MESSAGES/{domain}.po"
        for language in ("zh_Hant", "zh_Hans", "ja")
        for domain in ("django", "djangojs")
    }
    assert [path for path, result in committed.items() if result.failing] == []


def copy_of_locale(tmp_path: Path) -> Path:
    copy = tmp_path / "locale"
    shutil.copytree(LOCALE, copy, ignore=shutil.ignore_patterns("*.mo"))
    return copy


def test_a_missing_an_untranslated_and_a_fuzzy_entry_are_each_named(tmp_path):
    locale = copy_of_locale(tmp_path)
    po = locale / "ja" / "LC_MESSAGES" / "django.po"
    text = po.read_text(encoding="utf-8")
    # Drop one entry, empty another, mark a third fuzzy.
    text = text.replace('msgid "Why here"\nmsgstr "この順番の理由"\n', "")
    text = text.replace('msgid "Team rate"\nmsgstr "チーム平均"', 'msgid "Team rate"\nmsgstr ""')
    text = text.replace('msgid "Legend"\n', '#, fuzzy\nmsgid "Legend"\n')
    po.write_text(text, encoding="utf-8")

    results = {result.path: result for result in catalogue_problems(locale_dir=locale)}

    ja = results[po]
    assert ja.failing
    assert ja.missing == [Entry("Why here")]
    assert ja.untranslated == [Entry("Team rate")]
    assert ja.fuzzy == [Entry("Legend")]
    others = [result for path, result in results.items() if path != po]
    assert not any(result.failing for result in others)


def test_a_catalogue_that_does_not_exist_misses_everything(tmp_path):
    locale = copy_of_locale(tmp_path)
    (locale / "zh_Hans" / "LC_MESSAGES" / "djangojs.po").unlink()

    results = {result.path: result for result in catalogue_problems(locale_dir=locale)}

    missing = results[locale / "zh_Hans" / "LC_MESSAGES" / "djangojs.po"].missing
    assert Entry("Not saved yet") in missing


def test_the_command_fails_naming_the_msgids(tmp_path, settings, capsys):
    locale = copy_of_locale(tmp_path)
    po = locale / "zh_Hant" / "LC_MESSAGES" / "django.po"
    po.write_text(
        po.read_text(encoding="utf-8").replace('msgid "Why here"\nmsgstr "排序原因"\n', ""),
        encoding="utf-8",
    )
    settings.LOCALE_PATHS = [str(locale)]

    with pytest.raises(CommandError, match="run `make messages`"):
        call_command("messages_check")

    assert "msgid 'Why here'" in capsys.readouterr().out
