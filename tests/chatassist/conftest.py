"""Users in the store's roles, logged in with the test client."""

from __future__ import annotations

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.test import Client

from assignment import roles
from staff.models import Staff


@pytest.fixture
def store_roles(db) -> None:
    """The groups the migrations create (a transactional test's flush removes them)."""
    roles.ensure_roles(apps)


def user_in(group_name: str, username: str):
    user = get_user_model().objects.create_user(username, f"{username}@example.com", "pw")
    user.is_staff = True  # may log in to the admin
    user.save()
    user.groups.add(Group.objects.get(name=group_name))
    return user


@pytest.fixture
def manager(store_roles):
    """A store manager by group membership only: not a superuser."""
    return user_in(roles.STORE_MANAGER, "anna")


@pytest.fixture
def manager_client(manager) -> Client:
    client = Client()
    client.force_login(manager)
    return client


@pytest.fixture
def agent(store_roles, cast) -> Staff:
    """Alice of the cast, with a login in the "Chat agent" group."""
    alice = cast["alice"]
    alice.user = user_in(roles.CHAT_AGENT, "alice")
    alice.save(update_fields=["user"])
    return alice


@pytest.fixture
def agent_client(agent) -> Client:
    client = Client()
    client.force_login(agent.user)
    return client
