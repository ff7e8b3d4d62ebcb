"""Fixtures for the browser tests: Debian's Chromium driven by Playwright, a real server.

The tests in this folder skip themselves when /usr/bin/chromium is missing; these fixtures
are only set up for tests that run.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Page, sync_playwright

from tests.live import migrate, running_server, server_environment

CHROMIUM = Path("/usr/bin/chromium")
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PHONE: dict[str, object] = {
    "viewport": {"width": 360, "height": 740},
    "is_mobile": True,
    "has_touch": True,
    "device_scale_factor": 2,
    "locale": "zh-CN",
}
DESKTOP: dict[str, object] = {"viewport": {"width": 1024, "height": 768}, "locale": "zh-CN"}
TIMEOUT_MS = 10_000


def require_chromium() -> None:
    """Called at the top of each browser test module: skip it, with the reason shown, where
    Chromium is missing; in CI, which installs it, a missing browser fails the build."""
    if CHROMIUM.exists():
        return
    if os.environ.get("CI"):
        pytest.fail("Debian's chromium is missing in CI", pytrace=False)
    pytest.skip(
        "Debian's chromium is not installed (apt-get install -y chromium)",
        allow_module_level=True,
    )


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@contextmanager
def started_server(
    tmp_path_factory: pytest.TempPathFactory, name: str, **settings: str
) -> Iterator[tuple[str, Path]]:
    """A migrated SQLite database in a fresh folder and a `serve` process on loopback:
    the server's base URL and the database file."""
    folder = tmp_path_factory.mktemp(name)
    database = folder / "mailbox.sqlite3"
    env = server_environment(f"sqlite+aiosqlite:///{database}", folder / "var", **settings)
    migrate(env)
    with running_server(env, "--no-worker", log=folder / "server.log") as url:
        yield url, database


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The shared server, with the spam challenge off (server_environment's default)."""
    with started_server(tmp_path_factory, "browser-server") as (url, _database):
        yield url


def _context(browser: Browser, base_url: str, options: dict[str, object]) -> BrowserContext:
    context = browser.new_context(base_url=base_url, **options)  # type: ignore[arg-type]
    context.set_default_timeout(TIMEOUT_MS)
    return context


def _watch(page: Page, problems: list[str]) -> Page:
    """Collect script errors and console errors (CSP violations, failed loads) of a page."""

    def on_console(message: ConsoleMessage) -> None:
        url = message.location.get("url", "")
        # A page answered with 400 or 404 on purpose is reported as a failed load too; only
        # the page's own files count (Chromium's /favicon.ico request does not: there is none).
        failed_page = message.text.startswith("Failed to load resource") and not re.search(
            r"//[^/]+/(static|altcha)/", url
        )
        if message.type == "error" and not failed_page:
            problems.append(f"console: {message.text} ({url})")

    page.on("console", on_console)
    page.on("pageerror", lambda error: problems.append(f"script error: {error}"))
    return page


def _open(browser: Browser, base_url: str, options: dict[str, object]) -> Iterator[Page]:
    context = _context(browser, base_url, options)
    problems: list[str] = []
    try:
        yield _watch(context.new_page(), problems)
    finally:
        context.close()
    assert not problems, "the browser reported errors:\n" + "\n".join(problems)


@pytest.fixture
def phone_page(browser: Browser, server: str) -> Iterator[Page]:
    """A fresh 360x740 phone (no cookies) with Chinese as the browser's language."""
    yield from _open(browser, server, PHONE)


@pytest.fixture
def page(browser: Browser, server: str) -> Iterator[Page]:
    """A fresh desktop browser window (no cookies) with Chinese as the browser's language."""
    yield from _open(browser, server, DESKTOP)


@pytest.fixture
def new_page(browser: Browser) -> Iterator[Callable[..., Page]]:
    """Opens pages on any server: new_page(base_url, **context options)."""
    contexts: list[BrowserContext] = []
    problems: list[str] = []

    def make(base_url: str, **options: object) -> Page:
        context = _context(browser, base_url, {**DESKTOP, **options})
        contexts.append(context)
        return _watch(context.new_page(), problems)

    try:
        yield make
    finally:
        for context in contexts:
            context.close()
    assert not problems, "the browser reported errors:\n" + "\n".join(problems)
