"""The API anyone may call: the channels, submitting a letter (with a token), and the
writer's own view of a letter by tracking number and query code."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from mailbox.domain.states import Source
from mailbox.domain.validation import FIELDS, validate_letter
from mailbox.i18n import _, get_locale
from mailbox.services.errors import RateLimited
from mailbox.services.submission import submit_letter
from mailbox.services.tracking import TrackedLetter, look_up
from mailbox.settings import Settings
from mailbox.web.api.common import iso, ok, read_json, require_caller, text_fields
from mailbox.web.api.errors import ApiError, default_message
from mailbox.web.common import channels_of, client_ip, clock_of, db_of, settings_of

CODE_MAX = 40  # longer than any tracking number or query code, however it is written


async def list_channels(request: Request) -> Response:
    enabled = await channels_of(request).enabled()
    return ok(
        {
            "channels": [
                {
                    "code": channel.code,
                    "name": channel.name,
                    "name_en": channel.name_en,
                    "reply_days": channel.reply_days,
                    "review_required": channel.review_required,
                }
                for channel in enabled
            ]
        },
        headers={"cache-control": "public, max-age=60"},
    )


async def submit(request: Request) -> Response:
    """The same checks and mail as the web form; acknowledged only after the commit."""
    caller = await require_caller(request)
    if not caller.may_submit:
        raise ApiError(403, default_message(403))
    data = await read_json(request)
    form = text_fields(data, ("channel", *FIELDS[:-1]))
    consent = data.get("publish_consent", False)
    if not isinstance(consent, bool):
        raise ApiError(
            422, default_message(422), fields={"publish_consent": _("Send true or false.")}
        )
    channel = await channels_of(request).get(form.get("channel", ""))
    letter, errors = validate_letter({**form, "publish_consent": "1" if consent else ""})
    if channel is None or not channel.enabled:
        errors["channel"] = _("There is no open channel with this code.")
    if letter is None or errors or channel is None:
        raise ApiError(422, default_message(422), fields=errors)
    settings = settings_of(request)
    receipt = await submit_letter(
        db_of(request),
        settings=settings,
        clock=clock_of(request),
        channel=channel,
        letter=letter,
        source=Source.API,
        locale=get_locale(),
        client_ip=client_ip(request),
        challenge="staff",  # an authenticated account sent it: no challenge to pass
    )
    request.app.state.outbox_wakeup.set()
    return ok(
        {
            "tracking_no": receipt.tracking_no,
            "query_code": receipt.query_code,
            "receipt_mailed": receipt.outbox_id is not None,
            "links": {"self": f"/api/v1/letters/{receipt.tracking_no}"},
        },
        status=201,
        headers={"location": f"/api/v1/letters/{receipt.tracking_no}"},
    )


def citizen_view(letter: TrackedLetter, settings: Settings) -> dict[str, Any]:
    return {
        "tracking_no": letter.tracking_no,
        "channel": letter.channel,
        "title": letter.title,
        "body": letter.body,
        "state": str(letter.state),
        "submitted_at": iso(letter.submitted_at, settings),
        "due_at": iso(letter.due_at, settings),
        "timeline": [
            {
                "kind": event.kind,
                "state": event.to_state,
                "at": iso(event.created_at, settings),
                "note": event.note,
            }
            for event in letter.events
        ],
        "reply": letter.reply,
        "replied_at": iso(letter.replied_at, settings),
        "rating_open": bool(letter.rating_token),
    }


async def track(request: Request) -> Response:
    """Rate-limited like the /track page; an unknown number and a wrong code look the same."""
    settings = settings_of(request)
    number = request.path_params["tracking_no"][:CODE_MAX]
    code = request.query_params.get("query_code", "")[:CODE_MAX]
    if not code:
        raise ApiError(
            422, default_message(422), fields={"query_code": _("Please enter the query code.")}
        )
    try:
        letter = await look_up(
            db_of(request),
            settings=settings,
            clock=clock_of(request),
            tracking_no=number,
            query_code=code,
            client_ip=client_ip(request),
        )
    except RateLimited:
        raise ApiError(429, default_message(429), headers={"retry-after": "3600"}) from None
    if letter is None:
        raise ApiError(404, _("No letter matches this tracking number and query code."))
    return ok(citizen_view(letter, settings))


routes = [
    Route("/api/v1/channels", list_channels, methods=["GET"]),
    Route("/api/v1/letters", submit, methods=["POST"]),
    Route("/api/v1/letters/{tracking_no}", track, methods=["GET"]),
]
