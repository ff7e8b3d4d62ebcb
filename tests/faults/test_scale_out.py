"""Two `serve` processes and two `worker` processes on one PostgreSQL database, behind a real
nginx balancing across both servers: 5,000 letters from concurrent clients are each stored
once, with their own tracking number, and each receipt is mailed exactly once; both workers
run the daily reminders at the same time and no overdue letter is reminded twice."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import datetime
from datetime import time as clock_time
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest

from mailbox.db.database import Database, open_database
from tests.faults.conftest import submit_token
from tests.faults.mailsink import delivered_once, recipients
from tests.helpers import GOOD_LETTER
from tests.live import ROOT, cli, free_port, running_server, server_environment, stop
from tests.mail.conftest import SmtpServer

pytestmark = pytest.mark.slow

LETTERS = 5_000
CONCURRENCY = 64
OVERDUE = 40
DELIVERY_WAIT = 90.0
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"


def noon_zone() -> str:
    """A time zone where it is now past the reminders' 9 o'clock (and not near midnight),
    whenever the test runs."""
    for hours in range(-12, 15):
        zone = f"Etc/GMT{-hours:+d}"
        if datetime.now(ZoneInfo(zone)).hour == 12:
            return zone
    raise AssertionError("no zone at noon")


NGINX_CONF = """
worker_processes 2;
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    client_body_temp_path {dir}/body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
    upstream mailbox {{ server 127.0.0.1:{first}; server 127.0.0.1:{second}; keepalive 32; }}
    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_pass http://mailbox;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $host;
        }}
    }}
}}
"""


@contextmanager
def nginx_in_front(ports: list[int], folder: Path) -> Iterator[str]:
    if not Path(NGINX).exists():
        pytest.skip("nginx is not installed")
    folder.mkdir()
    port = free_port()
    conf = folder / "nginx.conf"
    conf.write_text(NGINX_CONF.format(dir=folder, first=ports[0], second=ports[1], port=port))
    process = subprocess.Popen(
        [
            NGINX,
            "-p",
            str(folder),
            "-e",
            str(folder / "error.log"),
            "-c",
            str(conf),
            "-g",
            "daemon off;",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,  # it logs to error.log
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 10
        while True:
            assert process.poll() is None, (folder / "error.log").read_text()
            try:
                httpx.get(f"{url}/healthz", timeout=1)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "nginx did not start"
                time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


@contextmanager
def worker(env: dict[str, str], log: Path) -> Iterator[None]:
    with log.open("wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "mailbox", "worker"],
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
        try:
            yield
        finally:
            stop(process)


async def submit(url: str, token: str, emails: list[str]) -> list[httpx.Response]:
    limits = httpx.Limits(max_connections=CONCURRENCY, max_keepalive_connections=CONCURRENCY)
    headers = {"authorization": f"Bearer {token}"}
    queue = iter(emails)
    responses: list[httpx.Response] = []
    async with httpx.AsyncClient(limits=limits, timeout=60, headers=headers) as http:

        async def client() -> None:
            for email in queue:  # a shared iterator: each address is taken once
                letter = {"channel": "consult", **GOOD_LETTER, "email": email}
                responses.append(await http.post(f"{url}/api/v1/letters", json=letter))

        await asyncio.gather(*(client() for _ in range(CONCURRENCY)))
    return responses


async def make_overdue(db: Database, tracking_numbers: list[str], zone: str) -> None:
    """Accepted into a department, with a deadline that ended at midnight, and today a
    working day (an override, whatever the weekday)."""
    tz = ZoneInfo(zone)
    today = datetime.now(tz).date()
    await db.execute(
        "INSERT INTO holidays (day, kind, name) VALUES (:day, 'workday', 'test')"
        " ON CONFLICT (day) DO UPDATE SET kind = 'workday'",
        {"day": today},
    )
    department = await db.fetch_value("SELECT id FROM departments WHERE code = 'radio'")
    await db.execute(
        "UPDATE letters SET state = 'assigned', department_id = :department,"
        " accepted_at = submitted_at, due_at = :due WHERE tracking_no = ANY(:numbers)",
        {
            "department": department,
            "due": datetime.combine(today, clock_time(0), tzinfo=tz),
            "numbers": tracking_numbers,
        },
    )


async def count(db: Database, sql: str) -> int:
    value: int = await db.fetch_value(sql)
    return value


async def test_two_servers_and_two_workers_store_and_mail_5000_letters_exactly_once(
    postgres_url: str, tmp_path: Path
) -> None:
    smtp = SmtpServer()
    smtp.start()
    zone = noon_zone()
    env = server_environment(
        postgres_url,
        tmp_path / "var",
        submit_limit="0",
        timezone=zone,
        smtp_host="127.0.0.1",
        smtp_port=str(smtp.port),
    )
    token = submit_token(env)
    cli(env, "department", "add", "radio", "无线电管理处")
    cli(
        env,
        "create-user",
        "duty",
        "--role",
        "dispatcher",
        "--email",
        "duty@office.example",
        "--password-stdin",
        stdin="a long password 123\n",
    )
    db = open_database(postgres_url)
    await db.connect()
    ports = [free_port(), free_port()]
    try:
        with ExitStack() as stack:
            servers = [
                stack.enter_context(
                    running_server(env, "--no-worker", port=port, log=tmp_path / f"server{n}.log")
                )
                for n, port in enumerate(ports)
            ]
            # Overdue letters first, so that both workers find them as they start.
            early = await submit(
                servers[0], token, [f"early{n}@example.com" for n in range(OVERDUE)]
            )
            assert [r.status_code for r in early] == [201] * OVERDUE
            await make_overdue(db, [r.json()["tracking_no"] for r in early], zone)

            url = stack.enter_context(nginx_in_front(ports, tmp_path / "nginx"))
            for n in range(2):
                stack.enter_context(worker(env, tmp_path / f"worker{n}.log"))
            emails = [f"writer{n}@example.com" for n in range(LETTERS)]
            started = time.monotonic()
            responses = await submit(url, token, emails)
            took = time.monotonic() - started
            print(f"\n{LETTERS} submissions in {took:.1f} s: {LETTERS / took:.0f} letters/s")

            expected = OVERDUE + LETTERS + OVERDUE  # receipts, then one reminder a letter
            deadline = time.monotonic() + DELIVERY_WAIT
            while len(smtp.messages) < expected and time.monotonic() < deadline:
                await asyncio.sleep(0.5)
            print(f"all mail delivered {time.monotonic() - started:.1f} s after the first letter")
            await asyncio.sleep(2)  # time for a double send to show

        assert [r.status_code for r in responses] == [201] * LETTERS
        numbers = [r.json()["tracking_no"] for r in responses]
        assert len(set(numbers)) == LETTERS
        assert await count(db, "SELECT COUNT(*) FROM letters") == LETTERS + OVERDUE
        assert await count(db, "SELECT COUNT(DISTINCT tracking_no) FROM letters") == (
            LETTERS + OVERDUE
        )
        assert await count(db, "SELECT COUNT(*) FROM reminders") == OVERDUE
    finally:
        await db.close()
        smtp.stop()

    delivered_once(smtp.messages)
    sent_to = recipients(smtp.messages)
    assert sent_to.pop("duty@office.example") == OVERDUE  # one reminder per overdue letter
    assert sent_to == {
        email: 1 for email in emails + [f"early{n}@example.com" for n in range(OVERDUE)]
    }
