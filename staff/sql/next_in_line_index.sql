CREATE INDEX IF NOT EXISTS staff_next_in_line
ON staff_staff (working_time_id, last_assigned_at ASC NULLS FIRST, id)
WHERE active AND (max_open_sessions IS NULL OR open_sessions < max_open_sessions);
