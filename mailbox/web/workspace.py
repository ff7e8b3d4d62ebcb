"""The staff workspace: the dispatcher's queue, the department inbox, the review queue, the
letter page and its actions, and letters entered on a writer's behalf."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from datetime import date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlencode

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from mailbox.auth.permissions import Page, is_office, sees_letter
from mailbox.db.queries import dashboard as dashboard_queries
from mailbox.db.queries import letters, outbox, queues, replies, staffview
from mailbox.db.queries import reminders as reminder_queries
from mailbox.db.queries.letters import LetterRow
from mailbox.db.queries.users import UserRow
from mailbox.domain.states import LetterState, Source
from mailbox.domain.validation import FIELDS, validate_letter
from mailbox.domain.workflow import TRANSITIONS, Action, TransitionRefused, may
from mailbox.i18n import _, get_locale
from mailbox.services import handling, intake
from mailbox.services.calendar import office_calendar
from mailbox.services.errors import NotFound, ServiceError
from mailbox.services.submission import submit_letter
from mailbox.services.transitions import Actor, NotPermitted
from mailbox.web.common import channels_of, clock_of, db_of, read_form, render, settings_of
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
        department_id=int(department) if department.isdigit() else None,
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
    if not params.get("after_id", "").isdigit() or not params.get("after_at"):
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


async def _visible_letter(request: Request) -> LetterRow:
    letter = await letters.get_letter_by_tracking_no(
        db_of(request), tracking_no=request.path_params["tracking_no"]
    )
    # Outside your scope, a letter does not exist for you: 404, not 403.
    if letter is None or not sees_letter(request.state.user, letter):
        raise HTTPException(404)
    return letter


def _possible_actions(user: UserRow, letter: LetterRow) -> set[str]:
    return {
        action
        for action, rule in TRANSITIONS.items()
        if letter.state in rule.sources
        and may(
            action,
            user.roles,
            user_department_id=user.department_id,
            letter_department_id=letter.department_id,
        )
    }


async def _letter_page(
    request: Request, letter: LetterRow, *, error: str = "", status: int = 200
) -> Response:
    db, user = db_of(request), request.state.user
    context = await staff_context(request)
    draft = await replies.current_draft(db, letter_id=letter.id)
    released = await replies.latest_released(db, letter_id=letter.id)
    preview_due = None
    if letter.state == LetterState.PENDING:
        async with db.transaction() as conn:  # a read; the writer sees holidays just edited
            preview_due = await intake.due_at_for(
                conn, settings_of(request), letter, clock_of(request).now()
            )
    context.update(
        letter=letter,
        actions=_possible_actions(user, letter),
        timeline=await staffview.timeline(db, letter_id=letter.id),
        notes=await staffview.notes(db, letter_id=letter.id),
        draft=draft,
        released=released,
        templates=await staffview.reply_templates(
            db, channel=letter.channel, department_id=letter.department_id
        ),
        reasons=await staffview.reject_reasons(db),
        extension_id=await staffview.pending_extension_id(db, letter_id=letter.id),
        ratings=await replies.ratings(db, letter_id=letter.id),
        preview_due=preview_due,
        error=error,
        office=is_office(user),
    )
    return render(request, "staff/letter.html", context, status=status)


@staff_page(Page.LETTER)
async def letter_page(request: Request) -> Response:
    return await _letter_page(request, await _visible_letter(request))


Handler = Callable[[Request, LetterRow, Actor, dict[str, str]], Awaitable[None]]


def _int(form: dict[str, str], name: str) -> int:
    raw = form.get(name, "")
    if not raw.isdigit():
        raise intake.InvalidDecision(name)
    return int(raw)


async def _accept(request: Request, letter: LetterRow, actor: Actor, form: dict[str, str]) -> None:
    await intake.accept(
        db_of(request),
        settings=settings_of(request),
        clock=clock_of(request),
        actor=actor,
        tracking_no=letter.tracking_no,
        department_id=_int(form, "department_id"),
    )


async def _reject(request: Request, letter: LetterRow, actor: Actor, form: dict[str, str]) -> None:
    await intake.reject(
        db_of(request),
        clock=clock_of(request),
        actor=actor,
        tracking_no=letter.tracking_no,
        reason_code=form.get("reason", ""),
        note=form.get("note", "").strip()[:1000],
    )


async def _spam(request: Request, letter: LetterRow, actor: Actor, form: dict[str, str]) -> None:
    await intake.mark_spam(
        db_of(request), clock=clock_of(request), actor=actor, tracking_no=letter.tracking_no
    )


async def _restore(request: Request, letter: LetterRow, actor: Actor, form: dict[str, str]) -> None:
    await intake.restore(
        db_of(request), clock=clock_of(request), actor=actor, tracking_no=letter.tracking_no
    )


async def _merge(request: Request, letter: LetterRow, actor: Actor, form: dict[str, str]) -> None:
    await intake.merge(
        db_of(request),
        clock=clock_of(request),
        actor=actor,
        tracking_no=letter.tracking_no,
        original_tracking_no="".join(ch for ch in form.get("original", "") if ch.isdigit()),
    )


async def _reassign(
    request: Request, letter: LetterRow, actor: Actor, form: dict[str, str]
) -> None:
    await intake.reassign(
        db_of(request),
        clock=clock_of(request),
        actor=actor,
        tracking_no=letter.tracking_no,
        department_id=_int(form, "department_id"),
    )


async def _save_draft(
    request: Request, letter: LetterRow, actor: Actor, form: dict[str, str]
) -> None:
    await handling.save_draft(
        db_of(request),
        clock=clock_of(request),
        actor=actor,
        tracking_no=letter.tracking_no,
        body=form.get("body", ""),
    )


async def _submit_draft(
    request: Request, letter: LetterRow, actor: Actor, form: dict[str, str]
) -> None:
    await _save_draft(request, letter, actor, form)
    await handling.submit_for_review(
        db_of(request), clock=clock_of(request), actor=actor, tracking_no=letter.tracking_no
    )


async def _release(request: Request, letter: LetterRow, actor: Actor, form: dict[str, str]) -> None:
    await _save_draft(request, letter, actor, form)
    await handling.release_directly(
        db_of(request),
        settings=settings_of(request),
        clock=clock_of(request),
        actor=actor,
        tracking_no=letter.tracking_no,
    )


async def _approve(request: Request, letter: LetterRow, actor: Actor, form: dict[str, str]) -> None:
    await handling.approve(
        db_of(request),
        settings=settings_of(request),
        clock=clock_of(request),
        actor=actor,
        tracking_no=letter.tracking_no,
    )


async def _send_back(
    request: Request, letter: LetterRow, actor: Actor, form: dict[str, str]
) -> None:
    await handling.send_back(
        db_of(request),
        clock=clock_of(request),
        actor=actor,
        tracking_no=letter.tracking_no,
        comment=form.get("note", "")[:2000],
    )


async def _return(request: Request, letter: LetterRow, actor: Actor, form: dict[str, str]) -> None:
    await handling.return_to_office(
        db_of(request),
        clock=clock_of(request),
        actor=actor,
        tracking_no=letter.tracking_no,
        reason=form.get("note", "")[:2000],
    )


async def _request_extension(
    request: Request, letter: LetterRow, actor: Actor, form: dict[str, str]
) -> None:
    await handling.request_extension(
        db_of(request),
        clock=clock_of(request),
        actor=actor,
        tracking_no=letter.tracking_no,
        working_days=_int(form, "working_days"),
        reason=form.get("note", "")[:2000],
    )


async def _grant(request: Request, letter: LetterRow, actor: Actor, form: dict[str, str]) -> None:
    await handling.decide_extension(
        db_of(request),
        settings=settings_of(request),
        clock=clock_of(request),
        actor=actor,
        request_id=_int(form, "request_id"),
        grant=True,
        note=form.get("note", "")[:2000],
    )


async def _refuse(request: Request, letter: LetterRow, actor: Actor, form: dict[str, str]) -> None:
    await handling.decide_extension(
        db_of(request),
        settings=settings_of(request),
        clock=clock_of(request),
        actor=actor,
        request_id=_int(form, "request_id"),
        grant=False,
        note=form.get("note", "")[:2000],
    )


async def _reopen(request: Request, letter: LetterRow, actor: Actor, form: dict[str, str]) -> None:
    await handling.reopen(
        db_of(request),
        settings=settings_of(request),
        clock=clock_of(request),
        actor=actor,
        tracking_no=letter.tracking_no,
        note=form.get("note", "")[:2000],
    )


async def _close(request: Request, letter: LetterRow, actor: Actor, form: dict[str, str]) -> None:
    await handling.close_with_note(
        db_of(request),
        clock=clock_of(request),
        actor=actor,
        tracking_no=letter.tracking_no,
        note=form.get("note", "")[:2000],
    )


async def _correct(request: Request, letter: LetterRow, actor: Actor, form: dict[str, str]) -> None:
    await handling.correct_reply(
        db_of(request),
        clock=clock_of(request),
        actor=actor,
        tracking_no=letter.tracking_no,
        body=form.get("body", ""),
        note=form.get("note", "")[:2000],
    )


async def _note(request: Request, letter: LetterRow, actor: Actor, form: dict[str, str]) -> None:
    body = form.get("body", "").strip()[:5000]
    if not body:
        raise handling.InvalidWork("empty note")
    assert actor.user_id is not None
    async with db_of(request).transaction() as conn:
        await staffview.add_note(
            conn,
            letter_id=letter.id,
            author_user_id=actor.user_id,
            body=body,
            now=clock_of(request).now(),
        )


HANDLERS: dict[str, Handler] = {
    Action.ACCEPT: _accept,
    Action.REJECT: _reject,
    Action.MARK_SPAM: _spam,
    Action.RESTORE: _restore,
    Action.MERGE: _merge,
    Action.REASSIGN: _reassign,
    "save_draft": _save_draft,
    Action.SUBMIT_DRAFT: _submit_draft,
    Action.RELEASE: _release,
    Action.APPROVE: _approve,
    Action.SEND_BACK: _send_back,
    Action.RETURN: _return,
    Action.REQUEST_EXTENSION: _request_extension,
    Action.GRANT_EXTENSION: _grant,
    Action.REFUSE_EXTENSION: _refuse,
    Action.REOPEN: _reopen,
    Action.CLOSE_UNSATISFIED: _close,
    Action.CORRECT_REPLY: _correct,
    "note": _note,
}


@staff_page(Page.LETTER)
async def letter_action(request: Request) -> Response:
    letter = await _visible_letter(request)
    form = await read_form(request)
    handler = HANDLERS.get(form.get("action", ""))
    if handler is None:
        raise HTTPException(400)
    try:
        await handler(request, letter, actor_of(request.state.user), form)
        request.app.state.outbox_wakeup.set()  # any mail the step queued goes out now
    except NotPermitted:
        raise HTTPException(403) from None
    except TransitionRefused:
        fresh = await _visible_letter(request)
        message = _("This step is not possible now: the letter has changed. Please look again.")
        return await _letter_page(request, fresh, error=message, status=409)
    except NotFound:
        raise HTTPException(404) from None
    except ServiceError:
        message = _("Please check what you entered: something is missing or not valid.")
        return await _letter_page(request, letter, error=message, status=400)
    return RedirectResponse(f"/staff/letters/{letter.tracking_no}", status_code=303)


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
    Route("/staff/letters/{tracking_no}", letter_page, methods=["GET"]),
    Route("/staff/letters/{tracking_no}", letter_action, methods=["POST"]),
]
