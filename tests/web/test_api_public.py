"""The public API: the channels, submitting a letter with a token (the web form's checks and
mail), and the writer's view by tracking number and query code; refusals change nothing."""

from __future__ import annotations

import json
import re
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from mailbox.auth.roles import Role
from mailbox.db.database import Database
from mailbox.db.queries import channels
from mailbox.mail.render import render_mail
from mailbox.services import api_tokens, intake
from mailbox.services.admin import Admin, set_user_active
from mailbox.services.transitions import Actor
from mailbox.settings import Settings
from mailbox.web.api.openapi import GUIDE
from mailbox.web.api.public import OPENAPI
from tests.conftest import with_settings
from tests.helpers import GOOD_LETTER, count_rows, submit_and_read_receipt
from tests.services.conftest import add_department, staff_actor

TRACK_LIMIT = 6
SCHEMAS = OPENAPI["schemas"]
LETTER = {"channel": "consult", **GOOD_LETTER}
ZH_PHONE = "请输入大陆手机号码（11位，如13812345678），或带区号的固定电话（如010-12345678）。"
EN_PHONE = (
    "Please enter a mainland mobile number (11 digits, such as 13812345678) "
    "or a landline with its area code (such as 010-12345678)."
)


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return with_settings(settings, track_limit=TRACK_LIMIT)


@pytest.fixture
async def tokens(app: Starlette, db: Database) -> dict[str, str]:
    """A token per kind of caller, made through the real services."""
    clock = app.state.clock
    radio = await add_department(db, "radio", "无线电管理处")
    # (A password hash no password matches: these users only call the API.)
    ids = {
        name: (await staff_actor(db, name, role, department)).user_id
        for name, role, department in (
            ("dispatcher", Role.DISPATCHER, None),
            ("portal", Role.REPORTER, None),
            ("handler", Role.HANDLER, radio),
            ("leaver", Role.DISPATCHER, None),
        )
    }

    async def token(username: str, scope: str = "staff") -> tuple[int, str]:
        return await api_tokens.create_token(
            db, clock=clock, username=username, label="test", scope=scope
        )

    revoked_id, revoked = await token("dispatcher", "submit")
    await api_tokens.revoke_token(db, clock=clock, token_id=revoked_id)
    made = {
        "dispatcher": (await token("dispatcher"))[1],
        "submit": (await token("portal", "submit"))[1],
        "handler": (await token("handler"))[1],
        "revoked": revoked,
        "disabled": (await token("leaver"))[1],
    }
    assert ids["dispatcher"] is not None and ids["leaver"] is not None
    await set_user_active(
        db,
        clock=clock,
        actor=Admin(user_id=ids["dispatcher"], client_ip="127.0.0.1"),
        user_id=ids["leaver"],
        active=False,
    )
    return made


def bearer(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


async def submit(
    client: httpx.AsyncClient, token: str, letter: dict[str, Any] | None = None, **headers: str
) -> httpx.Response:
    return await client.post(
        "/api/v1/letters",
        json=LETTER if letter is None else letter,
        headers={**bearer(token), **headers},
    )


def documented(schema: str) -> set[str]:
    return set(SCHEMAS[schema]["properties"])


async def changes(db: Database) -> tuple[int, ...]:
    return tuple([await count_rows(db, table) for table in ("letters", "letter_events", "outbox")])


async def test_the_channels_are_listed_without_a_token_with_the_documented_fields(
    client: httpx.AsyncClient, db: Database, app: Starlette
) -> None:
    async with db.transaction() as conn:
        await channels.update_channel(conn, code="suggestion", enabled=False)
    app.state.channels.forget()
    response = await client.get("/api/v1/channels")
    assert response.status_code == 200
    assert response.headers["cache-control"] == "public, max-age=60"
    listed = response.json()["channels"]
    assert [channel["code"] for channel in listed] == ["director", "consult", "complaint"]
    assert all(set(channel) == documented("Channel") for channel in listed)
    consult = next(channel for channel in listed if channel["code"] == "consult")
    assert consult["name"] == "网上咨询" and consult["name_en"] == "Online Consultation"


@pytest.mark.parametrize("who", ["submit", "dispatcher"])
async def test_a_submit_token_or_an_office_staff_token_sends_a_letter_and_gets_its_receipt(
    client: httpx.AsyncClient, db: Database, tokens: dict[str, str], who: str
) -> None:
    response = await submit(client, tokens[who], {**LETTER, "phone": "+86 138-1234-5678"})
    assert response.status_code == 201, response.text
    receipt = response.json()
    assert set(receipt) == documented("Receipt")
    assert re.fullmatch(r"20260930\d{6}", receipt["tracking_no"])
    assert re.fullmatch(r"[2-9A-Z]{8}", receipt["query_code"])
    assert receipt["receipt_mailed"] is True
    assert response.headers["location"] == f"/api/v1/letters/{receipt['tracking_no']}"
    assert receipt["links"] == {"self": response.headers["location"]}
    stored = await db.fetch_one(
        "SELECT source, state, channel, writer_phone, client_ip, locale FROM letters"
        " WHERE tracking_no = :no",
        {"no": receipt["tracking_no"]},
    )
    assert stored is not None
    assert dict(stored) == {
        "source": "api",
        "state": "pending",
        "channel": "consult",
        "writer_phone": "13812345678",
        "client_ip": "203.0.113.7",
        "locale": "zh_CN",
    }


async def test_the_receipt_mail_is_the_one_the_web_form_queues(
    app: Starlette, client: httpx.AsyncClient, db: Database, tokens: dict[str, str]
) -> None:
    web_no, shown_code = await submit_and_read_receipt(client, "consult")
    web_code = shown_code.replace("-", "")  # the receipt page shows it as ABCD-2345
    api = (await submit(client, tokens["submit"])).json()
    rows = await db.fetch_all(
        "SELECT kind, recipient, locale, context, medium FROM outbox ORDER BY id"
    )
    assert [row["kind"] for row in rows] == ["receipt", "receipt"]
    web, by_api = rows
    assert (by_api["recipient"], by_api["locale"], by_api["medium"]) == (
        web["recipient"],
        web["locale"],
        web["medium"],
    )
    web_context, api_context = json.loads(web["context"]), json.loads(by_api["context"])
    assert (web_context["tracking_no"], web_context["query_code"]) == (web_no, web_code)
    assert (api_context["tracking_no"], api_context["query_code"]) == (
        api["tracking_no"],
        api["query_code"],
    )
    env, settings = app.state.templates, app.state.settings
    web_mail = render_mail(env, settings, kind="receipt", locale="zh_CN", context=web_context)
    api_mail = render_mail(
        env,
        settings,
        kind="receipt",
        locale="zh_CN",
        context={**api_context, "tracking_no": web_no, "query_code": web_code},
    )
    assert api_mail == web_mail


REFUSALS: list[tuple[str, str | None, dict[str, str], Any, int, str, set[str]]] = [
    # (case, token, headers, body, status, code, fields)
    ("no token", None, {}, LETTER, 401, "unauthorized", set()),
    ("unknown token", "mbx_not-a-real-token", {}, LETTER, 401, "unauthorized", set()),
    ("revoked token", "revoked", {}, LETTER, 401, "unauthorized", set()),
    ("disabled user", "disabled", {}, LETTER, 401, "unauthorized", set()),
    ("handler may not submit", "handler", {}, LETTER, 403, "forbidden", set()),
    ("form body", "submit", {"content-type": "application/x-www-form-urlencoded"}, "a=1", 415,
     "unsupported_media_type", set()),
    ("not JSON", "submit", {"content-type": "application/json"}, "{title:", 400, "bad_request",
     set()),
    ("a JSON array", "submit", {"content-type": "application/json"}, "[1, 2]", 400,
     "bad_request", set()),
    ("a list for text", "submit", {}, {**LETTER, "title": ["a"]}, 422, "invalid", {"title"}),
    ("text for true or false", "submit", {}, {**LETTER, "publish_consent": "yes"}, 422,
     "invalid", {"publish_consent"}),
    ("no such channel", "submit", {}, {**LETTER, "channel": "nowhere"}, 422, "invalid",
     {"channel"}),
    ("empty letter", "submit", {}, {}, 422, "invalid",
     {"channel", "title", "body", "name", "phone"}),
]  # fmt: skip


@pytest.mark.parametrize(
    ("token", "headers", "body", "status", "code", "fields"),
    [case[1:] for case in REFUSALS],
    ids=[case[0] for case in REFUSALS],
)
async def test_a_refused_letter_gets_the_right_status_and_changes_nothing(
    client: httpx.AsyncClient,
    db: Database,
    tokens: dict[str, str],
    token: str | None,
    headers: dict[str, str],
    body: Any,
    status: int,
    code: str,
    fields: set[str],
) -> None:
    before = await changes(db)
    sent = dict(headers)
    if token:
        sent.update(bearer(tokens.get(token, token)))
    if isinstance(body, str):
        response = await client.post("/api/v1/letters", content=body, headers=sent)
    else:
        response = await client.post("/api/v1/letters", json=body, headers=sent)
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert (error["code"], set(error["fields"])) == (code, fields)
    assert error["message"]
    if status == 401:
        assert response.headers["www-authenticate"].startswith("Bearer ")
    assert await changes(db) == before


@pytest.mark.parametrize(
    ("language", "message", "phone"),
    [
        (None, "有字段缺失或不符合要求。", ZH_PHONE),
        ("en", "Some fields are missing or not valid.", EN_PHONE),
    ],
    ids=["default", "en"],
)
async def test_field_messages_are_chinese_by_default_and_english_on_request(
    client: httpx.AsyncClient,
    tokens: dict[str, str],
    language: str | None,
    message: str,
    phone: str,
) -> None:
    headers = {"accept-language": language} if language else {}
    response = await submit(client, tokens["submit"], {**LETTER, "phone": "12345"}, **headers)
    assert response.status_code == 422
    assert response.json() == {
        "error": {"code": "invalid", "message": message, "fields": {"phone": phone}}
    }
    assert response.headers["content-language"] == (language or "zh-CN")


async def test_the_error_example_in_the_guide_is_what_the_api_answers(
    client: httpx.AsyncClient, tokens: dict[str, str]
) -> None:
    guide = GUIDE.read_text(encoding="utf-8")
    example = re.search(r"```json\n(\{\"error\".*?)\n```", guide, re.DOTALL)
    assert example is not None
    response = await submit(client, tokens["submit"], {**LETTER, "phone": "12345"})
    assert response.json() == json.loads(example.group(1))


async def test_the_writer_sees_state_deadline_and_timeline_without_personal_data(
    app: Starlette, client: httpx.AsyncClient, db: Database, tokens: dict[str, str]
) -> None:
    receipt = (await submit(client, tokens["submit"])).json()
    department_id = await db.fetch_value("SELECT id FROM departments WHERE code = 'radio'")
    await intake.accept(
        db,
        settings=app.state.settings,
        clock=app.state.clock,
        actor=Actor(user_id=None, roles=frozenset({Role.DISPATCHER})),
        tracking_no=receipt["tracking_no"],
        department_id=department_id,
    )
    code = receipt["query_code"].lower()  # typed as the writer types it
    response = await client.get(f"/api/v1/letters/{receipt['tracking_no']}?query_code={code}")
    assert response.status_code == 200
    view = response.json()
    assert set(view) == documented("WritersLetter")
    assert (view["state"], view["channel"], view["title"]) == (
        "assigned",
        "consult",
        GOOD_LETTER["title"],
    )
    assert view["submitted_at"] == "2026-09-30T10:00:00+08:00"
    assert view["due_at"].endswith("T00:00:00+08:00")
    assert [event["kind"] for event in view["timeline"]] == ["submitted", "accept"]
    assert (view["reply"], view["replied_at"], view["rating_open"]) == (None, None, False)
    for personal in ("name", "phone", "email", "address"):
        assert GOOD_LETTER[personal] not in response.text, personal
    assert response.headers["cache-control"] == "no-store"


async def test_a_wrong_code_and_an_unknown_number_look_the_same_and_a_missing_code_is_named(
    client: httpx.AsyncClient, tokens: dict[str, str]
) -> None:
    receipt = (await submit(client, tokens["submit"])).json()
    wrong = await client.get(f"/api/v1/letters/{receipt['tracking_no']}?query_code=ABCD2345")
    unknown = await client.get(f"/api/v1/letters/20260930000000?query_code={receipt['query_code']}")
    assert wrong.status_code == unknown.status_code == 404
    assert wrong.json() == unknown.json()
    assert wrong.json()["error"]["code"] == "not_found"
    missing = await client.get(f"/api/v1/letters/{receipt['tracking_no']}")
    assert missing.status_code == 422
    assert set(missing.json()["error"]["fields"]) == {"query_code"}


async def test_lookups_past_the_limit_get_429_with_retry_after(
    client: httpx.AsyncClient, tokens: dict[str, str]
) -> None:
    receipt = (await submit(client, tokens["submit"])).json()
    address = f"/api/v1/letters/{receipt['tracking_no']}?query_code={receipt['query_code']}"
    for _attempt in range(TRACK_LIMIT - 1):
        assert (await client.get("/api/v1/letters/20260930000000?query_code=X")).status_code == 404
    assert (await client.get(address)).status_code == 200
    limited = await client.get(address)
    assert limited.status_code == 429
    assert limited.json()["error"]["code"] == "rate_limited"
    assert int(limited.headers["retry-after"]) > 0
