"""The staff API over HTTP: who may take which step on which letter (exact status codes, and
nothing changed when refused), the list's scope and keyset pages, a letter's whole cycle with
the writer's mail, and bad input answered as 4xx JSON, never 500."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from mailbox.clock import FixedClock
from mailbox.db.database import Database
from mailbox.db.queries import users
from mailbox.services import handling, intake, publication
from mailbox.services.api_tokens import create_token
from mailbox.services.transitions import Actor
from mailbox.settings import Settings
from mailbox.web.api.staff_actions import SPECS
from mailbox.web.workspace import actor_of
from tests.conftest import with_settings
from tests.services.conftest import new_letter, staff_actor
from tests.web.test_workspace import ROLES, logged_in, office

__all__ = ["office"]  # the fixture, used by name

REPLY = "经核查，该基站已依法审批，辐射检测结果符合国家标准，请放心。"
CALLERS = [*ROLES, "submit", "anonymous"]


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return with_settings(settings, submit_limit=0)  # many letters from one test address


@pytest.fixture
async def tokens(app: Starlette, db: Database, office: dict[str, str]) -> dict[str, str]:
    """A staff token per office user, a submit-scope token, and none."""
    made = {"anonymous": ""}
    for name in ROLES:
        _id, made[name] = await create_token(db, clock=app.state.clock, username=name, label="t")
    _id, made["submit"] = await create_token(
        db, clock=app.state.clock, username="dispatcher", label="portal", scope="submit"
    )
    return made


def auth(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"} if token else {}


@pytest.fixture
async def api(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, client=("198.51.100.20", 1000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


class Desk:
    """Puts letters into each state through the services, as the office and departments would."""

    def __init__(self, app: Starlette, actors: dict[str, Actor], departments: dict[str, int]):
        self.app, self.db = app, app.state.db
        self.actors, self.departments = actors, departments

    def _on(self, actor: str, number: str) -> dict[str, Any]:
        return {"clock": self.app.state.clock, "actor": self.actors[actor], "tracking_no": number}

    async def letter(self, state: str, department: str = "radio", **fields: str) -> str:
        db, settings = self.db, self.app.state.settings
        number = await new_letter(self.app, **{"publish_consent": "1", **fields})
        if state == "spam":
            await intake.mark_spam(db, **self._on("dispatcher", number))
        if state in ("pending", "spam"):
            return number
        await intake.accept(
            db,
            settings=settings,
            department_id=self.departments[department],
            **self._on("dispatcher", number),
        )
        handler, reviewer = f"{department}_handler", f"{department}_reviewer"
        if state == "returned":
            await handling.return_to_office(
                db, reason="不属于本处职责", **self._on(handler, number)
            )
        if state == "extension":
            await handling.request_extension(
                db, working_days=5, reason="需要现场检测", **self._on(handler, number)
            )
        if state in ("review", "replied", "published", "follow_up"):
            await handling.save_draft(db, body=REPLY, **self._on(handler, number))
            await handling.submit_for_review(db, **self._on(handler, number))
        if state in ("replied", "published", "follow_up"):
            await handling.approve(db, settings=settings, **self._on(reviewer, number))
        if state == "published":
            await publication.publish(db, **self._on("dispatcher", number))
        if state == "follow_up":
            await handling.rate(
                db,
                clock=self.app.state.clock,
                tracking_no=number,
                rating=handling.Rating.UNSATISFIED,
            )
        return number


@pytest.fixture
async def desk(app: Starlette, db: Database, office: dict[str, str]) -> Desk:
    departments = {}
    for code in ("radio", "policy"):
        department_id = await users.department_id_by_code(db, code=code)
        assert department_id is not None
        departments[code] = department_id
    # Only to approve the policy department's replies.
    actors = {"policy_reviewer": await staff_actor(db, "pr", "reviewer", departments["policy"])}
    for name in ROLES:
        user = await users.get_user_by_username(db, username=name)
        assert user is not None
        actors[name] = actor_of(user)
    return Desk(app, actors, departments)


async def fingerprint(db: Database, number: str) -> list[Any]:
    """Everything a step on the letter could change."""
    letter = await db.fetch_one("SELECT * FROM letters WHERE tracking_no = :n", {"n": number})
    assert letter is not None
    found: list[Any] = [dict(letter)]
    for sql in (
        "SELECT COUNT(*) FROM letter_events WHERE letter_id = :id",
        "SELECT COUNT(*) FROM replies WHERE letter_id = :id",
        "SELECT COUNT(*) FROM internal_notes WHERE letter_id = :id",
        "SELECT COUNT(*) FROM outbox WHERE letter_id = :id",
        "SELECT COUNT(*) FROM extension_requests WHERE letter_id = :id AND state = 'pending'",
        "SELECT COUNT(*) FROM publications WHERE letter_id = :id AND is_published",
    ):
        found.append(await db.fetch_value(sql, {"id": letter["id"]}))
    return found


async def state_of(db: Database, number: str) -> str:
    state: str = await db.fetch_value(
        "SELECT state FROM letters WHERE tracking_no = :n", {"n": number}
    )
    return state


# The state each action needs, and a valid body for it (the department: where it goes).
SETUP: dict[str, tuple[str, Any]] = {
    "accept": ("pending", lambda dep: {"department": dep}),
    "reject": ("pending", lambda dep: {"reason": "not_ours", "note": "请向市场监管部门反映"}),
    "mark-spam": ("pending", lambda dep: None),
    "restore": ("spam", lambda dep: None),
    "merge": ("pending", lambda dep: {"original": "ORIGINAL"}),
    "assign": ("returned", lambda dep: {"department": dep}),
    "draft": ("assigned", lambda dep: {"body": REPLY}),
    "reply": ("assigned", lambda dep: {"body": REPLY}),
    "approve": ("review", lambda dep: None),
    "send-back": ("review", lambda dep: {"comment": "请写明检测机构"}),
    "return": ("assigned", lambda dep: {"reason": "不属于本处职责"}),
    "extend": ("assigned", lambda dep: {"working_days": 5, "reason": "需要现场检测"}),
    "grant-extension": ("extension", lambda dep: {}),
    "refuse-extension": ("extension", lambda dep: {"note": "请按期答复"}),
    "reopen": ("follow_up", lambda dep: {"note": "请补充检测报告"}),
    "close": ("follow_up", lambda dep: {"note": "已电话解释"}),
    "correct-reply": ("replied", lambda dep: {"body": REPLY + "特此更正。", "note": "补充"}),
    "publish": ("replied", lambda dep: {"title": "关于小区基站的咨询"}),
    "unpublish": ("published", lambda dep: {"note": "来信人要求撤回"}),
    "note": ("assigned", lambda dep: {"body": "已电话联系来信人"}),
}

# Per action, each caller's status on a letter of the radio department, then of the policy
# department (for a new letter: accepted, or to be accepted, into it).
# Callers: admin, dispatcher, radio_handler, radio_reviewer, policy_handler, reporter,
# a submit-scope token, no token.
OFFICE_INTAKE = "200 200|200 200|404 404|404 404|404 404|403 403|403 403|401 401"
OFFICE_ON_DEPARTMENT = "200 200|200 200|403 404|403 404|404 403|403 403|403 403|401 401"
HANDLER = "403 403|403 403|200 404|403 404|404 200|403 403|403 403|401 401"
REVIEWER = "403 403|403 403|403 404|200 404|404 403|403 403|403 403|401 401"
EXPECTED = {
    "accept": OFFICE_INTAKE,
    "reject": OFFICE_INTAKE,
    "mark-spam": OFFICE_INTAKE,
    "restore": OFFICE_INTAKE,
    "merge": OFFICE_INTAKE,
    "assign": OFFICE_ON_DEPARTMENT,
    "draft": HANDLER,
    "reply": HANDLER,
    "approve": REVIEWER,
    "send-back": REVIEWER,
    "return": HANDLER,
    "extend": HANDLER,
    "grant-extension": OFFICE_ON_DEPARTMENT,
    "refuse-extension": OFFICE_ON_DEPARTMENT,
    "reopen": OFFICE_ON_DEPARTMENT,
    "close": OFFICE_ON_DEPARTMENT,
    "correct-reply": "200 200|200 200|403 404|200 404|404 403|403 403|403 403|401 401",
    "publish": OFFICE_ON_DEPARTMENT,
    "unpublish": OFFICE_ON_DEPARTMENT,
    "note": "200 200|200 200|200 404|200 404|404 200|403 403|403 403|401 401",
}


def test_the_matrix_covers_every_action() -> None:
    assert set(EXPECTED) == set(SPECS) == set(SETUP)


@pytest.mark.parametrize("action", list(EXPECTED))
async def test_permission_matrix(
    app: Starlette,
    db: Database,
    api: httpx.AsyncClient,
    desk: Desk,
    tokens: dict[str, str],
    office: dict[str, str],
    action: str,
) -> None:
    state, body_for = SETUP[action]
    expected = [pair.split() for pair in EXPECTED[action].split("|")]
    got = []
    for caller, statuses in zip(CALLERS, expected, strict=True):
        for department, status in zip(("radio", "policy"), statuses, strict=True):
            number = await desk.letter(state, department)
            body = body_for(department)
            if action == "merge":
                body = {"original": office["radio"]}
            before = await fingerprint(db, number)
            response = await api.post(
                f"/api/v1/staff/letters/{number}/{action}",
                headers=auth(tokens[caller]),
                json=body,  # None: no body at all
            )
            got.append(f"{caller} {department} {response.status_code}")
            after = await fingerprint(db, number)
            if response.status_code == 200:
                assert after != before, (caller, department)
                assert response.json()["tracking_no"] == number
            else:
                assert after == before, (caller, department)
                assert set(response.json()["error"]) == {"code", "message", "fields"}
            assert response.status_code == int(status), (caller, department, response.text)


async def test_the_list_is_the_tokens_scope_in_keyset_pages(
    app: Starlette,
    clock: FixedClock,
    db: Database,
    api: httpx.AsyncClient,
    desk: Desk,
    tokens: dict[str, str],
) -> None:
    for index in range(7):  # some at the same moment, some later: the keyset has both parts
        await desk.letter("assigned", "radio" if index % 2 else "policy")
        if index % 3 == 0:
            clock.advance(minutes=7)
    everything = [
        row["tracking_no"]
        for row in await db.fetch_all(
            "SELECT tracking_no FROM letters ORDER BY submitted_at DESC, id DESC"
        )
    ]
    radio = [
        row["tracking_no"]
        for row in await db.fetch_all(
            "SELECT l.tracking_no FROM letters l JOIN departments d ON d.id = l.department_id"
            " WHERE d.code = 'radio' ORDER BY l.submitted_at DESC, l.id DESC"
        )
    ]
    for caller, visible in (
        ("dispatcher", everything),
        ("admin", everything),
        ("radio_handler", radio),
        ("radio_reviewer", radio),
    ):
        seen: list[str] = []
        pages = 0
        url = "/api/v1/staff/letters?limit=2"
        while True:
            response = await api.get(url, headers=auth(tokens[caller]))
            assert response.status_code == 200, response.text
            page = response.json()
            pages += 1
            seen += [letter["tracking_no"] for letter in page["letters"]]
            if page["next_cursor"] is None:
                break
            url = f"/api/v1/staff/letters?limit=2&cursor={page['next_cursor']}"
        assert seen == visible, caller  # each once, none repeated, newest first
        assert pages == (len(visible) + 1) // 2
    for caller in ("reporter", "submit"):
        assert (
            await api.get("/api/v1/staff/letters", headers=auth(tokens[caller]))
        ).status_code == 403
    assert (await api.get("/api/v1/staff/letters")).status_code == 401


async def test_the_list_filters(
    app: Starlette,
    clock: FixedClock,
    db: Database,
    api: httpx.AsyncClient,
    desk: Desk,
    tokens: dict[str, str],
    office: dict[str, str],
) -> None:
    rejected = await desk.letter("pending", phone="13900001111", name="李四")
    await api.post(
        f"/api/v1/staff/letters/{rejected}/reject",
        headers=auth(tokens["dispatcher"]),
        json={"reason": "not_ours"},
    )

    async def listed(caller: str, query: str) -> list[str]:
        response = await api.get(f"/api/v1/staff/letters?{query}", headers=auth(tokens[caller]))
        assert response.status_code == 200, response.text
        return [letter["tracking_no"] for letter in response.json()["letters"]]

    assert await listed("dispatcher", "state=pending") == [office["pending"]]
    assert await listed("dispatcher", "state=rejected") == [rejected]
    assert await listed("dispatcher", "department=policy") == [office["policy"]]
    assert await listed("dispatcher", "channel=director") == []
    assert set(await listed("dispatcher", "channel=consult")) == {*office.values(), rejected}
    assert await listed("dispatcher", f"q={office['radio']}") == [office["radio"]]
    assert await listed("dispatcher", "q=1111") == [rejected]
    assert await listed("dispatcher", "q=李四") == [rejected]
    assert await listed("policy_handler", "q=李四") == []  # not in their department
    assert await listed("policy_handler", "department=radio") == []
    assert await listed("policy_handler", "") == [office["policy"]]
    assert await listed("dispatcher", "overdue=true") == []
    clock.advance(days=30)  # past every deadline (5 working days after 2026-09-30)
    assert set(await listed("dispatcher", "overdue=true")) == {office["radio"], office["policy"]}
    assert await listed("radio_handler", "overdue=true") == [office["radio"]]
    page = await api.get("/api/v1/staff/letters?overdue=true", headers=auth(tokens["admin"]))
    listed_letter = page.json()["letters"][0]
    assert listed_letter["overdue"] is True
    assert listed_letter["department"]["code"] in ("radio", "policy")
    assert listed_letter["submitted_at"] == "2026-09-30T10:00:00+08:00"


BAD_QUERIES = [
    ("state=lost", "state"),
    ("state=", "state"),
    ("channel=nope", "channel"),
    ("department=nope", "department"),
    ("department=", "department"),
    ("limit=0", "limit"),
    ("limit=101", "limit"),
    ("limit=ten", "limit"),
    ("limit=%EF%BC%95", "limit"),  # a full-width digit
    ("overdue=yes", "overdue"),
    ("cursor=xyz", "cursor"),
    ("cursor=", "cursor"),
    ("cursor=OTk5OTk5OTk5OTk5OTk5OTk5OTk5OjE", "cursor"),  # a moment beyond any date
    ("cursor=%00%FF", "cursor"),
    ("q=" + "字" * 101, "q"),
]


async def test_bad_list_parameters_are_422_naming_them(
    api: httpx.AsyncClient, tokens: dict[str, str]
) -> None:
    for query, field in BAD_QUERIES:
        response = await api.get(f"/api/v1/staff/letters?{query}", headers=auth(tokens["admin"]))
        assert response.status_code == 422, (query, response.text)
        assert set(response.json()["error"]["fields"]) == {field}, query


async def test_a_search_with_odd_characters_is_no_error(
    api: httpx.AsyncClient, tokens: dict[str, str]
) -> None:
    # NUL is dropped (neither database stores it); LIKE's wildcards are matched as themselves.
    for words in ("李%00四", "%25_%5C", "%F0%9F%98%80", "'; DROP TABLE letters; --"):
        response = await api.get(f"/api/v1/staff/letters?q={words}", headers=auth(tokens["admin"]))
        assert response.status_code == 200, words
        assert response.json() == {"letters": [], "next_cursor": None}


async def test_one_letter_as_the_staff_page_shows_it(
    api: httpx.AsyncClient, desk: Desk, tokens: dict[str, str], office: dict[str, str]
) -> None:
    number = await desk.letter("extension", "radio")
    response = await api.get(f"/api/v1/staff/letters/{number}", headers=auth(tokens["admin"]))
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    letter = response.json()
    assert letter["writer"] == {
        "name": "张三丰",
        "phone": "13812345678",
        "email": "zhang@example.com",
        "address": "乌鲁木齐市天山区某街道1号",
    }
    assert letter["state"] == "assigned"
    assert letter["department"] == {"code": "radio", "name": "无线电管理处"}
    assert letter["due_at"] == "2026-10-14T00:00:00+08:00"  # the end of 13 October
    assert [(e["kind"], e["public"]) for e in letter["timeline"]] == [
        ("submitted", True),
        ("accept", True),
        ("request_extension", False),  # internal events too
    ]
    assert letter["timeline"][2]["note"] == "需要现场检测"
    assert isinstance(letter["extension_request_id"], int)
    assert letter["draft"] is None and letter["reply"] is None
    assert letter["actions"] == ["grant-extension", "refuse-extension", "note"]

    handler = await api.get(
        f"/api/v1/staff/letters/{number}", headers=auth(tokens["radio_handler"])
    )
    assert handler.json()["actions"] == ["draft", "reply", "return", "note"]  # no second request
    reviewer = await api.get(
        f"/api/v1/staff/letters/{number}", headers=auth(tokens["radio_reviewer"])
    )
    assert reviewer.json()["actions"] == ["note"]
    for caller, status in (("policy_handler", 404), ("reporter", 403), ("submit", 403)):
        response = await api.get(f"/api/v1/staff/letters/{number}", headers=auth(tokens[caller]))
        assert response.status_code == status, caller
    for missing in ("20260930000000", "x" * 41, "%00", "..%2F..%2Fetc"):
        response = await api.get(f"/api/v1/staff/letters/{missing}", headers=auth(tokens["admin"]))
        assert response.status_code == 404, missing
        assert response.json()["error"]["code"] == "not_found"
    pending = await api.get(
        f"/api/v1/staff/letters/{office['pending']}", headers=auth(tokens["dispatcher"])
    )
    assert pending.json()["actions"] == ["accept", "reject", "mark-spam", "merge", "note"]
    assert pending.json()["department"] is None


async def test_a_letter_through_the_api_to_publication(
    app: Starlette, db: Database, api: httpx.AsyncClient, desk: Desk, tokens: dict[str, str]
) -> None:
    number = await desk.letter("pending")

    async def step(caller: str, action: str, body: dict[str, Any] | None = None) -> Any:
        response = await api.post(
            f"/api/v1/staff/letters/{number}/{action}",
            headers=auth(tokens[caller]),
            json=body,  # None: no body at all
        )
        assert response.status_code == 200, response.text
        return response.json()

    accepted = await step("dispatcher", "accept", {"department": "radio"})
    assert accepted["state"] == "assigned" and accepted["department"]["code"] == "radio"
    assert accepted["actions"] == ["note"]  # the dispatcher's part is done
    drafted = await step("radio_handler", "draft", {"body": REPLY})
    assert drafted["state"] == "assigned" and drafted["draft"]["body"] == REPLY
    submitted = await step("radio_handler", "reply", {"body": REPLY + "如有疑问请来电。"})
    assert submitted["state"] == "review"  # the consult channel's replies are reviewed
    assert submitted["draft"]["body"] == REPLY + "如有疑问请来电。"
    assert submitted["draft"]["submitted_at"] == "2026-09-30T10:00:00+08:00"
    approved = await step("radio_reviewer", "approve")
    assert approved["state"] == "replied" and approved["draft"] is None
    assert approved["reply"]["body"] == REPLY + "如有疑问请来电。"
    seen = await api.get(f"/api/v1/staff/letters/{number}", headers=auth(tokens["dispatcher"]))
    assert "publish" in seen.json()["actions"]
    published = await step("dispatcher", "publish", {"title": "关于小区基站的咨询（公开）"})
    assert published["published_at"] == "2026-09-30T10:00:00+08:00"
    assert "unpublish" in published["actions"] and "publish" not in published["actions"]

    copy = await db.fetch_one(
        "SELECT p.title, p.body, p.is_published FROM publications p"
        " JOIN letters l ON l.id = p.letter_id WHERE l.tracking_no = :n",
        {"n": number},
    )
    assert copy is not None and copy["is_published"]
    assert copy["title"] == "关于小区基站的咨询（公开）"
    assert "13812345678" not in copy["body"]  # the rest stays masked
    public = await api.get(f"/letters/{number}")
    assert public.status_code == 200 and "关于小区基站的咨询（公开）" in public.text
    kinds = [
        row["kind"]
        for row in await db.fetch_all(
            "SELECT o.kind FROM outbox o JOIN letters l ON l.id = o.letter_id"
            " WHERE l.tracking_no = :n AND o.recipient = 'zhang@example.com' ORDER BY o.id",
            {"n": number},
        )
    ]
    assert kinds == ["receipt", "accepted", "replied"]
    assert app.state.outbox_wakeup.is_set()
    assert [e["kind"] for e in published["timeline"]] == [
        "submitted",
        "accept",
        "submit_draft",
        "approve",
        "edit_publication",
        "publish",
    ]


async def test_a_reply_goes_out_at_once_when_the_channel_has_no_review(
    app: Starlette, db: Database, api: httpx.AsyncClient, desk: Desk, tokens: dict[str, str]
) -> None:
    async with db.transaction() as conn:
        await conn.execute(
            "UPDATE channels SET review_required = :no WHERE code = 'consult'", {"no": False}
        )
    app.state.channels.forget()
    number = await desk.letter("assigned", "policy")
    response = await api.post(
        f"/api/v1/staff/letters/{number}/reply",
        headers=auth(tokens["policy_handler"]),
        json={"body": REPLY},
    )
    assert response.status_code == 200, response.text
    assert response.json()["state"] == "replied"
    assert response.json()["reply"]["body"] == REPLY


async def test_an_extension_asked_and_granted(
    api: httpx.AsyncClient, desk: Desk, tokens: dict[str, str]
) -> None:
    number = await desk.letter("assigned")
    url = f"/api/v1/staff/letters/{number}"
    asked = await api.post(
        f"{url}/extend",
        headers=auth(tokens["radio_handler"]),
        json={"working_days": 3, "reason": "需要现场检测"},
    )
    assert asked.status_code == 200 and asked.json()["extension_request_id"]
    again = await api.post(
        f"{url}/extend",
        headers=auth(tokens["radio_handler"]),
        json={"working_days": 3, "reason": "再延期"},
    )
    assert again.status_code == 409
    granted = await api.post(f"{url}/grant-extension", headers=auth(tokens["dispatcher"]))
    assert granted.status_code == 200, granted.text
    assert granted.json()["due_at"] == "2026-10-17T00:00:00+08:00"  # three working days on
    assert granted.json()["extension_request_id"] is None
    none_waiting = await api.post(f"{url}/refuse-extension", headers=auth(tokens["dispatcher"]))
    assert none_waiting.status_code == 409


async def test_steps_the_state_does_not_allow_are_409_and_change_nothing(
    db: Database, api: httpx.AsyncClient, desk: Desk, tokens: dict[str, str]
) -> None:
    assigned = await desk.letter("assigned")
    no_consent = await desk.letter("replied", publish_consent="")
    for number, caller, action, body in (
        (assigned, "radio_reviewer", "approve", None),
        (assigned, "dispatcher", "accept", {"department": "policy"}),
        (assigned, "dispatcher", "publish", None),
        (assigned, "dispatcher", "reopen", {"note": "再办"}),
        (no_consent, "dispatcher", "publish", {"title": "公开标题"}),
        (no_consent, "dispatcher", "unpublish", None),
        (no_consent, "radio_handler", "reply", {"body": REPLY}),
    ):
        before = await fingerprint(db, number)
        response = await api.post(
            f"/api/v1/staff/letters/{number}/{action}",
            headers=auth(tokens[caller]),
            json=body,  # None: no body at all
        )
        assert response.status_code == 409, (action, response.text)
        assert response.json()["error"]["code"] == "conflict"
        assert await fingerprint(db, number) == before


BAD_BODIES = [
    ("accept", {}, 422, {"department"}),
    ("accept", {"department": "nope"}, 422, {"department"}),
    ("accept", {"department": 7}, 422, {"department"}),
    ("accept", {"department": None}, 422, {"department"}),
    ("accept", {"department": "radio", "due_at": "tomorrow"}, 422, {"due_at"}),
    ("accept", {"department": "radio\x00"}, 422, {"department"}),
    ("accept", {"department": "\ud800"}, 422, {"department"}),
    ("accept", {"\ud800": 1, "department": "radio"}, 422, {"?"}),
    ("reject", {"reason": "no_such_reason"}, 422, {"reason"}),
    ("reject", {"reason": "not_ours", "note": "字" * 1001}, 422, {"note"}),
    ("merge", {"original": "20990101000000"}, 422, {"original"}),
    ("merge", {"original": ["20990101000000"]}, 422, {"original"}),
    ("note", {"body": ""}, 422, {"body"}),
    ("note", {"body": "   "}, 422, {"body"}),
    ("mark-spam", {"why": "spam"}, 422, {"why"}),
    ("accept", [], 400, set()),
    ("accept", "radio", 400, set()),
]


async def test_invalid_bodies_are_4xx_json_and_change_nothing(
    db: Database, api: httpx.AsyncClient, tokens: dict[str, str], office: dict[str, str]
) -> None:
    number = office["pending"]
    before = await fingerprint(db, number)
    for action, body, status, fields in BAD_BODIES:
        response = await api.post(
            f"/api/v1/staff/letters/{number}/{action}",
            headers={**auth(tokens["dispatcher"]), "content-type": "application/json"},
            content=json.dumps(body).encode(),  # lone surrogates escaped, as JSON allows
        )
        assert response.status_code == status, (action, body, response.text)
        assert set(response.json()["error"]["fields"]) == fields, (action, body)
    assert await fingerprint(db, number) == before


BAD_WORK = [
    ("reply", {"body": "太短"}, "body"),
    ("reply", {"body": " " * 20}, "body"),
    ("reply", {"body": "字" * 10_001}, "body"),
    ("extend", {"working_days": 0, "reason": "需要"}, "working_days"),
    ("extend", {"working_days": 61, "reason": "需要"}, "working_days"),
    ("extend", {"working_days": 2.5, "reason": "需要"}, "working_days"),
    ("extend", {"working_days": True, "reason": "需要"}, "working_days"),
    ("extend", {"working_days": "5", "reason": "需要"}, "working_days"),
    ("extend", {"working_days": 10**400, "reason": "需要"}, "working_days"),
    ("extend", {"working_days": 5, "reason": "  "}, "reason"),
    ("return", {"reason": {"text": "不是本处"}}, "reason"),
]


async def test_a_handlers_invalid_input_names_the_field(
    db: Database, api: httpx.AsyncClient, tokens: dict[str, str], office: dict[str, str]
) -> None:
    number = office["radio"]
    before = await fingerprint(db, number)
    for action, body, field in BAD_WORK:
        response = await api.post(
            f"/api/v1/staff/letters/{number}/{action}",
            headers=auth(tokens["radio_handler"]),
            json=body,
        )
        assert response.status_code == 422, (action, body, response.text)
        assert set(response.json()["error"]["fields"]) == {field}, (action, body)
    assert await fingerprint(db, number) == before


async def test_what_is_not_a_json_object_is_400_or_415(
    db: Database, api: httpx.AsyncClient, tokens: dict[str, str], office: dict[str, str]
) -> None:
    url = f"/api/v1/staff/letters/{office['pending']}/accept"
    headers = auth(tokens["dispatcher"])
    before = await fingerprint(db, office["pending"])
    for content_type, content, status in (
        ("text/plain", b'{"department": "radio"}', 415),
        ("application/x-www-form-urlencoded", b"department=radio", 415),
        ("application/json", b'{"department": "radio"', 400),
        ("application/json", b"\xff\xfe", 400),
        ("application/json", b"[" * 100_000, 400),
        ("application/json", b"x" * 300_000, 413),
    ):
        response = await api.post(
            url, headers={**headers, "content-type": content_type}, content=content
        )
        assert response.status_code == status, (content_type, content[:20])
        assert response.headers["content-type"] == "application/json"
        assert response.json()["error"]["code"]
    unknown = await api.post(f"/api/v1/staff/letters/{office['pending']}/delete", headers=headers)
    assert unknown.status_code == 404
    wrong_method = await api.get(url, headers=headers)
    assert wrong_method.status_code == 405
    assert await fingerprint(db, office["pending"]) == before


async def test_tokens_that_may_not_use_the_staff_api(
    app: Starlette, api: httpx.AsyncClient, tokens: dict[str, str], office: dict[str, str]
) -> None:
    url = f"/api/v1/staff/letters/{office['radio']}"
    assert (await api.get(url)).status_code == 401
    assert (await api.get(url, headers=auth("mbx_not-a-real-token"))).status_code == 401
    assert (await api.get(url, headers={"authorization": "Basic YTpi"})).status_code == 401
    assert (await api.get(url, headers=auth(tokens["submit"]))).status_code == 403
    # Session cookies are never read here: a logged-in browser cannot act through the API.
    async with logged_in(app, "dispatcher") as browser:
        assert (await browser.get(f"/staff/letters/{office['radio']}")).status_code == 200
        response = await browser.post(f"{url}/note", json={"body": "跨站请求"})
        assert response.status_code == 401
