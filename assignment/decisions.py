"""The decisions made while a block of code runs: how a signal's result reaches its caller.

The product asks for the assignment policy to run from the ``post_save`` signal of a new
session, and a signal receiver's return value goes nowhere. So the policy reports each
decision here, and the code that saves a session opens a block around the save and reads
the decision back by the session's id:

    with decisions.collect() as made:
        session.save(force_insert=True)   # post_save runs the policy
    decision = made.for_session(session.pk)

The block is per thread and per asyncio task (a ``ContextVar``), so concurrent requests
never see each other's decisions; outside a block, reports are dropped.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from assignment.policy import Decision


class DecisionsMade:
    """The decisions reported inside one ``collect()`` block, by session id."""

    def __init__(self) -> None:
        self._by_session: dict[int, Decision] = {}

    def add(self, decision: Decision) -> None:
        if decision.session_id is not None:
            self._by_session[decision.session_id] = decision

    def for_session(self, session_id: int) -> Decision:
        """The decision about ``session_id``; LookupError if none was reported."""
        try:
            return self._by_session[session_id]
        except KeyError:
            raise LookupError(f"No decision was made about session #{session_id}.") from None


_current: ContextVar[DecisionsMade | None] = ContextVar("assignment_decisions", default=None)


@contextmanager
def collect() -> Iterator[DecisionsMade]:
    made = DecisionsMade()
    token = _current.set(made)
    try:
        yield made
    finally:
        _current.reset(token)


def report(decision: Decision) -> None:
    """Hand ``decision`` to the innermost open ``collect()`` block, if there is one."""
    made = _current.get()
    if made is not None:
        made.add(decision)
