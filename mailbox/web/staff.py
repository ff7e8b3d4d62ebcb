"""The staff entry point: first-run set-up, login, logout and the list of new letters."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import wraps

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from mailbox.auth.permissions import Page, home_page, may_open
from mailbox.db.queries.users import UserRow
from mailbox.i18n import _
from mailbox.services import accounts
from mailbox.services.errors import RateLimited
from mailbox.web.common import (
    CsrfFailed,
    client_ip,
    clock_of,
    db_of,
    read_form,
    render,
    safe_next,
    secure_cookies,
    settings_of,
)

SESSION_COOKIE = "mb_session"
Endpoint = Callable[[Request], Awaitable[Response]]


async def current_user(request: Request) -> UserRow | None:
    token = request.cookies.get(SESSION_COOKIE, "")
    if not token:
        return None
    return await accounts.resume_session(db_of(request), clock=clock_of(request), token=token)


def staff_page(page: Page | None) -> Callable[[Endpoint], Endpoint]:
    """Every staff page checks the session and the page's roles on every request:
    no session → the login page; a role that does not open this page → 403."""

    def decorate(endpoint: Endpoint) -> Endpoint:
        @wraps(endpoint)
        async def wrapper(request: Request) -> Response:
            user = await current_user(request)
            if user is None:
                target = safe_next(request.url.path, "/staff")
                if request.method == "POST":
                    return await _login_keeping_work(request, target)
                return RedirectResponse(f"/staff/login?next={target}", status_code=303)
            if page is not None and not may_open(page, user):
                raise HTTPException(403)
            request.state.user = user
            response = await endpoint(request)
            response.headers["cache-control"] = "no-store"
            return response

        return wrapper

    return decorate


KEPT = "kept."  # prefix of the fields a form carries through a login


async def _login_keeping_work(request: Request, target: str) -> Response:
    """A form posted after the session ended (2 hours idle) is not lost: the login page
    carries what was written, and after logging in the person sends it again (WCAG 2.2.1).
    Only a genuine form of this site (CSRF token valid) is carried."""
    try:
        form = await read_form(request)
    except CsrfFailed:
        return RedirectResponse(f"/staff/login?next={target}", status_code=303)
    kept = [(name, value) for name, value in form.items() if name != "csrf_token"]
    error = _("Your session ended. Please log in again: what you wrote is kept.")
    context = {"next": target, "username": "", "error": error, "kept": kept}
    return render(request, "staff/login.html", context, 401)


def _start_session(request: Request, token: str, target: str) -> Response:
    response = RedirectResponse(safe_next(target, "/staff"), status_code=303)
    _set_session_cookie(request, response, token)
    return response


def _set_session_cookie(request: Request, response: Response, token: str) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        token,
        httponly=True,
        samesite="lax",
        secure=secure_cookies(request),
        max_age=int(accounts.SESSION_LONGEST.total_seconds()),
    )


async def login(request: Request) -> Response:
    next_page = safe_next(request.query_params.get("next", "/staff"), "/staff")
    if request.method == "GET":
        context: dict[str, object] = {"next": next_page, "username": "", "error": "", "kept": []}
        return render(request, "staff/login.html", context)
    try:
        form = await read_form(request)
    except CsrfFailed:
        error = _("This page had expired. Please log in again.")
        return render(
            request,
            "staff/login.html",
            {"next": next_page, "username": "", "error": error, "kept": []},
            403,
        )
    username = form.get("username", "").strip()[:40]
    kept = [(name[len(KEPT) :], value) for name, value in form.items() if name.startswith(KEPT)]
    try:
        session = await accounts.log_in(
            db_of(request),
            settings=settings_of(request),
            clock=clock_of(request),
            username=username,
            password=form.get("password", "")[:200],
            client_ip=client_ip(request),
            user_agent=request.headers.get("user-agent", ""),
        )
    except RateLimited:
        error = _("Too many failed logins. Please wait 15 minutes and try again.")
        return render(
            request,
            "staff/login.html",
            {"next": next_page, "username": username, "error": error, "kept": kept},
            429,
        )
    except accounts.LoginFailed:
        error = _("The user name or password is wrong.")
        return render(
            request,
            "staff/login.html",
            {"next": next_page, "username": username, "error": error, "kept": kept},
            400,
        )
    if not kept:
        return _start_session(request, session.token, form.get("next", "/staff"))
    # Logged in again with kept work: show it, to be sent by the person (never automatically).
    context = {
        "target": safe_next(form.get("next", "/staff"), "/staff"),
        "kept": kept,
    }
    resumed = render(request, "staff/resume.html", context)
    _set_session_cookie(request, resumed, session.token)
    return resumed


async def logout(request: Request) -> Response:
    await read_form(request)
    token = request.cookies.get(SESSION_COOKIE, "")
    if token:
        await accounts.log_out(db_of(request), token=token)
    response = RedirectResponse("/staff/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response


async def setup(request: Request) -> Response:
    """The one-time link printed by `serve` on first start creates the administrator."""
    token = request.path_params["token"]
    db, clock = db_of(request), clock_of(request)
    if not await accounts.setup_token_valid(db, clock=clock, token=token):
        raise HTTPException(404)
    if request.method == "GET":
        return render(
            request,
            "staff/setup.html",
            {"values": {"username": "", "display_name": ""}, "error": ""},
        )
    form = await read_form(request)
    values = {
        "username": form.get("username", "").strip(),
        "display_name": form.get("display_name", "").strip(),
    }
    password = form.get("password", "")
    if password != form.get("password_again", ""):
        error = _("The two passwords differ.")
        return render(request, "staff/setup.html", {"values": values, "error": error}, 400)
    try:
        await accounts.complete_setup(db, clock=clock, token=token, password=password, **values)
        session = await accounts.log_in(
            db,
            settings=settings_of(request),
            clock=clock,
            username=values["username"],
            password=password,
            client_ip=client_ip(request),
            user_agent=request.headers.get("user-agent", ""),
        )
    except accounts.InvalidAccount as error:
        return render(request, "staff/setup.html", {"values": values, "error": str(error)}, 400)
    return _start_session(request, session.token, "/staff")


@staff_page(None)
async def staff_home(request: Request) -> Response:
    return RedirectResponse(home_page(request.state.user), status_code=303)


routes = [
    Route("/staff", staff_home),
    Route("/staff/login", login, methods=["GET", "POST"]),
    Route("/staff/logout", logout, methods=["POST"]),
    Route("/setup/{token}", setup, methods=["GET", "POST"]),
]
