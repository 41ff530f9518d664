"""SQL that lives in the database (an index, a kept count, functions), one object per file.

Each file beside the app's models (``<app>/sql/NAME.sql``, its undo in ``NAME.drop.sql``)
is installed by a migration through ``install``; the migration that installs it names it,
so a change to a file ships with a new migration that installs it again. Nothing in the
suite compares what the database holds with these files yet, so an edit without its
migration goes unnoticed: keep them together by hand. PostgreSQL only: SQLite runs the ORM
form of the same rules.
"""

from __future__ import annotations

from pathlib import Path

from django.db.backends.base.schema import BaseDatabaseSchemaEditor


def sql_file(app_directory: Path, name: str) -> Path:
    return app_directory / "sql" / f"{name}.sql"


def read(app_directory: Path, name: str) -> str:
    return sql_file(app_directory, name).read_text(encoding="utf-8")


def install(schema_editor: BaseDatabaseSchemaEditor, app_directory: Path, *names: str) -> None:
    """Run each named file on PostgreSQL (a file may hold several statements)."""
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in names:
        # params=None: a "%" in the SQL (format('%s ...')) is not a placeholder.
        schema_editor.execute(read(app_directory, name), params=None)
