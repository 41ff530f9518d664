"""Template filters that show stored English data in the reader's language."""

from django import template

from assignment.reasons import reason_in_language

register = template.Library()


@register.filter
def reason_text(reason: str) -> str:
    """``{{ event.reason|reason_text }}``: an assignment's reason in the page's language."""
    return reason_in_language(reason or "")
