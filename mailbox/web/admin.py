"""The administration pages: what is misconfigured, users, the outbox's troubles, the audit log.
Departments, channels, reasons, templates and holidays are in admin_settings."""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from mailbox.auth.passwords import MIN_LENGTH
from mailbox.auth.permissions import Page
from mailbox.auth.roles import Role
from mailbox.db.queries import admin as queries
from mailbox.services import admin as service
from mailbox.services.attachments import file_usage
from mailbox.web import admin_settings
from mailbox.web.admin_settings import Form, actor_of, admin_page, handle_post, path_id
from mailbox.web.common import clock_of, db_of, settings_of, whole_number
from mailbox.web.staff import staff_page

ROLES = list(Role)


@staff_page(Page.ADMIN)
async def overview(request: Request) -> Response:
    health = await service.health(
        db_of(request), settings=settings_of(request), clock=clock_of(request)
    )
    return await admin_page(
        request,
        "admin/index.html",
        "overview",
        {"health": health, "files": await file_usage(db_of(request), settings_of(request))},
    )


def _account(form: Form) -> service.Account:
    department = form.get("department_id", "")
    return service.Account(
        display_name=form.get("display_name", "").strip()[:40],
        email=form.get("email", "").strip().lower()[:254],
        roles=[role for role in ROLES if form.get(f"role_{role}") == "1"],
        department_id=whole_number(department),
    )


async def _create_user(request: Request, form: Form) -> str:
    user_id = await service.create_user(
        db_of(request),
        clock=clock_of(request),
        actor=actor_of(request),
        username=form.get("username", "").strip(),
        password=form.get("password", "")[:200],
        account=_account(form),
    )
    return f"/staff/admin/users/{user_id}"


async def _users_page(
    request: Request, errors: dict[str, str] | None = None, posted: Form | None = None
) -> Response:
    db = db_of(request)
    context = {
        "users": await queries.list_users(db),
        "all_departments": {d.id: d for d in await queries.list_departments(db)},
        "roles": ROLES,
        "password_min": MIN_LENGTH,
    }
    return await admin_page(request, "admin/users.html", "users", context, errors, posted)


@staff_page(Page.ADMIN)
async def users_page(request: Request) -> Response:
    if request.method == "POST":
        return await handle_post(request, {"create": _create_user}, _users_page)
    return await _users_page(request)


def _user_id(request: Request) -> int:
    return path_id(request, "user_id")


async def _save_user(request: Request, form: Form) -> None:
    await service.update_user(
        db_of(request),
        clock=clock_of(request),
        actor=actor_of(request),
        user_id=_user_id(request),
        account=_account(form),
    )


async def _activate(request: Request, form: Form, active: bool) -> None:
    await service.set_user_active(
        db_of(request),
        clock=clock_of(request),
        actor=actor_of(request),
        user_id=_user_id(request),
        active=active,
    )


async def _deactivate(request: Request, form: Form) -> None:
    await _activate(request, form, False)


async def _reactivate(request: Request, form: Form) -> None:
    await _activate(request, form, True)


async def _reset_password(request: Request, form: Form) -> None:
    await service.reset_password(
        db_of(request),
        clock=clock_of(request),
        actor=actor_of(request),
        user_id=_user_id(request),
        password=form.get("password", "")[:200],
    )


async def _end_sessions(request: Request, form: Form) -> None:
    await service.end_sessions(
        db_of(request), clock=clock_of(request), actor=actor_of(request), user_id=_user_id(request)
    )


USER_ACTIONS = {
    "save": _save_user,
    "deactivate": _deactivate,
    "reactivate": _reactivate,
    "password": _reset_password,
    "end_sessions": _end_sessions,
}


async def _user_page(
    request: Request, errors: dict[str, str] | None = None, posted: Form | None = None
) -> Response:
    db = db_of(request)
    shown = await queries.get_user(db, user_id=_user_id(request))
    if shown is None:
        raise HTTPException(404)
    context = {
        "shown": shown,
        "all_departments": {d.id: d for d in await queries.list_departments(db)},
        "roles": ROLES,
        "password_min": MIN_LENGTH,
    }
    return await admin_page(request, "admin/user.html", "users", context, errors, posted)


@staff_page(Page.ADMIN)
async def user_page(request: Request) -> Response:
    if request.method == "POST":
        return await handle_post(request, USER_ACTIONS, _user_page)
    return await _user_page(request)


async def _retry(request: Request, form: Form) -> None:
    outbox_id = whole_number(form.get("id", ""))
    if outbox_id is None:
        raise HTTPException(400)
    await service.retry_mail(
        db_of(request), clock=clock_of(request), actor=actor_of(request), outbox_id=outbox_id
    )
    request.app.state.outbox_wakeup.set()


async def _outbox_page(
    request: Request, errors: dict[str, str] | None = None, posted: Form | None = None
) -> Response:
    db = db_of(request)
    context = {
        "failed": await queries.failed_mail(db),
        "waiting": await queries.waiting_mail(db),
    }
    return await admin_page(request, "admin/outbox.html", "outbox", context, errors, posted)


@staff_page(Page.ADMIN)
async def outbox_page(request: Request) -> Response:
    if request.method == "POST":
        return await handle_post(request, {"retry": _retry}, _outbox_page)
    return await _outbox_page(request)


@staff_page(Page.ADMIN)
async def audit_page(request: Request) -> Response:
    before = request.query_params.get("before", "")
    entries = await queries.audit_page(db_of(request), before_id=whole_number(before))
    more = len(entries) == queries.AUDIT_PAGE_SIZE
    context = {"entries": entries, "next_before": entries[-1].id if more else None}
    return await admin_page(request, "admin/audit.html", "audit", context)


routes = [
    Route("/staff/admin", overview),
    Route("/staff/admin/users", users_page, methods=["GET", "POST"]),
    Route("/staff/admin/users/{user_id:int}", user_page, methods=["GET", "POST"]),
    *admin_settings.routes,
    Route("/staff/admin/outbox", outbox_page, methods=["GET", "POST"]),
    Route("/staff/admin/audit", audit_page),
]
