"""System checks: the database's functions are the ones in the repository's SQL files.

Registered with the database tag, so ``manage.py check --database default`` (and
``migrate``, before it migrates) runs it. A warning, not an error: before ``migrate``
installs a new file, the database still holds the previous text.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from django.apps import AppConfig
from django.core.checks import CheckMessage, Tags, Warning, register
from django.db import connections

from staff import sql

APP_DIRECTORIES = [Path(__file__).resolve().parent.parent / app for app in ("staff", "assignment")]


@register(Tags.database)
def sql_functions_are_current(
    *,
    app_configs: Sequence[AppConfig] | None = None,
    databases: Sequence[str] | None = None,
    **kwargs: Any,
) -> list[CheckMessage]:
    messages: list[CheckMessage] = []
    for alias in databases or []:
        for name in sql.functions_out_of_date(connections[alias], APP_DIRECTORIES):
            messages.append(
                Warning(
                    f"The database function {name} differs from its file in */sql/.",
                    hint="Run manage.py migrate; if it is up to date, a migration that "
                    "installs the edited file is missing.",
                    id="assignment.W001",
                )
            )
    return messages
