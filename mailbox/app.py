"""create_app(settings) -> Starlette: the database, templates and the outbox worker."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles

from mailbox.clock import Clock, SystemClock
from mailbox.db import migrate
from mailbox.db.database import open_database
from mailbox.mail.media import transports
from mailbox.mail.worker import run_worker
from mailbox.observability import health, metrics
from mailbox.observability.access import RequestLog
from mailbox.services.attachments import store_for
from mailbox.services.channels import ChannelDirectory
from mailbox.services.housekeeping import run_housekeeping
from mailbox.services.reminders import run_daily
from mailbox.settings import ROOT, Settings, load_settings
from mailbox.templating import create_environment
from mailbox.web import (
    admin,
    admin_attention,
    admin_tokens,
    admin_webhooks,
    archive,
    errors,
    files,
    letter,
    public,
    reports,
    staff,
    stats,
    workspace,
)
from mailbox.web.api import docs as api_docs
from mailbox.web.api import openapi as api_openapi
from mailbox.web.api import public as api_public
from mailbox.web.api import rating as api_rating
from mailbox.web.api import reports as api_reports
from mailbox.web.api import staff as api_staff
from mailbox.web.middleware import BodyLimit, LocaleAndHeaders
from mailbox.web.open311 import routes as open311


class SchemaOutdated(RuntimeError):
    pass


def create_app(
    settings: Settings, *, clock: Clock | None = None, run_mail_worker: bool = True
) -> Starlette:
    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        waiting = await migrate.pending(settings.database_url)
        if waiting:
            raise SchemaOutdated(
                f"the database schema is outdated ({len(waiting)} migration(s) pending): "
                "run `python -m mailbox migrate`"
            )
        db = open_database(settings.database_url)
        await db.connect()
        app.state.db = db
        app.state.channels = ChannelDirectory(db)
        store = store_for(settings)
        tasks = [asyncio.create_task(run_housekeeping(db, app.state.clock, store=store))]
        if run_mail_worker:
            # Reminders are queued even while SMTP is unset: the outbox keeps them.
            tasks.append(
                asyncio.create_task(
                    run_daily(
                        db,
                        settings=settings,
                        clock=app.state.clock,
                        wakeup=app.state.outbox_wakeup,
                    )
                )
            )
        if run_mail_worker:
            # Webhooks always; mail only once SMTP is configured (until then it waits).
            tasks.append(
                asyncio.create_task(
                    run_worker(db, transports(settings), app.state.clock, app.state.outbox_wakeup)
                )
            )
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            await db.close()

    app = Starlette(
        routes=[
            *public.routes,
            *health.routes,
            *metrics.routes,
            *stats.routes,
            *archive.routes,
            *staff.routes,
            *workspace.routes,
            *letter.routes,
            *files.routes,
            *admin.routes,
            *admin_attention.routes,
            *admin_tokens.routes,
            *admin_webhooks.routes,
            *reports.routes,
            *api_public.routes,
            *api_rating.routes,
            *api_staff.routes,
            *api_reports.routes,
            *open311.routes,
            *api_openapi.routes,
            *api_docs.routes,
            Mount("/static", StaticFiles(directory=ROOT / "static"), name="static"),
        ],
        middleware=[
            Middleware(RequestLog),
            Middleware(LocaleAndHeaders),
            Middleware(BodyLimit, upload_bytes=settings.upload_limit),
        ],
        exception_handlers=errors.handlers,
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.clock = clock or SystemClock()
    app.state.templates = create_environment()
    app.state.outbox_wakeup = asyncio.Event()
    return app


def app_from_environment() -> Starlette:
    """The factory uvicorn calls in each worker process."""
    return create_app(load_settings())


def app_without_worker() -> Starlette:
    """For `serve --no-worker`: mail is left to `python -m mailbox worker` processes."""
    return create_app(load_settings(), run_mail_worker=False)
