"""Fixtures for the browser tests: Debian's Chromium driven by Playwright, a real server.

The tests in this folder skip themselves when /usr/bin/chromium is missing; these fixtures
are only set up for tests that run.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

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
PHONE = {
    "viewport": {"width": 360, "height": 740},
    "is_mobile": True,
    "has_touch": True,
    "device_scale_factor": 2,
    "locale": "zh-CN",
}
DESKTOP = {"viewport": {"width": 1024, "height": 768}, "locale": "zh-CN"}
TIMEOUT_MS = 10_000


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
    env = server_environment(f"sqlite+aiosqlite:///{database}", folder / "var", org_name="测试厅")
    # Set afterwards: server_environment(spam_challenge=...) collides with its own default.
    env.update({f"MAILBOX_{key.upper()}": value for key, value in settings.items()})
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


@pytest.fixture
def phone_page(browser: Browser, server: str) -> Iterator[Page]:
    """A fresh 360x740 phone (no cookies) with Chinese as the browser's language."""
    context = _context(browser, server, PHONE)
    try:
        yield context.new_page()
    finally:
        context.close()


@pytest.fixture
def page(browser: Browser, server: str) -> Iterator[Page]:
    """A fresh desktop browser window (no cookies) with Chinese as the browser's language."""
    context = _context(browser, server, DESKTOP)
    try:
        yield context.new_page()
    finally:
        context.close()


@pytest.fixture
def new_page(browser: Browser) -> Iterator[Callable[..., Page]]:
    """Opens pages on any server: new_page(base_url, **context options)."""
    contexts: list[BrowserContext] = []

    def make(base_url: str, **options: object) -> Page:
        context = _context(browser, base_url, {**DESKTOP, **options})
        contexts.append(context)
        return context.new_page()

    try:
        yield make
    finally:
        for context in contexts:
            context.close()
