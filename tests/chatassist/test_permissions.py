"""Who may do what: store managers change the settings, staff see only their own sessions,
anonymous visitors go to the login page."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, Permission
from django.test import Client
from django.urls import reverse

from assignment.models import AssignmentSettings, ChatSession
from staff.models import Staff, WorkingTime
from tests.chatassist.conftest import roles, user_in
from tests.factories import ChatSessionFactory

pytestmark = pytest.mark.django_db

PAGES = [
    reverse("chat_assistant:working-times"),
    reverse("chat_assistant:automatic-assignment"),
    reverse("chat_assistant:working-time-create"),
]
ACTIONS = [
    (reverse("chat_assistant:toggle"), {"enabled": "on"}),
    (reverse("chat_assistant:working-time-create"), {"name": "X", "timezone": "UTC"}),
]


def test_the_migration_creates_both_groups_with_their_permissions():
    manager = {p.codename for p in Group.objects.get(name="Store manager").permissions.all()}
    agent = {p.codename for p in Group.objects.get(name="Chat agent").permissions.all()}

    assert {
        "change_assignmentsettings",
        "add_workingtime",
        "change_workingtime",
        "delete_workingtime",
        "change_staff",
        "change_chatsession",
        "view_assignmentevent",
    } <= manager
    assert {"add_endpoint", "change_endpoint", "view_delivery", "change_delivery"} <= manager
    assert not any(codename.endswith(("_user", "_group")) for codename in manager)
    assert agent == {"view_chatsession", "change_chatsession", "view_message"}


def test_ensuring_the_roles_again_changes_nothing():
    before = {g.name: set(g.permissions.all()) for g in Group.objects.all()}

    roles.ensure_roles(__import__("django.apps").apps.apps)

    assert {g.name: set(g.permissions.all()) for g in Group.objects.all()} == before


# --- Anonymous visitors ------------------------------------------------------------------------


@pytest.mark.parametrize("url", PAGES)
def test_anonymous_visitors_are_sent_to_the_login_page(client, url):
    response = client.get(url)

    assert response.status_code == 302
    assert response["Location"] == f"{reverse('admin:login')}?next={url}"


@pytest.mark.parametrize(("url", "data"), ACTIONS)
def test_anonymous_posts_change_nothing(client, cast, url, data):
    response = client.post(url, data)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))
    assert AssignmentSettings.objects.get().auto_assign is False
    assert WorkingTime.objects.count() == 1


# --- Store managers ----------------------------------------------------------------------------


def test_a_store_manager_sees_the_link_on_the_admin_index_and_uses_the_page(manager_client, cast):
    index = manager_client.get(reverse("admin:index")).content.decode()
    assert 'href="/admin/chat-assistant/"' in index
    assert "Chat Assistant settings" in index

    for url in PAGES:
        assert manager_client.get(url).status_code == 200
    manager_client.post(reverse("chat_assistant:toggle"), {"enabled": "on"})
    assert AssignmentSettings.objects.get().auto_assign is True


def test_a_store_manager_sees_every_session(manager_client, cast, auto_assign_on):
    sessions = ChatSessionFactory.create_batch(3)  # one each for Alice, Bob, Carol

    response = manager_client.get(reverse("admin:assignment_chatsession_changelist"))

    assert set(response.context["cl"].result_list) == set(sessions)


# --- Staff (agents) ------------------------------------------------------------------------------


def test_a_chat_agent_sees_only_their_own_sessions(agent_client, agent, auto_assign_on):
    sessions = ChatSessionFactory.create_batch(3)  # Alice's comes first
    own = [s for s in sessions if ChatSession.objects.get(pk=s.pk).assigned_staff_id == agent.pk]
    other = next(s for s in sessions if s not in own)

    listed = agent_client.get(reverse("admin:assignment_chatsession_changelist"))
    messages = agent_client.get(reverse("admin:assignment_message_changelist"))
    theirs = agent_client.get(reverse("admin:assignment_chatsession_change", args=[own[0].pk]))
    not_theirs = agent_client.get(reverse("admin:assignment_chatsession_change", args=[other.pk]))

    assert len(own) == 1
    assert list(listed.context["cl"].result_list) == own
    assert "By assigned staff" not in listed.content.decode()  # no filter by colleague
    assert "Assign or reassign" not in listed.content.decode()  # managers only
    assert messages.status_code == 200
    assert theirs.status_code == 200
    assert not_theirs.status_code == 302  # "doesn't exist", as for any hidden object


def test_a_chat_agent_may_close_their_own_session_only(agent_client, agent, auto_assign_on):
    sessions = ChatSessionFactory.create_batch(2)
    url = reverse("admin:assignment_chatsession_changelist")

    agent_client.post(
        url, {"action": "close_sessions", "_selected_action": [s.pk for s in sessions]}
    )

    statuses = dict(ChatSession.objects.values_list("assigned_staff__name", "status"))
    assert statuses == {"Alice": "closed", "Bob": "open"}


@pytest.mark.parametrize("url", PAGES)
def test_a_chat_agent_may_not_open_the_settings_page(agent_client, url):
    assert agent_client.get(url).status_code == 403


@pytest.mark.parametrize(("url", "data"), ACTIONS)
def test_a_chat_agent_may_not_change_the_settings(agent_client, url, data):
    assert agent_client.post(url, data).status_code == 403
    assert AssignmentSettings.objects.get().auto_assign is False


def test_a_chat_agent_does_not_see_the_settings_link(agent_client):
    index = agent_client.get(reverse("admin:index")).content.decode()

    assert "Chat Assistant settings" not in index
    assert "Chat sessions" in index


def test_a_chat_agent_may_not_change_a_staff_members_working_time(agent_client, agent):
    url = reverse("chat_assistant:staff-working-time", args=[agent.pk])

    assert agent_client.post(url, {"working_time": ""}).status_code == 403
    assert Staff.objects.get(pk=agent.pk).working_time is not None


# --- Partial permissions ------------------------------------------------------------------------


def test_with_view_permission_only_the_page_shows_but_offers_no_changes(store_roles, cast):
    viewer = user_in(roles.CHAT_AGENT, "victor")
    viewer.user_permissions.add(
        Permission.objects.get(codename="view_assignmentsettings"),
    )
    client = Client()
    client.force_login(viewer)

    working_times = client.get(reverse("chat_assistant:working-times")).content.decode()
    automatic = client.get(reverse("chat_assistant:automatic-assignment")).content.decode()

    assert "Always" in working_times
    assert "Create the working time" not in working_times
    assert "Edit Always" not in working_times and "Delete Always" not in working_times
    assert "+ Working hour" not in automatic and "Save the working time" not in automatic
    assert 'disabled title="You may not change this setting"' in automatic
    assert client.post(reverse("chat_assistant:toggle"), {"enabled": "on"}).status_code == 403
    assert client.get(reverse("chat_assistant:working-time-create")).status_code == 403


# --- One door: the admin's working time and toggle URLs keep the admin's permissions ----------

WORKING_TIME_ADMIN = ["changelist", "add", "change"]


def working_time_admin(name: str, working_time: WorkingTime) -> str:
    args = [working_time.pk] if name == "change" else []
    return reverse(f"admin:staff_workingtime_{name}", args=args)


def toggle_admin(name: str) -> str:
    args = [AssignmentSettings.objects.get().pk] if name == "change" else []
    return reverse(f"admin:assignment_assignmentsettings_{name}", args=args)


@pytest.mark.parametrize("name", WORKING_TIME_ADMIN)
def test_a_chat_agent_may_not_take_the_admins_working_time_doors(agent_client, always_on, name):
    response = agent_client.get(working_time_admin(name, always_on))

    assert response.status_code == 403


def test_a_chat_agent_is_not_told_whether_a_working_time_exists(agent_client):
    url = reverse("admin:staff_workingtime_change", args=[999])

    assert agent_client.get(url).status_code == 403


@pytest.mark.parametrize("name", ["changelist", "change"])
def test_a_chat_agent_may_not_take_the_admins_toggle_door(agent_client, name):
    response = agent_client.get(toggle_admin(name))

    assert response.status_code == 403


@pytest.mark.parametrize(
    ("name", "landing"),
    [
        ("changelist", reverse("chat_assistant:working-times")),
        ("add", reverse("chat_assistant:working-time-create")),
        ("change", "edit"),
    ],
)
def test_a_store_manager_goes_from_the_admins_doors_to_the_settings_page(
    manager_client, always_on, name, landing
):
    if landing == "edit":
        landing = reverse("chat_assistant:working-time-edit", args=[always_on.pk])

    response = manager_client.get(working_time_admin(name, always_on), follow=True)

    assert response.redirect_chain == [(landing, 302)]
    assert response.status_code == 200


def test_a_store_manager_goes_from_the_toggles_admin_url_to_the_tab_and_may_switch(
    manager_client, cast
):
    response = manager_client.get(toggle_admin("change"), follow=True)
    manager_client.post(reverse("chat_assistant:toggle"), {"enabled": "on"})

    assert response.redirect_chain == [(reverse("chat_assistant:automatic-assignment"), 302)]
    assert 'role="switch"' in response.content.decode()
    assert AssignmentSettings.objects.get().auto_assign is True


def test_a_viewer_is_shown_the_working_time_and_the_toggle_but_may_change_neither(
    store_roles, cast, always_on
):
    viewer = user_in(roles.CHAT_AGENT, "victor")
    viewer.user_permissions.add(
        Permission.objects.get(codename="view_assignmentsettings"),
        Permission.objects.get(codename="view_workingtime"),
    )
    client = Client()
    client.force_login(viewer)

    changed = client.get(working_time_admin("change", always_on))
    added = client.get(working_time_admin("add", always_on))
    toggle = client.get(toggle_admin("change"), follow=True)

    tab = reverse("chat_assistant:working-times")
    assert changed["Location"] == f"{tab}#working-time-{always_on.pk}"
    assert added.status_code == 403
    assert toggle.redirect_chain == [(reverse("chat_assistant:automatic-assignment"), 302)]
    assert 'disabled title="You may not change this setting"' in toggle.content.decode()
    assert client.post(reverse("chat_assistant:toggle"), {"enabled": "on"}).status_code == 403
    assert AssignmentSettings.objects.get().auto_assign is False
