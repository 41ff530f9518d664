"""The admin lists and forms, as a manager uses them (the settings page has its own tests)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from assignment import config, policy
from assignment.models import AssignmentEvent, AssignmentSettings, ChatSession, Message
from staff.models import Staff, WorkingTime
from tests.factories import ChatSessionFactory, StaffFactory, make_working_time

pytestmark = pytest.mark.django_db


@pytest.fixture
def manager_client(client):
    user = get_user_model().objects.create_superuser("boss", "boss@example.com", "pw")
    client.force_login(user)
    return client


@pytest.mark.parametrize(
    "name",
    [
        "staff_staff",
        "assignment_chatsession",
        "assignment_message",
        "assignment_assignmentevent",
    ],
)
def test_every_list_page_renders(manager_client, cast, auto_assign_on, name):
    ChatSessionFactory.create_batch(3)

    response = manager_client.get(reverse(f"admin:{name}_changelist"))

    assert response.status_code == 200


def test_waiting_filter_lists_only_unassigned_open_sessions(manager_client, cast):
    waiting = ChatSessionFactory(customer_name="Waiting Wendy")  # toggle off: stays waiting

    response = manager_client.get(
        reverse("admin:assignment_chatsession_changelist"), {"waiting": "yes"}
    )

    assert waiting in response.context["cl"].result_list


def test_removing_the_last_working_time_in_the_admin_is_refused_while_on(
    manager_client, always_on, auto_assign_on, cast
):
    Staff.objects.exclude(pk=cast["alice"].pk).update(working_time=None)
    url = reverse("admin:staff_staff_change", args=[cast["alice"].pk])

    response = manager_client.post(
        url, {"name": "Alice", "email": "alice@example.com", "working_time": "", "active": "on"}
    )

    assert response.status_code == 200
    assert "working_time" in response.context["adminform"].form.errors
    assert Staff.objects.get(pk=cast["alice"].pk).working_time == always_on


def test_close_action_frees_the_staff_members_place(manager_client, cast, auto_assign_on):
    session = ChatSessionFactory()
    url = reverse("admin:assignment_chatsession_changelist")

    manager_client.post(url, {"action": "close_sessions", "_selected_action": [session.pk]})

    session.refresh_from_db()
    assert session.status == ChatSession.Status.CLOSED
    assert Staff.objects.get(pk=cast["alice"].pk).open_sessions == 0


# --- A fixed number of queries per list, whatever its length ----------------------------------

# The most any list below may take (session, user, counts, filters, the rows).
LIST_QUERY_BUDGET = 12


def grow_store(size: int) -> None:
    """Add staff, sessions (assigned, with messages and events) until there are ``size``."""
    now = timezone.now()
    working_times = list(WorkingTime.objects.all()) or [make_working_time()]
    for n in range(Staff.objects.count(), size):
        StaffFactory(
            name=f"Member {n:03}",
            working_time=working_times[0] if n % 2 else None,
            max_open_sessions=n % 3 or None,
        )
    staff = list(Staff.objects.order_by("id"))
    start = ChatSession.objects.count()
    sessions = ChatSession.objects.bulk_create(
        ChatSession(
            channel=("web", "line", "messenger")[n % 3],
            customer_id=f"c-{n}",
            customer_name=f"Customer {n}",
            assigned_staff=staff[n % len(staff)] if n % 4 else None,
            assigned_at=now if n % 4 else None,
            created_at=now - timedelta(minutes=n),
            last_message_at=now,
        )
        for n in range(start, size)
    )
    Message.objects.bulk_create(
        Message(
            message_id=f"m-{session.customer_id}",
            session=session,
            text="Hello " * (n % 30),
            received_at=now,
            content_digest="0" * 64,
            response={},
        )
        for n, session in enumerate(sessions)
    )
    AssignmentEvent.objects.bulk_create(
        AssignmentEvent(
            session=session,
            staff=session.assigned_staff,
            kind=AssignmentEvent.Kind.AUTOMATIC,
            reason="never assigned",
            candidates=3,
            created_at=now,
        )
        for session in sessions
        if session.assigned_staff
    )


def queries_to_render(client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured)


@pytest.mark.parametrize(
    "name",
    [
        "assignment_chatsession",
        "staff_staff",
        "assignment_assignmentevent",
        "assignment_message",
    ],
)
def test_each_list_renders_in_the_same_number_of_queries_for_5_or_200_rows(manager_client, name):
    url = reverse(f"admin:{name}_changelist")
    grow_store(5)
    few = queries_to_render(manager_client, url)

    grow_store(200)
    many = queries_to_render(manager_client, url)

    assert few == many
    assert many <= LIST_QUERY_BUDGET


# --- The sessions list ----------------------------------------------------------------------


def changelist(client, **params):
    response = client.get(reverse("admin:assignment_chatsession_changelist"), params)
    return list(response.context["cl"].result_list)


def test_sessions_list_shows_who_has_each_and_why(manager_client, cast, auto_assign_on):
    session = ChatSessionFactory(customer_name="Grace Lee")

    response = manager_client.get(reverse("admin:assignment_chatsession_changelist"))

    page = response.content.decode()
    assert '<td class="field-staff_member">Alice</td>' in page
    assert '<td class="field-assignment_reason">never assigned</td>' in page
    assert list(response.context["cl"].result_list) == [session]


def test_sessions_filter_by_status_waiting_staff_and_channel_and_search(
    manager_client, cast, auto_assign_on
):
    web = ChatSessionFactory(customer_name="Web Wendy")  # Alice
    line = ChatSessionFactory(customer_name="Line Lee", channel="line")  # Bob
    closed = ChatSessionFactory(customer_name="Closed Carl")  # Carol
    policy.session_close(session=closed)
    config.auto_assign_set(enabled=False)
    waiting = ChatSessionFactory(customer_name="Waiting Will")

    assert set(changelist(manager_client, status__exact="open")) == {web, line, waiting}
    assert changelist(manager_client, status__exact="closed") == [closed]
    assert changelist(manager_client, waiting="yes") == [waiting]
    assert changelist(manager_client, assigned_staff__id__exact=cast["bob"].pk) == [line]
    assert changelist(manager_client, assigned_staff__isnull="True") == [waiting]
    assert changelist(manager_client, channel="line") == [line]
    assert changelist(manager_client, q="wendy") == [web]


def test_assign_action_asks_for_the_staff_member_first(manager_client, cast):
    session = ChatSessionFactory(customer_name="Waiting Will")  # toggle off: waits

    response = manager_client.post(
        reverse("admin:assignment_chatsession_changelist"),
        {"action": "assign_sessions", "_selected_action": [session.pk]},
    )

    assert response.status_code == 200
    assert response.template_name == "admin/assignment/chatsession/assign_sessions.html"
    page = response.content.decode()
    assert "Waiting Will" in page
    assert "Alice (Always, 0 open)" in page
    assert not AssignmentEvent.objects.exists()


def test_assign_action_records_manual_by_the_manager_and_counts_as_last_assignment(
    manager_client, cast
):
    sessions = ChatSessionFactory.create_batch(2)  # toggle off: both wait
    url = reverse("admin:assignment_chatsession_changelist")

    response = manager_client.post(
        url,
        {
            "action": "assign_sessions",
            "_selected_action": [s.pk for s in sessions],
            "staff": cast["carol"].pk,
            "apply": "Assign",
        },
        follow=True,
    )

    carol = Staff.objects.get(pk=cast["carol"].pk)
    assert carol.open_sessions == 2
    assert carol.last_assigned_at is not None
    events = AssignmentEvent.objects.filter(staff=carol, kind=AssignmentEvent.Kind.MANUAL)
    assert [e.reason for e in events] == ["manual by boss", "manual by boss"]
    assert {e.assigned_by.username for e in events} == {"boss"}
    assert [str(m) for m in response.context["messages"]] == ["2 sessions assigned to Carol."]


def test_reassigning_moves_the_session_and_frees_the_first_staff_member(
    manager_client, cast, auto_assign_on
):
    session = ChatSessionFactory()  # Alice

    manager_client.post(
        reverse("admin:assignment_chatsession_changelist"),
        {
            "action": "assign_sessions",
            "_selected_action": [session.pk],
            "staff": cast["bob"].pk,
            "apply": "Assign",
        },
    )

    session.refresh_from_db()
    assert session.assigned_staff == cast["bob"]
    assert Staff.objects.get(pk=cast["alice"].pk).open_sessions == 0
    assert Staff.objects.get(pk=cast["bob"].pk).open_sessions == 1
    listed = manager_client.get(reverse("admin:assignment_chatsession_changelist"))
    assert '<td class="field-assignment_reason">manual by boss</td>' in listed.content.decode()


def test_assigning_to_a_full_staff_member_is_refused_with_the_reason(manager_client, cast):
    Staff.objects.filter(pk=cast["bob"].pk).update(max_open_sessions=1, open_sessions=1)
    session = ChatSessionFactory()

    response = manager_client.post(
        reverse("admin:assignment_chatsession_changelist"),
        {
            "action": "assign_sessions",
            "_selected_action": [session.pk],
            "staff": cast["bob"].pk,
            "apply": "Assign",
        },
        follow=True,
    )

    assert [str(m) for m in response.context["messages"]] == [
        "Bob is at capacity (1 of 1 open sessions)."
    ]
    session.refresh_from_db()
    assert session.assigned_staff is None


def test_sessions_are_closed_not_deleted(manager_client, cast):
    session = ChatSessionFactory()

    response = manager_client.get(reverse("admin:assignment_chatsession_changelist"))

    assert "delete_selected" not in response.content.decode()
    delete = reverse("admin:assignment_chatsession_delete", args=[session.pk])
    assert manager_client.post(delete, {"post": "yes"}).status_code == 403
    assert ChatSession.objects.filter(pk=session.pk).exists()


def test_a_session_page_shows_its_messages_and_assignments(manager_client, cast, auto_assign_on):
    session = ChatSessionFactory()
    Message.objects.create(
        message_id="m-1",
        session=session,
        text="Where is my parcel?",
        received_at=timezone.now(),
        content_digest="0" * 64,
        response={},
    )

    response = manager_client.get(reverse("admin:assignment_chatsession_change", args=[session.pk]))

    page = response.content.decode()
    assert "Where is my parcel?" in page
    assert "never assigned" in page


# --- Staff and assignment events ------------------------------------------------------------


def test_the_staff_list_toggles_away_in_place(manager_client, cast):
    alice, bob, carol = cast["alice"], cast["bob"], cast["carol"]
    data = {
        "form-TOTAL_FORMS": "3",
        "form-INITIAL_FORMS": "3",
        "_save": "Save",
        "form-0-id": alice.pk,
        "form-0-active": "on",
        "form-1-id": bob.pk,  # unticked: away
        "form-2-id": carol.pk,
        "form-2-active": "on",
    }

    response = manager_client.post(reverse("admin:staff_staff_changelist"), data)

    assert response.status_code == 302
    assert dict(Staff.objects.values_list("name", "active")) == {
        "Alice": True,
        "Bob": False,
        "Carol": True,
    }


def test_the_staff_list_shows_working_time_availability_and_open_sessions(manager_client, cast):
    Staff.objects.filter(pk=cast["bob"].pk).update(max_open_sessions=4, open_sessions=2)

    response = manager_client.get(reverse("admin:staff_staff_changelist"))

    page = response.content.decode()
    assert '<td class="field-working_time nowrap">Always</td>' in page
    assert '<td class="field-open_sessions">2</td><td class="field-capacity">4</td>' in page
    assert 'name="form-0-active"' in page


def test_assignment_events_are_read_only_with_their_reason(manager_client, cast, auto_assign_on):
    ChatSessionFactory()
    event = AssignmentEvent.objects.get()

    listed = manager_client.get(reverse("admin:assignment_assignmentevent_changelist"))
    shown = manager_client.get(reverse("admin:assignment_assignmentevent_change", args=[event.pk]))

    assert '<td class="field-reason_text">never assigned</td>' in listed.content.decode()
    assert shown.status_code == 200
    assert 'type="submit"' not in shown.content.decode().split('id="content-main"')[1]
    assert (
        manager_client.post(
            reverse("admin:assignment_assignmentevent_change", args=[event.pk]), {"reason": "x"}
        ).status_code
        == 403
    )


# --- One door: working times and the toggle live on the Chat Assistant settings page --------

SETTINGS = reverse("chat_assistant:working-times")
AUTOMATIC = reverse("chat_assistant:automatic-assignment")
CREATE = reverse("chat_assistant:working-time-create")


def index_links(client) -> dict[str, str]:
    """The index's links by kind and row: {"name:workingtime": href, "addlink:...": ...}."""
    page = client.get(reverse("admin:index")).content.decode()
    rows = re.findall(r'<tr class="model-([\w-]+)[^"]*">(.*?)</tr>', page, flags=re.S)
    links = {}
    for model, row in rows:
        for href, kind in re.findall(r'<a href="([^"]+)" class="(addlink|changelink)', row):
            links[f"{kind}:{model}"] = href
        links[f"name:{model}"] = re.search(r'<a href="([^"]+)"', row)[1]
    return links


def test_the_index_add_link_of_working_times_opens_the_settings_pop_up(manager_client):
    add = index_links(manager_client)["addlink:workingtime"]

    response = manager_client.get(add, follow=True)

    assert add == reverse("admin:staff_workingtime_add")
    assert response.redirect_chain == [(CREATE, 302)]
    page = response.content.decode()
    assert 'class="ca-dialog" aria-labelledby="ca-dialog-title" open>' in page
    assert '<h2 id="ca-dialog-title">Create the working time</h2>' in page
    assert "data-zone-select" in page  # the zone picker, not a free-text time zone
    assert "<textarea" not in page


def test_the_index_link_of_working_times_lands_on_the_working_time_tab(manager_client):
    listed = index_links(manager_client)["name:workingtime"]

    response = manager_client.get(listed, follow=True)

    assert response.redirect_chain == [(SETTINGS, 302)]
    assert 'aria-current="page">Working time</a>' in response.content.decode()


def test_the_admin_change_page_of_a_working_time_is_the_settings_pop_up(manager_client):
    night = make_working_time("Night", "Asia/Tokyo", {"mon": [["22:00", "06:00"]]})

    response = manager_client.get(
        reverse("admin:staff_workingtime_change", args=[night.pk]), follow=True
    )

    edit = reverse("chat_assistant:working-time-edit", args=[night.pk])
    assert response.redirect_chain == [(edit, 302)]
    page = response.content.decode()
    assert '<h2 id="ca-dialog-title">Edit the working time</h2>' in page
    assert 'name="name" value="Night"' in page
    assert '<option value="Asia/Tokyo" selected>' in page


@pytest.mark.parametrize("object_id", ["999", "abc"])
def test_the_admin_change_page_of_a_missing_working_time_returns_to_the_tab(
    manager_client, object_id
):
    url = reverse("admin:staff_workingtime_change", args=[object_id])

    response = manager_client.get(url, follow=True)

    assert response.redirect_chain == [(SETTINGS, 302)]
    assert [str(m) for m in response.context["messages"]] == [
        f"Working time with ID “{object_id}” doesn’t exist. Perhaps it was deleted?"
    ]


def test_the_staff_forms_plus_and_pencil_open_the_pop_up_as_djangos_popup(
    manager_client, cast, always_on
):
    form = manager_client.get(reverse("admin:staff_staff_change", args=[cast["alice"].pk]))
    page = form.content.decode()
    add = re.search(r'id="add_id_working_time"\s+data-popup="yes"\s+href="([^"]+)"', page)[1]
    change = re.search(r'id="change_id_working_time"\s+data-href-template="([^"]+)"', page)[1]
    add, change = add.replace("&amp;", "&"), change.replace("&amp;", "&")

    added = manager_client.get(add)
    changed = manager_client.get(change.replace("__fk__", str(always_on.pk)))

    assert add == reverse("admin:staff_workingtime_add") + "?_to_field=id&_popup=1"
    assert added["Location"] == CREATE + "?_popup=1&_to_field=id"
    edit = reverse("chat_assistant:working-time-edit", args=[always_on.pk])
    assert changed["Location"] == edit + "?_popup=1&_to_field=id"


def test_the_toggles_admin_urls_lead_to_its_tab(manager_client):
    AssignmentSettings.objects.get_or_create(pk=1)

    listed = manager_client.get(reverse("admin:assignment_assignmentsettings_changelist"))
    changed = manager_client.get(reverse("admin:assignment_assignmentsettings_change", args=[1]))
    posted = manager_client.post(
        reverse("admin:assignment_assignmentsettings_change", args=[1]), {"auto_assign": "on"}
    )

    assert listed["Location"] == AUTOMATIC
    assert changed["Location"] == AUTOMATIC
    assert posted["Location"] == AUTOMATIC
    assert AssignmentSettings.objects.get().auto_assign is False  # no second switch


def test_the_index_lists_the_toggle_once_on_the_chat_assistant_entry(manager_client):
    links = index_links(manager_client)

    assert "name:assignmentsettings" not in links
    assert links["name:chat-assistant-automatic"] == AUTOMATIC
    assert links["changelink:chat-assistant-automatic"] == AUTOMATIC
    assert {key for key in links if key.startswith("name:")} == {
        "name:chat-assistant-settings",
        "name:chat-assistant-automatic",
        "name:assignmentevent",
        "name:chatsession",
        "name:message",
        "name:staff",
        "name:workingtime",
        "name:endpoint",  # outbound events
        "name:delivery",
        "name:group",  # the superuser's
        "name:user",
    }
