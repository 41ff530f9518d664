"""Login throttling (django-axes, chatassist/settings.py): after AXES_FAILURE_LIMIT wrong
passwords for one username from one address, that login is refused, with a page that
says so, until the cool-off ends or an operator unlocks it with manage.py."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

pytestmark = pytest.mark.django_db

LOGIN = "/admin/login/"
PASSWORD = "the-right-password-1"


@pytest.fixture
def manager():
    return get_user_model().objects.create_superuser("manager", "m@example.com", PASSWORD)


def log_in(client: Client, password: str, *, address: str = "203.0.113.7", username="manager"):
    return client.post(
        LOGIN,
        {"username": username, "password": password, "next": "/admin/"},
        REMOTE_ADDR=address,
    )


def logged_in(response) -> bool:
    return response.status_code == 302 and response["Location"] == "/admin/"


def fail_until_locked(client: Client, **kwargs) -> list[int]:
    limit = settings.AXES_FAILURE_LIMIT
    return [log_in(client, "wrong", **kwargs).status_code for _ in range(limit)]


def test_the_limit_is_five_failures_with_a_fifteen_minute_cool_off():
    assert settings.AXES_FAILURE_LIMIT == 5
    assert timedelta(minutes=15) == settings.AXES_COOLOFF_TIME
    assert settings.AXES_LOCKOUT_PARAMETERS == [["username", "ip_address"]]


def test_wrong_passwords_then_even_the_right_one_is_refused_with_a_clear_page(manager):
    client = Client()

    statuses = fail_until_locked(client)
    locked = log_in(client, PASSWORD)

    # Up to the limit: the login form again with its error; at the limit the lockout.
    assert statuses[:-1] == [200] * (settings.AXES_FAILURE_LIMIT - 1)
    assert statuses[-1] == 429
    assert locked.status_code == 429
    assert b"Too many failed logins" in locked.content
    assert b"ask an administrator to unlock it" in locked.content
    assert "_auth_user_id" not in client.session


def test_thirty_wrong_passwords_never_answer_500_and_never_log_in(manager):
    client = Client()

    statuses = {log_in(client, f"wrong-{n}").status_code for n in range(30)}

    assert statuses == {200, 429}
    assert not logged_in(log_in(client, PASSWORD))


def test_the_lockout_is_per_username_and_address(manager):
    get_user_model().objects.create_superuser("other", "o@example.com", PASSWORD)
    fail_until_locked(Client())

    assert logged_in(log_in(Client(), PASSWORD, address="198.51.100.1"))  # another address
    assert logged_in(log_in(Client(), PASSWORD, username="other"))  # another user, same address


def test_the_lockout_holds_during_the_cool_off(manager):
    fail_until_locked(Client())

    with time_machine.travel(timezone.now() + timedelta(minutes=14)):
        assert log_in(Client(), PASSWORD).status_code == 429


def test_the_lockout_ends_after_the_cool_off(manager):
    """(A try during the lockout starts the cool-off again: axes' default.)"""
    fail_until_locked(Client())

    with time_machine.travel(timezone.now() + timedelta(minutes=16)):
        assert logged_in(log_in(Client(), PASSWORD))


def test_an_operator_unlocks_a_username_with_manage_py(manager, capsys):
    fail_until_locked(Client())

    call_command("axes_reset_username", "manager")

    assert logged_in(log_in(Client(), PASSWORD))


def test_a_success_before_the_limit_resets_the_count(manager):
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        log_in(client, "wrong")
    assert logged_in(log_in(client, PASSWORD))
    client.logout()

    statuses = [log_in(client, "wrong").status_code for _ in range(settings.AXES_FAILURE_LIMIT - 1)]

    assert statuses == [200] * (settings.AXES_FAILURE_LIMIT - 1)  # counting from zero again
    assert logged_in(log_in(client, PASSWORD))
