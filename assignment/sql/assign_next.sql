-- One automatic decision of the assignment policy, in one call (PostgreSQL).
--
-- The PostgreSQL form of assignment.policy._decide_step_by_step: the same rule (read the
-- rule in assignment/policy.py's docstring), run inside the server so that the store-wide
-- lock (the settings row) is held for one call and the COMMIT instead of a round trip per
-- step. The pick probes the partial index staff_next_in_line once per working time on duty
-- and the candidate count is read from staff_with_room_count (staff/sql/), so a decision
-- costs the same at 10 and 10,000 staff. tests/assignment/test_rule_agrees.py fails when
-- this and the ORM form disagree on who, the count or the reason. The decision also writes
-- its outbound event (events_event, the transactional outbox); tests/events/test_outbox.py
-- checks that its data is the ORM form's.
--
-- PL/pgSQL gives each statement a fresh snapshot (READ COMMITTED): the statements after
-- the lock see every decision committed before it; one plain SQL statement would not.
--
-- outcome: 'assigned', 'queued' (nobody on duty with room), 'off' (automatic assignment is
-- off), 'stale' (the caller judged duty from hours that changed: judge again), 'missing'
-- (no settings row: create it), 'empty' (queue: no session is waiting).
-- With p_session given and older sessions waiting, 'assigned' names the oldest waiting
-- session instead (first come, first served; 'queue' kind); the caller's new session waits.
CREATE OR REPLACE FUNCTION chatassist_assign_next(
    p_session bigint,        -- NULL: the oldest waiting session
    p_on_duty bigint[],      -- the working times on duty, judged by the caller
    p_hours_digest text,     -- chatassist_hours_digest() of the hours they were judged from
    p_now timestamptz,       -- the decision's instant (duty was judged at it)
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
    v_older bigint;
    v_kind text := p_kind;
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

    -- First come, first served: a new session does not jump the queue. When an older
    -- session waits, this decision is about the oldest one (a 'queue' decision); the new
    -- session waits behind it. SKIP LOCKED: a waiting session a customer's message or a
    -- close has locked right now is passed over rather than waited for under the lock.
    IF v_session IS NOT NULL THEN
        SELECT s.id INTO v_older FROM assignment_chatsession AS s
        WHERE s.status = 'open' AND s.assigned_staff_id IS NULL AND s.id <> v_session
          AND (s.created_at, s.id) < (
              SELECT new.created_at, new.id FROM assignment_chatsession AS new
              WHERE new.id = v_session)
        ORDER BY s.created_at, s.id
        LIMIT 1
        FOR UPDATE SKIP LOCKED;
        IF FOUND THEN
            v_session := v_older;
            v_kind := 'queue';
        END IF;
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
    IF p_session IS NOT NULL AND (staff_id IS NULL OR v_session <> p_session) THEN
        -- The new session waits: nobody has room, or the turn went to an older session.
        -- The outbox row of events.outbox.session_queued (the same data, one INSERT).
        INSERT INTO events_event
            (webhook_id, type, session_id, endpoint_id, data, happened_at, fanned_out)
        VALUES ('evt_' || replace(gen_random_uuid()::text, '-', ''), 'session.queued',
            p_session, NULL,
            jsonb_build_object('session',
                jsonb_build_object('status', 'open', 'assigned_to', NULL)),
            p_now, false);
    END IF;
    IF staff_id IS NULL THEN
        -- The caller's session waits (not the older one this decision was about).
        RETURN QUERY SELECT 'queued', coalesce(p_session, v_session), NULL::bigint, NULL, NULL,
            NULL::timestamptz, NULL::integer, NULL::bigint, NULL;
        RETURN;
    END IF;

    UPDATE assignment_assignmentsettings SET last_decision_at = v_now WHERE id = 1;
    reason := CASE WHEN v_previous IS NULL THEN 'never assigned'
        ELSE 'last assigned ' || chatassist_describe_duration(v_now - v_previous) || ' ago'
    END;
    IF v_kind = 'queue' THEN
        reason := 'from the waiting queue; ' || reason;
    END IF;
    INSERT INTO assignment_assignmentevent
        (session_id, staff_id, kind, reason, candidates, assigned_by_id, created_at)
    VALUES (v_session, staff_id, v_kind, left(reason, 255), candidates, NULL, v_now)
    RETURNING id INTO event_id;

    -- The outbox row of events.outbox.session_assigned (the same data, one INSERT).
    INSERT INTO events_event
        (webhook_id, type, session_id, endpoint_id, data, happened_at, fanned_out)
    VALUES ('evt_' || replace(gen_random_uuid()::text, '-', ''), 'session.assigned',
        v_session, NULL,
        jsonb_build_object(
            'session', jsonb_build_object('status', 'open', 'assigned_to',
                jsonb_build_object('id', staff_id, 'name', staff_name, 'email', staff_email)),
            'assignment', jsonb_build_object('kind', v_kind, 'reason', left(reason, 255),
                'candidates', candidates, 'by', NULL)),
        v_now, false);

    outcome := 'assigned';
    session_id := v_session;
    assigned_at := v_now;
    reason := left(reason, 255);
    RETURN NEXT;
END
$$;
