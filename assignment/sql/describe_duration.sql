-- The reason's wording of a duration, as assignment.policy.describe_duration words it
-- (tests/assignment/test_decision_in_database.py compares the two).
CREATE OR REPLACE FUNCTION chatassist_describe_duration(elapsed interval) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE
        WHEN s >= 86400 THEN format('%s d %s h', s / 86400, s % 86400 / 3600)
        WHEN s >= 3600 THEN format('%s h %s min', s / 3600, s % 3600 / 60)
        WHEN s >= 60 THEN format('%s min', s / 60)
        ELSE format('%s s', s)
    END
    FROM (SELECT greatest(trunc(extract(epoch FROM elapsed)), 0)::bigint AS s) AS seconds
$$;
