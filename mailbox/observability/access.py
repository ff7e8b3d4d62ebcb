"""One JSON access line and the request metrics per request, with a request id (pure ASGI)."""

from __future__ import annotations

import logging
import re
import time
import uuid

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mailbox.observability import metrics
from mailbox.observability.logs import request_id
from mailbox.web.common import client_ip

log = logging.getLogger("mailbox.access")

HEADER = b"x-request-id"
# nginx's $request_id is 32 hex digits; anything outside this shape is replaced, so a client
# cannot put line breaks, markup or megabytes into our logs.
VALID_ID = re.compile(r"[A-Za-z0-9._-]{8,64}")
# Path parameters that are capabilities: such paths are logged as their route template.
SECRET_PARAMS = {"token"}


def _incoming_id(scope: Scope) -> str:
    for key, value in scope.get("headers", []):
        if key == HEADER:
            text = value.decode("latin-1")
            return text if VALID_ID.fullmatch(text) else ""
    return ""


def route_template(scope: Scope) -> str:
    """The matched route's path (`/letters/{tracking_no}`), never the raw path: metric labels
    must stay few whatever clients ask for."""
    route = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) else "unmatched"


def _logged_path(scope: Scope) -> str:
    route = scope.get("route")
    if SECRET_PARAMS & set(getattr(route, "param_convertors", {})):
        return route_template(scope)
    return str(scope.get("path", ""))


class RequestLog:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        current = _incoming_id(scope) or uuid.uuid4().hex
        request_id.set(current)  # left set: the 500 handler runs outside this middleware
        started = time.perf_counter()
        status, sent_bytes = 500, 0  # an exception escaping the app becomes a 500 page

        async def send_logged(message: Message) -> None:
            nonlocal status, sent_bytes
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", []), (HEADER, current.encode())]
            elif message["type"] == "http.response.body":
                sent_bytes += len(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, receive, send_logged)
        finally:
            seconds = time.perf_counter() - started
            route = route_template(scope)
            metrics.observe_request(scope["method"], route, status, seconds)
            if log.isEnabledFor(logging.INFO):
                log.info("request", extra={"fields": _fields(scope, status, seconds, sent_bytes)})


def _fields(scope: Scope, status: int, seconds: float, sent_bytes: int) -> dict[str, object]:
    user = scope.get("state", {}).get("user")
    return {
        "method": scope["method"],
        "path": _logged_path(scope),  # never the query string: it may hold a query code
        "route": route_template(scope),
        "status": status,
        "duration_ms": round(seconds * 1000, 1),
        "client": client_ip(Request(scope)),
        "user_id": getattr(user, "id", None),
        "bytes": sent_bytes,
    }
