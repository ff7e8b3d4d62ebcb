"""ALTCHA proof of work, its no-script fallback, and spent solutions."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import AsyncIterator
from dataclasses import replace

import httpx
import pytest
from altcha import Challenge, solve_challenge
from itsdangerous import TimestampSigner
from starlette.applications import Starlette

from mailbox.app import create_app
from mailbox.clock import FixedClock
from mailbox.db.database import Database
from mailbox.settings import Settings
from tests.helpers import GOOD_LETTER, count_rows, csrf_from


@pytest.fixture
async def guarded(settings: Settings, clock: FixedClock) -> AsyncIterator[Starlette]:
    app = create_app(replace(settings, spam_challenge="on"), clock=clock, run_mail_worker=False)
    async with app.router.lifespan_context(app):
        yield app


@pytest.fixture
async def browser(guarded: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=guarded, client=("203.0.113.9", 4000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


async def solved_payload(client: httpx.AsyncClient) -> str:
    challenge = (await client.get("/altcha/challenge")).json()
    solution = solve_challenge(Challenge.from_dict(challenge))
    assert solution is not None
    data = {"challenge": challenge, "solution": solution.to_dict()}
    return base64.b64encode(json.dumps(data).encode()).decode()


async def post(client: httpx.AsyncClient, **extra: str) -> httpx.Response:
    page = await client.get("/write/consult")
    assert "altcha-widget" in page.text
    return await client.post(
        "/write/consult", data={**GOOD_LETTER, "csrf_token": csrf_from(page.text), **extra}
    )


def old_stamp(settings: Settings, seconds: int) -> str:
    class Earlier(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(time.time()) - seconds

    return Earlier(settings.secret_key, salt="form-stamp").sign(b"form").decode()


async def test_a_solved_challenge_is_accepted_once(
    browser: httpx.AsyncClient, guarded: Starlette
) -> None:
    payload = await solved_payload(browser)
    assert (await post(browser, altcha=payload)).status_code == 303
    assert (await post(browser, altcha=payload)).status_code == 429  # replayed
    db: Database = guarded.state.db
    assert await db.fetch_value("SELECT challenge FROM letters") == "pow"
    assert await count_rows(db, "letters") == 1


async def test_a_forged_solution_is_refused_with_the_text_kept(
    browser: httpx.AsyncClient, guarded: Starlette
) -> None:
    payload = await solved_payload(browser)
    forged = json.loads(base64.b64decode(payload))
    forged["solution"]["counter"] += 1
    response = await post(browser, altcha=base64.b64encode(json.dumps(forged).encode()).decode())
    assert response.status_code == 400 and GOOD_LETTER["body"] in response.text
    assert await count_rows(guarded.state.db, "letters") == 0


async def test_without_scripts_a_letter_is_accepted_after_a_pause(
    browser: httpx.AsyncClient, guarded: Starlette
) -> None:
    settings: Settings = guarded.state.settings
    too_fast = await post(browser, form_stamp=old_stamp(settings, 0))
    assert too_fast.status_code == 400
    for _ in range(3):
        assert (await post(browser, form_stamp=old_stamp(settings, 60))).status_code == 303
    assert (await post(browser, form_stamp=old_stamp(settings, 60))).status_code == 429
    assert (
        await guarded.state.db.fetch_value(
            "SELECT COUNT(*) FROM letters WHERE challenge = 'fallback'"
        )
        == 3
    )


async def test_a_made_up_stamp_is_refused(browser: httpx.AsyncClient) -> None:
    assert (await post(browser, form_stamp="form.made-up")).status_code == 400


async def test_the_challenge_endpoint_is_off_when_the_challenge_is(
    client: httpx.AsyncClient,
) -> None:
    assert (await client.get("/altcha/challenge")).status_code == 404
    assert "altcha-widget" not in (await client.get("/write/consult")).text


async def test_a_re_encoded_solution_is_still_the_same_solution(
    browser: httpx.AsyncClient, guarded: Starlette
) -> None:
    payload = await solved_payload(browser)
    assert (await post(browser, altcha=payload)).status_code == 303
    spaced = json.dumps(json.loads(base64.b64decode(payload)), indent=2)
    again = base64.b64encode(spaced.encode()).decode()
    assert (await post(browser, altcha=again)).status_code == 429
    assert await count_rows(guarded.state.db, "letters") == 1
