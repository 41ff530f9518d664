DROP INDEX IF EXISTS staff_next_in_line;
