"""/healthz: the process answers. /readyz: it can do its work (database, schema, outbox)."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from mailbox.db import migrate
from mailbox.db.queries import operations
from mailbox.db.queries.outbox import Medium
from mailbox.web.common import db_of, settings_of

log = logging.getLogger(__name__)

CHECK_TIMEOUT = 2.0  # seconds: a load balancer's probe must not hang with the database
NO_STORE = {"cache-control": "no-store"}


async def healthz(request: Request) -> Response:
    return JSONResponse({"status": "ok"}, headers=NO_STORE)


async def readyz(request: Request) -> Response:
    """200 when the database answers and its schema is current; else 503 naming what failed.
    The outbox backlog is reported, not judged: during an SMTP outage letters are still
    accepted (the outbox keeps their mail), so the server stays in the load balancer."""
    db = db_of(request)
    report: dict[str, Any] = {}
    try:
        await asyncio.wait_for(db.fetch_value("SELECT 1"), CHECK_TIMEOUT)
        report["database"] = "ok"
        waiting = await asyncio.wait_for(
            migrate.pending(settings_of(request).database_url), CHECK_TIMEOUT
        )
        report["migrations"] = "current" if not waiting else f"{len(waiting)} pending"
        backlog = await asyncio.wait_for(operations.outbox_waiting(db), CHECK_TIMEOUT)
        report["outbox_backlog"] = {medium: backlog.get(medium, 0) for medium in Medium}
    except Exception as error:  # noqa: BLE001 - a probe reports any failure, it never raises
        log.warning("readiness check failed: %r", error)
        report.setdefault("database", "unreachable")
        report.setdefault("migrations", "unknown")
    ready = report.get("database") == "ok" and report.get("migrations") == "current"
    report["status"] = "ready" if ready else "not ready"
    return JSONResponse(report, status_code=200 if ready else 503, headers=NO_STORE)


routes = [Route("/healthz", healthz, methods=["GET"]), Route("/readyz", readyz, methods=["GET"])]
