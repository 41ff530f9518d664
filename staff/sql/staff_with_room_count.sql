CREATE TABLE IF NOT EXISTS staff_with_room_count (
    working_time_id bigint PRIMARY KEY,
    staff_with_room integer NOT NULL CHECK (staff_with_room >= 0)
);

CREATE OR REPLACE FUNCTION staff_with_room_count_track() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.working_time_id IS NOT NULL AND OLD.active
       AND (OLD.max_open_sessions IS NULL OR OLD.open_sessions < OLD.max_open_sessions) THEN
        UPDATE staff_with_room_count SET staff_with_room = staff_with_room - 1
        WHERE working_time_id = OLD.working_time_id;
    END IF;
    IF TG_OP IN ('UPDATE', 'INSERT') AND NEW.working_time_id IS NOT NULL AND NEW.active
       AND (NEW.max_open_sessions IS NULL OR NEW.open_sessions < NEW.max_open_sessions) THEN
        INSERT INTO staff_with_room_count AS counted (working_time_id, staff_with_room)
        VALUES (NEW.working_time_id, 1)
        ON CONFLICT (working_time_id)
        DO UPDATE SET staff_with_room = counted.staff_with_room + 1;
    END IF;
    RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION staff_with_room_count_clear() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM staff_with_room_count;
    RETURN NULL;
END
$$;

DROP TRIGGER IF EXISTS staff_with_room_count_on_write ON staff_staff;
CREATE TRIGGER staff_with_room_count_on_write
AFTER INSERT OR DELETE ON staff_staff
FOR EACH ROW EXECUTE FUNCTION staff_with_room_count_track();

-- An UPDATE fires it only when the row's place in the count changes: the stamp of an
-- assignment that leaves the staff member with room does not.
DROP TRIGGER IF EXISTS staff_with_room_count_on_change ON staff_staff;
CREATE TRIGGER staff_with_room_count_on_change
AFTER UPDATE ON staff_staff
FOR EACH ROW
WHEN (
    OLD.working_time_id IS DISTINCT FROM NEW.working_time_id
    OR (OLD.active AND (OLD.max_open_sessions IS NULL
                        OR OLD.open_sessions < OLD.max_open_sessions))
       IS DISTINCT FROM
       (NEW.active AND (NEW.max_open_sessions IS NULL
                        OR NEW.open_sessions < NEW.max_open_sessions))
)
EXECUTE FUNCTION staff_with_room_count_track();

DROP TRIGGER IF EXISTS staff_with_room_count_on_truncate ON staff_staff;
CREATE TRIGGER staff_with_room_count_on_truncate
AFTER TRUNCATE ON staff_staff
FOR EACH STATEMENT EXECUTE FUNCTION staff_with_room_count_clear();

DELETE FROM staff_with_room_count;
INSERT INTO staff_with_room_count (working_time_id, staff_with_room)
SELECT working_time_id, count(*) FROM staff_staff
WHERE working_time_id IS NOT NULL AND active
  AND (max_open_sessions IS NULL OR open_sessions < max_open_sessions)
GROUP BY working_time_id;
