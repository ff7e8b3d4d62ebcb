"""The administration pages over HTTP: only administrators, every change audited, bad input
refused with its message and nothing changed, and each change taking effect where it matters."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime

import httpx
import pytest
from markupsafe import escape
from starlette.applications import Starlette

from mailbox.app import create_app
from mailbox.clock import FixedClock
from mailbox.db.database import Database
from mailbox.db.queries import outbox, staffview
from mailbox.domain.calendar import PACKAGE_YEARS
from mailbox.services import accounts, intake
from mailbox.services.calendar import office_calendar
from mailbox.services.transitions import Actor
from mailbox.settings import Settings
from tests.conftest import with_settings
from tests.helpers import csrf_from, csrf_token
from tests.services.conftest import add_department, new_letter

PASSWORD = "a long enough password"
STAFF = {
    "boss": (["admin"], None),
    "dispatcher": (["dispatcher"], None),
    "radio_handler": (["handler"], "radio"),
    "radio_reviewer": (["reviewer"], "radio"),
    "reporter": (["reporter"], None),
}
ADMIN_IP = "198.51.100.4"  # the address `logged_in` gives "boss"


@pytest.fixture
async def office(app: Starlette, db: Database) -> dict[str, int]:
    """A department and a user per role; the user ids by name, and the department's id."""
    ids = {"radio": await add_department(db, "radio", "无线电管理处")}
    for name, (roles, department) in STAFF.items():
        ids[name] = await accounts.create_user(
            db,
            clock=app.state.clock,
            username=name,
            password=PASSWORD,
            roles=roles,
            department_code=department,
        )
    return ids


@asynccontextmanager
async def logged_in(
    app: Starlette, name: str, password: str = PASSWORD
) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, client=(f"198.51.100.{len(name)}", 1000))
    async with httpx.AsyncClient(
        transport=transport, base_url="http://testserver", headers={"accept-language": "en"}
    ) as client:
        if name != "anonymous":
            response = await log_in(client, name, password)
            assert response.status_code == 303, name
        yield client


async def log_in(client: httpx.AsyncClient, name: str, password: str) -> httpx.Response:
    token = await csrf_token(client, "/staff/login")
    return await client.post(
        "/staff/login", data={"username": name, "password": password, "csrf_token": token}
    )


async def post(client: httpx.AsyncClient, path: str, **data: str) -> httpx.Response:
    """Post a form as the page's own form would, with the page's CSRF token."""
    page = await client.get(path.split("?")[0])
    assert page.status_code == 200, page.text
    return await client.post(path, data={**data, "csrf_token": csrf_from(page.text)})


async def change(client: httpx.AsyncClient, path: str, **data: str) -> None:
    """A change the administrator may make: done, and back to the page."""
    response = await post(client, path, **data)
    assert response.status_code == 303, response.text


async def audit_rows(db: Database) -> list[dict[str, object]]:
    rows = await db.fetch_all("SELECT * FROM audit_log ORDER BY id")
    return [dict(row) for row in rows]


async def value(db: Database, sql: str, **params: object) -> object:
    return await db.fetch_value(sql, params)


def pages(office: dict[str, int]) -> list[str]:
    return [
        "/staff/admin",
        "/staff/admin/users",
        f"/staff/admin/users/{office['dispatcher']}",
        "/staff/admin/departments",
        "/staff/admin/channels",
        "/staff/admin/reasons",
        "/staff/admin/templates",
        "/staff/admin/holidays",
        "/staff/admin/outbox",
        "/staff/admin/audit",
    ]


def changes(office: dict[str, int]) -> list[tuple[str, dict[str, str]]]:
    """One change per form, each one an administrator may make."""
    return [
        (
            "/staff/admin/users",
            {"action": "create", "username": "x1", "role_reporter": "1", "password": PASSWORD},
        ),
        (f"/staff/admin/users/{office['dispatcher']}", {"action": "deactivate"}),
        (f"/staff/admin/users/{office['dispatcher']}", {"action": "end_sessions"}),
        (
            f"/staff/admin/users/{office['dispatcher']}",
            {"action": "password", "password": "another long password"},
        ),
        ("/staff/admin/departments", {"action": "add", "code": "policy", "name": "政策法规处"}),
        (
            "/staff/admin/channels",
            {
                "action": "save",
                "id": "consult",
                "name": "咨询",
                "name_en": "Ask",
                "reply_days": "7",
                "intake_days": "2",
            },
        ),
        (
            "/staff/admin/reasons",
            {"action": "add", "code": "other", "label": "其他", "label_en": "Other"},
        ),
        ("/staff/admin/templates", {"action": "add", "title": "T", "body": "B"}),
        ("/staff/admin/holidays", {"action": "add", "day": "2027-02-17", "kind": "holiday"}),
        ("/staff/admin/outbox", {"action": "retry", "id": "1"}),
    ]


async def snapshot(db: Database) -> list[object]:
    """Everything an administration form can change."""
    tables = [
        "SELECT id, username, display_name, email, department_id, is_active, password_hash"
        " FROM users ORDER BY id",
        "SELECT * FROM user_roles ORDER BY user_id, role",
        "SELECT user_id FROM sessions ORDER BY user_id",
        "SELECT * FROM departments ORDER BY id",
        "SELECT * FROM channels ORDER BY code",
        "SELECT * FROM reject_reasons ORDER BY id",
        "SELECT id, channel, department_id, title, body FROM reply_templates ORDER BY id",
        "SELECT * FROM holidays ORDER BY day",
        "SELECT id, failed_at, send_after, attempts FROM outbox ORDER BY id",
        "SELECT * FROM audit_log ORDER BY id",
    ]
    return [[dict(row) for row in await db.fetch_all(sql)] for sql in tables]


async def failed_mail(db: Database, now: datetime, *, context: dict[str, str]) -> int:
    async with db.transaction() as conn:
        outbox_id = await outbox.enqueue(
            conn,
            kind="receipt",
            recipient="zhang@example.com",
            locale="zh_CN",
            context=context,
            now=now,
        )
        await conn.execute(
            "UPDATE outbox SET failed_at = :now, attempts = 40,"
            " last_error = 'SMTPRecipientsRefused: mailbox unavailable',"
            " context = :context WHERE id = :id",
            {"now": now, "id": outbox_id, "context": json.dumps(context)},
        )
    return outbox_id


@pytest.mark.parametrize("who", ["dispatcher", "radio_handler", "radio_reviewer", "reporter"])
async def test_only_administrators_open_or_post_to_the_admin_pages(
    app: Starlette, db: Database, office: dict[str, int], who: str
) -> None:
    await failed_mail(db, app.state.clock.now(), context={"tracking_no": "1"})
    async with logged_in(app, who) as client:
        before = await snapshot(db)  # after the login's own session
        for path in pages(office):
            assert (await client.get(path)).status_code == 403, path
        token = await csrf_token(client, "/staff/welcome")
        for path, data in changes(office):
            response = await client.post(path, data={**data, "csrf_token": token})
            assert response.status_code == 403, path
        assert await snapshot(db) == before
    async with logged_in(app, "anonymous") as client:
        for path in pages(office):
            response = await client.get(path)
            assert response.status_code == 303
            assert response.headers["location"].startswith("/staff/login?next=/staff/admin")


async def test_an_administrator_opens_every_page_and_sees_the_menu(
    app: Starlette, office: dict[str, int]
) -> None:
    async with logged_in(app, "boss") as client:
        for path in pages(office):
            response = await client.get(path)
            assert response.status_code == 200, path
            assert 'href="/staff/admin/audit"' in response.text
            assert response.headers["cache-control"] == "no-store"
        assert 'href="/staff/admin"' in (await client.get("/staff/queue")).text
    async with logged_in(app, "dispatcher") as client:
        assert 'href="/staff/admin"' not in (await client.get("/staff/queue")).text


async def test_admin_forms_need_the_csrf_token(
    app: Starlette, db: Database, office: dict[str, int]
) -> None:
    async with logged_in(app, "boss") as client:
        before = await snapshot(db)
        for path, data in changes(office):
            assert (await client.post(path, data=data)).status_code == 403, path
            wrong = await client.post(path, data={**data, "csrf_token": "x.y"})
            assert wrong.status_code == 403, path
        assert await snapshot(db) == before


async def test_an_administrator_adds_a_handler_who_can_log_in(
    app: Starlette, db: Database, office: dict[str, int]
) -> None:
    async with logged_in(app, "boss") as client:
        response = await post(
            client,
            "/staff/admin/users",
            action="create",
            username="li.si",
            display_name="李四",
            email="Li.Si@Example.com",
            role_handler="1",
            department_id=str(office["radio"]),
            password="the initial password",
        )
        assert response.status_code == 303
        user_id = await value(db, "SELECT id FROM users WHERE username = 'li.si'")
        assert response.headers["location"] == f"/staff/admin/users/{user_id}?done=1"
        page = await client.get(response.headers["location"])
        assert "li.si" in page.text and "Saved." in page.text
    row = await db.fetch_one("SELECT * FROM users WHERE id = :id", {"id": user_id})
    assert row is not None
    assert (row["display_name"], row["email"], row["department_id"]) == (
        "李四",
        "li.si@example.com",
        office["radio"],
    )
    assert row["password_hash"].startswith("$argon2id$")
    async with logged_in(app, "li.si", "the initial password") as handler:
        home = await handler.get("/staff")
        assert home.headers["location"] == "/staff/inbox"
        assert (await handler.get("/staff/inbox")).status_code == 200
        assert (await handler.get("/staff/admin")).status_code == 403
    entry = (await audit_rows(db))[-1]
    assert (entry["action"], entry["target"], entry["actor_user_id"], entry["client_ip"]) == (
        "user.create",
        "li.si",
        office["boss"],
        ADMIN_IP,
    )
    assert json.loads(str(entry["data"]))["roles"] == ["handler"]


async def test_deactivating_a_user_ends_their_session_and_their_logins(
    app: Starlette, db: Database, office: dict[str, int]
) -> None:
    user_page = f"/staff/admin/users/{office['radio_handler']}"
    async with logged_in(app, "radio_handler") as handler, logged_in(app, "boss") as boss:
        assert (await handler.get("/staff/inbox")).status_code == 200
        await change(boss, user_page, action="deactivate")
        response = await handler.get("/staff/inbox")
        assert response.status_code == 303
        assert response.headers["location"].startswith("/staff/login")
        assert (await log_in(handler, "radio_handler", PASSWORD)).status_code == 400
        assert "Deactivated" in (await boss.get(user_page)).text
        await change(boss, user_page, action="reactivate")
        assert (await log_in(handler, "radio_handler", PASSWORD)).status_code == 303
    sessions = await value(
        db, "SELECT COUNT(*) FROM sessions WHERE user_id = :id", id=office["radio_handler"]
    )
    assert sessions == 1
    actions = [row["action"] for row in await audit_rows(db)][-2:]
    assert actions == ["user.deactivate", "user.reactivate"]


async def test_a_new_password_replaces_the_old(
    app: Starlette, db: Database, office: dict[str, int]
) -> None:
    async with logged_in(app, "boss") as boss:
        await change(
            boss,
            f"/staff/admin/users/{office['reporter']}",
            action="password",
            password="a brand new password",
        )
    async with logged_in(app, "anonymous") as client:
        assert (await log_in(client, "reporter", PASSWORD)).status_code == 400
        assert (await log_in(client, "reporter", "a brand new password")).status_code == 303
    entry = (await audit_rows(db))[-1]
    assert (entry["action"], entry["target"]) == ("user.reset_password", "reporter")
    assert "password" not in str(entry["data"])


async def test_ending_all_sessions_logs_the_user_out_everywhere(
    app: Starlette, db: Database, office: dict[str, int]
) -> None:
    async with (
        logged_in(app, "dispatcher") as phone,
        logged_in(app, "dispatcher") as desk,
        logged_in(app, "boss") as boss,
    ):
        page = f"/staff/admin/users/{office['dispatcher']}"
        await change(boss, page, action="end_sessions")
        for client in (phone, desk):
            assert (await client.get("/staff/queue")).status_code == 303
        assert (await boss.get("/staff/admin")).status_code == 200  # only theirs
        assert (await log_in(phone, "dispatcher", PASSWORD)).status_code == 303  # may log in
    entry = (await audit_rows(db))[-1]
    assert entry["action"] == "user.end_sessions"
    assert json.loads(str(entry["data"])) == {"sessions_ended": 2}


async def test_roles_department_and_email_are_edited(
    app: Starlette, db: Database, office: dict[str, int]
) -> None:
    async with logged_in(app, "boss") as boss:
        await change(
            boss,
            f"/staff/admin/users/{office['reporter']}",
            action="save",
            display_name="统计员",
            email="stats@example.com",
            role_reporter="1",
            role_reviewer="1",
            department_id=str(office["radio"]),
        )
    async with logged_in(app, "reporter") as reporter:
        assert (await reporter.get("/staff/review")).status_code == 200
    roles = await db.fetch_all(
        "SELECT role FROM user_roles WHERE user_id = :id ORDER BY role", {"id": office["reporter"]}
    )
    assert [row["role"] for row in roles] == ["reporter", "reviewer"]
    email = await value(db, "SELECT email FROM users WHERE id = :id", id=office["reporter"])
    assert email == "stats@example.com"


async def test_an_administrator_cannot_lock_themselves_out(
    app: Starlette, db: Database, office: dict[str, int]
) -> None:
    page = f"/staff/admin/users/{office['boss']}"
    async with logged_in(app, "boss") as boss:
        before = await snapshot(db)
        response = await post(boss, page, action="deactivate")
        assert response.status_code == 400
        assert "You cannot deactivate your own account." in response.text
        response = await post(boss, page, action="save", role_dispatcher="1")
        assert response.status_code == 400
        assert "You cannot remove your own administrator role." in response.text
        assert "your own account" in (await boss.get(page)).text  # the page says so beforehand
    after = await snapshot(db)
    assert after[0] == before[0] and after[1] == before[1]  # users and roles unchanged
    assert after[-1] == before[-1]  # nothing audited


async def test_a_channel_deadline_change_applies_to_the_next_acceptance(
    app: Starlette, db: Database, office: dict[str, int]
) -> None:
    first = await new_letter(app, "consult")
    second = await new_letter(app, "consult")
    dispatcher = Actor(user_id=office["dispatcher"], roles=frozenset({"dispatcher"}))

    async def accept(number: str) -> datetime:
        return await intake.accept(
            db,
            settings=app.state.settings,
            clock=app.state.clock,
            actor=dispatcher,
            tracking_no=number,
            department_id=office["radio"],
        )

    # 5 working days from 2026-09-30: 国庆 1–7 October, then 8, 9, 10 (调休 Saturday), 12, 13.
    assert await accept(first) == datetime(2026, 10, 13, 16, 0, tzinfo=UTC)
    await app.state.channels.all()  # the in-memory copy is warm
    async with logged_in(app, "boss") as boss:
        await change(
            boss,
            "/staff/admin/channels",
            action="save",
            id="consult",
            name="网上咨询",
            name_en="Online Consultation",
            reply_days="10",
            intake_days="3",
            review_required="1",
            enabled="1",
        )
        assert 'value="10"' in (await boss.get("/staff/admin/channels")).text
    assert (await app.state.channels.get("consult")).reply_days == 10  # forgotten at once
    # 10 working days: …13, then 14, 15, 16, 19, 20.
    assert await accept(second) == datetime(2026, 10, 20, 16, 0, tzinfo=UTC)
    entry = (await audit_rows(db))[-1]
    assert (entry["action"], entry["target"]) == ("channel.update", "consult")
    assert json.loads(str(entry["data"]))["reply_days"] == 10


async def test_disabling_a_channel_closes_its_form(
    app: Starlette, db: Database, office: dict[str, int]
) -> None:
    async with logged_in(app, "boss") as boss:
        await change(
            boss,
            "/staff/admin/channels",
            action="save",
            id="suggestion",
            name="意见建议",
            name_en="Suggestions",
            reply_days="10",
            intake_days="2",
        )
        assert (await boss.get("/write/suggestion")).status_code == 404
    row = await db.fetch_one(
        "SELECT enabled, review_required FROM channels WHERE code = 'suggestion'"
    )
    assert row is not None and not row["enabled"] and not row["review_required"]


async def test_a_holiday_entry_changes_the_calendar_and_the_warning(
    app: Starlette, db: Database, clock: FixedClock, office: dict[str, int]
) -> None:
    last = max(PACKAGE_YEARS)  # the official schedule's last year; the next one is missing
    clock.moment = datetime(last, 6, 1, 2, 0, tzinfo=UTC)
    missing = last + 1
    warning = f"The holidays and make-up working days of {missing} are missing"
    day = date(missing, 2, 17) if date(missing, 2, 17).weekday() < 5 else date(missing, 2, 18)
    assert (await office_calendar(db)).is_working_day(day)
    async with logged_in(app, "boss") as boss:
        assert warning in (await boss.get("/staff/admin")).text
        assert warning in (await boss.get("/staff/admin/holidays")).text
        response = await post(
            boss,
            "/staff/admin/holidays",
            action="add",
            day=day.isoformat(),
            kind="holiday",
            name="春节",
        )
        assert response.status_code == 303
        assert response.headers["location"] == f"/staff/admin/holidays?year={missing}&done=1"
        listed = await boss.get(response.headers["location"])
        assert day.isoformat() in listed.text and "春节" in listed.text
        assert warning not in (await boss.get("/staff/admin")).text
        assert not (await office_calendar(db)).is_working_day(day)
        await change(
            boss, f"/staff/admin/holidays?year={missing}", action="delete", id=day.isoformat()
        )
        assert warning in (await boss.get("/staff/admin")).text
    assert (await office_calendar(db)).is_working_day(day)
    actions = [(row["action"], row["target"]) for row in await audit_rows(db)][-2:]
    assert actions == [("holiday.set", day.isoformat()), ("holiday.delete", day.isoformat())]


async def test_a_make_up_working_day_moves_a_deadline(
    app: Starlette, db: Database, office: dict[str, int]
) -> None:
    number = await new_letter(app, "consult")
    async with logged_in(app, "boss") as boss:
        await change(
            boss,
            "/staff/admin/holidays",
            action="add",
            day="2026-10-11",
            kind="workday",
            name="调休",
        )
    dispatcher = Actor(user_id=office["dispatcher"], roles=frozenset({"dispatcher"}))
    due_at = await intake.accept(
        db,
        settings=app.state.settings,
        clock=app.state.clock,
        actor=dispatcher,
        tracking_no=number,
        department_id=office["radio"],
    )
    # 8, 9, 10 (调休), 11 (entered here), 12: a day earlier than the official schedule gives.
    assert due_at == datetime(2026, 10, 12, 16, 0, tzinfo=UTC)


async def test_the_overview_lists_what_is_misconfigured(
    app: Starlette, db: Database, office: dict[str, int]
) -> None:
    async with logged_in(app, "boss") as boss:
        text = (await boss.get("/staff/admin")).text
        assert "Mail is not configured: set MAILBOX_SMTP_HOST." in text
        assert "could not be sent" not in text and "There is no department" not in text
        assert "No active user is a dispatcher" not in text
        await failed_mail(db, app.state.clock.now(), context={})
        await change(boss, f"/staff/admin/users/{office['dispatcher']}", action="deactivate")
        # Saved without "enabled": the only department is disabled.
        await change(
            boss,
            "/staff/admin/departments",
            action="save",
            id=str(office["radio"]),
            name="无线电管理处",
        )
        text = (await boss.get("/staff/admin")).text
        assert "1 mail(s) could not be sent" in text
        assert "There is no department" in text
        assert "No active user is a dispatcher" in text


async def test_a_well_configured_office_has_nothing_to_fix(
    settings: Settings, clock: FixedClock
) -> None:
    clock.moment = datetime(max(PACKAGE_YEARS) - 1, 6, 1, 2, 0, tzinfo=UTC)
    configured = with_settings(settings, smtp_host="smtp.example.gov.cn")
    app = create_app(configured, clock=clock, run_mail_worker=False)
    async with app.router.lifespan_context(app):
        await add_department(app.state.db, "radio", "无线电管理处")
        for name, roles in (("boss", ["admin"]), ("dispatcher", ["dispatcher"])):
            await accounts.create_user(
                app.state.db, clock=clock, username=name, password=PASSWORD, roles=roles
            )
        async with logged_in(app, "boss") as boss:
            page = await boss.get("/staff/admin")
        assert "Nothing is misconfigured." in page.text
        assert "Mail is not configured" not in page.text


async def test_the_outbox_shows_errors_never_content_and_retries(
    app: Starlette, db: Database, office: dict[str, int]
) -> None:
    now = app.state.clock.now()
    retryable = await failed_mail(db, now, context={"query_code": "ABCD-EFGH-JKLM"})
    emptied = await failed_mail(db, now, context={})
    async with logged_in(app, "boss") as boss:
        page = await boss.get("/staff/admin/outbox")
        assert "SMTPRecipientsRefused: mailbox unavailable" in page.text
        assert "zhang@example.com" in page.text
        assert "ABCD-EFGH-JKLM" not in page.text
        app.state.clock.advance(minutes=5)
        await change(boss, "/staff/admin/outbox", action="retry", id=str(retryable))
        response = await post(boss, "/staff/admin/outbox", action="retry", id=str(emptied))
        assert response.status_code == 400
        assert "its content was removed" in response.text
        response = await post(boss, "/staff/admin/outbox", action="retry", id="999")
        assert response.status_code == 404
    row = await db.fetch_one("SELECT * FROM outbox WHERE id = :id", {"id": retryable})
    assert row is not None
    assert row["failed_at"] is None and row["attempts"] == 40
    assert row["send_after"] == app.state.clock.now()
    assert await value(db, "SELECT failed_at FROM outbox WHERE id = :id", id=emptied) is not None
    entry = (await audit_rows(db))[-1]
    assert (entry["action"], entry["target"]) == ("outbox.retry", str(retryable))


async def test_departments_reasons_and_templates_reach_the_letter_page(
    app: Starlette, db: Database, office: dict[str, int]
) -> None:
    async with logged_in(app, "boss") as boss:
        await change(boss, "/staff/admin/departments", action="add", code="policy", name="政策处")
        policy = int(str(await value(db, "SELECT id FROM departments WHERE code = 'policy'")))
        await change(
            boss,
            "/staff/admin/departments",
            action="save",
            id=str(policy),
            name="政策法规处",
            enabled="1",
        )
        await change(
            boss,
            "/staff/admin/reasons",
            action="add",
            code="other",
            label="其他原因",
            label_en="Other",
            advice="请咨询12345。",
            advice_en="Call 12345.",
        )
        await change(
            boss,
            "/staff/admin/templates",
            action="add",
            title="基站答复",
            body="您好，经核查……",
            channel="consult",
            department_id=str(policy),
        )
    departments = {d.code: d.name for d in await staffview.departments(db)}
    assert departments == {"radio": "无线电管理处", "policy": "政策法规处"}
    assert "other" in [r.code for r in await staffview.reject_reasons(db)]
    found = await staffview.reply_templates(db, channel="consult", department_id=policy)
    assert [t.title for t in found] == ["基站答复"]
    assert not await staffview.reply_templates(db, channel="director", department_id=policy)
    reason_id = await value(db, "SELECT id FROM reject_reasons WHERE code = 'other'")
    template_id = found[0].id
    async with logged_in(app, "boss") as boss:
        await change(
            boss,
            "/staff/admin/reasons",
            action="save",
            id=str(reason_id),
            label="其他原因",
            label_en="Other",
        )
        await change(
            boss,
            "/staff/admin/templates",
            action="save",
            id=str(template_id),
            title="通用答复",
            body="您好。",
        )
        await change(
            boss, "/staff/admin/departments", action="save", id=str(policy), name="政策法规处"
        )
    assert "other" not in [r.code for r in await staffview.reject_reasons(db)]  # disabled
    assert [d.code for d in await staffview.departments(db)] == ["radio"]
    anywhere = await staffview.reply_templates(db, channel="director", department_id=None)
    assert [t.title for t in anywhere] == ["通用答复"]
    async with logged_in(app, "boss") as boss:
        await change(boss, "/staff/admin/templates", action="delete", id=str(template_id))
    assert not await staffview.reply_templates(db, channel="director", department_id=None)


async def test_every_change_writes_one_audit_row(
    app: Starlette, db: Database, office: dict[str, int]
) -> None:
    await failed_mail(db, app.state.clock.now(), context={"tracking_no": "1"})
    expected = [
        "user.create",
        "user.deactivate",
        "user.end_sessions",
        "user.reset_password",
        "department.add",
        "channel.update",
        "reason.add",
        "template.add",
        "holiday.set",
        "outbox.retry",
    ]
    async with logged_in(app, "boss") as boss:
        for (path, data), action in zip(changes(office), expected, strict=True):
            before = len(await audit_rows(db))
            response = await post(boss, path, **data)
            assert response.status_code == 303, (path, response.text)
            rows = await audit_rows(db)
            assert len(rows) == before + 1, path
            entry = rows[-1]
            assert (entry["action"], entry["actor_user_id"], entry["client_ip"]) == (
                action,
                office["boss"],
                ADMIN_IP,
            )
            assert isinstance(json.loads(str(entry["data"])), dict)
        audit = await boss.get("/staff/admin/audit")
        assert all(action in audit.text for action in expected)


async def test_the_audit_log_pages_newest_first(
    app: Starlette, db: Database, office: dict[str, int]
) -> None:
    async with db.transaction() as conn:
        for number in range(60):
            await conn.execute(
                "INSERT INTO audit_log (actor_user_id, action, target, created_at)"
                " VALUES (:actor, 'test.entry', :target, :now)",
                {
                    "actor": office["boss"],
                    "target": f"target-{number:02d}",
                    "now": app.state.clock.now(),
                },
            )
    async with logged_in(app, "boss") as boss:
        first = await boss.get("/staff/admin/audit")
        assert (
            "target-59" in first.text
            and "target-10" in first.text
            and "target-09" not in first.text
        )
        assert first.text.index("target-59") < first.text.index("target-58")
        link = first.text.split('<a href="?before=')[1].split('"')[0]
        second = await boss.get(f"/staff/admin/audit?before={link}")
        assert (
            "target-09" in second.text
            and "target-00" in second.text
            and "target-10" not in second.text
        )
        assert "?before=" not in second.text


BAD_INPUT = [
    (
        "/staff/admin/channels",
        {
            "action": "save",
            "id": "consult",
            "name": "网上咨询",
            "name_en": "Online Consultation",
            "reply_days": "0",
            "intake_days": "2",
        },
        "The reply deadline must be 1 to 60 working days.",
        "Online Consultation",
    ),
    (
        "/staff/admin/channels",
        {
            "action": "save",
            "id": "consult",
            "name": "网上咨询",
            "name_en": "Online Consultation",
            "reply_days": "61",
            "intake_days": "2",
        },
        "The reply deadline must be 1 to 60 working days.",
        'value="61"',
    ),
    (
        "/staff/admin/departments",
        {"action": "add", "code": "radio", "name": "另一个处"},
        "A department with the code radio exists.",
        "另一个处",
    ),
    (
        "/staff/admin/departments",
        {"action": "add", "code": "无线电", "name": "处"},
        "The code must be 1 to 20 letters, digits, dashes or underscores.",
        "无线电",
    ),
    (
        "/staff/admin/users",
        {
            "action": "create",
            "username": "wang",
            "display_name": "王五",
            "role_dispatcher": "1",
            "password": "short",
        },
        "The password must be at least 10 characters long.",
        "王五",
    ),
    (
        "/staff/admin/users",
        {"action": "create", "username": "wang", "role_handler": "1", "password": PASSWORD},
        "Handlers and reviewers need a department.",
        'value="wang"',
    ),
    (
        "/staff/admin/users",
        {"action": "create", "username": "wang", "password": PASSWORD},
        "Choose at least one role.",
        'value="wang"',
    ),
    (
        "/staff/admin/users",
        {"action": "create", "username": "dispatcher", "role_reporter": "1", "password": PASSWORD},
        "The user name dispatcher is taken.",
        'value="dispatcher"',
    ),
    (
        "/staff/admin/users",
        {"action": "create", "username": "wang wu", "role_reporter": "1", "password": PASSWORD},
        "The user name must be 1 to 40 letters",
        'value="wang wu"',
    ),
    (
        "/staff/admin/users",
        {
            "action": "create",
            "username": "wang",
            "role_reporter": "1",
            "email": "wang@",
            "password": PASSWORD,
        },
        "Please check the email address",
        'value="wang@"',
    ),
    (
        "USER",
        {"action": "password", "password": "short"},
        "The password must be at least 10 characters long.",
        "",
    ),
    (
        "/staff/admin/reasons",
        {"action": "add", "code": "unclear", "label": "不清楚", "label_en": "Unclear"},
        "A reason with the code unclear exists.",
        "不清楚",
    ),
    (
        "/staff/admin/reasons",
        {"action": "add", "code": "new", "label": "新原因"},
        "Enter the reason in Chinese and in English.",
        "新原因",
    ),
    (
        "/staff/admin/templates",
        {"action": "add", "title": "只有标题", "body": " "},
        "Enter the template's title and text.",
        "只有标题",
    ),
    (
        "/staff/admin/templates",
        {"action": "add", "title": "T", "body": "B", "channel": "nope"},
        "Choose a channel and a department from the lists.",
        "",
    ),
    (
        "/staff/admin/holidays",
        {"action": "add", "day": "2027-02-30", "kind": "holiday", "name": "春节"},
        "Enter the date, such as 2027-02-06.",
        "春节",
    ),
]


@pytest.mark.parametrize(("path", "data", "message", "kept"), BAD_INPUT)
async def test_bad_input_is_refused_with_its_message_and_changes_nothing(
    app: Starlette,
    db: Database,
    office: dict[str, int],
    path: str,
    data: dict[str, str],
    message: str,
    kept: str,
) -> None:
    path = f"/staff/admin/users/{office['reporter']}" if path == "USER" else path
    async with logged_in(app, "boss") as boss:
        before = await snapshot(db)  # after the login's own session
        response = await post(boss, path, **data)
        assert response.status_code == 400
        assert str(escape(message)) in response.text
        assert kept in response.text
        assert 'role="alert"' in response.text
        assert PASSWORD not in response.text and 'value="short"' not in response.text
    assert await snapshot(db) == before
