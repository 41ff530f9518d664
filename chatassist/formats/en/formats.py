"""English dates and times, the same on the admin's pages and ours: 24-hour clock, weekday
first ("Tue 1 Dec 2026, 19:34"), as the reports have always written them."""

DATE_FORMAT = "D j M Y"
DATETIME_FORMAT = "D j M Y, H:i"
TIME_FORMAT = "H:i"
MONTH_DAY_FORMAT = "D j M"
YEAR_MONTH_FORMAT = "F Y"
SHORT_DATE_FORMAT = "Y-m-d"
SHORT_DATETIME_FORMAT = "D j M, H:i"
FIRST_DAY_OF_WEEK = 1  # Monday, as the working time editor and the coverage week
DATE_INPUT_FORMATS = ["%Y-%m-%d"]
DATETIME_INPUT_FORMATS = ["%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M"]
