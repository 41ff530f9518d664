"""Browser tests: Playwright driving Debian's Chromium against pytest-django's live server.

Screenshots of each step go to tests/e2e/screenshots/ (kept out of git); open them with any
image viewer after a run.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest

# Playwright's sync API runs an event loop in this thread; Django would then refuse
# database calls from the test body, which are safe here (one thread, test data only).
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
SCREENSHOTS = Path(__file__).parent / "screenshots"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def pytest_collection_modifyitems(config, items):
    if shutil.which(CHROMIUM) or Path(CHROMIUM).exists():
        return
    skip = pytest.mark.skip(reason=f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    for item in items:
        if "e2e" in str(item.fspath):
            item.add_marker(skip)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_FLAGS}


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {**browser_context_args, "viewport": {"width": 1280, "height": 900}}


@pytest.fixture
def screenshot(page, request):
    """``screenshot("03-toggle-refused")`` saves the page as <test name>--<step>.png."""
    SCREENSHOTS.mkdir(exist_ok=True)
    test_name = re.sub(r"[^A-Za-z0-9_-]+", "_", request.node.name)

    def take(step: str, *, full_page: bool = True) -> Path:
        path = SCREENSHOTS / f"{test_name}--{step}.png"
        page.screenshot(path=str(path), full_page=full_page)
        return path

    return take


@pytest.fixture
def manager_password() -> str:
    return "manager-password-for-tests"


@pytest.fixture
def logged_in_manager(page, live_server, transactional_db, manager_password):
    """A superuser logged in through the real admin login form."""
    from django.contrib.auth import get_user_model

    get_user_model().objects.create_superuser("manager", "manager@example.com", manager_password)
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", "manager")
    page.fill("#id_password", manager_password)
    page.click("input[type=submit]")
    page.wait_for_url(f"{live_server.url}/admin/")
    return page


# Every browser test also checks the Content-Security-Policy (chatassist/settings.py): the
# policy is enforced (not report-only), and anything it refuses, an inline script or
# style, a foreign source, shows up as a `securitypolicyviolation` event and a console error.
_REPORT_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (event) => {
  console.error(`CSP violation: ${event.violatedDirective} blocked ${event.blockedURI}`);
});
"""


@pytest.fixture(autouse=True)
def no_csp_violations(request):
    """Fails the test if the page hit any Content-Security-Policy violation, or a script
    of ours failed (a page error). Other console errors are not counted: a test may load
    a page that answers 403 on purpose, which Chromium logs as one."""
    if "page" not in request.fixturenames:
        yield []
        return
    page = request.getfixturevalue("page")
    errors: list[str] = []
    page.add_init_script(_REPORT_VIOLATIONS)
    page.on(
        "console",
        lambda message: (
            message.type == "error"
            and ("Content Security Policy" in message.text or "CSP violation" in message.text)
            and errors.append(message.text)
        ),
    )
    page.on("pageerror", lambda error: errors.append(f"uncaught: {error}"))
    yield errors
    assert errors == [], "Content-Security-Policy violations or script errors in the browser"
