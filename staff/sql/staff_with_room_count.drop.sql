DROP TRIGGER IF EXISTS staff_with_room_count_on_truncate ON staff_staff;
DROP TRIGGER IF EXISTS staff_with_room_count_on_change ON staff_staff;
DROP TRIGGER IF EXISTS staff_with_room_count_on_write ON staff_staff;
DROP FUNCTION IF EXISTS staff_with_room_count_clear();
DROP FUNCTION IF EXISTS staff_with_room_count_track();
DROP TABLE IF EXISTS staff_with_room_count;
