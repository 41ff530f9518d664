"""Every page of ours in each language: chosen from the browser, switched from the admin
header (and remembered), with none of our English left; the JavaScript catalogue; errors."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from html import unescape
from pathlib import Path

import pytest
from django.conf import settings
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.formats import date_format

from assignment import config, handover
from assignment.models import AssignmentEvent, ChatSession
from assignment.reasons import reason_in_language
from chatassist.catalogues import read_po
from events.models import Delivery, Endpoint, Event, EventType
from staff import services as staff_services
from staff.models import Staff, WorkingTime
from tests.factories import ChatSessionFactory, StaffFactory, make_working_time

LANGUAGES = {"zh-hant": "zh_Hant", "zh-hans": "zh_Hans", "ja": "ja"}
WORKING_TIMES = reverse("chat_assistant:working-times")
AUTOMATIC = reverse("chat_assistant:automatic-assignment")
CREATE = reverse("chat_assistant:working-time-create")
PAGES = [
    WORKING_TIMES,
    AUTOMATIC,
    CREATE,
    reverse("chatassist_reports:coverage"),
    reverse("chatassist_reports:next_in_line"),
    reverse("chatassist_reports:fairness"),
    reverse("admin:index"),
    reverse("admin:assignment_chatsession_changelist"),
    reverse("admin:staff_staff_changelist"),
]
# Words of ours that are the same in the translation (names, codes) are no leak.
SAME_IN_EVERY_LANGUAGE = {"Chat Assist", "Chat Assistant"}


def english_of_ours(language: str) -> list[str]:
    """Our English sentences and labels (several words, no placeholders) from a catalogue."""
    path = Path(settings.BASE_DIR, "locale", LANGUAGES[language], "LC_MESSAGES", "django.po")
    texts = []
    for item in read_po(path):
        msgid = item.entry.msgid
        if "%" in msgid or "<" in msgid or msgid in SAME_IN_EVERY_LANGUAGE:
            continue
        if len(re.findall(r"[A-Za-z]{2,}", msgid)) >= 2:
            texts.append(msgid)
    return texts


def visible_text(html: str) -> str:
    html = re.sub(r"<(script|style|svg)\b.*?</\1>", " ", html, flags=re.DOTALL)
    html = re.sub(r"<!--.*?-->", " ", html, flags=re.DOTALL)
    # Attributes people read (labels, titles, placeholders) count as text too.
    attributes = re.findall(r'(?:aria-label|title|placeholder|value)="([^"]*)"', html)
    return unescape(" ".join([re.sub(r"<[^>]+>", " ", html), *attributes]))


@pytest.fixture
def store(always_on):
    StaffFactory(name="Mei", working_time=always_on)
    StaffFactory(name="Kai", active=False)


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("url", PAGES)
def test_each_page_speaks_the_browsers_language_with_no_english_of_ours(
    manager_client, store, url, language
):
    response = manager_client.get(url, HTTP_ACCEPT_LANGUAGE=language)

    assert response.status_code == 200
    html = response.content.decode()
    assert f'<html lang="{language}"' in html
    text = visible_text(html)
    leaked = [english for english in english_of_ours(language) if english in text]
    assert leaked == []


@pytest.fixture
def busy_store(always_on, settings) -> dict[str, str]:
    """A store with everything the later branches show: a reassigned session answered
    late, a closed date, an endpoint with a failed delivery; the URLs of its pages."""
    settings.EVENTS_ALLOW_PRIVATE_URLS = True
    now = timezone.now()
    alice = StaffFactory(name="Alice", working_time=always_on)
    StaffFactory(name="Bob", working_time=always_on)
    config.auto_assign_set(enabled=True)
    config.handover_settings_set(
        reassign_unanswered_after_minutes=10,
        return_unanswered_at_shift_end=True,
        return_open_sessions_when_away=True,
    )
    session = ChatSessionFactory(created_at=now - timedelta(minutes=30))
    handover.hand_over_due(now=now - timedelta(minutes=15))
    assert AssignmentEvent.objects.filter(kind=AssignmentEvent.Kind.REASSIGNED).exists()
    ChatSession.objects.filter(pk=session.pk).update(
        first_response_at=now - timedelta(minutes=5), first_response_staff=alice
    )
    closed = make_working_time(name="Harbour shop", timezone_name="Asia/Taipei")
    today = timezone.localdate(now, timezone=closed.zone)
    staff_services.exception_set(working_time=closed, day=today, hours=[], name="Store party")
    staff_services.exception_set(
        working_time=closed, day=today + timedelta(days=1), hours=[["10:00", "12:00"]]
    )
    StaffFactory(name="Kai", working_time=closed)
    endpoint = Endpoint.objects.create(
        url="https://127.0.0.1:9/in",
        event_types=[str(EventType.SESSION_ASSIGNED)],
        secret="whsec_c2VjcmV0",
        previous_secret="whsec_b2xk",
        previous_secret_expires_at=now + timedelta(hours=3),
    )
    event = Event.objects.create(
        webhook_id="evt_1", type=EventType.SESSION_ASSIGNED, session=session, happened_at=now
    )
    delivery = Delivery.objects.create(
        event=event,
        endpoint=endpoint,
        session_id=session.pk,
        status=Delivery.Status.FAILED,
        attempts=3,
        next_attempt_at=now,
        last_status_code=500,
        last_error="HTTP 500",
        created_at=now,
    )
    return {
        "session": reverse("admin:assignment_chatsession_change", args=[session.pk]),
        "endpoints": reverse("admin:events_endpoint_changelist"),
        "endpoint": reverse("admin:events_endpoint_change", args=[endpoint.pk]),
        "new endpoint": reverse("admin:events_endpoint_add"),
        "deliveries": reverse("admin:events_delivery_changelist"),
        "delivery": reverse("admin:events_delivery_change", args=[delivery.pk]),
        "exceptions": reverse("chat_assistant:working-time-edit", args=[closed.pk]),
        "coverage": reverse("chatassist_reports:coverage"),
        "next in line": reverse("chatassist_reports:next_in_line"),
        "fairness": reverse("chatassist_reports:fairness"),
        "automatic": AUTOMATIC,
    }


BUSY_PAGES = [
    "session",
    "endpoints",
    "endpoint",
    "new endpoint",
    "deliveries",
    "delivery",
    "exceptions",
    "coverage",
    "next in line",
    "fairness",
    "automatic",
]


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("page_name", BUSY_PAGES)
def test_the_later_pages_speak_the_language_with_no_english_of_ours(
    admin_client, busy_store, page_name, language
):
    """The outbound events pages, a session's page with its first response and
    reassignment, the exceptions in the pop-up and the reports (as a superuser, who may
    see the endpoints)."""
    response = admin_client.get(busy_store[page_name], HTTP_ACCEPT_LANGUAGE=language)

    assert response.status_code == 200
    html = response.content.decode()
    assert f'<html lang="{language}"' in html
    text = visible_text(html)
    leaked = [english for english in english_of_ours(language) if english in text]
    assert leaked == []


@pytest.mark.parametrize(
    ("language", "words"),
    [("ja", "再割り当て"), ("zh-hant", "改派"), ("zh-hans", "改派"), ("en", "did not answer")],
)
def test_the_session_page_shows_the_reassignment_in_the_language(
    manager_client, busy_store, language, words
):
    page = manager_client.get(busy_store["session"], HTTP_ACCEPT_LANGUAGE=language)

    text = visible_text(page.content.decode())
    assert words in text
    assert ("did not answer" in text) == (language == "en")


def test_the_leak_detector_finds_our_english_on_an_english_page(manager_client, store):
    """The check above can fail: on the English page it finds our sentences."""
    text = visible_text(manager_client.get(AUTOMATIC, HTTP_ACCEPT_LANGUAGE="en").content.decode())

    found = [english for english in english_of_ours("ja") if english in text]
    assert "Automatically assigning sessions" in found
    assert len(found) >= 10


@pytest.mark.parametrize(
    ("header", "language", "title"),
    [
        ("zh-TW,zh;q=0.9", "zh-hant", "工作時段"),
        ("zh-HK", "zh-hant", "工作時段"),
        ("zh-Hant", "zh-hant", "工作時段"),
        ("zh-CN,zh;q=0.9", "zh-hans", "工作时段"),
        ("zh-Hans", "zh-hans", "工作时段"),
        ("ja-JP,ja;q=0.9,en;q=0.5", "ja", "勤務時間帯"),
        ("en-US,en;q=0.9", "en", "Working time"),
        ("fr-FR", "en", "Working time"),
    ],
)
def test_the_browsers_language_chooses_ours(manager_client, header, language, title):
    response = manager_client.get(WORKING_TIMES, HTTP_ACCEPT_LANGUAGE=header)

    assert f'<html lang="{language}"' in response.content.decode()
    assert f'<h2 id="ca-panel-title">{title}</h2>' in response.content.decode()


def test_the_language_menu_switches_and_is_remembered(manager_client):
    page = manager_client.get(WORKING_TIMES, HTTP_ACCEPT_LANGUAGE="en")
    assert 'action="/i18n/setlang/"' in page.content.decode()

    switched = manager_client.post(
        reverse("set_language"), {"language": "ja", "next": WORKING_TIMES}
    )

    assert switched.status_code == 302 and switched["Location"] == WORKING_TIMES
    assert switched.cookies[settings.LANGUAGE_COOKIE_NAME].value == "ja"
    # Later pages, whatever the browser asks for, stay in the language chosen.
    later = manager_client.get(AUTOMATIC, HTTP_ACCEPT_LANGUAGE="zh-TW")
    assert '<html lang="ja"' in later.content.decode()
    assert "セッションの自動割り当て" in later.content.decode()


def test_an_unknown_language_is_refused_by_the_switch_and_changes_nothing(manager_client):
    manager_client.post(reverse("set_language"), {"language": "xx", "next": WORKING_TIMES})

    page = manager_client.get(WORKING_TIMES, HTTP_ACCEPT_LANGUAGE="en")
    assert '<html lang="en"' in page.content.decode()


@pytest.mark.parametrize(
    ("language", "words"),
    [("ja", "未保存"), ("zh-hant", "尚未儲存"), ("zh-hans", "尚未保存")],
)
def test_the_javascript_catalogue_is_served_in_the_language(client, language, words):
    response = client.get(reverse("javascript-catalog"), HTTP_ACCEPT_LANGUAGE=language)

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/javascript")
    text = response.content.decode()
    assert words in text or json.dumps(words)[1:-1] in text


def test_the_settings_page_loads_the_javascript_catalogue_first(manager_client):
    html = manager_client.get(WORKING_TIMES).content.decode()

    assert html.index(reverse("javascript-catalog")) < html.index("chatassist/settings.js")


@pytest.mark.parametrize(
    ("language", "message"),
    [
        ("en", "Monday 01:00–03:00 overlaps Sunday 22:00–02:00 (next day)."),
        ("zh-hant", "星期一 01:00–03:00 與 星期日 22:00–02:00（隔天） 重疊。"),
        ("zh-hans", "星期一 01:00–03:00 与 星期日 22:00–02:00（次日） 重叠。"),
        ("ja", "月曜日 01:00–03:00 が 日曜日 22:00–02:00（翌日） と重なっています。"),
    ],
)
def test_a_validation_error_names_the_weekdays_as_the_form_does(manager_client, language, message):
    form = {
        "name": "Night",
        "timezone": "Asia/Taipei",
        "sun-start": "22:00",
        "sun-end": "02:00",
        "mon-start": "01:00",
        "mon-end": "03:00",
    }

    response = manager_client.post(CREATE, form, HTTP_ACCEPT_LANGUAGE=language)

    monday = response.context["dialog"].form.days[0]
    assert monday.ranges[0].error == message
    assert message in response.content.decode()
    assert not WorkingTime.objects.exists()


@pytest.mark.parametrize(
    ("language", "message"),
    [
        ("en", "Choose a time zone from the list."),
        ("zh-hant", "請從清單中選擇時區。"),
        ("ja", "一覧からタイムゾーンを選んでください。"),
    ],
)
def test_saving_without_a_zone_says_so_in_the_language(manager_client, language, message):
    response = manager_client.post(
        CREATE,
        {"name": "X", "mon-start": "09:00", "mon-end": "18:00"},
        HTTP_ACCEPT_LANGUAGE=language,
    )

    assert response.context["dialog"].form.errors["timezone"] == [message]


@pytest.mark.parametrize(
    ("query", "zones"),
    [
        ("beijing", ["Asia/Shanghai"]),
        ("北京市", ["Asia/Shanghai"]),
        ("台北", ["Asia/Taipei"]),
        ("大阪", ["Asia/Tokyo"]),
    ],
)
def test_the_search_endpoint_finds_zones(manager_client, query, zones):
    response = manager_client.get(
        reverse("chat_assistant:time-zone-search"), {"q": query}, HTTP_ACCEPT_LANGUAGE="ja"
    )

    assert response.status_code == 200
    answer = response.json()
    assert [entry["zone"] for entry in answer["zones"]] == zones
    assert answer["message"] == ""


def test_the_search_endpoint_says_when_nothing_matches_in_the_language(manager_client):
    url = reverse("chat_assistant:time-zone-search")

    answer = manager_client.get(url, {"q": "zzzz"}, HTTP_ACCEPT_LANGUAGE="zh-hant").json()

    assert answer["zones"] == []
    assert answer["message"].startswith("沒有符合「zzzz」的時區。")


def test_the_search_endpoint_is_for_managers_only(client):
    response = client.get(reverse("chat_assistant:time-zone-search"), {"q": "taipei"})

    assert response.status_code == 302  # to the admin's login


@pytest.mark.parametrize(
    ("stored", "language", "shown"),
    [
        ("never assigned", "ja", "割り当て履歴なし"),
        ("last assigned 3 h 12 min ago", "zh-hant", "上次指派於 3 小時 12 分鐘前"),
        ("last assigned 2 d 4 h ago", "ja", "前回の割り当ては 2日4時間前"),
        (
            "from the waiting queue; last assigned 45 s ago",
            "zh-hans",
            "来自等待队列；上次分配于 45 秒前",
        ),
        ("manual by anna", "ja", "anna による手動割り当て"),
        ("returned to the waiting queue: Mei is away", "zh-hant", "退回等候佇列：Mei 暫離"),
        ("last assigned 3 h 12 min ago", "en", "last assigned 3 h 12 min ago"),
        (
            "reassigned: Alice did not answer for 12 min; last assigned 3 h 5 min ago",
            "ja",
            "再割り当て：Alice が 12分応答しませんでした。前回の割り当ては 3時間5分前",
        ),
        (
            "reassigned: Alice did not answer for 1 h 2 min; never assigned",
            "zh-hant",
            "改派：Alice 1 小時 2 分鐘未回覆；從未被指派",
        ),
        (
            "reassigned: Alice did not answer for 12 min; from the waiting queue; never assigned",
            "zh-hans",
            "改派：Alice 12 分钟未回复；来自等待队列；从未被分配",
        ),
        (
            "returned to the waiting queue: Mei's working hours (Taipei day) ended with it "
            "unanswered",
            "zh-hant",
            "退回等候佇列：Mei 的工作時間（Taipei day）結束時仍未回覆",
        ),
        (
            "returned to the waiting queue: Mei's working hours (their working time) ended with "
            "it unanswered",
            "ja",
            "待機キューに戻しました：Mei の勤務時間が未応答のまま終わりました",
        ),
        (
            "returned to the waiting queue by an operator (Mei is not away)",
            "zh-hans",
            "由操作人员退回等待队列（Mei 并未暂离）",
        ),
        (
            "reassigned: Alice did not answer for 12 min; last assigned 3 h 5 min ago",
            "en",
            "reassigned: Alice did not answer for 12 min; last assigned 3 h 5 min ago",
        ),
        # A reassignment whose why is not of the grammar is shown whole, as stored.
        (
            "reassigned: Alice did not answer for 12 min; by the night script",
            "ja",
            "reassigned: Alice did not answer for 12 min; by the night script",
        ),
        (
            "reassigned: Alice did not answer for 12 min; manual by anna",
            "ja",
            "reassigned: Alice did not answer for 12 min; manual by anna",
        ),
        (
            "reassigned: Alice did not answer for a while; never assigned",
            "ja",
            "reassigned: Alice did not answer for a while; never assigned",
        ),
        # Not of the grammar (an older or newer wording): shown as stored, never guessed.
        ("assigned by the night script", "ja", "assigned by the night script"),
        ("from the waiting queue; something new", "ja", "from the waiting queue; something new"),
    ],
)
def test_a_stored_reason_reads_in_the_readers_language(stored, language, shown):
    with translation.override(language):
        assert reason_in_language(stored) == shown


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_hand_over_reasons_leave_no_english(language):
    """Every reason form the hand-overs write, in each language: none of its words left."""
    stored = [
        "reassigned: Alice did not answer for 12 min; last assigned 2 d 4 h ago",
        "reassigned: Alice did not answer for 45 s; from the waiting queue; never assigned",
        "returned to the waiting queue: Mei's working hours (Night) ended with it unanswered",
        "returned to the waiting queue: Mei's working hours (their working time) ended with it "
        "unanswered",
        "returned to the waiting queue: Mei is away",
        "returned to the waiting queue by an operator (Mei is not away)",
    ]
    with translation.override(language):
        shown = [reason_in_language(reason) for reason in stored]

    for text in shown:
        words = re.findall(r"[A-Za-z]{2,}", text)
        assert set(words) <= {"Alice", "Mei", "Night"}, text


def test_the_admin_shows_the_reason_in_the_readers_language(manager_client, cast, auto_assign_on):
    from tests.factories import ChatSessionFactory

    ChatSessionFactory()

    listed = manager_client.get(
        reverse("admin:assignment_assignmentevent_changelist"), HTTP_ACCEPT_LANGUAGE="ja"
    )

    assert '<td class="field-reason_text">割り当て履歴なし</td>' in listed.content.decode()


@pytest.mark.parametrize(
    ("language", "long", "short"),
    [
        ("en", "Tue 1 Dec 2026, 19:34", "Tue 1 Dec, 19:34"),
        ("zh-hant", "2026年12月1日 (星期二) 19:34", "12月1日 (星期二) 19:34"),
        ("zh-hans", "2026年12月1日 (星期二) 19:34", "12月1日 (星期二) 19:34"),
        ("ja", "2026年12月1日(火) 19:34", "12月1日(火) 19:34"),
    ],
)
def test_one_date_style_per_language(language, long, short):
    instant = datetime(2026, 12, 1, 19, 34, tzinfo=UTC)

    with translation.override(language), timezone.override(UTC):
        assert date_format(instant, "DATETIME_FORMAT") == long
        assert date_format(instant, "SHORT_DATETIME_FORMAT") == short
        assert date_format(instant, "TIME_FORMAT") == "19:34"


def test_the_admin_and_the_reports_write_an_instant_alike(manager_client, always_on):
    StaffFactory(
        name="Mei",
        working_time=always_on,
        last_assigned_at=datetime(2026, 12, 1, 19, 34, tzinfo=UTC),
    )
    with override_settings(TIME_ZONE="UTC", STORE_TIME_ZONE="UTC"):
        report = manager_client.get(
            reverse("chatassist_reports:next_in_line"), HTTP_ACCEPT_LANGUAGE="ja"
        )
        admin_page = manager_client.get(
            reverse("admin:staff_staff_change", args=[Staff.objects.get().pk]),
            HTTP_ACCEPT_LANGUAGE="ja",
        )

    assert "12月1日(火) 19:34" in report.content.decode()
    assert "2026年12月1日(火) 19:34" in admin_page.content.decode()


@pytest.mark.parametrize(
    ("language", "words"),
    [
        ("en", "Try again in 15 min, or ask an administrator to unlock it."),
        ("zh-hant", "15 分鐘"),
        ("zh-hans", "15 分钟"),
        ("ja", "15分"),
    ],
)
def test_the_lockout_page_speaks_the_language(client, django_user_model, language, words):
    django_user_model.objects.create_superuser("manager", "m@example.com", "right-password-1")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(
            "/admin/login/",
            {"username": "manager", "password": "wrong"},
            HTTP_ACCEPT_LANGUAGE=language,
        )

    locked = client.post(
        "/admin/login/",
        {"username": "manager", "password": "right-password-1"},
        HTTP_ACCEPT_LANGUAGE=language,
    )

    assert locked.status_code == 429
    text = visible_text(locked.content.decode())
    assert words in text
    if language != "en":
        assert [english for english in english_of_ours(language) if english in text] == []
