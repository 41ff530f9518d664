-- A digest of every working time's zone, weekly ranges and dated exceptions (with their
-- ranges): the policy sends the digest of the hours it judged duty from, and
-- chatassist_assign_next refuses a stale one. An exception's name is a label, left out.
CREATE OR REPLACE FUNCTION chatassist_hours_digest() RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT md5(coalesce((
        SELECT string_agg(
            concat_ws(',', r.id, r.working_time_id, wt.timezone, r.weekday, r.start_minute,
                      r.end_minute),
            ';' ORDER BY r.id)
        FROM staff_workingrange AS r JOIN staff_workingtime AS wt ON wt.id = r.working_time_id
    ), '') || '|' || coalesce((
        SELECT string_agg(
            concat_ws(',', e.id, e.working_time_id, e.date, x.id, x.start_minute, x.end_minute),
            ';' ORDER BY e.id, x.id)
        FROM staff_workingtimeexception AS e
        LEFT JOIN staff_exceptionrange AS x ON x.exception_id = e.id
    ), ''))
$$;
