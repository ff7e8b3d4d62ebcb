"""`kill -9` of the server in the middle of a stream of submissions, then a restart.

What must hold: every letter whose writer got a receipt page (a 303 to /receipt) was committed
with its `submitted` event and its receipt in the outbox, and after the restart every receipt
reaches the SMTP server.

What the worker guarantees about sending, and so what is asserted: a mail is claimed with a
token, and its attempt is recorded (`start_attempt`, committed) before the SMTP conversation;
`sent_at` is committed after it. A worker killed between the two leaves that one mail claimed
but unsent: its claim runs out (CLAIM_FOR, 15 minutes) and it is sent again, so the SMTP
server may get it twice, with the same Message-ID, which mail clients treat as one message.
Every other mail is sent exactly once. So: at most one copy more, and only of mail whose
attempt had started and was not marked sent when the process died. The rest of the dead
worker's batch is free again after CLAIM_BATCH_FOR (a minute). The test lets both waits pass
by releasing the dead process's claims while no server runs.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from mailbox.db.database import Database, open_database
from tests.helpers import GOOD_LETTER, csrf_from
from tests.live import ROOT, free_port, server_environment, stop
from tests.mail.conftest import SmtpServer

CLIENTS = 8
STREAM_FOR = 3.0  # seconds of submissions before the kill
DELIVERY_WITHIN = 30.0

pytestmark = pytest.mark.slow


@contextmanager
def serve(env: dict[str, str], port: int, log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """`python -m mailbox serve` (with its mail worker) answering on `port`; the process, so
    that the test can kill it; stopped afterwards if still running."""
    with open(log, "ab") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "mailbox", "serve", "--port", str(port)],
            cwd=ROOT,
            env={**env, "MAILBOX_BASE_URL": f"http://127.0.0.1:{port}"},
            stdout=output,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + 30
            while True:
                assert process.poll() is None, f"server exited; see {log}"
                try:
                    if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).is_success:
                        break
                except httpx.TransportError:
                    pass
                assert time.monotonic() < deadline, "server did not start within 30 s"
                time.sleep(0.1)
            yield process
        finally:
            stop(process)


async def submit_until_gone(url: str, client_no: int, acknowledged: list[str]) -> None:
    """Letter after letter, each with its own title, until the server stops answering."""
    async with httpx.AsyncClient(base_url=url, timeout=10) as client:
        token = csrf_from((await client.get("/write/consult")).text)
        for n in range(100_000):
            title = f"crash test {client_no}-{n}"
            try:
                response = await client.post(
                    "/write/consult", data={**GOOD_LETTER, "title": title, "csrf_token": token}
                )
            except httpx.TransportError:
                return  # killed: this letter's fate is unknown to its writer, and not tested
            assert response.status_code == 303, response.text
            assert response.headers["location"] == "/receipt"
            acknowledged.append(title)


async def stream_and_kill(url: str, process: subprocess.Popen[bytes]) -> list[str]:
    acknowledged: list[str] = []
    clients = [asyncio.create_task(submit_until_gone(url, n, acknowledged)) for n in range(CLIENTS)]
    await asyncio.sleep(STREAM_FOR)
    deadline = time.monotonic() + 20
    while len(acknowledged) < 30 and time.monotonic() < deadline:  # a loaded machine is slow
        await asyncio.sleep(0.1)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    await asyncio.gather(*clients)
    return acknowledged


async def check_stored(db: Database, acknowledged: list[str]) -> None:
    rows = await db.fetch_all(
        "SELECT l.title, l.writer_email,"
        " (SELECT COUNT(*) FROM letter_events e WHERE e.letter_id = l.id"
        "  AND e.kind = 'submitted') AS events,"
        " (SELECT COUNT(*) FROM outbox o WHERE o.letter_id = l.id AND o.kind = 'receipt'"
        "  AND o.recipient = l.writer_email) AS receipts"
        " FROM letters l"
    )
    stored = {row["title"]: row for row in rows}
    missing = [title for title in acknowledged if title not in stored]
    assert not missing, f"{len(missing)} acknowledged letters lost, e.g. {missing[:3]}"
    for title in acknowledged:
        assert stored[title]["events"] == 1, title
        assert stored[title]["receipts"] == 1, title
    # Nothing half written either: no letter without its event and its receipt.
    assert all(row["events"] == 1 and row["receipts"] == 1 for row in rows)


async def in_flight_and_release(db: Database) -> set[int]:
    """Mail whose attempt the dead worker had started and not marked sent; then its claims
    are let go, as they would be once CLAIM_FOR has passed."""
    rows = await db.fetch_all(
        "SELECT id FROM outbox WHERE sent_at IS NULL AND attempts > 0 AND claimed_until IS NOT NULL"
    )
    await db.execute(
        "UPDATE outbox SET claimed_until = NULL WHERE sent_at IS NULL AND claimed_until IS NOT NULL"
    )
    return {row["id"] for row in rows}


async def wait_until_all_sent(db: Database) -> list[int]:
    deadline = time.monotonic() + DELIVERY_WITHIN
    while True:
        unsent = await db.fetch_value(
            "SELECT COUNT(*) FROM outbox WHERE medium = 'mail' AND sent_at IS NULL"
        )
        if unsent == 0:
            break
        assert time.monotonic() < deadline, f"{unsent} mails unsent after the restart"
        await asyncio.sleep(0.2)
    rows = await db.fetch_all("SELECT id FROM outbox WHERE medium = 'mail'")
    return [row["id"] for row in rows]


async def test_kill_9_loses_no_acknowledged_letter_and_sends_each_receipt_once(
    database_url: str, tmp_path: Path
) -> None:
    smtp = SmtpServer()
    smtp.start()
    env = server_environment(
        database_url,
        tmp_path / "var",
        submit_limit="0",
        smtp_host="127.0.0.1",
        smtp_port=str(smtp.port),
        mail_from="xinxiang@example.gov.cn",
    )
    port = free_port()
    db = open_database(database_url)
    try:
        with serve(env, port, tmp_path / "server.log") as process:
            acknowledged = await stream_and_kill(f"http://127.0.0.1:{port}", process)
        assert len(acknowledged) >= 30, "too few submissions before the kill to mean anything"

        await db.connect()
        await check_stored(db, acknowledged)
        in_flight = await in_flight_and_release(db)
        assert len(in_flight) <= 1  # one worker sends one mail at a time

        with serve(env, port, tmp_path / "server.log"):
            mail_ids = await wait_until_all_sent(db)
    finally:
        await db.close()
        smtp.stop()

    received = Counter(str(message["Message-ID"]) for message in smtp.messages)
    expected = {f"<outbox-{n}@example.gov.cn>" for n in mail_ids}
    assert set(received) == expected  # every receipt arrived, and nothing else
    twice = {mid for mid, count in received.items() if count > 1}
    assert twice <= {f"<outbox-{n}@example.gov.cn>" for n in in_flight}, twice
    assert max(received.values()) <= 2
