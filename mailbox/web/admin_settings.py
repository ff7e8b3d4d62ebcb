"""The administration lists that configure the office (departments, channels, reject reasons,
reply templates, holidays), and what every administration page shares."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from datetime import date
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from mailbox.auth.permissions import Page
from mailbox.db.queries import admin as queries
from mailbox.db.queries import admin_settings as settings_queries
from mailbox.services import admin as service
from mailbox.services import admin_settings as configure
from mailbox.services.errors import NotFound
from mailbox.web.common import (
    channels_of,
    client_ip,
    clock_of,
    db_of,
    read_form,
    render,
    settings_of,
    whole_number,
)
from mailbox.web.staff import staff_page
from mailbox.web.workspace import staff_context

Form = dict[str, str]
Action = Callable[[Request, Form], Awaitable[str | None]]
PageView = Callable[[Request, dict[str, str] | None, Form | None], Awaitable[Response]]
NEVER_SHOWN_AGAIN = ("password", "csrf_token")


def actor_of(request: Request) -> service.Admin:
    return service.Admin(user_id=request.state.user.id, client_ip=client_ip(request))


async def admin_page(
    request: Request,
    template: str,
    section: str,
    context: Mapping[str, Any],
    errors: dict[str, str] | None = None,
    posted: Form | None = None,
) -> Response:
    """An administration page; after a refused form, with the message and the input kept
    (`posted_key` names the form it came from: its action and the row's id)."""
    kept = {k: v for k, v in (posted or {}).items() if k not in NEVER_SHOWN_AGAIN}
    values = await staff_context(request)
    values.update(
        section=section,
        errors=errors or {},
        posted=kept,
        posted_key=f"{kept.get('action', '')}:{kept.get('id', '')}" if posted else "",
        done=request.query_params.get("done") == "1",
        **context,
    )
    return render(request, template, values, status=400 if errors else 200)


async def handle_post(request: Request, actions: Mapping[str, Action], page: PageView) -> Response:
    """Run the posted action; then back to the page (or where the action says), or the page
    again with the message when the input is refused."""
    form = await read_form(request)
    action = actions.get(form.get("action", ""))
    if action is None:
        raise HTTPException(400)
    try:
        target = await action(request, form) or request.url.path
    except NotFound:
        raise HTTPException(404) from None
    except service.InvalidInput as error:
        return await page(request, {"form": str(error)}, form)
    return RedirectResponse(f"{target}{'&' if '?' in target else '?'}done=1", status_code=303)


def path_id(request: Request, name: str) -> int:
    """A row's id from the address. The route takes any digits: a number too long for the
    databases' integers names no row (404), and must not reach a query."""
    found = whole_number(str(request.path_params[name]))
    if found is None:
        raise HTTPException(404)
    return found


def _id(form: Form) -> int:
    found = whole_number(form.get("id", ""))
    if found is None:
        raise HTTPException(400)
    return found


def _text(form: Form, name: str, limit: int) -> str:
    return form.get(name, "").strip()[:limit]


def _number(form: Form, name: str) -> int:
    return whole_number(form.get(name, "").strip(), longest=3) or 0


# --- departments ---


async def _add_department(request: Request, form: Form) -> None:
    await configure.add_department(
        db_of(request),
        clock=clock_of(request),
        actor=actor_of(request),
        code=_text(form, "code", 20),
        name=_text(form, "name", 50),
    )


async def _save_department(request: Request, form: Form) -> None:
    await configure.update_department(
        db_of(request),
        clock=clock_of(request),
        actor=actor_of(request),
        department_id=_id(form),
        name=_text(form, "name", 50),
        enabled=form.get("enabled") == "1",
    )


async def _departments_page(
    request: Request, errors: dict[str, str] | None = None, posted: Form | None = None
) -> Response:
    context = {"rows": await queries.list_departments(db_of(request))}
    return await admin_page(
        request, "admin/departments.html", "departments", context, errors, posted
    )


@staff_page(Page.ADMIN)
async def departments_page(request: Request) -> Response:
    if request.method == "POST":
        actions = {"add": _add_department, "save": _save_department}
        return await handle_post(request, actions, _departments_page)
    return await _departments_page(request)


# --- channels ---


async def _save_channel(request: Request, form: Form) -> None:
    await configure.update_channel(
        db_of(request),
        clock=clock_of(request),
        actor=actor_of(request),
        code=form.get("id", ""),
        channel=configure.ChannelSettings(
            name=_text(form, "name", 20),
            name_en=_text(form, "name_en", 40),
            reply_days=_number(form, "reply_days"),
            intake_days=_number(form, "intake_days"),
            review_required=form.get("review_required") == "1",
            enabled=form.get("enabled") == "1",
        ),
    )
    channels_of(request).forget()


async def _channels_page(
    request: Request, errors: dict[str, str] | None = None, posted: Form | None = None
) -> Response:
    channels_of(request).forget()  # show what is stored, not this process's copy
    return await admin_page(request, "admin/channels.html", "channels", {}, errors, posted)


@staff_page(Page.ADMIN)
async def channels_page(request: Request) -> Response:
    if request.method == "POST":
        return await handle_post(request, {"save": _save_channel}, _channels_page)
    return await _channels_page(request)


# --- reject reasons ---


def _reason(form: Form) -> configure.Reason:
    return configure.Reason(
        label=_text(form, "label", 50),
        label_en=_text(form, "label_en", 100),
        advice=_text(form, "advice", 500),
        advice_en=_text(form, "advice_en", 500),
    )


async def _add_reason(request: Request, form: Form) -> None:
    await configure.add_reason(
        db_of(request),
        clock=clock_of(request),
        actor=actor_of(request),
        code=_text(form, "code", 20),
        reason=_reason(form),
    )


async def _save_reason(request: Request, form: Form) -> None:
    await configure.update_reason(
        db_of(request),
        clock=clock_of(request),
        actor=actor_of(request),
        reason_id=_id(form),
        reason=_reason(form),
        enabled=form.get("enabled") == "1",
    )


async def _reasons_page(
    request: Request, errors: dict[str, str] | None = None, posted: Form | None = None
) -> Response:
    context = {"rows": await settings_queries.list_reasons(db_of(request))}
    return await admin_page(request, "admin/reasons.html", "reasons", context, errors, posted)


@staff_page(Page.ADMIN)
async def reasons_page(request: Request) -> Response:
    if request.method == "POST":
        actions = {"add": _add_reason, "save": _save_reason}
        return await handle_post(request, actions, _reasons_page)
    return await _reasons_page(request)


# --- reply templates ---


def _template(form: Form) -> configure.ReplyTemplate:
    department = form.get("department_id", "")
    return configure.ReplyTemplate(
        title=_text(form, "title", 100),
        body=form.get("body", "").strip()[:5000],
        channel=form.get("channel") or None,
        department_id=whole_number(department),
    )


async def _add_template(request: Request, form: Form) -> None:
    await configure.add_template(
        db_of(request), clock=clock_of(request), actor=actor_of(request), template=_template(form)
    )


async def _save_template(request: Request, form: Form) -> None:
    await configure.update_template(
        db_of(request),
        clock=clock_of(request),
        actor=actor_of(request),
        template_id=_id(form),
        template=_template(form),
    )


async def _delete_template(request: Request, form: Form) -> None:
    await configure.delete_template(
        db_of(request), clock=clock_of(request), actor=actor_of(request), template_id=_id(form)
    )


async def _templates_page(
    request: Request, errors: dict[str, str] | None = None, posted: Form | None = None
) -> Response:
    db = db_of(request)
    context = {
        "rows": await settings_queries.list_templates(db),
        "all_departments": {d.id: d for d in await queries.list_departments(db)},
    }
    return await admin_page(
        request, "admin/reply_templates.html", "templates", context, errors, posted
    )


@staff_page(Page.ADMIN)
async def templates_page(request: Request) -> Response:
    if request.method == "POST":
        actions = {"add": _add_template, "save": _save_template, "delete": _delete_template}
        return await handle_post(request, actions, _templates_page)
    return await _templates_page(request)


# --- holidays ---


def _day(raw: str) -> date | None:
    try:
        return date.fromisoformat(raw.strip()) if raw.strip() else None
    except ValueError:
        return None


async def _set_holiday(request: Request, form: Form) -> str:
    day = _day(form.get("day", ""))
    await configure.set_holiday(
        db_of(request),
        clock=clock_of(request),
        actor=actor_of(request),
        day=day,
        kind=form.get("kind", ""),
        name=_text(form, "name", 40),
    )
    assert day is not None  # refused above otherwise
    return f"{request.url.path}?year={day.year}"


async def _delete_holiday(request: Request, form: Form) -> str:
    day = _day(form.get("id", ""))
    if day is None:
        raise HTTPException(400)
    await configure.delete_holiday(
        db_of(request), clock=clock_of(request), actor=actor_of(request), day=day
    )
    return f"{request.url.path}?year={day.year}"


async def _holidays_page(
    request: Request, errors: dict[str, str] | None = None, posted: Form | None = None
) -> Response:
    db, settings, clock = db_of(request), settings_of(request), clock_of(request)
    this_year = clock.now().astimezone(settings.tz).year
    raw = request.query_params.get("year", "")
    asked = whole_number(raw, longest=4)
    year = asked if asked is not None and 2000 <= asked <= 2100 else this_year
    context = {
        "year": year,
        "rows": await settings_queries.holidays_in_year(db, year=year),
        "uncovered": await service.uncovered_years(db, settings=settings, clock=clock, also=[year]),
    }
    return await admin_page(request, "admin/holidays.html", "holidays", context, errors, posted)


@staff_page(Page.ADMIN)
async def holidays_page(request: Request) -> Response:
    if request.method == "POST":
        actions = {"add": _set_holiday, "delete": _delete_holiday}
        return await handle_post(request, actions, _holidays_page)
    return await _holidays_page(request)


routes = [
    Route("/staff/admin/departments", departments_page, methods=["GET", "POST"]),
    Route("/staff/admin/channels", channels_page, methods=["GET", "POST"]),
    Route("/staff/admin/reasons", reasons_page, methods=["GET", "POST"]),
    Route("/staff/admin/templates", templates_page, methods=["GET", "POST"]),
    Route("/staff/admin/holidays", holidays_page, methods=["GET", "POST"]),
]
