"""The ceiling: a bare Starlette endpoint that does the least a letter form can do.

It parses the same urlencoded form (`request.form()`), inserts one row with plain aiosqlite
into a WAL database with `synchronous=FULL` (the pragmas of `mailbox/db/sqlite.py`), commits
and answers 303 -- no CSRF check, no validation, no templates, no event, no outbox. Served by
uvicorn with the settings of `python -m mailbox serve` (one process, asyncio loop).

All requests share one aiosqlite connection, as the app's writer does. aiosqlite runs the
calls one after another on its thread, so when requests overlap, `INSERT a, INSERT b,
COMMIT a, COMMIT b` happens and the first COMMIT makes both rows durable (the second is a
no-op): plain aiosqlite gets group commit for free, and each response still leaves only
after its row is on disk.

    python bench/ceiling.py --port 8100 --db /tmp/ceiling.sqlite3 [--no-access-log]
"""

from __future__ import annotations

import argparse
import contextlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import aiosqlite
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

PRAGMAS = (
    "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;"
    "PRAGMA busy_timeout=5000;"
)
SCHEMA = """
CREATE TABLE IF NOT EXISTS letters (
    id         INTEGER PRIMARY KEY,
    channel    TEXT NOT NULL,
    title      TEXT NOT NULL,
    body       TEXT NOT NULL,
    name       TEXT NOT NULL,
    phone      TEXT NOT NULL,
    email      TEXT NOT NULL,
    address    TEXT NOT NULL,
    created_at TEXT NOT NULL
);
"""
INSERT = (
    "INSERT INTO letters (channel, title, body, name, phone, email, address, created_at)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
)


def create_app(db_path: str) -> Starlette:
    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        conn = await aiosqlite.connect(db_path)
        await conn.executescript(PRAGMAS + SCHEMA)
        app.state.conn = conn
        try:
            yield
        finally:
            await conn.close()

    async def submit(request: Request) -> Response:
        form = await request.form()
        fields = [str(form.get(name, "")) for name in ("title", "body", "name", "phone")]
        fields += [str(form.get(name, "")) for name in ("email", "address")]
        conn: aiosqlite.Connection = request.app.state.conn
        now = datetime.now(UTC).isoformat(timespec="microseconds")
        await conn.execute(INSERT, (request.path_params["channel"], *fields, now))
        await conn.commit()
        return RedirectResponse("/receipt", status_code=303)

    return Starlette(
        routes=[Route("/write/{channel}", submit, methods=["POST"])], lifespan=lifespan
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8100)
    parser.add_argument("--db", required=True, help="SQLite file (created when missing)")
    parser.add_argument("--no-access-log", action="store_true")
    args = parser.parse_args()
    uvicorn.run(
        create_app(args.db),
        host=args.host,
        port=args.port,
        proxy_headers=False,
        server_header=False,
        log_level="info",
        access_log=not args.no_access_log,
    )


if __name__ == "__main__":
    main()
