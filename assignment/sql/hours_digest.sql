-- A digest of every working time's zone and ranges: the policy sends the digest of the
-- hours it judged duty from, and chatassist_assign_next refuses a stale one.
CREATE OR REPLACE FUNCTION chatassist_hours_digest() RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT md5(coalesce(string_agg(
        concat_ws(',', r.id, r.working_time_id, wt.timezone, r.weekday, r.start_minute,
                  r.end_minute),
        ';' ORDER BY r.id), ''))
    FROM staff_workingrange AS r JOIN staff_workingtime AS wt ON wt.id = r.working_time_id
$$;
