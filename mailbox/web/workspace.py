"""The staff workspace's lists: the dispatcher's queue, the department inbox, the review queue,
the dashboard, and letters entered on a writer's behalf (the letter page is `letter.py`)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlencode

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from mailbox.auth.permissions import Page, is_office
from mailbox.db.queries import dashboard as dashboard_queries
from mailbox.db.queries import outbox, queues, staffview
from mailbox.db.queries import reminders as reminder_queries
from mailbox.db.queries.users import UserRow
from mailbox.domain.states import LetterState, Source
from mailbox.domain.validation import FIELDS, validate_letter
from mailbox.i18n import _, get_locale
from mailbox.services.calendar import office_calendar
from mailbox.services.submission import submit_letter
from mailbox.services.transitions import Actor
from mailbox.web.common import (
    channels_of,
    clock_of,
    db_of,
    read_form,
    render,
    settings_of,
    whole_number,
)
from mailbox.web.staff import staff_page


def actor_of(user: UserRow) -> Actor:
    return Actor(user_id=user.id, roles=user.roles, department_id=user.department_id)


async def staff_context(request: Request) -> dict[str, Any]:
    db = db_of(request)
    return {
        "channels": {row.code: row for row in await channels_of(request).all()},
        "departments": {d.id: d for d in await staffview.departments(db)},
        "outbox_backlog": await outbox.backlog(db),
        "mail_configured": settings_of(request).smtp_configured,
        "now": clock_of(request).now(),
    }


async def _ages(request: Request, rows: list[queues.ListedLetter]) -> dict[int, int]:
    """Each letter's age in working days, for the lists."""
    calendar = await office_calendar(db_of(request))
    tz = settings_of(request).tz
    today = clock_of(request).now().astimezone(tz).date()
    return {
        row.id: calendar.working_days_between(row.submitted_at.astimezone(tz).date(), today)
        for row in rows
    }


def _parse_date(raw: str) -> date | None:
    try:
        return date.fromisoformat(raw) if raw else None
    except ValueError:
        return None


@staff_page(Page.QUEUE)
async def queue(request: Request) -> Response:
    db, clock, settings = db_of(request), clock_of(request), settings_of(request)
    params = request.query_params
    department = params.get("department", "")
    filters = queues.Filters(
        channel=params.get("channel", "")[:20],
        state=params.get("state", "")[:20] if params.get("state") in set(LetterState) else "",
        department_id=whole_number(department),
        submitted_from=_parse_date(params.get("from", "")),
        submitted_to=_parse_date(params.get("to", "")),
        words=params.get("q", "").strip()[:100],
    )
    context = await staff_context(request)
    searching = any(vars(filters).values())
    if searching:
        tz = settings.tz
        from_moment = (
            datetime.combine(filters.submitted_from, time(0), tz)
            if filters.submitted_from
            else None
        )
        to_moment = (
            datetime.combine(filters.submitted_to + timedelta(days=1), time(0), tz)
            if filters.submitted_to
            else None
        )
        results = await queues.search(
            db,
            filters=filters,
            from_moment=from_moment,
            to_moment=to_moment,
            after=_page_after(params),
        )
        sections = {"results": results}
        if len(results) == queues.PAGE_SIZE:
            context["next_page"] = _next_page(params, results[-1].submitted_at, results[-1].id)
    else:
        sections = {
            "new": await queues.by_state(db, state=LetterState.PENDING),
            "returned": await queues.by_state(db, state=LetterState.RETURNED),
            "follow_up": await queues.needing_follow_up(db),
            "overdue": await queues.overdue(db, now=clock.now()),
        }
        context["extensions"] = await queues.pending_extensions(db)
    every = [row for rows in sections.values() for row in rows]
    context.setdefault("next_page", "")
    context.setdefault("extensions", [])
    context.update(
        sections=sections,
        searching=searching,
        filters=filters,
        raw=dict(params),
        ages=await _ages(request, every),
        states=list(LetterState),
    )
    return render(request, "staff/queue.html", context)


def _page_after(params: Mapping[str, str]) -> tuple[datetime, int] | None:
    """The keyset of the last row of the previous page, from the next-page link."""
    if whole_number(params.get("after_id", "")) is None or not params.get("after_at"):
        return None
    try:
        moment = datetime.fromisoformat(params["after_at"])
    except ValueError:
        return None
    return (moment, int(params["after_id"])) if moment.tzinfo else None


def _next_page(params: Mapping[str, str], last_at: datetime | None, last_id: int) -> str:
    kept = {k: v for k, v in params.items() if k not in ("after_at", "after_id")}
    assert last_at is not None, "listed letters are ordered by a moment they all have"
    return "?" + urlencode({**kept, "after_at": last_at.isoformat(), "after_id": last_id})


async def _department_page(
    request: Request, department_id: int, states: tuple[str, ...]
) -> tuple[list[queues.ListedLetter], str]:
    """One page of the department's open letters by deadline, and the link to the next."""
    rows = await queues.department_inbox(
        db_of(request),
        department_id=department_id,
        states=states,
        after=_page_after(request.query_params),
    )
    next_page = ""
    if len(rows) == queues.PAGE_SIZE:
        next_page = _next_page(request.query_params, rows[-1].due_at, rows[-1].id)
    return rows, next_page


@staff_page(Page.INBOX)
async def inbox(request: Request) -> Response:
    user: UserRow = request.state.user
    if user.department_id is None:
        raise HTTPException(403)
    db = db_of(request)
    rows, next_page = await _department_page(
        request, user.department_id, ("assigned", "review", "returned")
    )
    context = await staff_context(request)
    context["next_page"] = next_page
    calendar = await office_calendar(db)
    tz = settings_of(request).tz
    today = clock_of(request).now().astimezone(tz).date()
    due_soon = {
        row.id
        for row in rows
        if row.due_at
        and row.due_at > context["now"]
        and calendar.working_days_between(
            today, (row.due_at - timedelta(seconds=1)).astimezone(tz).date()
        )
        <= 1
    }
    context.update(rows=rows, due_soon=due_soon, ages=await _ages(request, rows), title_key="inbox")
    return render(request, "staff/inbox.html", context)


@staff_page(Page.REVIEW)
async def review_queue(request: Request) -> Response:
    user: UserRow = request.state.user
    if user.department_id is None:
        raise HTTPException(403)
    rows, next_page = await _department_page(request, user.department_id, ("review",))
    context = await staff_context(request)
    context["next_page"] = next_page
    context.update(rows=rows, due_soon=set(), ages=await _ages(request, rows), title_key="review")
    return render(request, "staff/inbox.html", context)


@staff_page(Page.DASHBOARD)
async def dashboard(request: Request) -> Response:
    """The office sees every department; a department head sees their own."""
    db, user = db_of(request), request.state.user
    tz = settings_of(request).tz
    now = clock_of(request).now()
    today = now.astimezone(tz).date()
    week_ends = datetime.combine(today + timedelta(days=7 - today.weekday()), time(0), tz)
    month_starts = datetime.combine(today.replace(day=1), time(0), tz)
    scope = None if is_office(user) else user.department_id
    context = await staff_context(request)
    async with db.transaction() as conn:  # one consistent view of the numbers
        context.update(
            open_counts=await dashboard_queries.open_by_state(conn, department_id=scope),
            deadlines=await dashboard_queries.deadlines(
                conn,
                now=now,
                week_ends=week_ends,
                month_starts=month_starts,
                department_id=scope,
            ),
            flags=await reminder_queries.unanswered_age_flags(conn, now=now)
            if scope is None
            else None,
        )
    return render(request, "staff/dashboard.html", context)


@staff_page(None)
async def welcome(request: Request) -> Response:
    """For roles without a letter list of their own (the reporter, until the reports)."""
    return render(request, "staff/welcome.html", await staff_context(request))


SOURCES = (Source.POST, Source.PHONE, Source.VISIT)


@staff_page(Page.ENTER)
async def enter_letter(request: Request) -> Response:
    """A letter received by post, phone or visit, entered on the writer's behalf."""
    context = await staff_context(request)
    values: dict[str, str] = {name: "" for name in FIELDS} | {"channel": "", "source": ""}
    errors: dict[str, str] = {}
    if request.method == "POST":
        form = await read_form(request)
        values.update({k: form.get(k, "") for k in values})
        letter, errors = validate_letter(form)
        channel = await channels_of(request).get(form.get("channel", ""))
        if channel is None:
            errors["channel"] = _("Choose a channel.")
        if form.get("source") not in SOURCES:
            errors["source"] = _("Choose how the letter arrived.")
        if letter is not None and channel is not None and not errors:
            receipt = await submit_letter(
                db_of(request),
                settings=settings_of(request),
                clock=clock_of(request),
                channel=channel,
                letter=letter,
                source=Source(form["source"]),
                locale=get_locale(),
                client_ip="",
                challenge="staff",
            )
            context.update(receipt=receipt)
            return render(request, "staff/entered.html", context)
    context.update(values=values, errors=errors, sources=SOURCES)
    return render(request, "staff/enter.html", context, status=400 if errors else 200)


routes = [
    Route("/staff/welcome", welcome),
    Route("/staff/dashboard", dashboard),
    Route("/staff/queue", queue),
    Route("/staff/inbox", inbox),
    Route("/staff/review", review_queue),
    Route("/staff/enter", enter_letter, methods=["GET", "POST"]),
]
