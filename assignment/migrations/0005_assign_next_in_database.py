"""PostgreSQL: one decision of the assignment policy as one call into the database.

``assignment.policy`` holds the store-wide assignment lock (the settings row) from the moment
it takes it until its transaction commits, so every round trip between the application and
the database while it holds it is time no other decision can use. Here the whole locked part
of a decision runs inside the server, in one call: take the lock, check the toggle and that
the caller judged who is on duty from the current working hours, find the session (given,
or the oldest waiting one), pick the staff member next in line, stamp them, assign the
session and record the event. PL/pgSQL gives each statement a fresh snapshot (READ
COMMITTED), so the statements after the lock see every decision committed before it; one
plain SQL statement would not (its snapshot is taken before it waits for the lock).

Who is on duty stays a Python decision (``staff.schedule``, one implementation of the time
zone and past-midnight maths): the caller passes the working times on duty and the digest of
the hours it judged them from; if the hours changed, the function changes nothing and says
"stale", and the caller judges again from fresh hours.

The clock: the caller reads it before the call, so two decisions can arrive at the lock in
the other order than their clocks. The stamp is therefore the later of the caller's clock
and the previous decision's stamp (``last_decision_at`` on the locked row): stamps never go
backwards in lock order, and a host whose clock lags cannot jump its staff ahead in line.

``chatassist_describe_duration`` words the reason as ``policy.describe_duration`` does;
tests/assignment/test_assign_in_database.py checks that the two agree.

SQLite has no such functions; there the policy runs the same steps as separate queries.
"""

from django.db import migrations, models

CREATE_HOURS_DIGEST = """
CREATE OR REPLACE FUNCTION chatassist_hours_digest() RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT md5(coalesce(string_agg(
        concat_ws(',', r.id, r.working_time_id, wt.timezone, r.weekday, r.start_minute,
                  r.end_minute),
        ';' ORDER BY r.id), ''))
    FROM staff_workingrange AS r JOIN staff_workingtime AS wt ON wt.id = r.working_time_id
$$
"""

CREATE_DESCRIBE_DURATION = """
CREATE OR REPLACE FUNCTION chatassist_describe_duration(elapsed interval) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE
        WHEN s >= 86400 THEN format('%s d %s h', s / 86400, s % 86400 / 3600)
        WHEN s >= 3600 THEN format('%s h %s min', s / 3600, s % 3600 / 60)
        WHEN s >= 60 THEN format('%s min', s / 60)
        ELSE format('%s s', s)
    END
    FROM (SELECT greatest(trunc(extract(epoch FROM elapsed)), 0)::bigint AS s) AS seconds
$$
"""

# outcome: 'assigned', 'queued' (nobody on duty with room), 'off' (automatic assignment is
# off), 'stale' (the hours changed: judge again), 'missing' (no settings row: create it),
# 'empty' (queue: no session is waiting).
CREATE_ASSIGN_NEXT = """
CREATE OR REPLACE FUNCTION chatassist_assign_next(
    p_session bigint,        -- NULL: the oldest waiting session
    p_on_duty bigint[],      -- the working times on duty, judged by the caller
    p_hours_digest text,     -- chatassist_hours_digest() of the hours they were judged from
    p_now timestamptz,       -- the caller's clock
    p_kind text              -- the event's kind: 'automatic' or 'queue'
) RETURNS TABLE (
    outcome text, session_id bigint, staff_id bigint, staff_name text, staff_email text,
    assigned_at timestamptz, candidates integer, event_id bigint, reason text
)
LANGUAGE plpgsql VOLATILE AS $$
#variable_conflict use_column
DECLARE
    v_auto boolean;
    v_now timestamptz;
    v_session bigint := p_session;
    v_previous timestamptz;
BEGIN
    SELECT s.auto_assign, greatest(p_now, s.last_decision_at + interval '1 microsecond')
    INTO v_auto, v_now
    FROM assignment_assignmentsettings AS s WHERE s.id = 1 FOR UPDATE;
    IF NOT FOUND THEN
        RETURN QUERY SELECT 'missing', v_session, NULL::bigint, NULL, NULL,
            NULL::timestamptz, NULL::integer, NULL::bigint, NULL;
        RETURN;
    END IF;
    IF NOT v_auto THEN
        RETURN QUERY SELECT 'off', v_session, NULL::bigint, NULL, NULL,
            NULL::timestamptz, NULL::integer, NULL::bigint, NULL;
        RETURN;
    END IF;
    IF p_hours_digest IS DISTINCT FROM chatassist_hours_digest() THEN
        RETURN QUERY SELECT 'stale', v_session, NULL::bigint, NULL, NULL,
            NULL::timestamptz, NULL::integer, NULL::bigint, NULL;
        RETURN;
    END IF;

    IF v_session IS NULL THEN
        -- A session closed or assigned meanwhile is skipped once its lock is released.
        SELECT s.id INTO v_session FROM assignment_chatsession AS s
        WHERE s.status = 'open' AND s.assigned_staff_id IS NULL
        ORDER BY s.created_at, s.id
        LIMIT 1
        FOR UPDATE;
        IF NOT FOUND THEN
            RETURN QUERY SELECT 'empty', NULL::bigint, NULL::bigint, NULL, NULL,
                NULL::timestamptz, NULL::integer, NULL::bigint, NULL;
            RETURN;
        END IF;
    END IF;

    -- The next in line: one probe of the partial index staff_next_in_line per working time
    -- on duty; the count of candidates as it was before this stamp (staff_with_room_count,
    -- migration staff 0003: a row per working time); the stamp; the session's assignment.
    WITH next_in_line AS (
        SELECT first.id, first.last_assigned_at
        FROM unnest(p_on_duty) AS on_duty (working_time_id)
        CROSS JOIN LATERAL (
            SELECT st.id, st.last_assigned_at FROM staff_staff AS st
            WHERE st.working_time_id = on_duty.working_time_id AND st.active
              AND (st.max_open_sessions IS NULL OR st.open_sessions < st.max_open_sessions)
            ORDER BY st.last_assigned_at ASC NULLS FIRST, st.id
            LIMIT 1
        ) AS first
        ORDER BY first.last_assigned_at ASC NULLS FIRST, first.id
        LIMIT 1
    ), stamped AS (
        UPDATE staff_staff AS st
        SET last_assigned_at = v_now, open_sessions = st.open_sessions + 1
        FROM next_in_line
        WHERE st.id = next_in_line.id
        RETURNING st.id, st.name, st.email, next_in_line.last_assigned_at AS previous
    ), assigned AS (
        UPDATE assignment_chatsession AS s
        SET assigned_staff_id = stamped.id, assigned_at = v_now
        FROM stamped
        WHERE s.id = v_session
    )
    SELECT stamped.id, stamped.name, stamped.email, stamped.previous, (
        SELECT coalesce(sum(counted.staff_with_room), 0)
        FROM staff_with_room_count AS counted
        WHERE counted.working_time_id = ANY(p_on_duty)
    )
    INTO staff_id, staff_name, staff_email, v_previous, candidates
    FROM stamped;
    IF staff_id IS NULL THEN
        RETURN QUERY SELECT 'queued', v_session, NULL::bigint, NULL, NULL,
            NULL::timestamptz, NULL::integer, NULL::bigint, NULL;
        RETURN;
    END IF;

    UPDATE assignment_assignmentsettings SET last_decision_at = v_now WHERE id = 1;
    reason := CASE WHEN v_previous IS NULL THEN 'never assigned'
        ELSE 'last assigned ' || chatassist_describe_duration(v_now - v_previous) || ' ago'
    END;
    IF p_kind = 'queue' THEN
        reason := 'from the waiting queue; ' || reason;
    END IF;
    INSERT INTO assignment_assignmentevent
        (session_id, staff_id, kind, reason, candidates, assigned_by_id, created_at)
    VALUES (v_session, staff_id, p_kind, left(reason, 255), candidates, NULL, v_now)
    RETURNING id INTO event_id;

    outcome := 'assigned';
    session_id := v_session;
    assigned_at := v_now;
    reason := left(reason, 255);
    RETURN NEXT;
END
$$
"""

DROP = """
DROP FUNCTION IF EXISTS chatassist_assign_next(bigint, bigint[], text, timestamptz, text);
DROP FUNCTION IF EXISTS chatassist_describe_duration(interval);
DROP FUNCTION IF EXISTS chatassist_hours_digest();
"""


def create_functions(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for sql in (CREATE_HOURS_DIGEST, CREATE_DESCRIBE_DURATION, CREATE_ASSIGN_NEXT):
            schema_editor.execute(sql, params=None)  # None: "%" is not a placeholder


def drop_functions(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP, params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("assignment", "0004_assignmentevent_returned_kind"),
        ("staff", "0003_staff_with_room_count"),
    ]

    operations = [
        migrations.AddField(
            model_name="assignmentsettings",
            name="last_decision_at",
            field=models.DateTimeField(
                editable=False,
                help_text="The stamp of the latest automatic decision; the next is never earlier.",
                null=True,
            ),
        ),
        migrations.RunPython(create_functions, drop_functions, elidable=False),
    ]
