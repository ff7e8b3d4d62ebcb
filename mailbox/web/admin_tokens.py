"""The administrator's API tokens page: create a token for a user (shown once), revoke one."""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from mailbox.auth.permissions import Page
from mailbox.db.queries import admin as admin_queries
from mailbox.services import api_tokens
from mailbox.web.admin_settings import Form, admin_page, handle_post
from mailbox.web.common import client_ip, clock_of, db_of, read_form, whole_number
from mailbox.web.staff import staff_page


async def _page(
    request: Request,
    errors: dict[str, str] | None = None,
    posted: Form | None = None,
    new_token: str = "",
) -> Response:
    db = db_of(request)
    users = [user for user in await admin_queries.list_users(db) if user.is_active]
    context = {
        "tokens": await api_tokens.list_tokens(db),
        "users": users,
        "scopes": list(api_tokens.Scope),
        "new_token": new_token,
    }
    response = await admin_page(request, "admin/tokens.html", "tokens", context, errors, posted)
    if new_token:
        response.headers["cache-control"] = "no-store"  # the token is shown this once
    return response


async def _revoke(request: Request, form: Form) -> None:
    token_id = whole_number(form.get("id", ""))
    if token_id is None:
        raise HTTPException(400)
    try:
        await api_tokens.revoke_token(
            db_of(request),
            clock=clock_of(request),
            token_id=token_id,
            actor_user_id=request.state.user.id,
            client_ip=client_ip(request),
        )
    except api_tokens.InvalidToken:
        raise HTTPException(404) from None


async def _create(request: Request, form: Form) -> Response:
    """Answered with the page itself, not a redirect: the new token must not sit in a URL or
    a cookie, and is shown only in this response."""
    try:
        _token_id, token = await api_tokens.create_token(
            db_of(request),
            clock=clock_of(request),
            username=form.get("username", "")[:100],
            label=form.get("label", ""),
            scope=form.get("scope", ""),
            actor_user_id=request.state.user.id,
            client_ip=client_ip(request),
        )
    except api_tokens.InvalidToken as error:
        return await _page(request, {"form": str(error)}, form)
    return await _page(request, new_token=token)


@staff_page(Page.ADMIN)
async def tokens_page(request: Request) -> Response:
    if request.method == "GET":
        return await _page(request)
    form = await read_form(request)
    if form.get("action") == "create":
        return await _create(request, form)
    return await handle_post(request, {"revoke": _revoke}, _page)


routes = [Route("/staff/admin/tokens", tokens_page, methods=["GET", "POST"])]
