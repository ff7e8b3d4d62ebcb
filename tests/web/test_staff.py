"""The staff entry point: one-time set-up link, login, sessions, the list of new letters."""

from __future__ import annotations

import httpx
import pytest
from starlette.applications import Starlette

from mailbox.clock import FixedClock
from mailbox.db.database import Database
from mailbox.services import accounts
from tests.helpers import csrf_token, submit_and_read_receipt

PASSWORD = "correct horse battery"


async def make_user(app: Starlette, name: str = "clerk", roles: list[str] | None = None) -> None:
    await accounts.create_user(
        app.state.db,
        clock=app.state.clock,
        username=name,
        password=PASSWORD,
        roles=roles or ["dispatcher"],
        display_name="王办事员",
    )


async def log_in(client: httpx.AsyncClient, name: str, password: str) -> httpx.Response:
    token = await csrf_token(client, "/staff/login")
    return await client.post(
        "/staff/login", data={"username": name, "password": password, "csrf_token": token}
    )


async def test_setup_link_creates_the_administrator_once(
    app: Starlette, client: httpx.AsyncClient, db: Database
) -> None:
    token = await accounts.create_setup_token(db, clock=app.state.clock)
    assert token
    page = await client.get(f"/setup/{token}")
    assert page.status_code == 200
    form = {
        "username": "admin",
        "display_name": "管理员",
        "password": PASSWORD,
        "password_again": PASSWORD,
        "csrf_token": await csrf_token(client, f"/setup/{token}"),
    }
    response = await client.post(f"/setup/{token}", data=form)
    assert response.status_code == 303 and response.headers["location"] == "/staff"
    home = await client.get("/staff")
    assert home.status_code == 303 and home.headers["location"] == "/staff/queue"
    assert (await client.get("/staff/queue")).status_code == 200
    assert (await client.get(f"/setup/{token}")).status_code == 404
    roles = await db.fetch_all("SELECT role FROM user_roles")
    assert [row["role"] for row in roles] == ["admin"]
    assert await accounts.create_setup_token(db, clock=app.state.clock) is None


async def test_setup_with_a_made_up_token_is_404(client: httpx.AsyncClient) -> None:
    assert (await client.get("/setup/made-up")).status_code == 404


async def test_login_shows_new_letters_and_logout_ends_the_session(
    app: Starlette, client: httpx.AsyncClient, db: Database
) -> None:
    await make_user(app)
    number, _code = await submit_and_read_receipt(client)
    assert (await client.get("/staff")).status_code == 303  # not logged in yet
    response = await log_in(client, "clerk", PASSWORD)
    assert response.status_code == 303
    session_cookie = client.cookies["mb_session"]
    stored = await db.fetch_value("SELECT id FROM sessions")
    assert stored != session_cookie and len(stored) == 64  # only the hash is stored
    page = await client.get("/staff", follow_redirects=True)
    assert page.status_code == 200 and number in page.text and "王办事员" in page.text
    assert "MAILBOX_SMTP_HOST" in page.text  # mail is not configured in tests
    token = await csrf_token(client, "/staff/queue")
    assert (await client.post("/staff/logout", data={"csrf_token": token})).status_code == 303
    client.cookies.set("mb_session", session_cookie)
    assert (await client.get("/staff")).status_code == 303  # the old token is dead


async def test_wrong_password_and_unknown_user_get_the_same_answer(
    app: Starlette, client: httpx.AsyncClient
) -> None:
    await make_user(app)
    wrong = await log_in(client, "clerk", "wrong password!")
    unknown = await log_in(client, "nobody", PASSWORD)
    assert wrong.status_code == unknown.status_code == 400
    assert "用户名或密码错误" in wrong.text and "用户名或密码错误" in unknown.text


async def test_failed_logins_are_limited(
    app: Starlette, client: httpx.AsyncClient, clock: FixedClock
) -> None:
    await make_user(app)
    for _ in range(10):
        assert (await log_in(client, "clerk", "wrong password!")).status_code == 400
    assert (await log_in(client, "clerk", PASSWORD)).status_code == 429
    clock.advance(minutes=16)
    assert (await log_in(client, "clerk", PASSWORD)).status_code == 303


async def test_idle_sessions_expire(
    app: Starlette, client: httpx.AsyncClient, clock: FixedClock
) -> None:
    await make_user(app)
    await log_in(client, "clerk", PASSWORD)
    clock.advance(hours=1, minutes=59)
    assert (await client.get("/staff/queue")).status_code == 200
    clock.advance(hours=2, minutes=1)
    assert (await client.get("/staff")).status_code == 303


async def test_login_needs_csrf(app: Starlette, client: httpx.AsyncClient) -> None:
    await make_user(app)
    response = await client.post("/staff/login", data={"username": "clerk", "password": PASSWORD})
    assert response.status_code == 403
    assert "mb_session" not in client.cookies


@pytest.mark.parametrize(
    "path", ["/write/consult", "/track", "/display", "/staff/login", "/staff/logout"]
)
async def test_every_form_post_without_a_token_is_refused(
    client: httpx.AsyncClient, db: Database, path: str
) -> None:
    response = await client.post(path, data={"title": "x"})
    assert response.status_code in (400, 403)


async def test_every_post_route_is_covered_by_the_csrf_test(app: Starlette) -> None:
    posts = {
        route.path for route in app.routes if "POST" in (getattr(route, "methods", None) or set())
    }
    assert posts == {
        "/write/{channel}",
        "/track",
        "/display",
        "/staff/login",
        "/staff/logout",
        "/setup/{token}",
        "/staff/enter",
        "/staff/letters/{tracking_no}",
        "/rate/{token}",
        "/staff/reports/summary",  # tests/web/test_reports_page.py
    } | {
        path
        for path in posts
        # /staff/admin: tests/web/test_admin.py. The API and Open311 read tokens, never cookies,
        # so a page cannot post for a logged-in person: test_api_cookies_are_ignored below.
        if path.startswith(("/staff/admin", "/api/v1/", "/open311/"))
    }


async def test_api_cookies_are_ignored(app: Starlette, client: httpx.AsyncClient) -> None:
    """A logged-in dispatcher's browser carries a session cookie; the API must not act on it."""
    await make_user(app)
    assert (await log_in(client, "clerk", PASSWORD)).status_code == 303
    token = await csrf_token(client, "/staff/welcome")
    letter = {"channel": "consult", "title": "标题四个字", "body": "正文" * 10, "csrf_token": token}
    for method, path in (
        ("POST", "/api/v1/letters"),
        ("GET", "/api/v1/staff/letters"),
        ("POST", "/api/v1/staff/letters/20260930000001/accept"),
    ):
        response = await client.request(method, path, json=letter)
        assert response.status_code == 401, path
    submitted = await client.post("/open311/v2/requests.json", data=letter)
    assert submitted.status_code == 403
    assert await app.state.db.fetch_value("SELECT COUNT(*) FROM letters") == 0


async def test_login_never_redirects_off_site(app: Starlette, client: httpx.AsyncClient) -> None:
    await make_user(app)
    token = await csrf_token(client, "/staff/login")
    response = await client.post(
        "/staff/login",
        data={
            "username": "clerk",
            "password": PASSWORD,
            "csrf_token": token,
            "next": "//evil.example/phish",
        },
    )
    assert response.status_code == 303 and response.headers["location"] == "/staff"


async def test_housekeeping_removes_old_counters_and_dead_sessions(
    app: Starlette, client: httpx.AsyncClient, clock: FixedClock, db: Database
) -> None:
    from mailbox.services.housekeeping import tidy

    await make_user(app)
    await log_in(client, "clerk", "wrong password!")
    await log_in(client, "clerk", PASSWORD)
    assert await tidy(db, clock) == (0, 0)
    clock.advance(days=3)
    assert await tidy(db, clock) == (2, 1)


async def test_a_burst_of_parallel_guesses_cannot_pass_the_limit(
    app: Starlette, client: httpx.AsyncClient
) -> None:
    import asyncio

    await make_user(app)
    token = await csrf_token(client, "/staff/login")
    guesses = [f"wrong guess {n:03d}" for n in range(30)] + [PASSWORD]
    responses = await asyncio.gather(
        *(
            client.post(
                "/staff/login", data={"username": "clerk", "password": guess, "csrf_token": token}
            )
            for guess in guesses
        )
    )
    assert sum(r.status_code != 429 for r in responses) <= 10


async def test_a_post_from_another_site_is_refused(
    app: Starlette, client: httpx.AsyncClient
) -> None:
    await make_user(app)
    token = await csrf_token(client, "/staff/login")
    response = await client.post(
        "/staff/login",
        data={"username": "clerk", "password": PASSWORD, "csrf_token": token},
        headers={"origin": "https://evil.example"},
    )
    assert response.status_code == 403 and "mb_session" not in client.cookies
    same = await client.post(
        "/staff/login",
        data={"username": "clerk", "password": PASSWORD, "csrf_token": token},
        headers={"origin": "http://testserver"},
    )
    assert same.status_code == 303


async def test_departments_do_not_see_the_office_list_of_new_letters(
    app: Starlette, client: httpx.AsyncClient, db: Database
) -> None:
    from mailbox.db.queries.users import add_department

    async with db.transaction() as conn:
        await add_department(conn, code="radio", name="无线电管理处", now=app.state.clock.now())
    await accounts.create_user(
        db,
        clock=app.state.clock,
        username="handler",
        password=PASSWORD,
        roles=["handler"],
        department_code="radio",
    )
    await submit_and_read_receipt(client)
    await log_in(client, "handler", PASSWORD)
    page = await client.get("/staff", follow_redirects=True)
    assert page.status_code == 200 and "张三丰" not in page.text
    assert (await client.get("/staff/queue")).status_code == 403
