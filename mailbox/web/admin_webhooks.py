"""The administrator's webhooks pages: the list with the register form, and a page per webhook
with its delivery history and its actions. A new secret is shown once, in the response to
the form that made it."""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from mailbox.auth.permissions import Page
from mailbox.db.queries import webhooks as queries
from mailbox.i18n import _
from mailbox.services import webhooks as service
from mailbox.services.admin import InvalidInput
from mailbox.services.errors import NotFound
from mailbox.web.admin_settings import Action, Form, actor_of, admin_page, handle_post, path_id
from mailbox.web.common import clock_of, db_of, read_form, settings_of, whole_number
from mailbox.web.staff import staff_page
from mailbox.webhooks.payload import Event, body

LIST = "/staff/admin/webhooks"


def _shown_once(response: Response, secret: str) -> Response:
    if secret:
        response.headers["cache-control"] = "no-store"
    return response


async def _list_page(
    request: Request,
    errors: dict[str, str] | None = None,
    posted: Form | None = None,
    new_secret: str = "",
    new_id: int | None = None,
) -> Response:
    context = {
        "webhooks": await queries.list_webhooks(db_of(request)),
        "events": list(Event),
        "new_secret": new_secret,
        "new_id": new_id,
    }
    response = await admin_page(request, "admin/webhooks.html", "webhooks", context, errors, posted)
    return _shown_once(response, new_secret)


async def _register(request: Request, form: Form) -> Response:
    """Answered with the page itself, not a redirect: the secret must not sit in a URL."""
    try:
        webhook_id, secret = await service.register(
            db_of(request),
            clock=clock_of(request),
            actor=actor_of(request),
            url=form.get("url", "")[: service.URL_MAX + 1],
            description=form.get("description", ""),
            events=[event for event in Event if form.get(f"event_{event}") == "1"],
        )
    except InvalidInput as error:
        return await _list_page(request, {"form": str(error)}, form)
    return await _list_page(request, new_secret=secret, new_id=webhook_id)


@staff_page(Page.ADMIN)
async def webhooks_page(request: Request) -> Response:
    if request.method == "GET":
        return await _list_page(request)
    form = await read_form(request)
    if form.get("action") != "create":
        raise HTTPException(400)
    return await _register(request, form)


def _webhook_id(request: Request) -> int:
    return path_id(request, "webhook_id")


def _before(request: Request) -> int | None:
    return whole_number(request.query_params.get("before", ""))


async def _webhook_page(
    request: Request,
    errors: dict[str, str] | None = None,
    posted: Form | None = None,
    new_secret: str = "",
) -> Response:
    db = db_of(request)
    webhook = await queries.get_webhook(db, webhook_id=_webhook_id(request))
    if webhook is None:
        raise HTTPException(404)
    history = await queries.deliveries(db, webhook_id=webhook.id, before_id=_before(request))
    tz = settings_of(request).tz
    context = {
        "webhook": webhook,
        "history": history,
        # What was (or will be) posted, byte for byte.
        "bodies": {item.id: body(item.id, item.context, tz).decode() for item in history},
        "next_before": history[-1].id if len(history) == queries.HISTORY_PAGE_SIZE else None,
        "new_secret": new_secret,
    }
    response = await admin_page(request, "admin/webhook.html", "webhooks", context, errors, posted)
    return _shown_once(response, new_secret)


async def _set_active(request: Request, active: bool) -> None:
    await service.set_active(
        db_of(request),
        clock=clock_of(request),
        actor=actor_of(request),
        webhook_id=_webhook_id(request),
        active=active,
    )


async def _deactivate(request: Request, form: Form) -> None:
    await _set_active(request, False)


async def _activate(request: Request, form: Form) -> None:
    await _set_active(request, True)


async def _delete(request: Request, form: Form) -> str:
    if form.get("confirm") != "1":
        raise InvalidInput(
            _("Tick the box to confirm that the webhook and its history are to be deleted.")
        )
    await service.delete(
        db_of(request),
        clock=clock_of(request),
        actor=actor_of(request),
        webhook_id=_webhook_id(request),
    )
    return LIST


async def _send_test(request: Request, form: Form) -> None:
    await service.send_test(
        db_of(request),
        clock=clock_of(request),
        actor=actor_of(request),
        webhook_id=_webhook_id(request),
    )
    request.app.state.outbox_wakeup.set()


async def _send_again(request: Request, form: Form) -> None:
    outbox_id = whole_number(form.get("id", ""))
    if outbox_id is None:
        raise HTTPException(400)
    await service.send_again(
        db_of(request),
        clock=clock_of(request),
        actor=actor_of(request),
        webhook_id=_webhook_id(request),
        outbox_id=outbox_id,
    )
    request.app.state.outbox_wakeup.set()


ACTIONS: dict[str, Action] = {
    "deactivate": _deactivate,
    "activate": _activate,
    "delete": _delete,
    "test": _send_test,
    "send_again": _send_again,
}


async def _new_secret(request: Request) -> Response:
    try:
        secret = await service.replace_secret(
            db_of(request),
            clock=clock_of(request),
            actor=actor_of(request),
            webhook_id=_webhook_id(request),
        )
    except NotFound:
        raise HTTPException(404) from None
    return await _webhook_page(request, new_secret=secret)


@staff_page(Page.ADMIN)
async def webhook_page(request: Request) -> Response:
    if request.method == "GET":
        return await _webhook_page(request)
    form = await read_form(request)
    if form.get("action") == "new_secret":
        return await _new_secret(request)
    return await handle_post(request, ACTIONS, _webhook_page)


routes = [
    Route(LIST, webhooks_page, methods=["GET", "POST"]),
    Route(f"{LIST}/{{webhook_id:int}}", webhook_page, methods=["GET", "POST"]),
]
