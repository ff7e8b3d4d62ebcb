"""Running hypothesis against the in-process app: one app (and database) per test function,
many examples inside it.

The app's connections belong to the test's event loop, and hypothesis calls its test
synchronously; so the examples run in a worker thread and hand each request back to the loop.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Callable, Coroutine, Iterator
from typing import Any, TypeVar
from urllib.parse import unquote

import pytest
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from starlette.types import ASGIApp, Message

from mailbox.db.database import Database
from mailbox.settings import Settings
from tests.conftest import with_settings

T = TypeVar("T")

# MAILBOX_FUZZ_EXAMPLES=2000 for a long run on one's own machine; CI keeps the default.
EXAMPLES = int(os.environ.get("MAILBOX_FUZZ_EXAMPLES", "150"))

FUZZ = hypothesis_settings(
    max_examples=EXAMPLES,
    deadline=None,  # one example is a few requests through a real database
    database=None,  # no .hypothesis/ directory in the checkout; failures print their example
    # CI replays the same inputs every run, so a landing is never blocked by chance; a
    # developer's machine explores new ones (MAILBOX_FUZZ_RANDOM=1 does so in CI too).
    derandomize=bool(os.environ.get("CI")) and not os.environ.get("MAILBOX_FUZZ_RANDOM"),
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

# The tables a request writes when it stores or changes a letter (not sessions, rate limits
# or the audit log, which a refused request may rightly touch).
LETTER_TABLES = (
    "letters",
    "letter_events",
    "outbox",
    "replies",
    "internal_notes",
    "extension_requests",
    "ratings",
    "publications",
    "webhook_events",
)


@pytest.fixture
def settings(settings: Settings) -> Settings:
    # Hundreds of letters from one test address; the limits have their own tests.
    return with_settings(settings, submit_limit=0, track_limit=0, login_limit=0)


@pytest.fixture(autouse=True)
def no_unhandled_errors(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """Whatever the status, the server log must not record an unhandled error."""
    caplog.set_level(logging.ERROR, logger="mailbox")
    yield
    errors = [r for r in caplog.records if r.name.startswith("mailbox") and r.levelno >= 40]
    assert not errors, [r.getMessage() for r in errors]


def on_this_loop() -> Callable[[Coroutine[Any, Any, T]], T]:
    """Run a coroutine on the calling test's loop from hypothesis's worker thread."""
    loop = asyncio.get_running_loop()

    def run(coroutine: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, loop).result()

    return run


async def explore(check: Callable[[], None]) -> None:
    """Run a @given test in a thread while this loop serves its requests."""
    await asyncio.to_thread(check)


async def snapshot(db: Database) -> dict[str, Any]:
    """Row counts of the letter tables and every letter's state: what a refusal leaves alone."""
    counts = {
        table: await db.fetch_value(f"SELECT COUNT(*) FROM {table}") for table in LETTER_TABLES
    }
    rows = await db.fetch_all(
        "SELECT tracking_no, state, department_id, title, body FROM letters ORDER BY id"
    )
    return {**counts, "letters_rows": [tuple(row.values()) for row in rows]}


async def raw_request(
    app: ASGIApp,
    method: str,
    target: bytes,
    headers: list[tuple[bytes, bytes]],
    body: bytes = b"",
    client: tuple[str, int] = ("198.51.100.40", 1000),
) -> tuple[int, bytes]:
    """Send a request line as bytes (httpx refuses long or malformed URLs): the path is
    decoded as uvicorn decodes it, the query string is passed on untouched."""
    raw_path, _sep, query = target.partition(b"?")
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": unquote(raw_path.decode("latin-1")),
        "raw_path": raw_path,
        "query_string": query,
        "root_path": "",
        "headers": [(b"host", b"testserver"), *headers],
        "client": client,
        "server": ("testserver", 80),
    }
    sent = False
    status, chunks = 0, []

    async def receive() -> Message:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: Message) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await app(scope, receive, send)
    return status, b"".join(chunks)
