"""The API anyone may call: the channels, submitting a letter (with a token), and the
writer's own view of a letter by tracking number and query code."""

from __future__ import annotations

import json
from typing import Any

from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from mailbox.attachments.kinds import CONTENT_TYPES
from mailbox.auth.tokens import file_token
from mailbox.domain.states import PUBLIC_STATE, Channel, Source
from mailbox.domain.validation import (
    ADDRESS_MAX,
    BODY_MAX,
    BODY_MIN,
    EMAIL_MAX,
    FIELDS,
    NAME_MAX,
    TITLE_MAX,
    TITLE_MIN,
    validate_letter,
)
from mailbox.i18n import _
from mailbox.services.attachments import (
    AttachmentRefused,
    Upload,
    check_uploads,
    kept_files,
)
from mailbox.services.errors import RateLimited
from mailbox.services.tracking import TrackedLetter, look_up
from mailbox.settings import Settings
from mailbox.web.api.common import (
    iso,
    ok,
    read_json,
    require_caller,
    submit_for_caller,
    text_fields,
)
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


async def read_letter(request: Request) -> tuple[dict[str, Any], list[Upload]]:
    """The letter as JSON, or as multipart/form-data: the same JSON in a part named `letter`
    and the files in parts named `attachments`."""
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type != "multipart/form-data":
        return await read_json(request), []
    settings = settings_of(request)
    form = await request.form(max_files=settings.attachment_files + 5, max_fields=5)
    try:
        raw = form.get("letter")
        if not isinstance(raw, str):
            raise ApiError(
                422, default_message(422), fields={"letter": _("Send the letter as JSON.")}
            )
        try:
            data = json.loads(raw)
        except (ValueError, RecursionError):
            data = None
        if not isinstance(data, dict):
            raise ApiError(
                422, default_message(422), fields={"letter": _("Send the letter as JSON.")}
            )
        uploads = [
            Upload(filename=value.filename or "", data=await value.read())
            for key, value in form.multi_items()
            if key == "attachments" and isinstance(value, UploadFile)
        ]
    finally:
        await form.close()
    return data, uploads


async def submit(request: Request) -> Response:
    """The same checks and mail as the web form; acknowledged only after the commit."""
    caller = await require_caller(request)
    if not caller.may_submit:
        raise ApiError(403, default_message(403))
    data, uploads = await read_letter(request)
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
    settings = settings_of(request)
    checked = []
    try:
        checked = await check_uploads(settings, uploads) if uploads else []
    except AttachmentRefused as refused:
        errors["attachments"] = refused.message
    if letter is None or errors or channel is None:
        raise ApiError(422, default_message(422), fields=errors)
    async with kept_files(settings, checked) as files:
        receipt = await submit_for_caller(
            request, channel=channel, letter=letter, source=Source.API, files=files
        )
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
        "attachments": [
            {
                "id": row.id,
                "filename": row.filename,
                "content_type": row.content_type,
                "size": row.size,
                "from_writer": row.from_writer,
                "url": "/track/files/" + file_token(settings.secret_key, row.letter_id, row.id),
            }
            for row in letter.files
        ],
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

_TIMESTAMP = {"type": "string", "format": "date-time"}
_MAYBE_TIMESTAMP = {"type": ["string", "null"], "format": "date-time"}
_LOOKUP_PARAMETERS = [
    {
        "name": "tracking_no",
        "in": "path",
        "required": True,
        "description": "The tracking number from the receipt (14 digits; spaces and dashes"
        " are ignored).",
        "schema": {"type": "string", "maxLength": CODE_MAX, "examples": ["20260930123456"]},
    },
    {
        "name": "query_code",
        "in": "query",
        "required": True,
        "description": "The query code from the receipt (8 letters and digits; case, spaces"
        " and dashes are ignored).",
        "schema": {"type": "string", "minLength": 1, "maxLength": CODE_MAX},
        "examples": {"code": {"value": "ABCD2345"}},
    },
]

OPENAPI: dict[str, Any] = {
    "tags": [
        {
            "name": "Letters",
            "description": "Submitting a letter and following it, as the writer does on the web.",
        }
    ],
    "paths": {
        "/channels": {
            "get": {
                "operationId": "listChannels",
                "tags": ["Letters"],
                "summary": "The open channels a letter can be sent to",
                "description": "No token needed. Cached for 60 seconds.",
                "responses": {
                    "200": {
                        "description": "The channels that accept letters now",
                        "content": {
                            "application/json": {
                                "schema": {"$ref": "#/components/schemas/ChannelList"}
                            }
                        },
                    },
                    "503": {"$ref": "#/components/responses/Unavailable"},
                },
            }
        },
        "/letters": {
            "post": {
                "operationId": "submitLetter",
                "tags": ["Letters"],
                "summary": "Submit a letter on a writer's behalf",
                "description": "With a `submit` token, or a `staff` token whose user may enter"
                " letters (dispatcher, administrator). The same checks as the web form; when"
                " `email` is given the writer is mailed the same receipt. Hand the tracking"
                " number and query code to the writer: the query code is not shown again.",
                "security": [{"bearerAuth": []}],
                "requestBody": {
                    "required": True,
                    "content": {
                        "multipart/form-data": {
                            "schema": {
                                "type": "object",
                                "required": ["letter"],
                                "properties": {
                                    "letter": {"$ref": "#/components/schemas/NewLetter"},
                                    "attachments": {
                                        "type": "array",
                                        "maxItems": 20,
                                        "items": {"type": "string", "format": "binary"},
                                        "description": "Photos (JPEG, PNG), PDF, DOCX or"
                                        " XLSX, checked by content; limits as on the web"
                                        " form (by default 5 files, 10 MB each, 30 MB in all)",
                                    },
                                },
                            },
                            "encoding": {"letter": {"contentType": "application/json"}},
                        },
                        "application/json": {
                            "schema": {"$ref": "#/components/schemas/NewLetter"},
                            "examples": {
                                "letter": {
                                    "value": {
                                        "channel": "consult",
                                        "title": "关于小区附近基站的咨询",
                                        "body": "我家附近新建了一座通信基站，想了解它的审批情况。",
                                        "name": "张三",
                                        "phone": "13812345678",
                                        "email": "zhang@example.com",
                                        "publish_consent": False,
                                    }
                                }
                            },
                        },
                    },
                },
                "responses": {
                    "201": {
                        "description": "Stored (after the commit): the receipt",
                        "headers": {
                            "Location": {
                                "description": "The letter's address in this API",
                                "required": True,
                                "schema": {"type": "string"},
                            }
                        },
                        "content": {
                            "application/json": {"schema": {"$ref": "#/components/schemas/Receipt"}}
                        },
                        "links": {
                            "getLetter": {
                                "operationId": "getLetter",
                                "parameters": {
                                    "tracking_no": "$response.body#/tracking_no",
                                    "query_code": "$response.body#/query_code",
                                },
                                "description": "The writer's view of the letter just sent",
                            }
                        },
                    },
                    "400": {"$ref": "#/components/responses/BadRequest"},
                    "401": {"$ref": "#/components/responses/Unauthorized"},
                    "403": {"$ref": "#/components/responses/Forbidden"},
                    "413": {"$ref": "#/components/responses/TooLarge"},
                    "415": {"$ref": "#/components/responses/UnsupportedMediaType"},
                    "422": {"$ref": "#/components/responses/Invalid"},
                    "503": {"$ref": "#/components/responses/Unavailable"},
                },
            }
        },
        "/letters/{tracking_no}": {
            "get": {
                "operationId": "getLetter",
                "tags": ["Letters"],
                "summary": "The writer's view of a letter: state, timeline and reply",
                "description": "No token needed: the query code is the key. Limited per client"
                " address and per tracking number (429 with `Retry-After`). An unknown number"
                " and a wrong code give the same 404.",
                "parameters": _LOOKUP_PARAMETERS,
                "responses": {
                    "200": {
                        "description": "The letter as its writer sees it on the web",
                        "content": {
                            "application/json": {
                                "schema": {"$ref": "#/components/schemas/WritersLetter"}
                            }
                        },
                    },
                    "404": {"$ref": "#/components/responses/NotFound"},
                    "422": {"$ref": "#/components/responses/Invalid"},
                    "429": {"$ref": "#/components/responses/RateLimited"},
                    "503": {"$ref": "#/components/responses/Unavailable"},
                },
            }
        },
    },
    "schemas": {
        "Channel": {
            "type": "object",
            "required": ["code", "name", "name_en", "reply_days", "review_required"],
            "properties": {
                "code": {"type": "string", "examples": ["consult"]},
                "name": {"type": "string", "examples": ["网上咨询"]},
                "name_en": {"type": "string", "examples": ["Online Consultation"]},
                "reply_days": {
                    "type": "integer",
                    "minimum": 1,
                    "description": "Working days from acceptance to the reply deadline",
                },
                "review_required": {
                    "type": "boolean",
                    "description": "Whether a reviewer approves replies before they go out",
                },
            },
        },
        "ChannelList": {
            "type": "object",
            "required": ["channels"],
            "properties": {
                "channels": {"type": "array", "items": {"$ref": "#/components/schemas/Channel"}}
            },
        },
        "NewLetter": {
            "type": "object",
            "required": ["channel", "title", "body", "name", "phone"],
            "properties": {
                "channel": {
                    "type": "string",
                    "enum": [str(code) for code in Channel],
                    "description": "An open channel's `code` from `GET /channels`",
                    "examples": ["consult"],
                },
                "title": {
                    "type": "string",
                    "minLength": TITLE_MIN,
                    "maxLength": TITLE_MAX,
                    "description": "Counted after trimming spaces",
                },
                "body": {"type": "string", "minLength": BODY_MIN, "maxLength": BODY_MAX},
                "name": {"type": "string", "minLength": 1, "maxLength": NAME_MAX},
                "phone": {
                    "type": "string",
                    "pattern": r"^(1[3-9][0-9]{9}|0[0-9]{2,3}-?[0-9]{7,8}(-[0-9]{1,6})?)$",
                    "description": "A mainland mobile number or a landline with its area code;"
                    " spaces, dashes and +86 are also accepted and removed",
                    "examples": ["13812345678", "010-12345678"],
                },
                "email": {
                    "type": "string",
                    "maxLength": EMAIL_MAX,
                    "description": "Optional; when given, the receipt and every later notice"
                    " are mailed to it",
                },
                "address": {"type": "string", "maxLength": ADDRESS_MAX},
                "publish_consent": {
                    "type": "boolean",
                    "default": False,
                    "description": "The writer agrees that the letter and reply may be"
                    " published, with personal details masked",
                },
            },
        },
        "Receipt": {
            "type": "object",
            "required": ["tracking_no", "query_code", "receipt_mailed", "links"],
            "properties": {
                "tracking_no": {"type": "string", "examples": ["20260930123456"]},
                "query_code": {
                    "type": "string",
                    "description": "Shown only now: give it to the writer",
                    "examples": ["ABCD2345"],
                },
                "receipt_mailed": {
                    "type": "boolean",
                    "description": "Whether a receipt mail was queued to `email`",
                },
                "links": {
                    "type": "object",
                    "required": ["self"],
                    "properties": {"self": {"type": "string"}},
                },
            },
        },
        "WritersLetter": {
            "type": "object",
            "required": [
                "tracking_no",
                "channel",
                "title",
                "body",
                "state",
                "submitted_at",
                "due_at",
                "timeline",
                "reply",
                "replied_at",
                "rating_open",
                "attachments",
            ],
            "properties": {
                "tracking_no": {"type": "string"},
                "channel": {"type": "string", "description": "The channel's code"},
                "title": {"type": "string"},
                "body": {"type": "string"},
                "state": {
                    "type": "string",
                    "enum": sorted({str(state) for state in PUBLIC_STATE.values()}),
                    "description": "As the writer is told: internal steps read as `assigned`",
                },
                "submitted_at": _TIMESTAMP,
                "due_at": {**_MAYBE_TIMESTAMP, "description": "Set once the letter is accepted"},
                "timeline": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["kind", "state", "at", "note"],
                        "properties": {
                            "kind": {
                                "type": "string",
                                "description": "What happened: submitted, accept, reject,"
                                " approve, release, rate, ...",
                            },
                            "state": {"type": "string", "description": "The state after it"},
                            "at": _TIMESTAMP,
                            "note": {"type": "string"},
                        },
                    },
                },
                "reply": {"type": ["string", "null"], "description": "The released reply"},
                "replied_at": _MAYBE_TIMESTAMP,
                "rating_open": {
                    "type": "boolean",
                    "description": "Whether the writer may still rate the reply on the web",
                },
                "attachments": {
                    "type": "array",
                    "description": "The writer's files and the released replies' documents",
                    "items": {"$ref": "#/components/schemas/Attachment"},
                },
            },
        },
        "Attachment": {
            "type": "object",
            "required": ["id", "filename", "content_type", "size", "from_writer", "url"],
            "properties": {
                "id": {"type": "integer"},
                "filename": {"type": "string"},
                "content_type": {
                    "type": "string",
                    "enum": sorted(CONTENT_TYPES.values()),
                    "description": "Found from the content at upload, not from the name",
                },
                "size": {"type": "integer", "minimum": 1, "description": "Bytes"},
                "from_writer": {
                    "type": "boolean",
                    "description": "Sent with the letter (true) or with a reply (false)",
                },
                "url": {
                    "type": "string",
                    "description": "A download link on this site, valid for an hour",
                },
            },
        },
    },
}
