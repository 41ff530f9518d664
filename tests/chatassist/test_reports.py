"""The manager's reports in the admin: coverage week grid, next in line, fairness. Content as
a manager reads it, who may see them, and a fixed number of queries however many staff."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import timezone

from assignment.models import AssignmentEvent, ChatSession
from staff.models import Staff
from tests.factories import StaffFactory, make_working_time

pytestmark = pytest.mark.django_db

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri")
REPORTS = ("coverage", "next_in_line", "fairness")
# Monday 5 January 2026, 03:00 UTC: 11:00 in Taipei, 03:00 in London, 22:00 Sunday in New York.
MONDAY_MORNING = datetime(2026, 1, 5, 3, 0, tzinfo=UTC)


def url(name: str) -> str:
    return reverse(f"chatassist_reports:{name}")


@pytest.fixture
def london_store(settings):
    settings.STORE_TIME_ZONE = "Europe/London"


@pytest.fixture
def manager_client(client):
    user = get_user_model().objects.create_superuser("boss", "boss@example.com", None)
    client.force_login(user)
    return client


@pytest.fixture
def team():
    """Three zones; one away, one at capacity, one without a working time."""
    taipei = make_working_time(
        "Taipei day", "Asia/Taipei", {day: [["09:00", "18:00"]] for day in WEEKDAYS}
    )
    london = make_working_time(
        "London day", "Europe/London", {day: [["08:00", "17:00"]] for day in WEEKDAYS}
    )
    new_york = make_working_time(
        "New York night",
        "America/New_York",
        {day: [["22:00", "06:00"]] for day in ("sun", "mon", "tue", "wed", "thu")},
    )
    people = {
        "mei": StaffFactory(name="Mei Lin", email="mei@example.com", working_time=taipei),
        "kai": StaffFactory(name="Kai Chen", email="kai@example.com", working_time=taipei),
        "lin": StaffFactory(name="Lin Wu", email="lin@example.com", working_time=taipei),
        "cap": StaffFactory(
            name="Cap Full", email="cap@example.com", working_time=taipei, max_open_sessions=2
        ),
        "ann": StaffFactory(
            name="Ann Away", email="ann@example.com", working_time=taipei, active=False
        ),
        "olly": StaffFactory(name="Olly Hughes", email="olly@example.com", working_time=london),
        "maya": StaffFactory(name="Maya Night", email="maya@example.com", working_time=new_york),
        "nora": StaffFactory(name="Nora None", email="nora@example.com", working_time=None),
    }
    Staff.objects.filter(pk=people["kai"].pk).update(
        last_assigned_at=MONDAY_MORNING - timedelta(minutes=12)
    )
    Staff.objects.filter(pk=people["lin"].pk).update(
        last_assigned_at=MONDAY_MORNING - timedelta(minutes=40)
    )
    Staff.objects.filter(pk=people["cap"].pk).update(open_sessions=2)
    return people


# --- Who may see them -------------------------------------------------------------------------


@pytest.mark.parametrize("name", REPORTS)
def test_anonymous_visitors_go_to_the_admin_login(client, name):
    response = client.get(url(name))

    assert response.status_code == 302
    assert response["Location"] == f"{reverse('admin:login')}?next={url(name)}"


@pytest.mark.parametrize("name", REPORTS)
def test_staff_who_may_not_see_the_settings_page_are_refused(client, name):
    agent = get_user_model().objects.create_user("agent", password=None, is_staff=True)
    agent.user_permissions.add(Permission.objects.get(codename="view_workingtime"))
    client.force_login(agent)

    assert client.get(url(name)).status_code == 403


@pytest.mark.parametrize("name", REPORTS)
def test_staff_who_may_see_the_settings_page_see_them(client, name):
    manager = get_user_model().objects.create_user("manager", password=None, is_staff=True)
    manager.user_permissions.add(Permission.objects.get(codename="view_assignmentsettings"))
    client.force_login(manager)

    response = client.get(url(name))

    assert response.status_code == 200
    assert response.context["title"] in {"Coverage", "Next in line", "Fairness"}


@pytest.mark.parametrize("name", REPORTS)
def test_users_who_are_not_staff_go_to_the_login_even_with_the_permission(client, name):
    user = get_user_model().objects.create_user("outsider", password=None, is_staff=False)
    user.user_permissions.add(Permission.objects.get(codename="view_assignmentsettings"))
    client.force_login(user)

    response = client.get(url(name))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


@pytest.mark.parametrize("name", REPORTS)
def test_reports_are_admin_pages_with_breadcrumbs_and_tabs(manager_client, name):
    response = manager_client.get(url(name))
    html = response.content.decode()

    assert response.context["site_header"] == "Chat Assist"  # admin.site.each_context
    assert 'href="/static/chatassist/reports.css"' in html
    assert '<div class="breadcrumbs">' in html
    assert f'href="{url("coverage")}">Reports</a>' in html
    for other in REPORTS:
        assert f'href="{url(other)}"' in html
    tabs = html[html.index('<nav class="ca-tabs"') : html.index("</nav>", html.index("ca-tabs"))]
    assert tabs.count('aria-current="page"') == 1


# --- Coverage ----------------------------------------------------------------------------------


def test_coverage_draws_each_staff_member_and_the_gaps(manager_client, london_store, team):
    response = manager_client.get(url("coverage"), {"week": "2026-01-07"})
    html = response.content.decode()
    grid = response.context["grid"]

    assert response.context["first_day"].isoformat() == "2026-01-05"
    assert [lane.staff.name for lane in grid.lanes] == [
        "Mei Lin",
        "Kai Chen",
        "Lin Wu",
        "Cap Full",
        "Ann Away",
        "Olly Hughes",
        "Maya Night",
    ]
    assert [lane.counted for lane in grid.lanes].count(False) == 1  # Ann, away
    assert "Not on the grid (no working time): Nora None." in html
    monday = grid.days[0]
    # Taipei 09:00-18:00 = 01:00-10:00 GMT; London 08:00-17:00; New York Sun 22:00 = 03:00.
    assert monday.gap_texts == ["00:00–01:00 (1 h)", "17:00–24:00 (7 h)"]
    assert monday.single_texts == ["11:00–17:00 (6 h) only Olly Hughes"]
    mei_monday = monday.lanes[0].bars
    assert [(bar.left, bar.width) for bar in mei_monday] == [(4.167, 37.5)]  # 01:00-10:00
    assert "Mei Lin · 01:00–10:00 Europe/London · Taipei day: Mon 09:00–18:00 Asia/Taipei" in html
    assert "ca-stretch--gap" in html and "ca-gapshade" in html
    assert 'href="?week=2025-12-29"' in html and 'href="?week=2026-01-12"' in html


def test_coverage_draws_a_fall_back_day_25_hours_long(manager_client, london_store, team):
    response = manager_client.get(url("coverage"), {"week": "2026-10-25"})
    html = response.content.decode()
    sunday = response.context["grid"].days[6]

    assert [day.hours for day in response.context["grid"].days] == [24] * 6 + [25]
    assert sunday.change == "clocks go back 1 h at 02:00"
    assert sunday.style == "flex-grow: 25.0000"
    assert [tick.label for tick in sunday.ticks] == ["00", "06", "12", "18"]
    assert [tick.label for tick in sunday.hour_lines][:4] == ["00", "01", "01", "02"]
    assert sunday.gap_texts == ["00:00 BST–24:00 (25 h)"]
    assert ">25 h</span>" in html
    assert "ca-clockchange" in html


def test_coverage_draws_a_spring_forward_day_23_hours_long(manager_client, london_store, team):
    response = manager_client.get(url("coverage"), {"week": "2026-03-29"})
    sunday = response.context["grid"].days[6]

    assert sunday.hours == 23
    assert [tick.label for tick in sunday.hour_lines][:3] == ["00", "02", "03"]
    # 06:00 BST is 5 hours after midnight: a quarter of the way would be 6 of 24.
    assert sunday.ticks[1].label == "06" and sunday.ticks[1].left == round(5 / 23 * 100, 3)


def test_coverage_of_this_week_marks_today_and_now(manager_client, london_store, team):
    with time_machine.travel(MONDAY_MORNING, tick=False):
        response = manager_client.get(url("coverage"))

    grid = response.context["grid"]
    assert response.context["first_day"].isoformat() == "2026-01-05"
    assert response.context["form"]["week"].value() == "2026-01-05"
    assert [day.is_today for day in grid.days] == [True] + [False] * 6
    assert grid.days[0].now.left == 12.5  # 03:00


def test_coverage_with_a_bad_week_says_so_and_shows_this_week(manager_client, london_store):
    with time_machine.travel(MONDAY_MORNING, tick=False):
        response = manager_client.get(url("coverage"), {"week": "next tuesday"})

    assert response.status_code == 200
    assert "&#x27;next tuesday&#x27; is not a date of the form YYYY-MM-DD." in (
        response.content.decode()
    )
    assert response.context["first_day"].isoformat() == "2026-01-05"


def test_coverage_without_working_times_explains_what_to_do(manager_client):
    StaffFactory(name="Nora None", working_time=None)

    html = manager_client.get(url("coverage")).content.decode()

    assert "No staff member has a working time yet" in html


# --- Next in line ------------------------------------------------------------------------------


def line_of(response) -> list[tuple[str, str]]:
    return [(entry.staff.name, entry.reason) for entry in response.context["line"].in_line]


def not_in_line_of(response) -> dict[str, tuple[str, ...]]:
    return {entry.staff.name: entry.not_in_line for entry in response.context["line"].not_in_line}


def test_next_in_line_now_in_order_with_the_reason(manager_client, london_store, team):
    with time_machine.travel(MONDAY_MORNING, tick=False):
        response = manager_client.get(url("next_in_line"))

    assert line_of(response) == [
        ("Mei Lin", "never assigned"),
        ("Maya Night", "never assigned"),
        ("Lin Wu", "last assigned 40 min ago"),
        ("Kai Chen", "last assigned 12 min ago"),
    ]
    assert not_in_line_of(response) == {
        "Cap Full": ("at capacity (2 of 2)",),
        "Ann Away": ("away",),
        "Olly Hughes": ("off duty",),
        "Nora None": ("no working time",),
    }
    html = response.content.decode()
    assert "Mon 5 Jan 2026, 03:00 GMT" in html
    assert "Last assigned 40 min ago" in html
    assert '<span class="ca-why">at capacity (2 of 2)</span>' in html
    assert html.count('class="ca-line__row is-out"') == 4
    assert "Mon 11:00 in Asia/Taipei" in html  # each working time's own clock


def test_next_in_line_at_a_chosen_time_in_the_store_zone(manager_client, london_store, team):
    with time_machine.travel(MONDAY_MORNING, tick=False):
        response = manager_client.get(url("next_in_line"), {"at": "2026-01-05T10:00"})

    # 10:00 in London (GMT) is 18:00 in Taipei, when the Taipei day has just ended, and
    # 05:00 in New York, an hour before the night ends.
    assert response.context["line"].at == datetime(2026, 1, 5, 10, 0, tzinfo=UTC)
    assert line_of(response) == [
        ("Olly Hughes", "never assigned"),
        ("Maya Night", "never assigned"),
    ]
    assert not_in_line_of(response)["Mei Lin"] == ("off duty",)
    assert response.context["chosen"] is True
    assert 'value="2026-01-05T10:00"' in response.content.decode()


def test_next_in_line_refuses_a_time_the_clocks_skip(manager_client, london_store, team):
    response = manager_client.get(url("next_in_line"), {"at": "2026-03-29T01:30"})

    assert response.status_code == 200
    assert response.context["chosen"] is False
    assert (
        "01:30 on Sun 29 Mar 2026 does not occur in Europe/London: the clocks skip it."
        in response.content.decode()
    )


def test_next_in_line_offers_both_occurrences_of_a_repeated_time(
    manager_client, london_store, team
):
    first = manager_client.get(url("next_in_line"), {"at": "2026-10-25T01:30"})
    second = manager_client.get(url("next_in_line"), {"at": "2026-10-25T01:30", "fold": "1"})

    assert first.context["line"].at == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)
    assert second.context["line"].at == datetime(2026, 10, 25, 1, 30, tzinfo=UTC)
    assert "this is the first one, 01:30 BST" in first.content.decode()
    assert 'href="?at=2026-10-25T01%3A30&amp;fold=1"' in first.content.decode()
    assert "this is the second one, 01:30 GMT" in second.content.decode()


@pytest.mark.parametrize("value", ["tomorrow", "2026-02-30T10:00", "0001-01-01T00:00"])
def test_next_in_line_with_a_bad_time_says_so(manager_client, value):
    response = manager_client.get(url("next_in_line"), {"at": value})

    assert response.status_code == 200
    assert response.context["chosen"] is False
    assert response.context["form"].errors["at"]


def test_next_in_line_says_when_automatic_assignment_is_off(manager_client, team):
    html = manager_client.get(url("next_in_line")).content.decode()

    assert "Automatic assignment is <strong>off</strong>" in html


# --- Fairness ----------------------------------------------------------------------------------

# Monday 12 January 2026, 00:00 UTC: the last 7 days are exactly the week of 5 January.
FAIRNESS_NOW = datetime(2026, 1, 12, 0, 0, tzinfo=UTC)


def add_events(staff: Staff, kind: str, count: int, *, days_ago: float) -> None:
    session = ChatSession.objects.create(
        customer_id=f"fair-{staff.pk}-{kind}-{days_ago}",
        created_at=timezone.now(),
        last_message_at=timezone.now(),
        status=ChatSession.Status.CLOSED,
        closed_at=timezone.now(),
    )
    AssignmentEvent.objects.bulk_create(
        AssignmentEvent(
            session=session,
            staff=staff,
            kind=kind,
            reason="test",
            created_at=FAIRNESS_NOW - timedelta(days=days_ago, minutes=n),
        )
        for n in range(count)
    )


@pytest.fixture
def office():
    """Mei and Kai on weekdays 09:00-17:00 UTC: 40 h in a week, 160 h in the last 30 days."""
    weekdays = make_working_time("Office", "UTC", {day: [["09:00", "17:00"]] for day in WEEKDAYS})
    return {
        "mei": StaffFactory(name="Mei Lin", email="mei@example.com", working_time=weekdays),
        "kai": StaffFactory(name="Kai Chen", email="kai@example.com", working_time=weekdays),
        "nora": StaffFactory(name="Nora None", email="nora@example.com", working_time=None),
    }


def test_fairness_counts_sessions_by_kind_next_to_on_duty_hours(manager_client, office):
    mei, kai, nora = office["mei"], office["kai"], office["nora"]
    add_events(mei, "automatic", 6, days_ago=2)
    add_events(mei, "queue", 2, days_ago=3)
    add_events(mei, "manual", 2, days_ago=1)
    add_events(mei, "automatic", 5, days_ago=20)
    add_events(kai, "automatic", 4, days_ago=6)
    add_events(kai, "returned", 1, days_ago=1)  # taken back into the queue: not assigned
    add_events(kai, "escalated", 1, days_ago=1)  # a kind this code does not know
    add_events(kai, "automatic", 9, days_ago=40)  # before both periods
    add_events(nora, "manual", 1, days_ago=1)

    with time_machine.travel(FAIRNESS_NOW, tick=False):
        response = manager_client.get(url("fairness"))

    week, month = (chart.period for chart in response.context["periods"])
    rows = {row.staff.name: row for row in week.rows}
    assert (week.days, month.days) == (7, 30)
    assert rows["Mei Lin"].by_kind == {"automatic": 6, "queue": 2, "manual": 2, "reassigned": 0}
    assert rows["Kai Chen"].by_kind == {"automatic": 4, "queue": 0, "manual": 0, "reassigned": 0}
    assert rows["Kai Chen"].other_events == {"returned": 1, "escalated": 1}
    assert (rows["Mei Lin"].on_duty_hours, rows["Nora None"].on_duty_hours) == (40, 0)
    assert (rows["Mei Lin"].per_hour, rows["Kai Chen"].per_hour) == (0.25, 0.1)
    assert rows["Nora None"].per_hour is None
    assert week.team_rate == pytest.approx(14 / 80)  # Nora's session had no on-duty hours
    assert rows["Mei Lin"].versus_team == pytest.approx(0.25 / (14 / 80))
    month_rows = {row.staff.name: row for row in month.rows}
    assert month_rows["Mei Lin"].assigned == 15
    assert month_rows["Kai Chen"].assigned == 4
    assert month_rows["Mei Lin"].on_duty_hours == 160

    html = response.content.decode()
    assert 'title="Automatic: 6"' in html and 'title="From the waiting queue: 2"' in html
    assert "1 returned to the queue" in html and "1 escalated" in html
    assert "<strong>15</strong> sessions assigned over" in html
    assert "×1.43" in html


def test_fairness_with_no_events_shows_zeros_not_errors(manager_client, office):
    with time_machine.travel(FAIRNESS_NOW, tick=False):
        response = manager_client.get(url("fairness"))

    week = response.context["periods"][0].period
    assert week.assigned == 0
    assert week.team_rate == 0
    assert all(row.versus_team is None for row in week.rows)
    assert "no on-duty hours" in response.content.decode()  # Nora


# --- Query counts --------------------------------------------------------------------------------


def add_staff(count: int, working_times: list) -> None:
    for n in range(count):
        member = StaffFactory(working_time=working_times[n % len(working_times)])
        add_events(member, ("automatic", "queue", "manual", "returned")[n % 4], 2, days_ago=n % 9)
    Staff.objects.filter(pk__in=Staff.objects.values("pk")[:2]).update(active=False)


QUERIES = {
    # session, user, then: working time hours, staff
    "coverage": 4,
    # session, user, then: working time hours, candidates, staff, the toggle, the queue counts
    "next_in_line": 7,
    # session, user, then: event counts, first responses, reassignments, working time hours,
    # staff
    "fairness": 7,
}


@pytest.mark.parametrize("name", REPORTS)
def test_query_count_is_the_same_for_5_and_50_staff(
    manager_client, django_assert_num_queries, name
):
    working_times = [
        make_working_time("Taipei", "Asia/Taipei"),
        make_working_time(
            "London", "Europe/London", {day: [["08:00", "17:00"]] for day in WEEKDAYS}
        ),
        make_working_time(
            "Nights", "America/New_York", {day: [["22:00", "06:00"]] for day in WEEKDAYS}
        ),
    ]
    add_staff(5, working_times)
    with time_machine.travel(FAIRNESS_NOW, tick=False), django_assert_num_queries(QUERIES[name]):
        assert manager_client.get(url(name)).status_code == 200

    add_staff(45, working_times)
    with time_machine.travel(FAIRNESS_NOW, tick=False), django_assert_num_queries(QUERIES[name]):
        response = manager_client.get(url(name))
    assert response.status_code == 200
    assert Staff.objects.count() == 50


def test_next_in_line_with_a_bad_fold_says_so(manager_client):
    response = manager_client.get(url("next_in_line"), {"at": "2026-10-25T01:30", "fold": "2"})

    assert response.context["chosen"] is False
    assert "Select a valid choice. 2 is not one of the available choices." in (
        response.content.decode()
    )


@pytest.mark.parametrize("name", REPORTS)
def test_reports_only_answer_get(manager_client, name):
    assert manager_client.post(url(name)).status_code == 405
