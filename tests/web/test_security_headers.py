"""Security headers on every kind of answer, cookie flags behind TLS, and the body limit."""

from __future__ import annotations

import re
from dataclasses import replace

import httpx
import pytest
from starlette.applications import Starlette

from tests.helpers import GOOD_LETTER, csrf_from, csrf_token
from tests.web.test_staff import PASSWORD, log_in, make_user

PUBLIC = [
    "/",
    "/write/complaint",
    "/track",
    "/staff/login",
    "/no-such-page",
    "/api/v1/channels",
    "/api/v1/letters/123?query_code=x",
    "/api/v1/no-such-endpoint",
    "/api/v1/openapi.json",
    "/api/docs",
    "/open311/v2/services.json",
    "/static/css/site.css",
]
STAFF = ["/staff", "/staff/no-such-page"]
PROXY = "203.0.113.7"  # the address the `client` fixture connects from


def directives(policy: str) -> dict[str, list[str]]:
    parts = (part.split() for part in policy.split(";") if part.strip())
    return {part[0]: part[1:] for part in parts}


def assert_hardened(response: httpx.Response) -> None:
    where = f"{response.request.url.path} ({response.status_code})"
    policy = directives(response.headers.get("content-security-policy", ""))
    for kind in ("script-src", "style-src"):
        assert kind in policy or "default-src" in policy, where
        assert "'unsafe-inline'" not in policy.get(kind, []), where
        assert "'unsafe-eval'" not in policy.get(kind, []), where
    assert policy["frame-ancestors"] == ["'none'"], where
    assert policy["object-src"] == ["'none'"], where
    assert response.headers["x-content-type-options"] == "nosniff", where
    assert response.headers["referrer-policy"] == "same-origin", where


def assert_nothing_inline(response: httpx.Response) -> None:
    """What the policy would block must not be on the page: it would silently break."""
    if not response.headers.get("content-type", "").startswith("text/html"):
        return
    html = response.text
    where = response.request.url.path
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>\s*\S", html), f"inline script: {where}"
    assert not re.search(r"<style\b", html), f"style element: {where}"
    assert not re.search(r"\sstyle=", html), f"style attribute: {where}"
    assert not re.search(r"\son[a-z]+=", html), f"event handler attribute: {where}"


@pytest.mark.parametrize("path", PUBLIC)
async def test_every_public_answer_carries_the_security_headers(
    client: httpx.AsyncClient, path: str
) -> None:
    response = await client.get(path)
    assert response.status_code in (200, 404), path
    assert_hardened(response)
    assert_nothing_inline(response)


async def test_every_staff_page_carries_the_security_headers(
    app: Starlette, client: httpx.AsyncClient
) -> None:
    await make_user(app, "clerk")
    assert (await log_in(client, "clerk", PASSWORD)).status_code == 303
    for path in STAFF:
        response = await client.get(path)
        assert_hardened(response)
        assert_nothing_inline(response)


async def test_error_answers_carry_the_security_headers(client: httpx.AsyncClient) -> None:
    refused = await client.post("/write/complaint", data={"csrf_token": "forged"})
    too_large = await client.post(
        "/open311/v2/requests.json",
        content=b"x" * 300_000,
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert refused.status_code == 400
    assert too_large.status_code == 413
    for response in (refused, too_large):
        assert_hardened(response)


def cookie_flags(response: httpx.Response, name: str) -> set[str]:
    for line in response.headers.get_list("set-cookie"):
        if line.startswith(f"{name}="):
            return {flag.strip().lower() for flag in line.split(";")[1:]}
    raise AssertionError(f"no {name} cookie")


async def session_and_csrf_flags(
    app: Starlette, client: httpx.AsyncClient, headers: dict[str, str]
) -> tuple[set[str], set[str]]:
    await make_user(app, "clerk")
    form = await client.get("/staff/login", headers=headers)
    # Sent by hand: the client's cookie jar keeps a Secure cookie from a plain-http URL.
    cookie = form.cookies["mb_csrf"]
    client.cookies.clear()
    login = await client.post(
        "/staff/login",
        data={"username": "clerk", "password": PASSWORD, "csrf_token": csrf_from(form.text)},
        headers={**headers, "cookie": f"mb_csrf={cookie}"},
    )
    assert login.status_code == 303
    return cookie_flags(form, "mb_csrf"), cookie_flags(login, "mb_session")


async def test_cookies_are_secure_when_a_trusted_proxy_says_https(
    app: Starlette, client: httpx.AsyncClient
) -> None:
    app.state.settings = replace(app.state.settings, trusted_proxies=(PROXY,))
    csrf, session = await session_and_csrf_flags(app, client, {"x-forwarded-proto": "https"})
    for flags in (csrf, session):
        assert {"httponly", "samesite=lax", "secure"} <= flags


async def test_an_untrusted_peer_cannot_claim_https(
    app: Starlette, client: httpx.AsyncClient
) -> None:
    csrf, session = await session_and_csrf_flags(app, client, {"x-forwarded-proto": "https"})
    for flags in (csrf, session):
        assert {"httponly", "samesite=lax"} <= flags
        assert "secure" not in flags


async def test_a_https_base_url_makes_cookies_secure(
    app: Starlette, client: httpx.AsyncClient
) -> None:
    app.state.settings = replace(app.state.settings, base_url="https://mailbox.example.gov.cn")
    csrf, session = await session_and_csrf_flags(app, client, {})
    assert "secure" in csrf and "secure" in session


async def test_a_body_over_the_limit_is_refused_before_it_is_read(
    client: httpx.AsyncClient,
) -> None:
    token = await csrf_token(client, "/write/complaint")
    data = {**GOOD_LETTER, "body": "字" * 100_000, "csrf_token": token}
    response = await client.post("/write/complaint", data=data)
    assert response.status_code == 413
    assert_hardened(response)
