import pytest

pytestmark = pytest.mark.django_db(transaction=True)


def test_manager_logs_in_and_sees_the_admin_index(logged_in_manager, screenshot):
    page = logged_in_manager

    assert page.locator("#site-name").inner_text() == "Chat Assist"
    assert (
        page.locator("#content-main").get_by_role("link", name="Chat sessions", exact=True).count()
        == 1
    )
    screenshot("admin-index")
