"""The hot path's SQL helpers: prepared statements, and an INSERT that signals as save() does.

A webhook delivery runs a handful of statements, and building each with the ORM costs more
CPU than running it (docs/BENCHMARKS.md). These two helpers keep the hand-written SQL of
``assignment.ingestion`` and ``assignment.policy`` cheap without changing what the rest of
Django sees.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache

from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.db.backends.utils import CursorWrapper
from django.db.models import Model
from django.db.models.signals import post_save, pre_save


@contextmanager
def statement_cursor() -> Iterator[CursorWrapper]:
    """A cursor for our own SQL; on PostgreSQL one that binds on the server.

    Server-side binding lets psycopg prepare a statement (``prepare_threshold`` in the
    database OPTIONS, see settings), so PostgreSQL parses and plans it once per connection
    instead of on every delivery, and psycopg sends the parameters as they are instead of
    quoting them into the text. Django's own cursors bind on the client and are never
    prepared, whatever the threshold.
    """
    db = connections[DEFAULT_DB_ALIAS]  # once: each use of the ``connection`` proxy looks it up
    if db.vendor != "postgresql":
        with db.cursor() as cursor:
            yield cursor
        return
    from django.db.backends.postgresql.base import ServerBindingCursor

    # What db.cursor() does first, so that it reuses this very connection.
    db.close_if_health_check_failed()
    db.ensure_connection()
    raw = db.connection
    factory, raw.cursor_factory = raw.cursor_factory, ServerBindingCursor
    try:
        cursor = db.cursor()
    finally:
        raw.cursor_factory = factory
    with cursor:
        yield cursor


def insert_with_signals(instance: Model) -> None:
    """INSERT ``instance`` as ``instance.save()`` would, in one prepared statement.

    Every concrete field but the primary key is written, each prepared as the ORM prepares
    it (``pre_save`` for ``auto_now_add``, ``get_db_prep_save``), so a field added later is
    written too. ``pre_save`` and ``post_save`` (``created=True``) are sent around it, as
    ``save()`` sends them: receivers cannot tell the difference. For models without
    parents; the database must support ``RETURNING`` (PostgreSQL and SQLite do).
    """
    model = type(instance)
    using = connection.alias
    pre_save.send(sender=model, instance=instance, raw=False, using=using, update_fields=None)
    fields = _insertable_fields(model)
    values = [
        field.get_db_prep_save(field.pre_save(instance, True), connection) for field in fields
    ]
    with statement_cursor() as cursor:
        cursor.execute(_insert_sql(model), values)
        instance.pk = cursor.fetchone()[0]
    instance._state.adding, instance._state.db = False, using
    post_save.send(
        sender=model, instance=instance, created=True, update_fields=None, raw=False, using=using
    )


@cache
def _insertable_fields(model: type[Model]) -> tuple:
    return tuple(field for field in model._meta.concrete_fields if not field.primary_key)


@cache
def _insert_sql(model: type[Model]) -> str:
    quote = connection.ops.quote_name
    columns = ", ".join(quote(field.column) for field in _insertable_fields(model))
    placeholders = ", ".join(["%s"] * len(_insertable_fields(model)))
    return (
        f"INSERT INTO {quote(model._meta.db_table)} ({columns}) VALUES ({placeholders})"
        f" RETURNING {quote(model._meta.pk.column)}"
    )
