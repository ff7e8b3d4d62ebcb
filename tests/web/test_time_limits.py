"""No time limit on the public forms (WCAG 2.2.1, 适老化): a writer may take as long as needed.

The CSRF token is a random value signed with the secret key, without a time in it, kept in a
browser-session cookie; the form stamp only asks for a few seconds at least, never at most.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from dataclasses import replace

import httpx
import pytest
from itsdangerous import TimestampSigner
from starlette.applications import Starlette

from mailbox.app import create_app
from mailbox.clock import FixedClock
from mailbox.settings import Settings
from tests.helpers import GOOD_LETTER, count_rows, csrf_from

A_DAY = 24 * 3600


@pytest.fixture
async def office(settings: Settings, clock: FixedClock) -> AsyncIterator[Starlette]:
    """The app as an office runs it: the spam challenge on (the default)."""
    app = create_app(replace(settings, spam_challenge="on"), clock=clock, run_mail_worker=False)
    async with app.router.lifespan_context(app):
        yield app


@pytest.fixture
async def browser(office: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=office, client=("203.0.113.20", 4000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


def stamp_from(settings: Settings, seconds_ago: int) -> str:
    """The form stamp of a page shown that long ago."""

    class Earlier(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(time.time()) - seconds_ago

    return Earlier(settings.secret_key, salt="form-stamp").sign(b"form").decode()


async def test_a_letter_written_over_a_whole_day_is_accepted(
    browser: httpx.AsyncClient, office: Starlette, clock: FixedClock
) -> None:
    page = await browser.get("/write/consult")
    cookie = page.headers["set-cookie"].lower()
    assert cookie.startswith("mb_csrf=")
    # A browser-session cookie: it lasts as long as the browser is open, not a set time.
    assert "max-age" not in cookie and "expires" not in cookie
    clock.advance(days=1)
    # Without the ALTCHA solution (no scripts, or the widget's challenge ran out meanwhile)
    # the stamp of a page shown a day ago still passes.
    sent = await browser.post(
        "/write/consult",
        data={
            **GOOD_LETTER,
            "csrf_token": csrf_from(page.text),
            "form_stamp": stamp_from(office.state.settings, A_DAY),
        },
    )
    assert sent.status_code == 303, sent.text
    assert await count_rows(office.state.db, "letters") == 1


async def test_the_track_form_has_no_time_limit(
    browser: httpx.AsyncClient, clock: FixedClock
) -> None:
    page = await browser.get("/track")
    clock.advance(days=3)
    checked = await browser.post(
        "/track",
        data={
            "csrf_token": csrf_from(page.text),
            "tracking_no": "20260101000000",
            "query_code": "X",
        },
    )
    # Refused for the numbers (no such letter), not because the page is too old.
    assert checked.status_code == 404
    assert 'aria-invalid="true"' in checked.text
