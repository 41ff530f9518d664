"""The settings page in Traditional Chinese and Japanese, in headless Chromium: the language
menu in the admin header, and the time zone picker's search (city names in any of our
languages, offsets, a search that finds nothing). Screenshots: tests/e2e/screenshots/
(fonts-noto-cjk draws the characters; .ci/run installs it)."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from staff.models import WorkingTime
from tests.factories import StaffFactory, make_working_time

pytestmark = pytest.mark.django_db(transaction=True)


def visible_zones(page: Page) -> list[str]:
    return page.locator("#ca-working-time-dialog select[name=timezone]").evaluate(
        "select => Array.from(select.options).filter(o => !o.hidden && o.value).map(o => o.value)"
    )


def choose_language(page: Page, code: str) -> None:
    with page.expect_navigation():
        page.locator("#ca-language").select_option(code)
    expect(page.locator("html")).to_have_attribute("lang", code)


def search(page: Page, text: str) -> None:
    dialog = page.locator("#ca-working-time-dialog")
    dialog.locator("[data-zone-search]").fill(text)
    # The list shows this search's answer (each keystroke asks the server).
    expect(dialog.locator("[data-zone-status]")).to_have_attribute("data-query", text)


def test_the_picker_finds_beijing_taipei_and_gmt_plus_8_in_chinese(
    logged_in_manager, live_server, screenshot
):
    page = logged_in_manager
    make_working_time("Always")
    StaffFactory(name="Mei Lin")
    page.goto(f"{live_server.url}/admin/chat-assistant/")
    choose_language(page, "zh-hant")
    expect(page.locator("#ca-panel-title")).to_have_text("工作時段")
    screenshot("01-zh-hant-working-time-tab")
    page.get_by_role("link", name="自動指派對話").first.click()
    expect(page.locator("#ca-panel-title")).to_have_text("自動指派對話")
    screenshot("02-zh-hant-automatic-assignment-tab")
    page.get_by_role("link", name="工作時段", exact=True).first.click()

    page.get_by_role("link", name="建立工作時段").click()
    dialog = page.locator("#ca-working-time-dialog")
    select = dialog.locator("select[name=timezone]")
    expect(dialog).to_be_visible()
    expect(select).to_have_value("")  # nothing chosen for the manager
    screenshot("03-zh-hant-pop-up")

    search(page, "beijing")
    assert visible_zones(page) == ["Asia/Shanghai"]
    expect(select).to_have_value("Asia/Shanghai")
    expect(select.locator("option:checked")).to_have_text("(UTC+08:00) 上海, 中國 — Asia/Shanghai")

    search(page, "台北")
    assert visible_zones(page) == ["Asia/Taipei"]
    expect(select).to_have_value("Asia/Taipei")
    screenshot("04-zh-hant-search-taipei")

    search(page, "GMT+8")
    zones = visible_zones(page)
    assert {"Asia/Shanghai", "Asia/Taipei", "Asia/Hong_Kong", "Asia/Singapore"} <= set(zones)
    assert "Etc/GMT+8" not in zones and "America/Los_Angeles" not in zones
    expect(dialog.locator("[data-zone-status]")).to_have_text(f"有 {len(zones)} 個時區符合。")

    # Nothing matches: said so, and nothing stays chosen behind the manager's back.
    search(page, "zzzz")
    expect(dialog.locator("[data-zone-status]")).to_contain_text("沒有符合「zzzz」的時區。")
    assert visible_zones(page) == []
    expect(select).to_have_value("")
    dialog.get_by_label("名稱").fill("北京辦公室")
    screenshot("05-zh-hant-search-no-match")
    dialog.get_by_role("button", name="儲存", exact=True).click()
    expect(dialog.locator("#ca-timezone-error")).to_have_text("請從清單中選擇時區。")
    assert not WorkingTime.objects.filter(name="北京辦公室").exists()
    screenshot("06-zh-hant-save-refused")

    # Found and chosen: saved with the zone the manager saw.
    search(page, "北京")
    expect(select).to_have_value("Asia/Shanghai")
    dialog.get_by_role("button", name="儲存", exact=True).click()
    expect(page.locator(".messagelist")).to_contain_text("已建立工作時段「北京辦公室」。")
    assert WorkingTime.objects.get(name="北京辦公室").timezone == "Asia/Shanghai"


def test_the_settings_page_in_japanese_finds_osaka(logged_in_manager, live_server, screenshot):
    page = logged_in_manager
    make_working_time("Always")
    StaffFactory(name="Sato Yui")
    page.goto(f"{live_server.url}/admin/chat-assistant/")
    choose_language(page, "ja")
    expect(page.locator("#ca-panel-title")).to_have_text("勤務時間帯")
    screenshot("01-ja-working-time-tab")
    page.goto(f"{live_server.url}/admin/chat-assistant/automatic-assignment/")
    expect(page.locator("#ca-panel-title")).to_have_text("セッションの自動割り当て")  # remembered
    screenshot("02-ja-automatic-assignment-tab")

    page.goto(f"{live_server.url}/admin/chat-assistant/")
    page.get_by_role("link", name="勤務時間帯を作成").click()
    dialog = page.locator("#ca-working-time-dialog")
    expect(dialog.locator(".ca-day-name").first).to_have_text("月曜日")
    screenshot("03-ja-pop-up")
    search(page, "大阪")
    assert visible_zones(page) == ["Asia/Tokyo"]
    expect(dialog.locator("select[name=timezone] option:checked")).to_have_text(
        "(UTC+09:00) 東京, 日本 — Asia/Tokyo"
    )
    dialog.get_by_label("名前").fill("大阪店")
    screenshot("04-ja-search-osaka")
    dialog.get_by_role("button", name="保存", exact=True).click()
    expect(page.locator(".messagelist")).to_contain_text("勤務時間帯「大阪店」を作成しました。")
    assert WorkingTime.objects.get(name="大阪店").timezone == "Asia/Tokyo"
