"""Staff sessions for the fuzz tests: logged-in people with their form tokens, the whole
database as a refused post must leave it, and the requests that send hostile bodies."""

from __future__ import annotations

from contextlib import AsyncExitStack
from dataclasses import dataclass
from typing import Any

import httpx
from hypothesis import strategies as st
from starlette.applications import Starlette

from mailbox.db.database import Database
from tests.fuzz.strategies import BOUNDARY, TRICKY, as_bytes, multipart, urlencoded, values
from tests.helpers import csrf_token
from tests.web.test_workspace import logged_in

Pairs = list[tuple[str | bytes, str | bytes]]

# Every table but the ones a refused request may rightly touch: sessions (last seen),
# rate limits and spent spam challenges.
TABLES = (
    "api_tokens",
    "attachments",
    "attention_words",
    "audit_log",
    "channels",
    "departments",
    "extension_requests",
    "holidays",
    "internal_notes",
    "letter_events",
    "letters",
    "outbox",
    "publications",
    "ratings",
    "reject_reasons",
    "reminders",
    "replies",
    "reply_templates",
    "setup_tokens",
    "site_texts",
    "user_roles",
    "users",
    "webhook_events",
    "webhooks",
)


async def everything(db: Database) -> dict[str, list[str]]:
    """Every stored row of every table (as text, sorted): what a refused post leaves alone."""
    return {
        table: sorted(
            repr(tuple(row.values())) for row in await db.fetch_all(f"SELECT * FROM {table}")
        )
        for table in TABLES
    }


def changed_tables(before: dict[str, list[str]], after: dict[str, list[str]]) -> list[str]:
    return [table for table in TABLES if before[table] != after[table]]


@dataclass(frozen=True)
class Desk:
    """One logged-in person: their client, their form token, who they are."""

    name: str
    client: httpx.AsyncClient
    token: str
    user_id: int
    roles: frozenset[str]
    department_id: int | None


async def sign_in(stack: AsyncExitStack, app: Starlette, db: Database, name: str) -> Desk:
    client = await stack.enter_async_context(logged_in(app, name))
    token = await csrf_token(client, "/staff/welcome")
    row = await db.fetch_one("SELECT id, department_id FROM users WHERE username = :u", {"u": name})
    assert row is not None
    roles = await db.fetch_all("SELECT role FROM user_roles WHERE user_id = :id", {"id": row["id"]})
    return Desk(
        name=name,
        client=client,
        token=token,
        user_id=row["id"],
        roles=frozenset(r["role"] for r in roles),
        department_id=row["department_id"],
    )


async def stranger_token(app: Starlette) -> str:
    """A well-signed form token of another browser: valid, but not this one's cookie."""
    transport = httpx.ASGITransport(app=app, client=("198.51.100.99", 1000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as stranger:
        return await csrf_token(stranger)


# What the CSRF check sees: the right token, none, a well-signed token of another browser,
# random text, or the right token from a page on another site (Origin).
CSRF_CASES = ["good", "good", "good", "good", "missing", "other", "forged", "origin"]
csrf_cases = st.sampled_from(CSRF_CASES)


def with_csrf(pairs: Pairs, case: str, desk: Desk, other_token: str, forged: str | bytes) -> Pairs:
    token: str | bytes | None = {
        "good": desk.token,
        "origin": desk.token,
        "other": other_token,
        "forged": forged,
        "missing": None,
    }[case]
    return pairs if token is None else [*pairs, ("csrf_token", token)]


def encoded(pairs: Pairs, encoding: str) -> tuple[bytes, str]:
    """A form body and its content type: percent-encoded, raw bytes, or multipart."""
    if encoding == "multipart":
        return multipart(pairs, []), f"multipart/form-data; boundary={BOUNDARY}"
    return urlencoded(pairs, quoted=encoding == "quoted"), "application/x-www-form-urlencoded"


encodings = st.sampled_from(["quoted", "quoted", "raw", "multipart"])


async def post(
    desk: Desk, path: str, body: bytes, content_type: str | None, csrf: str = "good"
) -> httpx.Response:
    headers = {"content-type": content_type} if content_type is not None else {}
    if csrf == "origin":
        headers["origin"] = "https://mailbox.example.org.evil.example"
    return await desk.client.post(path, content=body, headers=headers)


def field_values(good: Any) -> st.SearchStrategy[str | bytes]:
    """A field as the form fills it, a value known to trip parsers, or anything at all."""
    return st.integers(0, 3).flatmap(
        lambda pick: (st.just(good), st.sampled_from(TRICKY), values, values)[pick]
    )


def extra_pairs(names: list[str]) -> st.SearchStrategy[Pairs]:
    """More fields: known names again (a repeated field), or random names."""
    return st.lists(st.tuples(st.one_of(st.sampled_from(names), values), values), max_size=3)


def as_text(value: str | bytes) -> str:
    return as_bytes(value).decode("utf-8", "replace")
