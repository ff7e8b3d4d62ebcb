"""GET /api/v1/reports: the same document as `python -m mailbox report --format json`, for
the reports page's roles only; a period that is missing or malformed is 422 naming it."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette

from mailbox.db.database import Database
from mailbox.figures.counts import FIGURE_NAMES
from mailbox.services.api_tokens import create_token
from mailbox.services.importing import import_letters
from mailbox.settings import Settings
from tests.live import run_cli, server_environment
from tests.services.conftest import add_department, staff_actor
from tests.test_cli_reports import DEPARTMENTS, SEED, SENTENCE

ROLES = {
    "reporter": "reporter",
    "dispatcher": "dispatcher",
    "admin": "admin",
    "handler": "handler",
    "reviewer": "reviewer",
}


@pytest.fixture
async def tokens(app: Starlette, db: Database) -> dict[str, str]:
    """The seed year imported, a staff token per role, and a submit-scope token."""
    for code, name in DEPARTMENTS:
        await add_department(db, code, name)
    await import_letters(db, settings=app.state.settings, data=SEED.read_bytes(), jsonl=False)
    radio = await db.fetch_value("SELECT id FROM departments WHERE code = 'radio'")
    made = {}
    for name, role in ROLES.items():
        await staff_actor(db, name, role, radio if role in ("handler", "reviewer") else None)
        _id, made[name] = await create_token(db, clock=app.state.clock, username=name, label="t")
    _id, made["submit"] = await create_token(
        db, clock=app.state.clock, username="admin", label="portal", scope="submit"
    )
    return made


@pytest.fixture
async def api(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, client=("198.51.100.30", 1000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


def auth(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


async def test_the_report_is_the_commands_json(
    settings: Settings, tmp_path: Path, api: httpx.AsyncClient, tokens: dict[str, str]
) -> None:
    env = server_environment(settings.database_url, tmp_path)
    for query, arguments in (
        ("year=2018&as_of=2019-03-25", ("--year", "2018", "--as-of", "2019-03-25")),
        (
            "from=2018-03-01&to=2018-08-31&as_of=2019-01-15T18:00:00",
            ("--from", "2018-03-01", "--to", "2018-08-31", "--as-of", "2019-01-15T18:00:00"),
        ),
    ):
        response = await api.get(f"/api/v1/reports?{query}", headers=auth(tokens["reporter"]))
        assert response.status_code == 200, response.text
        assert response.headers["cache-control"] == "no-store"
        command = run_cli(env, "report", *arguments, "--format", "json")
        assert command.returncode == 0, command.stderr
        assert response.json() == json.loads(command.stdout), query

    year = (await api.get("/api/v1/reports?year=2018", headers=auth(tokens["admin"]))).json()
    assert year["summary"] == SENTENCE
    assert year["period"] == {
        "from": "2018-01-01",
        "to": "2018-12-31",
        "as_of": "2026-09-30T10:00:00+08:00",  # now, by the app's clock
    }
    assert year["total"]["received"] == 77
    assert [month["month"] for month in year["months"]][:2] == ["2018-01", "2018-02"]
    for part in ("channels", "departments", "months"):
        for item in year[part]:
            assert set(FIGURE_NAMES) <= set(item), part
    assert year["website_yearly_form"]["收到留言数量"] == 77


async def test_only_the_reports_pages_roles_read_reports(
    api: httpx.AsyncClient, tokens: dict[str, str]
) -> None:
    expected = {
        "reporter": 200,
        "dispatcher": 200,
        "admin": 200,
        "handler": 403,
        "reviewer": 403,
        "submit": 403,
    }
    for name, status in expected.items():
        response = await api.get("/api/v1/reports?year=2018", headers=auth(tokens[name]))
        assert response.status_code == status, name
    assert (await api.get("/api/v1/reports?year=2018")).status_code == 401
    assert (await api.get("/api/v1/reports?year=2018", headers=auth("mbx_x"))).status_code == 401


BAD_PERIODS = [
    ("", {"year"}),
    ("as_of=2019-01-01", {"year"}),
    ("year=2018&from=2018-01-01&to=2018-12-31", {"year"}),
    ("year=abc", {"year"}),
    ("year=1999", {"year"}),
    ("year=%EF%BC%92%EF%BC%90%EF%BC%91%EF%BC%98", {"year"}),  # full-width digits
    ("year=2018%00", {"year"}),
    ("from=2018-01-01", {"to"}),
    ("to=2018-01-01", {"from"}),
    ("from=2018-02-30&to=2018-03-31", {"from"}),
    ("from=2018-06-01&to=2018-05-31", {"to"}),
    ("from=2000-01-01&to=2018-12-31", {"to"}),  # more than ten years
    ("from=9999-12-31&to=9999-12-31", {"from", "to"}),
    ("from=2018-01-01T00:00&to=2018-12-31", {"from"}),
    ("year=2018&as_of=yesterday", {"as_of"}),
    ("year=2018&as_of=9999-12-31", {"as_of"}),
    ("year=2018&as_of=2019-01-01T25:00", {"as_of"}),
]


async def test_a_missing_or_malformed_period_is_422_naming_it(
    api: httpx.AsyncClient, tokens: dict[str, str]
) -> None:
    for query, fields in BAD_PERIODS:
        response = await api.get(f"/api/v1/reports?{query}", headers=auth(tokens["dispatcher"]))
        assert response.status_code == 422, (query, response.text)
        error = response.json()["error"]
        assert error["code"] == "invalid"
        assert set(error["fields"]) == fields, query
