"""Template filters that show stored English data in the reader's language."""

from datetime import timedelta

from django import template

from assignment import policy
from assignment.reasons import duration_in_language, reason_in_language

register = template.Library()


@register.filter
def reason_text(reason: str) -> str:
    """``{{ event.reason|reason_text }}``: an assignment's reason in the page's language."""
    return reason_in_language(reason or "")


@register.filter
def duration_text(elapsed: timedelta | None) -> str:
    """``{{ cooloff_timedelta|duration_text }}``: "15 min" in the page's language; "" for
    none (so ``|default`` can say something else)."""
    if elapsed is None or not isinstance(elapsed, timedelta):
        return ""
    text = policy.describe_duration(elapsed)
    return duration_in_language(text) or text
