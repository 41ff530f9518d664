DROP FUNCTION IF EXISTS chatassist_assign_next(bigint, bigint[], text, timestamptz, text);
DROP FUNCTION IF EXISTS chatassist_describe_duration(interval);
DROP FUNCTION IF EXISTS chatassist_hours_digest();
