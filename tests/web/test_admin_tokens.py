"""The API tokens page: only administrators, the token shown once and working at once,
only its hash stored, revocation effective on the next request, both audited."""

from __future__ import annotations

import hashlib
import re

import httpx
from starlette.applications import Starlette

from mailbox.db.database import Database
from tests.web.test_admin import ADMIN_IP, logged_in, office, post

__all__ = ["office"]  # the fixture, used by name


async def _submit_with(app: Starlette, token: str) -> int:
    """A call that needs only a valid token: 401 tells a dead token from a live one."""
    transport = httpx.ASGITransport(app=app, client=("203.0.113.9", 1000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as api:
        response = await api.post(
            "/api/v1/letters", json={}, headers={"authorization": f"Bearer {token}"}
        )
    return response.status_code


async def test_only_administrators_open_the_tokens_page(
    app: Starlette, office: dict[str, int]
) -> None:
    for name, expected in (("boss", 200), ("dispatcher", 403), ("reporter", 403)):
        async with logged_in(app, name) as client:
            assert (await client.get("/staff/admin/tokens")).status_code == expected, name
    async with logged_in(app, "anonymous") as client:
        assert (await client.get("/staff/admin/tokens")).status_code == 303


async def test_a_token_is_shown_once_stored_as_a_hash_and_revoked(
    app: Starlette, db: Database, office: dict[str, int]
) -> None:
    async with logged_in(app, "boss") as client:
        created = await post(
            client,
            "/staff/admin/tokens",
            action="create",
            username="dispatcher",
            scope="submit",
            label="门户网站",
        )
        assert created.status_code == 200
        assert created.headers["cache-control"] == "no-store"
        token = re.search(r'id="new-token" class="code" readonly value="(mbx_[^"]+)"', created.text)
        assert token, created.text
        secret = token.group(1)
        listing = await client.get("/staff/admin/tokens")
        assert secret not in listing.text and secret[:12] in listing.text
        assert "门户网站" in listing.text

        stored = await db.fetch_one("SELECT id, token_hash, scope, user_id FROM api_tokens")
        assert stored is not None
        assert stored["token_hash"] == hashlib.sha256(secret.encode()).hexdigest()
        assert (stored["scope"], stored["user_id"]) == ("submit", office["dispatcher"])
        # A submit token may send letters (422: the empty letter is refused, not the token)...
        assert await _submit_with(app, secret) == 422

        revoked = await post(client, "/staff/admin/tokens", action="revoke", id=str(stored["id"]))
        assert revoked.status_code == 303
        again = await post(client, "/staff/admin/tokens", action="revoke", id=str(stored["id"]))
        assert again.status_code == 404
    # ...and after revocation it is refused at once.
    assert await _submit_with(app, secret) == 401
    actions = await db.fetch_all(
        "SELECT action, target, client_ip FROM audit_log WHERE action LIKE 'token.%' ORDER BY id"
    )
    assert [(row["action"], row["target"], row["client_ip"]) for row in actions] == [
        ("token.create", "dispatcher", ADMIN_IP),
        ("token.revoke", "dispatcher", ADMIN_IP),
    ]


async def test_a_token_for_an_unknown_user_is_refused_and_nothing_is_stored(
    app: Starlette, db: Database, office: dict[str, int]
) -> None:
    async with logged_in(app, "boss") as client:
        refused = await post(
            client, "/staff/admin/tokens", action="create", username="nobody", scope="staff"
        )
        assert refused.status_code == 400
        assert "There is no active user nobody." in refused.text
        wrong_scope = await post(
            client, "/staff/admin/tokens", action="create", username="boss", scope="root"
        )
        assert wrong_scope.status_code == 400
    assert await db.fetch_value("SELECT COUNT(*) FROM api_tokens") == 0
