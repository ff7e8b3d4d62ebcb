"""200 simultaneous submissions: one SQLite server, or two server processes on PostgreSQL."""

from __future__ import annotations

import asyncio
from contextlib import ExitStack
from pathlib import Path

import httpx
import pytest

from mailbox.db.database import open_database
from tests.helpers import GOOD_LETTER, csrf_from
from tests.live import running_server, server_environment

SUBMISSIONS = 200

pytestmark = pytest.mark.slow


async def submit_all(urls: list[str]) -> list[httpx.Response]:
    limits = httpx.Limits(max_connections=SUBMISSIONS, max_keepalive_connections=SUBMISSIONS)
    async with httpx.AsyncClient(limits=limits, timeout=60) as client:
        form = await client.get(f"{urls[0]}/write/complaint")
        token = csrf_from(form.text)  # one browser's token and cookie, valid on every server
        data = {**GOOD_LETTER, "csrf_token": token}
        return await asyncio.gather(
            *(
                client.post(f"{urls[i % len(urls)]}/write/complaint", data=data)
                for i in range(SUBMISSIONS)
            )
        )


async def test_simultaneous_submissions_are_all_stored_once(
    database_url: str, tmp_path: Path
) -> None:
    servers = 1 if database_url.startswith("sqlite") else 2
    env = server_environment(database_url, tmp_path / "var", submit_limit="0")
    with ExitStack() as stack:
        urls = [
            stack.enter_context(running_server(env, log=tmp_path / f"server{n}.log"))
            for n in range(servers)
        ]
        responses = await submit_all(urls)
    assert [r.status_code for r in responses] == [303] * SUBMISSIONS
    db = open_database(database_url)
    await db.connect()
    try:
        assert await db.fetch_value("SELECT COUNT(*) FROM letters") == SUBMISSIONS
        assert await db.fetch_value("SELECT COUNT(DISTINCT tracking_no) FROM letters") == (
            SUBMISSIONS
        )
        assert await db.fetch_value("SELECT COUNT(*) FROM letter_events") == SUBMISSIONS
        assert await db.fetch_value("SELECT COUNT(*) FROM outbox") == SUBMISSIONS
        orphans = await db.fetch_value(
            "SELECT COUNT(*) FROM letters l WHERE NOT EXISTS"
            " (SELECT 1 FROM letter_events e WHERE e.letter_id = l.id)"
        )
        assert orphans == 0
    finally:
        await db.close()
