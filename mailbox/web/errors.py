"""One place that turns errors into pages: friendly, translated, with the right status."""

from __future__ import annotations

import logging
from collections.abc import Callable

from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response

from mailbox.db.database import DatabaseUnavailable
from mailbox.i18n import _
from mailbox.observability.logs import request_id
from mailbox.services.errors import RateLimited
from mailbox.web.api.errors import ApiError, error_response, status_response
from mailbox.web.common import render
from mailbox.web.open311.render import status_error as open311_error

log = logging.getLogger(__name__)


def _messages() -> dict[int, tuple[str, str]]:
    return {
        400: (
            _("This request could not be accepted"),
            _("Please go back, check what you entered and try again."),
        ),
        403: (
            _("This form has expired"),
            _("Please go back, reload the page and send the form again."),
        ),
        404: (_("Page not found"), _("The page you asked for does not exist.")),
        405: (_("Not allowed"), _("This address does not accept this kind of request.")),
        413: (
            _("Too much to send at once"),
            _(
                "What you sent is too large: very long text or very large files. Please use "
                "your browser's Back button (what you typed is usually still there), then "
                "shorten the text or leave out the largest files."
            ),
        ),
        429: (_("Too many requests"), _("Please wait a while and try again.")),
        500: (
            _("Something went wrong"),
            _("The error has been recorded. Please try again in a few minutes."),
        ),
        503: (
            _("The service is busy"),
            _("Nothing you sent was lost. Please try again in a minute."),
        ),
    }


# Machines get errors in their own format: the JSON API, Open311's JSON and XML.
MACHINE_ERRORS: dict[str, Callable[[Request, int], Response]] = {
    "/api/v1/": lambda request, status: status_response(status),
    "/open311/": open311_error,
}


def error_page(request: Request, status: int) -> Response:
    for prefix, respond in MACHINE_ERRORS.items():
        if request.url.path.startswith(prefix):
            return respond(request, status)
    title, text = _messages().get(status, _messages()[400])
    response = render(
        request,
        "errors/error.html",
        {"status": status, "title": title, "text": text},
        status=status,
    )
    if status == 503:
        response.headers["retry-after"] = "30"
    return response


async def http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    response = error_page(request, exc.status_code)
    # The router's own headers, e.g. the Allow of a 405 (required by RFC 9110).
    response.headers.update(exc.headers or {})
    return response


async def api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return error_response(exc)


async def rate_limited(request: Request, exc: Exception) -> Response:
    return error_page(request, 429)


async def database_unavailable(request: Request, exc: Exception) -> Response:
    log.error("database unavailable: %s", exc)
    return error_page(request, 503)


async def client_gone(request: Request, exc: Exception) -> Response:
    # The browser went away mid-request: nothing to show and nothing went wrong here.
    return Response(status_code=400)


async def server_error(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error", exc_info=exc)  # the JSON line carries the request id
    response = error_page(request, 500)
    # This handler answers outside the middleware that adds the id to every other response.
    response.headers["x-request-id"] = request_id.get()
    return response


handlers = {
    ApiError: api_error,
    HTTPException: http_error,
    RateLimited: rate_limited,
    DatabaseUnavailable: database_unavailable,
    ClientDisconnect: client_gone,
    Exception: server_error,
}
