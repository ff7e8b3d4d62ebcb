"""Request logs with request ids, /healthz and /readyz, and /metrics (issue 7)."""

from __future__ import annotations

import asyncio
import io
import json
import logging
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import replace

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from mailbox.app import create_app
from mailbox.clock import FixedClock
from mailbox.db.database import Database
from mailbox.domain.states import LetterState
from mailbox.observability.logs import JsonFormatter
from mailbox.settings import Settings, SettingsError, load_settings
from tests.conftest import POSTGRES_URL
from tests.helpers import csrf_token, submit_and_read_receipt

Lines = Callable[[], list[dict[str, object]]]


@pytest.fixture
def log_lines() -> Iterator[Lines]:
    """The JSON lines the app writes while the test runs, formatted as `serve` formats them."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    root, access = logging.getLogger(), logging.getLogger("mailbox.access")
    root.addHandler(handler)
    access.setLevel(logging.INFO)
    try:
        yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    finally:
        root.removeHandler(handler)
        access.setLevel(logging.NOTSET)


def access_lines(lines: Lines) -> list[dict[str, object]]:
    return [line for line in lines() if line["logger"] == "mailbox.access"]


def client_at(app: Starlette, address: str) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=(address, 40000), raise_app_exceptions=False)
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


async def test_each_request_writes_one_json_line_with_the_id_it_returns(
    client: httpx.AsyncClient, log_lines: Lines
) -> None:
    response = await client.get("/track", params={"lang": "en"})
    assert response.status_code == 200
    [line] = access_lines(log_lines)
    assert line["request_id"] == response.headers["x-request-id"]
    assert len(response.headers["x-request-id"]) == 32
    assert line["method"] == "GET"
    assert line["path"] == "/track"
    assert line["route"] == "/track"
    assert line["status"] == 200
    assert line["client"] == "203.0.113.7"
    assert line["bytes"] == len(response.content)
    assert isinstance(line["duration_ms"], float)
    assert line["user_id"] is None


async def test_a_valid_incoming_request_id_is_kept_and_a_bad_one_replaced(
    client: httpx.AsyncClient, log_lines: Lines
) -> None:
    from_nginx = "0123456789abcdef0123456789abcdef"
    kept = await client.get("/healthz", headers={"x-request-id": from_nginx})
    assert kept.headers["x-request-id"] == from_nginx
    for bad in ("<script>alert(1)</script>", "a" * 65, "short", 'x" "injected'):
        replaced = await client.get("/healthz", headers={"x-request-id": bad})
        assert replaced.headers["x-request-id"] != bad
        assert len(replaced.headers["x-request-id"]) == 32
    logged = [line["request_id"] for line in access_lines(log_lines)]
    assert logged[0] == from_nginx
    assert "<script>" not in json.dumps(log_lines())


async def test_query_codes_tokens_and_form_bodies_never_reach_the_log(
    client: httpx.AsyncClient, log_lines: Lines
) -> None:
    number, code = await submit_and_read_receipt(client)
    token = await csrf_token(client)
    await client.post(
        "/track?query_code=SECRETQ1",
        data={"tracking_no": number, "query_code": code, "csrf_token": token},
    )
    await client.get(f"/api/v1/letters/{number}", params={"query_code": code, "api_key": "K9"})
    await client.get("/api/v1/staff/letters", headers={"authorization": "Bearer SECRETTOKEN"})
    rate = await client.get("/rate/SECRETRATINGLINK")
    setup = await client.get("/setup/SECRETSETUPLINK")
    assert rate.status_code == setup.status_code == 404
    written = json.dumps(log_lines(), ensure_ascii=False)
    secrets = ["SECRETQ1", code, code.replace("-", ""), "K9", "SECRETTOKEN", "SECRETRATING"]
    for secret in [*secrets, "SECRETSETUP", "张三丰", "13812345678", token]:
        assert secret not in written
    paths = [line["path"] for line in access_lines(log_lines)]
    assert "/rate/{token}" in paths and "/setup/{token}" in paths
    assert f"/api/v1/letters/{number}" in paths  # a tracking number is no secret


async def test_an_unhandled_error_is_logged_with_the_request_id_of_its_500(
    app: Starlette, log_lines: Lines
) -> None:
    async def broken(request: Request) -> Response:
        raise RuntimeError("the disk is on fire")

    app.router.routes.append(Route("/broken", broken))
    async with client_at(app, "203.0.113.7") as http:
        response = await http.get("/broken")
    assert response.status_code == 500
    request_id = response.headers["x-request-id"]
    [error] = [line for line in log_lines() if line["level"] == "error"]
    assert error["request_id"] == request_id
    assert "the disk is on fire" in str(error["exception"])
    [access] = access_lines(log_lines)
    assert (access["status"], access["request_id"]) == (500, request_id)


async def test_healthz_answers_without_the_database_and_readyz_reports_it(
    client: httpx.AsyncClient, db: Database
) -> None:
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    await submit_and_read_receipt(client)
    ready = await client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json() == {
        "database": "ok",
        "migrations": "current",
        "outbox_backlog": {"mail": 1, "webhook": 0},
        "status": "ready",
    }


async def test_readyz_is_503_while_a_migration_is_pending(
    client: httpx.AsyncClient, db: Database
) -> None:
    await db.execute(
        "DELETE FROM schema_migrations WHERE version = (SELECT MAX(version) FROM schema_migrations)"
    )
    response = await client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["database"] == "ok"
    assert response.json()["migrations"] == "1 pending"


class TcpProxy:
    """A loopback proxy to PostgreSQL that the test can cut, as an outage would."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.writers: list[asyncio.StreamWriter] = []
        self.server: asyncio.Server | None = None

    async def start(self) -> int:
        self.server = await asyncio.start_server(self._pipe_both, "127.0.0.1", 0)
        port: int = self.server.sockets[0].getsockname()[1]
        return port

    async def _pipe_both(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        self.writers += [writer, up_writer]

        async def pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
            try:
                while data := await source.read(65536):
                    sink.write(data)
                    await sink.drain()
            except (ConnectionError, OSError):
                pass
            finally:
                sink.close()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))

    async def cut(self) -> None:
        assert self.server is not None
        self.server.close()
        for writer in self.writers:
            writer.close()
        await self.server.wait_closed()


@pytest.fixture
async def proxied_app(
    settings: Settings, clock: FixedClock
) -> AsyncIterator[tuple[Starlette, TcpProxy]]:
    if not settings.database_url.startswith("postgresql"):
        pytest.skip("an unreachable database server is a PostgreSQL matter")
    proxy = TcpProxy(int(POSTGRES_URL.split(":")[-1].split("/")[0]))
    port = await proxy.start()
    url = settings.database_url.replace("127.0.0.1:5432", f"127.0.0.1:{port}")
    application = create_app(
        replace(settings, database_url=url), clock=clock, run_mail_worker=False
    )
    try:
        async with application.router.lifespan_context(application):
            yield application, proxy
    finally:
        await proxy.cut()


async def test_readyz_is_503_quickly_when_the_database_cannot_be_reached(
    proxied_app: tuple[Starlette, TcpProxy],
) -> None:
    app, proxy = proxied_app
    async with client_at(app, "127.0.0.1") as http:
        assert (await http.get("/readyz")).status_code == 200
        await proxy.cut()
        started = asyncio.get_running_loop().time()
        response = await http.get("/readyz")
        assert asyncio.get_running_loop().time() - started < 5
        assert (await http.get("/healthz")).status_code == 200
    assert response.status_code == 503
    assert response.json()["database"] == "unreachable"
    assert response.json()["status"] == "not ready"


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


async def test_metrics_are_404_to_addresses_not_allowed(
    app: Starlette, client: httpx.AsyncClient
) -> None:
    assert (await client.get("/metrics")).status_code == 404
    # Behind a trusted proxy, the client it names decides, not the proxy's own address.
    app.state.settings = replace(app.state.settings, trusted_proxies=("127.0.0.1",))
    async with client_at(app, "127.0.0.1") as http:
        forwarded = await http.get("/metrics", headers={"x-forwarded-for": "198.51.100.4"})
        assert forwarded.status_code == 404
        assert (await http.get("/metrics")).status_code == 200
    app.state.settings = replace(app.state.settings, metrics_allow=("203.0.113.0/24",))
    assert (await client.get("/metrics")).status_code == 200


async def test_metrics_count_requests_by_route_and_letters_by_state(
    app: Starlette, client: httpx.AsyncClient, db: Database
) -> None:
    async with client_at(app, "127.0.0.1") as http:
        before = samples((await http.get("/metrics")).text)
        await submit_and_read_receipt(client)
        await submit_and_read_receipt(client)
        for number in ("1", "2", "3"):
            await client.get(f"/api/v1/letters/{number}")
        app.state.metrics_figures = None  # the few seconds' cache would hide the new letters
        response = await http.get("/metrics")
    assert response.headers["content-type"].startswith("text/plain")
    after = samples(response.text)

    def moved(name: str, **labels: str) -> float:
        key = (name, tuple(sorted(labels.items())))
        return after.get(key, 0) - before.get(key, 0)

    requests = "mailbox_http_requests_total"
    assert moved(requests, method="POST", route="/write/{channel}", status="3xx") == 2
    assert moved(requests, method="GET", route="/api/v1/letters/{tracking_no}", status="4xx") == 3
    latency = "mailbox_http_request_duration_seconds_count"
    assert moved(latency, route="/receipt") == 2
    assert not [key for key in after if ("route", "/api/v1/letters/1") in key[1]]
    rows = await db.fetch_all("SELECT state, COUNT(*) AS n FROM letters GROUP BY state")
    in_db = {row["state"]: row["n"] for row in rows}
    for state in LetterState:
        assert after[("mailbox_letters", (("state", state.value),))] == in_db.get(state.value, 0)
    assert after[("mailbox_outbox_backlog", (("medium", "mail"),))] == 2
    assert after[("mailbox_outbox_given_up", (("medium", "mail"),))] == 0
    assert any(name.startswith("process_") for name, _labels in after)


def test_metrics_allow_takes_addresses_and_networks_only() -> None:
    key = {"MAILBOX_SECRET_KEY": "k" * 32}
    found = load_settings({**key, "MAILBOX_METRICS_ALLOW": "10.0.0.0/8, ::1"}, env_file=None)
    assert found.metrics_allow == ("10.0.0.0/8", "::1")
    assert load_settings(key, env_file=None).metrics_allow == ("127.0.0.1", "::1")
    with pytest.raises(SettingsError, match="MAILBOX_METRICS_ALLOW"):
        load_settings({**key, "MAILBOX_METRICS_ALLOW": "prometheus.local"}, env_file=None)
