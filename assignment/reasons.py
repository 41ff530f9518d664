"""An assignment's reason in the reader's language.

The reason is stored in English, in the words the contract gives the webhook's answer and
the event record ("never assigned", "last assigned 3 h 12 min ago", "from the waiting
queue; never assigned", "manual by alice", "returned to the waiting queue: Mei is away",
"reassigned: Alice did not answer for 12 min; last assigned 3 h ago", "returned to the
waiting queue: Mei's working hours (Taipei day) ended with it unanswered"). Those words are
a small fixed grammar written by ``assignment.policy``, ``assignment.returns`` and
``assignment.handover``; ``reason_in_language`` reads it back and says the same in the
active language. A reason it does not recognise (written by an older or newer version) is
shown as stored, so nothing is ever lost or invented.
"""

from __future__ import annotations

import re

from django.utils.translation import gettext

from assignment import policy

_DURATION = re.compile(
    r"(?:(?P<days>\d+) d (?P<day_hours>\d+) h"
    r"|(?P<hours>\d+) h (?P<minutes>\d+) min"
    r"|(?P<only_minutes>\d+) min"
    r"|(?P<seconds>\d+) s)"
)
_LAST_ASSIGNED = re.compile(rf"last assigned (?P<duration>{_DURATION.pattern}) ago")
_MANUAL = re.compile(r"manual by (?P<user>.+)", re.DOTALL)
_RETURNED_AWAY = re.compile(r"returned to the waiting queue: (?P<staff>.+) is away", re.DOTALL)
_RETURNED_AT_SHIFT_END = re.compile(
    r"returned to the waiting queue: (?P<staff>.+)'s working hours \((?P<shift>.+)\) ended "
    r"with it unanswered",
    re.DOTALL,
)
# What ``handover`` writes for a staff member without a working time (no name to quote).
_NO_SHIFT_NAME = "their working time"
_REASSIGNED = re.compile(
    rf"reassigned: (?P<staff>.+) did not answer for (?P<duration>{_DURATION.pattern}); "
    r"(?P<why>.+)",
    re.DOTALL,
)
_RETURNED_BY_OPERATOR = re.compile(
    r"returned to the waiting queue by an operator \((?P<staff>.+) is not away\)", re.DOTALL
)


def reason_in_language(reason: str) -> str:
    """``reason`` (as stored) in the active language; as stored if it is not recognised."""
    return _known_reason(reason) or reason


def _known_reason(reason: str) -> str | None:
    """``reason`` in the active language, or None when it is not of the grammar."""
    return _queued_or_decision_reason(reason) or _reassigned_reason(reason) or _other_reason(reason)


def _queued_or_decision_reason(text: str) -> str | None:
    """A decision's reason, "from the waiting queue; " before it when the queue's."""
    if text.startswith(policy.QUEUE_REASON_PREFIX):
        rest = _decision_reason(text.removeprefix(policy.QUEUE_REASON_PREFIX))
        if rest is None:
            return None
        return gettext("from the waiting queue; %(reason)s") % {"reason": rest}
    return _decision_reason(text)


def _reassigned_reason(text: str) -> str | None:
    """ "reassigned: Alice did not answer for 12 min; last assigned 3 h ago": the why after
    the semicolon is a decision reason (with or without the queue's prefix)."""
    match = _REASSIGNED.fullmatch(text)
    if match is None:
        return None
    duration = duration_in_language(match["duration"])
    why = _queued_or_decision_reason(match["why"])
    if duration is None or why is None:
        return None
    return gettext("reassigned: %(staff)s did not answer for %(duration)s; %(reason)s") % {
        "staff": match["staff"],
        "duration": duration,
        "reason": why,
    }


def _decision_reason(text: str) -> str | None:
    if text == "never assigned":
        return gettext("never assigned")
    if match := _LAST_ASSIGNED.fullmatch(text):
        duration = duration_in_language(match["duration"])
        if duration is not None:
            return gettext("last assigned %(duration)s ago") % {"duration": duration}
    return None


def _other_reason(text: str) -> str | None:
    if match := _MANUAL.fullmatch(text):
        return gettext("manual by %(user)s") % {"user": match["user"]}
    if match := _RETURNED_AWAY.fullmatch(text):
        return gettext("returned to the waiting queue: %(staff)s is away") % {
            "staff": match["staff"]
        }
    if match := _RETURNED_AT_SHIFT_END.fullmatch(text):
        if match["shift"] == _NO_SHIFT_NAME:
            return gettext(
                "returned to the waiting queue: %(staff)s's working hours ended with it unanswered"
            ) % {"staff": match["staff"]}
        return gettext(
            "returned to the waiting queue: %(staff)s's working hours (%(working_time)s) ended "
            "with it unanswered"
        ) % {"staff": match["staff"], "working_time": match["shift"]}
    if match := _RETURNED_BY_OPERATOR.fullmatch(text):
        return gettext("returned to the waiting queue by an operator (%(staff)s is not away)") % {
            "staff": match["staff"]
        }
    return None


def duration_in_language(text: str) -> str | None:
    """ "3 h 12 min" (``policy.describe_duration``) in the active language."""
    match = _DURATION.fullmatch(text)
    if match is None:
        return None
    if match["days"]:
        return gettext("%(days)d d %(hours)d h") % {
            "days": int(match["days"]),
            "hours": int(match["day_hours"]),
        }
    if match["hours"]:
        return gettext("%(hours)d h %(minutes)d min") % {
            "hours": int(match["hours"]),
            "minutes": int(match["minutes"]),
        }
    if match["only_minutes"]:
        return gettext("%(minutes)d min") % {"minutes": int(match["only_minutes"])}
    return gettext("%(seconds)d s") % {"seconds": int(match["seconds"])}
