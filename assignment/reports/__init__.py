"""The manager's reports, one module each: ``coverage`` (who covers the store in a week),
``next_in_line`` (who would get a session created at an instant) and ``fairness`` (how
evenly sessions were spread relative to time on duty); ``common`` holds what they share.

Read-only, each in a fixed number of queries whatever the number of staff or events (the
counting happens in the database; the schedule maths runs once per working time, not per
staff member). Time is a parameter: callers pass ``now`` and the store's zone.
"""
