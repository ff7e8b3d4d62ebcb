"""The staff part of the JSON API: the letters in the token's scope, one letter with its whole
timeline, and the workflow actions, taken through the web's own ACTIONS table and services."""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from mailbox.auth.permissions import Page, is_office, may_open, sees_letter
from mailbox.db.queries import letters, queues
from mailbox.db.queries.letters import LetterRow
from mailbox.db.queries.users import UserRow
from mailbox.domain.states import LetterState
from mailbox.domain.validation import clean_text
from mailbox.domain.workflow import TransitionRefused
from mailbox.i18n import _
from mailbox.services.errors import NotFound, ServiceError
from mailbox.services.publication import InvalidCopy, NoConsent
from mailbox.services.transitions import NotPermitted
from mailbox.web.api.bodies import read_values
from mailbox.web.api.common import ok, read_json, require_staff
from mailbox.web.api.errors import ApiError, default_message
from mailbox.web.api.staff_actions import SPECS, applies_now, may_take, refusal, web_form
from mailbox.web.api.staff_openapi import OPENAPI as OPENAPI
from mailbox.web.api.staff_views import (
    Departments,
    departments,
    facts_of,
    letter_view,
    listed_view,
)
from mailbox.web.common import channels_of, clock_of, db_of, settings_of
from mailbox.web.letter import ACTIONS, Step
from mailbox.web.workspace import actor_of

LIMIT_DEFAULT, LIMIT_MAX = 20, 100
WORDS_MAX = 100
TRACKING_NO = re.compile(r"[A-Za-z0-9-]{1,40}")  # any number a letter can have, imported too
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
CURSOR_MAX = 64
LATEST_MOMENT = 10**17  # microseconds after 1970: beyond 5000, far below any overflow


async def _staff_user(request: Request) -> UserRow:
    """A staff token whose user may open letters: the office, handlers and reviewers."""
    caller = await require_staff(request)
    if not may_open(Page.LETTER, caller.user):
        raise ApiError(403, default_message(403))
    return caller.user


def encode_cursor(submitted_at: datetime, letter_id: int) -> str:
    """The last row's place in the list's order; opaque to clients."""
    micros = (submitted_at - EPOCH) // timedelta(microseconds=1)
    return base64.urlsafe_b64encode(f"{micros}:{letter_id}".encode()).decode().rstrip("=")


def decode_cursor(raw: str) -> tuple[datetime, int] | None:
    """The place a cursor names, or None for anything this API did not hand out."""
    if len(raw) > CURSOR_MAX or not raw.isascii():
        return None
    try:
        decoded = base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)).decode("ascii")
    except (binascii.Error, ValueError):
        return None
    micros, _sep, letter_id = decoded.partition(":")
    for number in (micros, letter_id):
        if not (number.isascii() and number.isdigit() and len(number) <= 18):
            return None
    if int(micros) > LATEST_MOMENT:
        return None
    return EPOCH + timedelta(microseconds=int(micros)), int(letter_id)


def _limit(raw: str | None, problems: dict[str, str]) -> int:
    if raw is None:
        return LIMIT_DEFAULT
    if raw.isascii() and raw.isdigit() and len(raw) <= 3 and 1 <= int(raw) <= LIMIT_MAX:
        return int(raw)
    problems["limit"] = _("Send a number from %(min)d to %(max)d.", min=1, max=LIMIT_MAX)
    return LIMIT_DEFAULT


@dataclass(frozen=True)
class Asked:
    """A list request's checked parameters."""

    filters: queues.Filters
    after: tuple[datetime, int] | None
    limit: int


async def _asked(request: Request, known: Departments) -> Asked:
    """The filters, the page and its size; 422 naming every parameter that names nothing.
    A parameter sent empty is a mistake, not "any": only q may be empty."""
    params = request.query_params
    problems: dict[str, str] = {}
    state = params.get("state")
    if state is not None and state not in set(LetterState):
        problems["state"] = _("There is no such state.")
    channel = params.get("channel")
    if channel is not None and await channels_of(request).get(channel) is None:
        problems["channel"] = _("There is no channel with this code.")
    code = params.get("department")
    department_id = next((i for i, d in known.items() if d["code"] == code), None)
    if code is not None and department_id is None:
        problems["department"] = _("No department has the code %(code)s.", code=code[:40])
    words = params.get("q", "")
    if len(words) > WORDS_MAX:
        problems["q"] = _("Use at most %(max)d characters.", max=WORDS_MAX)
    overdue = params.get("overdue", "false")
    if overdue not in ("true", "false"):
        problems["overdue"] = _("Send true or false.")
    limit = _limit(params.get("limit"), problems)
    after = decode_cursor(params["cursor"]) if "cursor" in params else None
    if "cursor" in params and after is None:
        problems["cursor"] = _("This cursor is not valid: send next_cursor as it came.")
    if problems:
        raise ApiError(422, default_message(422), fields=problems)
    filters = queues.Filters(
        channel=channel or "",
        state=state or "",
        department_id=department_id,
        words=clean_text(words),  # control characters out: neither database stores NUL
        overdue_at=clock_of(request).now() if overdue == "true" else None,
    )
    return Asked(filters, after, limit)


async def list_letters(request: Request) -> Response:
    """Newest first, with the web queue's search; a handler or reviewer sees their department's
    letters only, and another department's code as a filter finds nothing."""
    user = await _staff_user(request)
    db = db_of(request)
    known = await departments(db)
    asked = await _asked(request, known)
    filters = asked.filters
    if not is_office(user):
        if user.department_id is None or filters.department_id not in (None, user.department_id):
            return ok({"letters": [], "next_cursor": None})
        filters = replace(filters, department_id=user.department_id)
    rows = await queues.search(
        db,
        filters=filters,
        from_moment=None,
        to_moment=None,
        after=asked.after,
        limit=asked.limit + 1,  # one more tells whether there is a next page
    )
    page = rows[: asked.limit]
    settings, now = settings_of(request), clock_of(request).now()
    return ok(
        {
            "letters": [listed_view(row, known, settings, now) for row in page],
            "next_cursor": encode_cursor(page[-1].submitted_at, page[-1].id)
            if len(rows) > asked.limit
            else None,
        }
    )


async def _letter_in_scope(request: Request, user: UserRow) -> LetterRow:
    # Outside the token's scope a letter does not exist for it: 404, never 403 (as on the web).
    number = request.path_params["tracking_no"]
    letter = None
    if TRACKING_NO.fullmatch(number):
        letter = await letters.get_letter_by_tracking_no(db_of(request), tracking_no=number)
    if letter is None or not sees_letter(user, letter):
        raise ApiError(404, _("There is no letter with this tracking number in your scope."))
    return letter


async def _view(request: Request, user: UserRow, letter: LetterRow) -> Response:
    view = await letter_view(
        db_of(request),
        user=user,
        letter=letter,
        settings=settings_of(request),
        now=clock_of(request).now(),
    )
    return ok(view)


async def get_letter(request: Request) -> Response:
    user = await _staff_user(request)
    return await _view(request, user, await _letter_in_scope(request, user))


async def _body(request: Request) -> dict[str, Any]:
    """The JSON object sent; no body at all is an empty one (for the actions without fields)."""
    if not (await request.body()).strip():
        return {}
    return await read_json(request)


async def act(request: Request) -> Response:
    """Checked in the web's order of concerns: the token, the letter in scope (404), the roles
    (403), the body (400/415/422), the letter's state (409); then the web's own step, whose
    service checks the workflow table and the roles again inside its transaction."""
    user = await _staff_user(request)
    name = request.path_params["action"]
    spec = SPECS.get(name)
    if spec is None:
        raise ApiError(404, _("There is no such action."))
    letter = await _letter_in_scope(request, user)
    if not may_take(spec, user):
        raise ApiError(403, _("Your roles do not allow this action."))
    values = read_values(await _body(request), spec.schema)
    db = db_of(request)
    facts = await facts_of(db, letter)
    if not applies_now(spec, letter, facts):
        raise ApiError(409, _(spec.not_now))
    channel = await channels_of(request).get(letter.channel)
    try:
        action, form = await web_form(
            db,
            name=name,
            spec=spec,
            values=values,
            letter=letter,
            facts=facts,
            review_required=channel is None or channel.review_required,
        )
        step = Step(
            db=db,
            settings=settings_of(request),
            clock=clock_of(request),
            actor=actor_of(user),
            letter=letter,
            form=form,
        )
        await ACTIONS[action](step)
    except NotPermitted:
        raise ApiError(403, _("Your roles do not allow this action.")) from None
    except NoConsent:
        raise ApiError(409, _(SPECS["publish"].not_now)) from None
    except (TransitionRefused, NotFound):  # NotFound: the request decided meanwhile
        raise ApiError(409, default_message(409)) from None
    except InvalidCopy as invalid:
        raise ApiError(422, default_message(422), fields=refusal(spec, invalid.part)) from None
    except ServiceError:
        fields = refusal(spec)
        if not fields:
            raise ApiError(409, default_message(409)) from None
        raise ApiError(422, default_message(422), fields=fields) from None
    request.app.state.outbox_wakeup.set()  # any mail the step queued goes out now
    return await _view(request, user, await _letter_in_scope(request, user))


routes = [
    Route("/api/v1/staff/letters", list_letters, methods=["GET"]),
    Route("/api/v1/staff/letters/{tracking_no}", get_letter, methods=["GET"]),
    Route("/api/v1/staff/letters/{tracking_no}/{action}", act, methods=["POST"]),
]
