"""Browser fixtures for the end-to-end tests: Debian's chromium driven by Playwright, a live
server, and a real RQ worker process sharing the test database file."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

# Playwright's sync API runs an event loop in this thread; Django's ORM must still be usable.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists() or shutil.which(CHROMIUM) is None:
        pytest.skip("chromium is not installed at /usr/bin/chromium")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


# The Content-Security-Policy is checked on every page a browser test opens. Chromium reports a
# blocked inline script, style or resource as a console error and fires `securitypolicyviolation`;
# this script, run first in every document, turns each event into a console line too, so one
# console listener per page sees both (across navigations, which a page-side list would not survive).
CSP_REPORTER = """
document.addEventListener("securitypolicyviolation", function (e) {
  window.__cspViolations = (window.__cspViolations || 0) + 1;  // a test waits for this count
  console.error("CSP violation: " + e.violatedDirective + " blocked " + (e.blockedURI || "inline") +
                " in " + e.documentURI + " (" + (e.sourceFile || "") + ":" + e.lineNumber + ")");
});
"""


def is_csp_report(text: str) -> bool:
    return text.startswith("CSP violation:") or "Content Security Policy" in text


def watch_csp(context, sink: list) -> None:
    """Append every CSP violation reported in `context`'s pages (popups included) to `sink`."""
    context.add_init_script(CSP_REPORTER)

    def on_console(message):
        if message.type == "error" and is_csp_report(message.text):
            sink.append(message.text)

    context.on("console", on_console)


@pytest.fixture
def parts(fresh_sandbox, vault_profile, zoho_profile):
    """The sandbox and its two profiles, by name."""
    return {"fresh_sandbox": fresh_sandbox, "vault_profile": vault_profile, "zoho_profile": zoho_profile}


@pytest.fixture
def new_page(browser):
    contexts, violations = [], []

    def make():
        context = browser.new_context(viewport={"width": 1280, "height": 860}, accept_downloads=True)
        context.set_default_timeout(20_000)
        watch_csp(context, violations)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()
    if violations:
        pytest.fail("Content-Security-Policy violations while the test ran:\n" + "\n".join(dict.fromkeys(violations)))


@pytest.fixture
def login(live_server):
    def do(page, username, password):
        page.goto(live_server.url + "/accounts/login/")
        page.fill("#id_username", username)
        page.fill("#id_password", password)
        page.click("button[type=submit]")
        page.wait_for_url(live_server.url + "/")
        return page

    return do


@pytest.fixture
def screenshot(tmp_path):
    """Save a page's screenshot: into docs/screenshots/ when SAVE_SCREENSHOTS=1 (to refresh the
    README's pictures), else into the test's temp dir so a test run leaves the tree clean."""
    folder = SCREENSHOTS if os.environ.get("SAVE_SCREENSHOTS") == "1" else tmp_path
    folder.mkdir(parents=True, exist_ok=True)

    def take(page, name):
        path = folder / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        assert path.stat().st_size > 0

    return take


@pytest.fixture
def rq_worker(redis_url, transactional_db, live_server):
    """A real `manage.py rqworker` process on the test Redis and the test database file."""
    from django.db import connection

    from tests.dburl import worker_database_url

    name = connection.settings_dict["NAME"]
    if connection.vendor != "sqlite" or name.startswith("file:") or ":memory:" in name:
        pytest.skip("the worker process needs the test database in a file")
    env = dict(os.environ, REDIS_URL=redis_url, DATABASE_URL=worker_database_url(), DEBUG="true")
    proc = subprocess.Popen(
        [sys.executable, "manage.py", "rqworker", "plans", "default", "--with-scheduler"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    yield proc
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
