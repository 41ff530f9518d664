"""SQL that lives in the database (an index, a kept count, functions), one object per file.

Each file beside the app's models (``<app>/sql/NAME.sql``, its undo in ``NAME.drop.sql``)
is installed by a migration through ``install``; the migration that installs it names it,
so a change to a file ships with a new migration that installs it again.
tests/test_sql_files.py compares the functions the database holds after migrating with
these files, so a file edited without a migration that installs it fails the suite (on a
database migrated from scratch the newest text is installed either way). PostgreSQL only:
SQLite runs the ORM form of the same rules.
"""

from __future__ import annotations

import re
from pathlib import Path

from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.base.schema import BaseDatabaseSchemaEditor

_FUNCTION = re.compile(r"CREATE OR REPLACE FUNCTION (\w+)\s*\(.*?\$\$(.*?)\$\$", re.S)


def sql_file(app_directory: Path, name: str) -> Path:
    return app_directory / "sql" / f"{name}.sql"


def read(app_directory: Path, name: str) -> str:
    return sql_file(app_directory, name).read_text(encoding="utf-8")


def install(schema_editor: BaseDatabaseSchemaEditor, app_directory: Path, *names: str) -> None:
    """Run each named file on PostgreSQL (a file may hold several statements)."""
    if schema_editor.connection.vendor != "postgresql":
        return
    # A migration installs a file's newest text, which may read a table that a later
    # migration creates (chatassist_hours_digest reads the dated exceptions of staff/0005,
    # and assignment/0005 installs it first). As pg_dump does, SQL function bodies are not
    # checked at creation; they are when called, and tests/test_sql_files.py calls them.
    schema_editor.execute("SET check_function_bodies = off", params=None)
    try:
        for name in names:
            # params=None: a "%" in the SQL (format('%s ...')) is not a placeholder.
            schema_editor.execute(read(app_directory, name), params=None)
    finally:
        schema_editor.execute("RESET check_function_bodies", params=None)


def functions_in_files(app_directories: list[Path]) -> dict[str, str]:
    """Every function the files define: name -> body (the text between its $$ quotes)."""
    found: dict[str, str] = {}
    for directory in app_directories:
        for path in sorted((directory / "sql").glob("*.sql")):
            found.update(_FUNCTION.findall(path.read_text(encoding="utf-8")))
    return found


def functions_out_of_date(
    connection: BaseDatabaseWrapper, app_directories: list[Path]
) -> list[str]:
    """The functions whose body in the database differs from their file (or is missing)."""
    if connection.vendor != "postgresql":
        return []
    expected = functions_in_files(app_directories)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT proname, prosrc FROM pg_proc WHERE proname = ANY(%s)", [list(expected)]
        )
        installed: dict[str, list[str]] = {}
        for name, body in cursor.fetchall():
            installed.setdefault(name, []).append(body)
    return sorted(name for name, body in expected.items() if installed.get(name) != [body])
