"""PostgreSQL unreachable for 30 s while requests keep coming: citizens get the friendly 503
page, machines a JSON 503, nothing is half written, and the running server recovers by itself.

The outage is a cut loopback proxy between `serve` and the database (listener closed, open
connections reset): the machine's cluster is shared with other tests and is never stopped."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from mailbox.db.database import open_database
from tests.faults.conftest import submit_token
from tests.faults.proxy import tcp_proxy
from tests.helpers import GOOD_LETTER, csrf_from
from tests.live import running_server, server_environment

pytestmark = pytest.mark.slow

OUTAGE = 30.0  # seconds
API_CLIENTS = 6
LETTER = {"channel": "consult", **GOOD_LETTER}
LOOKUP = {"tracking_no": "20260930000001", "query_code": "ABCD2345"}


def through(url: str, port: int) -> str:
    """The same database URL, reached through the proxy on `port`."""
    parts = urlsplit(url)
    return parts._replace(netloc=f"{parts.username}@127.0.0.1:{port}").geturl()


class Traffic:
    """API submissions from several clients until told to stop; what each got."""

    def __init__(self, url: str, token: str) -> None:
        self.url, self.token = url, token
        self.accepted: list[str] = []  # tracking numbers acknowledged with 201
        self.statuses: list[int] = []
        self.running = True

    async def client(self, number: int) -> None:
        headers = {"authorization": f"Bearer {self.token}"}
        async with httpx.AsyncClient(base_url=self.url, timeout=30, headers=headers) as http:
            sent = 0
            while self.running:
                sent += 1
                letter = {**LETTER, "email": f"api{number}-{sent}@example.com"}
                response = await http.post("/api/v1/letters", json=letter)
                self.statuses.append(response.status_code)
                if response.status_code == 201:
                    self.accepted.append(response.json()["tracking_no"])
                else:
                    assert response.status_code == 503, response.text
                    assert response.headers["content-type"].startswith("application/json")
                    assert response.json()["error"]["code"]
                    await asyncio.sleep(0.2)


async def submit_form(http: httpx.AsyncClient, token: str) -> httpx.Response:
    return await http.post("/write/consult", data={**GOOD_LETTER, "csrf_token": token})


async def test_a_database_outage_shows_the_busy_page_writes_nothing_half_and_heals_itself(
    postgres_url: str, tmp_path: Path
) -> None:
    direct = urlsplit(postgres_url)
    with tcp_proxy(direct.hostname or "127.0.0.1", direct.port or 5432) as proxy:
        env = server_environment(
            through(postgres_url, proxy.port), tmp_path / "var", submit_limit="0"
        )
        token = submit_token(env)
        with running_server(env, log=tmp_path / "server.log") as url:
            traffic = Traffic(url, token)
            clients = [asyncio.create_task(traffic.client(n)) for n in range(API_CLIENTS)]
            async with httpx.AsyncClient(base_url=url, timeout=30) as browser:
                form = csrf_from((await browser.get("/write/consult")).text)
                assert (await submit_form(browser, form)).status_code == 303
                await asyncio.sleep(1)

                proxy.cut()
                outage_ends = time.monotonic() + OUTAGE
                busy_pages = 0
                while time.monotonic() < outage_ends:
                    for response in (
                        await submit_form(browser, form),
                        await browser.post("/track", data={**LOOKUP, "csrf_token": form}),
                    ):
                        assert response.status_code == 503, response.text
                        assert response.headers["content-type"].startswith("text/html")
                        assert response.headers["retry-after"] == "30"
                        assert "Nothing you sent was lost" in response.text or (
                            "您提交的内容没有丢失" in response.text
                        )
                        busy_pages += 1
                    await asyncio.sleep(0.5)
                during = list(traffic.statuses)
                proxy.start()

                # No restart: the same server takes letters again within seconds.
                recovered = time.monotonic() + 15
                while (await submit_form(browser, form)).status_code != 303:
                    assert time.monotonic() < recovered, "the server did not recover"
                    await asyncio.sleep(0.5)
                before = len(traffic.accepted)
                await asyncio.sleep(3)
                traffic.running = False
                await asyncio.gather(*clients)
            assert len(traffic.accepted) > before, "the API did not recover"

    assert busy_pages >= 2 * int(OUTAGE) // 2
    assert during.count(503) >= API_CLIENTS, "the API clients never met the outage"
    db = open_database(postgres_url)
    await db.connect()
    try:
        stored = {
            row["tracking_no"] for row in await db.fetch_all("SELECT tracking_no FROM letters")
        }
        assert set(traffic.accepted) <= stored, "an acknowledged letter is missing"
        half_written = await db.fetch_value(
            "SELECT COUNT(*) FROM letters l WHERE NOT EXISTS (SELECT 1 FROM letter_events e"
            " WHERE e.letter_id = l.id AND e.kind = 'submitted')"
            " OR (l.writer_email <> '' AND NOT EXISTS (SELECT 1 FROM outbox o"
            " WHERE o.letter_id = l.id AND o.kind = 'receipt'))"
        )
        assert half_written == 0
    finally:
        await db.close()
