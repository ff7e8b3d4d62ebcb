"""The writer rates the reply through the API (a portal or mini program), with the query code."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from mailbox.db.queries import letters
from mailbox.domain.validation import clean_text
from mailbox.domain.workflow import TransitionRefused
from mailbox.i18n import _
from mailbox.services import handling
from mailbox.services.errors import RateLimited
from mailbox.services.tracking import look_up, writer_view
from mailbox.web.api.common import ok, read_json, text_fields
from mailbox.web.api.errors import ApiError, default_message
from mailbox.web.api.public import CODE_MAX, citizen_view
from mailbox.web.common import client_ip, clock_of, db_of, settings_of

COMMENT_MAX = 500


async def rate(request: Request) -> Response:
    """Once, while the rating window is open; the letter closes (不满意 waits for the office)."""
    data = await read_json(request)
    fields = text_fields(data, ("query_code", "rating", "comment"))
    fields["comment"] = clean_text(fields.get("comment", ""), multiline=True)
    problems: dict[str, str] = {}
    if not fields.get("query_code"):
        problems["query_code"] = _("Please enter the query code.")
    try:
        rating = handling.Rating(fields.get("rating", ""))
    except ValueError:
        problems["rating"] = _("Please choose one of the three answers.")
    if len(fields.get("comment", "")) > COMMENT_MAX:
        problems["comment"] = _(
            "The comment can be at most %(max)d characters long.", max=COMMENT_MAX
        )
    if problems:
        raise ApiError(422, default_message(422), fields=problems)
    db, settings, clock = db_of(request), settings_of(request), clock_of(request)
    try:
        letter = await look_up(
            db,
            settings=settings,
            clock=clock,
            tracking_no=request.path_params["tracking_no"][:CODE_MAX],
            query_code=fields["query_code"][:CODE_MAX],
            client_ip=client_ip(request),
        )
    except RateLimited:
        raise ApiError(429, default_message(429), headers={"retry-after": "3600"}) from None
    if letter is None:
        raise ApiError(404, _("No letter matches this tracking number and query code."))
    if not letter.rating_token:
        raise ApiError(409, _("This reply can no longer be rated."))
    try:
        await handling.rate(
            db,
            clock=clock,
            tracking_no=letter.tracking_no,
            rating=rating,
            comment=fields["comment"],
        )
    except TransitionRefused:
        raise ApiError(409, _("This reply can no longer be rated.")) from None
    request.app.state.outbox_wakeup.set()  # the rated webhook
    # The code was checked above: read the new state without counting another look-up.
    rated = await letters.get_letter_by_tracking_no(db, tracking_no=letter.tracking_no)
    assert rated is not None
    view = await writer_view(db, settings=settings, clock=clock, letter=rated)
    return ok(citizen_view(view, settings))


OPENAPI: dict[str, Any] = {
    "paths": {
        "/letters/{tracking_no}/rating": {
            "post": {
                "operationId": "rateReply",
                "tags": ["Letters"],
                "summary": "The writer rates the reply (满意, 基本满意, 不满意)",
                "description": "No token needed: the query code is the key, limited like"
                " `GET /letters/{tracking_no}`. Possible once, while `rating_open` is true in"
                " the writer's view; the letter then closes (an unsatisfied rating is followed"
                " up by the office). Answers with the writer's view after the rating.",
                "parameters": [
                    {
                        "name": "tracking_no",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "string", "maxLength": CODE_MAX},
                    }
                ],
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "required": ["query_code", "rating"],
                                "properties": {
                                    "query_code": {"type": "string", "maxLength": CODE_MAX},
                                    "rating": {
                                        "type": "string",
                                        "enum": [str(value) for value in handling.Rating],
                                    },
                                    "comment": {"type": "string", "maxLength": COMMENT_MAX},
                                },
                            }
                        }
                    },
                },
                "responses": {
                    "200": {
                        "description": "Rated; the letter as its writer now sees it",
                        "content": {
                            "application/json": {
                                "schema": {"$ref": "#/components/schemas/WritersLetter"}
                            }
                        },
                    },
                    "400": {"$ref": "#/components/responses/BadRequest"},
                    "404": {"$ref": "#/components/responses/NotFound"},
                    "409": {"$ref": "#/components/responses/Conflict"},
                    "415": {"$ref": "#/components/responses/UnsupportedMediaType"},
                    "422": {"$ref": "#/components/responses/Invalid"},
                    "429": {"$ref": "#/components/responses/RateLimited"},
                    "503": {"$ref": "#/components/responses/Unavailable"},
                },
            }
        }
    },
    "schemas": {},
}

routes = [Route("/api/v1/letters/{tracking_no}/rating", rate, methods=["POST"])]
