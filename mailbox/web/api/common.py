"""What every API endpoint shares: the caller's token, the JSON body, dates, responses."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse

from mailbox.db.queries.attachments import NewAttachment
from mailbox.db.queries.channels import ChannelRow
from mailbox.domain.states import Source
from mailbox.domain.validation import LetterInput
from mailbox.i18n import get_locale
from mailbox.services import api_tokens
from mailbox.services.api_tokens import Caller
from mailbox.services.submission import Receipt, submit_letter
from mailbox.settings import Settings
from mailbox.web.api.errors import ApiError, default_message
from mailbox.web.common import client_ip, clock_of, db_of, settings_of


async def caller_of(request: Request) -> Caller | None:
    """The token's caller; None when no token was sent; 401 for a wrong one. Session cookies
    are never read here, so a page cannot make the API act for a logged-in person (no CSRF)."""
    header = request.headers.get("authorization", "")
    if not header:
        return None
    scheme, _sep, token = header.partition(" ")
    found = None
    if scheme.lower() == "bearer" and token.strip():
        found = await api_tokens.authenticate(
            db_of(request), clock=clock_of(request), token=token.strip()
        )
    if found is None:
        raise ApiError(
            401,
            default_message(401),
            headers={"www-authenticate": 'Bearer realm="mailbox", error="invalid_token"'},
        )
    request.state.user = found.user
    return found


async def require_caller(request: Request) -> Caller:
    found = await caller_of(request)
    if found is None:
        raise ApiError(
            401, default_message(401), headers={"www-authenticate": 'Bearer realm="mailbox"'}
        )
    return found


async def require_staff(request: Request) -> Caller:
    """A staff-scope token: it acts with its user's roles, checked again by each service."""
    found = await require_caller(request)
    if not found.is_staff:
        raise ApiError(403, default_message(403))
    return found


async def read_json(request: Request) -> dict[str, Any]:
    """The body as a JSON object; 415 for another media type, 400 for anything unreadable."""
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type != "application/json":
        raise ApiError(415, default_message(415))
    raw = await request.body()
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):
        raise ApiError(400, default_message(400)) from None
    if not isinstance(data, dict):
        raise ApiError(400, default_message(400))
    return data


def text_fields(data: dict[str, Any], names: tuple[str, ...]) -> dict[str, str]:
    """Strings (and numbers, as strings) for the named fields; 422 naming any other type."""
    texts: dict[str, str] = {}
    wrong: dict[str, str] = {}
    for name in names:
        value = data.get(name)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, str | int):
            wrong[name] = default_message(422)
            continue
        texts[name] = str(value)
    if wrong:
        raise ApiError(422, default_message(422), fields=wrong)
    return texts


async def submit_for_caller(
    request: Request,
    *,
    channel: ChannelRow,
    letter: LetterInput,
    source: Source,
    files: Sequence[NewAttachment] = (),
) -> Receipt:
    """A letter a token holder sends for its writer: the form's service, checks and receipt
    mail, without the anti-spam challenge (the account is known and can be revoked)."""
    receipt = await submit_letter(
        db_of(request),
        settings=settings_of(request),
        clock=clock_of(request),
        channel=channel,
        letter=letter,
        source=source,
        locale=get_locale(),
        client_ip=client_ip(request),
        challenge="staff",
        files=files,
    )
    request.app.state.outbox_wakeup.set()  # the receipt mail and webhooks go out now
    return receipt


def iso(moment: datetime | None, settings: Settings) -> str | None:
    """A moment in the office's time zone with its offset, e.g. 2026-09-30T10:00:00+08:00."""
    return moment.astimezone(settings.tz).isoformat(timespec="seconds") if moment else None


def ok(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> JSONResponse:
    headers = {"cache-control": "no-store", **(headers or {})}
    return JSONResponse(data, status_code=status, headers=headers)
