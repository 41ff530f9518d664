"""``insert_with_signals``: the hot path's INSERT must look to Django exactly like save()."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.db.models.signals import post_save, pre_save
from django.forms.models import model_to_dict

from assignment.models import ChatSession
from assignment.statements import insert_with_signals

pytestmark = pytest.mark.django_db

AT = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def new_session(customer_id: str) -> ChatSession:
    return ChatSession(customer_id=customer_id, created_at=AT, last_message_at=AT)


def test_the_row_is_the_one_save_writes():
    saved, inserted = new_session("c-1"), new_session("c-2")
    saved.save()
    insert_with_signals(inserted)

    stored = {s.customer_id: model_to_dict(s) for s in ChatSession.objects.all()}
    for row in stored.values():
        row.pop("id"), row.pop("customer_id")
    assert stored["c-1"] == stored["c-2"]
    assert stored["c-2"]["status"] == "open"  # the model's default, written
    assert inserted.pk == ChatSession.objects.get(customer_id="c-2").pk


def test_the_signals_are_the_ones_save_sends():
    heard = []

    def listen(signal_name):
        def receiver(sender, instance, **kwargs):
            heard.append((signal_name, sender, instance.customer_id, kwargs.get("created")))
            if signal_name == "post_save":
                assert instance.pk is not None and not instance._state.adding

        return receiver

    pre, post = listen("pre_save"), listen("post_save")
    pre_save.connect(pre, sender=ChatSession)
    post_save.connect(post, sender=ChatSession)
    try:
        new_session("c-1").save()
        insert_with_signals(new_session("c-2"))
    finally:
        pre_save.disconnect(pre, sender=ChatSession)
        post_save.disconnect(post, sender=ChatSession)

    assert heard == [
        ("pre_save", ChatSession, "c-1", None),
        ("post_save", ChatSession, "c-1", True),
        ("pre_save", ChatSession, "c-2", None),
        ("post_save", ChatSession, "c-2", True),
    ]
