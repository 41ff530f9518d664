"""factory-boy factories, in one module. Working times are built through the service so
their ranges are validated exactly as in production."""

from __future__ import annotations

import factory
from django.utils import timezone

from assignment import decisions
from assignment.models import ChatSession
from assignment.policy import Decision
from staff import services as staff_services
from staff.models import Staff, WorkingTime

ALWAYS = {day: [["00:00", "24:00"]] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}


def make_working_time(
    name: str = "Always", timezone_name: str = "UTC", hours: dict | None = None
) -> WorkingTime:
    return staff_services.working_time_save(
        name=name, timezone=timezone_name, hours=hours or ALWAYS
    )


class StaffFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Staff

    name = factory.Sequence(lambda n: f"Staff {n}")
    email = factory.Sequence(lambda n: f"staff{n}@example.com")
    active = True
    max_open_sessions = None


class ChatSessionFactory(factory.django.DjangoModelFactory):
    """Creating one runs the assignment policy, as the webhook does."""

    class Meta:
        model = ChatSession

    channel = "web"
    customer_id = factory.Sequence(lambda n: f"customer-{n}")
    customer_name = factory.Sequence(lambda n: f"Customer {n}")
    created_at = factory.LazyFunction(timezone.now)
    last_message_at = factory.LazyAttribute(lambda session: session.created_at)


def session_with_decision(**fields) -> tuple[ChatSession, Decision]:
    """A new session (``ChatSessionFactory(**fields)``) and the policy's decision about it."""
    with decisions.collect() as made:
        session = ChatSessionFactory(**fields)
    return session, made.for_session(session.pk)


def decision_for_new_session(**fields) -> Decision:
    return session_with_decision(**fields)[1]
