"""The SMTP server is down for two minutes while citizens keep writing: none of them sees an
error page, and once it is back every receipt is delivered exactly once.

The worker retries each receipt with its production backoff (30 s, doubling). After the
outage the test moves the waiting receipts' next attempt to now, as if their backoff had run
out, and the worker's own 5 s poll (or the next submission's wake-up) sends them: otherwise
the last ones would wait up to another two minutes."""

from __future__ import annotations

import asyncio
import os
import re
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from mailbox.db.database import open_database
from tests.faults.mailsink import delivered_once, recipients
from tests.helpers import GOOD_LETTER, csrf_from
from tests.live import migrate, running_server, server_environment
from tests.mail.conftest import SmtpServer

pytestmark = pytest.mark.slow

# The two minutes; MAILBOX_TEST_SMTP_OUTAGE shortens it when working on this test.
OUTAGE = float(os.environ.get("MAILBOX_TEST_SMTP_OUTAGE", "120"))
CITIZENS = 4
DELIVERY_WAIT = 60.0


class Citizens:
    """Browsers writing letters one after another: form, submit, receipt page."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.emails: list[str] = []
        self.running = True

    async def write(self, number: int) -> None:
        async with httpx.AsyncClient(base_url=self.url, timeout=30) as browser:
            token = csrf_from((await browser.get("/write/consult")).text)
            sent = 0
            while self.running:
                sent += 1
                email = f"citizen{number}-{sent}@example.com"
                data = {**GOOD_LETTER, "email": email, "csrf_token": token}
                posted = await browser.post("/write/consult", data=data)
                assert posted.status_code == 303, posted.text
                receipt = await browser.get("/receipt")
                assert receipt.status_code == 200, receipt.text
                assert re.search(r'id="tracking-no" class="code">\d+<', receipt.text)
                self.emails.append(email)
                await asyncio.sleep(0.3)


async def pull_retries_forward(database_url: str) -> None:
    db = open_database(database_url)
    await db.connect()
    try:
        await db.execute(
            "UPDATE outbox SET send_after = :now WHERE sent_at IS NULL AND failed_at IS NULL",
            {"now": datetime.now(UTC)},
        )
    finally:
        await db.close()


async def test_an_smtp_outage_shows_citizens_no_error_and_every_receipt_arrives_once(
    tmp_path: Path,
) -> None:
    smtp = SmtpServer()
    smtp.start()
    database_url = f"sqlite+aiosqlite:///{tmp_path / 'mailbox.sqlite3'}"
    env = server_environment(
        database_url,
        tmp_path / "var",
        submit_limit="0",
        smtp_host="127.0.0.1",
        smtp_port=str(smtp.port),
    )
    migrate(env)
    try:
        with running_server(env, log=tmp_path / "server.log") as url:
            citizens = Citizens(url)
            writing = [asyncio.create_task(citizens.write(n)) for n in range(CITIZENS)]
            await asyncio.sleep(3)
            smtp.stop()
            await asyncio.sleep(OUTAGE)
            written_in_outage = len(citizens.emails)
            smtp.start()
            await pull_retries_forward(database_url)
            await asyncio.sleep(3)
            citizens.running = False
            await asyncio.gather(*writing)

            deadline = time.monotonic() + DELIVERY_WAIT
            while len(smtp.messages) < len(citizens.emails) and time.monotonic() < deadline:
                await asyncio.sleep(0.5)
            await asyncio.sleep(2)  # time for a double send to show
    finally:
        smtp.stop()

    assert written_in_outage > OUTAGE  # letters kept coming during the outage
    delivered_once(smtp.messages)
    assert recipients(smtp.messages) == {email: 1 for email in citizens.emails}
