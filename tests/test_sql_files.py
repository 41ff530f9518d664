"""The SQL the database holds is the SQL in the repository's files (staff/sql, assignment/sql).

A migration installs each file; a later edit of a file needs a migration that installs it
again. On a database migrated step by step, as production is, a forgotten migration leaves
the old function in place: the system check ``assignment.W001`` says so.
"""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.db import connection

from assignment.checks import APP_DIRECTORIES, sql_functions_are_current
from staff import sql

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


def test_the_files_define_the_functions_the_policy_calls():
    assert {
        "chatassist_assign_next",
        "chatassist_hours_digest",
        "chatassist_describe_duration",
        "staff_with_room_count_track",
        "staff_with_room_count_clear",
    } <= set(sql.functions_in_files(APP_DIRECTORIES))


def test_a_migrated_database_runs_the_functions_as_the_files_write_them():
    assert sql.functions_out_of_date(connection, APP_DIRECTORIES) == []
    assert sql_functions_are_current(databases=["default"]) == []


def test_a_function_that_differs_from_its_file_is_reported():
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE OR REPLACE FUNCTION chatassist_hours_digest() RETURNS text "
            "LANGUAGE sql STABLE AS $$ SELECT 'edited by hand' $$"
        )

    assert sql.functions_out_of_date(connection, APP_DIRECTORIES) == ["chatassist_hours_digest"]
    (warning,) = sql_functions_are_current(databases=["default"])
    assert warning.id == "assignment.W001"
    with pytest.raises(SystemCheckError, match="chatassist_hours_digest differs"):
        call_command("check", "--database", "default", "--fail-level", "WARNING")


def test_the_next_in_line_index_has_the_rule_s_order():
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = 'staff_next_in_line'")
        (definition,) = cursor.fetchone()

    assert "(working_time_id, last_assigned_at NULLS FIRST, id)" in definition
