"""Chinese dates and times, the same on the admin's pages and ours: "2026年12月1日 (星期二) 19:34"
(24-hour clock; the weekday name from Django's catalogue)."""

DATE_FORMAT = "Y年n月j日 (D)"
DATETIME_FORMAT = "Y年n月j日 (D) H:i"
TIME_FORMAT = "H:i"
MONTH_DAY_FORMAT = "n月j日 (D)"
YEAR_MONTH_FORMAT = "Y年n月"
SHORT_DATE_FORMAT = "Y-m-d"
SHORT_DATETIME_FORMAT = "n月j日 (D) H:i"
FIRST_DAY_OF_WEEK = 1
DATE_INPUT_FORMATS = ["%Y-%m-%d"]
DATETIME_INPUT_FORMATS = ["%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M"]
