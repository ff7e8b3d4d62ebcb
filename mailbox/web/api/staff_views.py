"""The staff API's letters as JSON, as the staff pages show them, and their JSON schemas."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from mailbox.db.database import Database
from mailbox.db.queries import admin, replies, staffview
from mailbox.db.queries.letters import LetterRow
from mailbox.db.queries.queues import OPEN_STATES, ListedLetter
from mailbox.db.queries.users import UserRow
from mailbox.domain.states import LetterState, Source
from mailbox.services.handling import Rating
from mailbox.settings import Settings
from mailbox.web.api.common import iso
from mailbox.web.api.staff_actions import SPECS, Facts, available

Departments = dict[int, dict[str, str]]


async def departments(db: Database) -> Departments:
    """Code and name by id, disabled departments too: old letters still name theirs."""
    return {
        row.id: {"code": row.code, "name": row.name} for row in await admin.list_departments(db)
    }


async def facts_of(db: Database, letter: LetterRow) -> Facts:
    return Facts(
        extension_id=await staffview.pending_extension_id(db, letter_id=letter.id),
        has_reply=await replies.latest_released(db, letter_id=letter.id) is not None,
    )


def _overdue(state: str, due_at: datetime | None, now: datetime) -> bool:
    return state in OPEN_STATES and due_at is not None and due_at < now


def listed_view(
    row: ListedLetter, known: Departments, settings: Settings, now: datetime
) -> dict[str, Any]:
    return {
        "tracking_no": row.tracking_no,
        "channel": row.channel,
        "state": row.state,
        "title": row.title,
        "writer_name": row.writer_name,
        "department": known.get(row.department_id) if row.department_id else None,
        "submitted_at": iso(row.submitted_at, settings),
        "due_at": iso(row.due_at, settings),
        "overdue": _overdue(row.state, row.due_at, now),
        "needs_follow_up": row.needs_follow_up,
        "links": {"self": f"/api/v1/staff/letters/{row.tracking_no}"},
    }


async def letter_view(
    db: Database, *, user: UserRow, letter: LetterRow, settings: Settings, now: datetime
) -> dict[str, Any]:
    """Everything the staff letter page shows, and the actions this person may take now."""
    known = await departments(db)
    facts = await facts_of(db, letter)
    draft = await replies.current_draft(db, letter_id=letter.id)
    released = await replies.latest_released(db, letter_id=letter.id)
    return {
        "tracking_no": letter.tracking_no,
        "channel": letter.channel,
        "source": letter.source,
        "state": letter.state,
        "title": letter.title,
        "body": letter.body,
        "writer": {
            "name": letter.writer_name,
            "phone": letter.writer_phone,
            "email": letter.writer_email,
            "address": letter.writer_address,
        },
        "publish_consent": letter.publish_consent,
        "department": known.get(letter.department_id) if letter.department_id else None,
        "submitted_at": iso(letter.submitted_at, settings),
        "accepted_at": iso(letter.accepted_at, settings),
        "due_at": iso(letter.due_at, settings),
        "overdue": _overdue(letter.state, letter.due_at, now),
        "replied_at": iso(letter.replied_at, settings),
        "closed_at": iso(letter.closed_at, settings),
        "published_at": iso(letter.published_at, settings),
        "needs_follow_up": letter.needs_follow_up,
        "timeline": [
            {
                "kind": entry.kind,
                "from_state": entry.from_state,
                "to_state": entry.to_state,
                "public": entry.is_public,
                "note": entry.note,
                "actor": entry.actor,
                "at": iso(entry.created_at, settings),
            }
            for entry in await staffview.timeline(db, letter_id=letter.id)
        ],
        "notes": [
            {"author": note.author, "body": note.body, "at": iso(note.created_at, settings)}
            for note in await staffview.notes(db, letter_id=letter.id)
        ],
        "draft": {"body": draft.body, "submitted_at": iso(draft.submitted_at, settings)}
        if draft
        else None,
        "reply": {"body": released.body, "released_at": iso(released.released_at, settings)}
        if released
        else None,
        "ratings": [
            {
                "rating": rating.rating,
                "comment": rating.comment,
                "at": iso(rating.created_at, settings),
            }
            for rating in await replies.ratings(db, letter_id=letter.id)
        ],
        "extension_request_id": facts.extension_id,
        "actions": available(user, letter, facts),
    }


def _moment(description: str, nullable: bool = False) -> dict[str, Any]:
    kind: str | list[str] = ["string", "null"] if nullable else "string"
    return {"type": kind, "format": "date-time", "description": description}


def _object(properties: dict[str, Any], description: str = "") -> dict[str, Any]:
    schema = {
        "type": "object",
        "required": list(properties),
        "properties": properties,
        "additionalProperties": False,
    }
    return {**schema, "description": description} if description else schema


STRING = {"type": "string"}
STATE = {"type": "string", "enum": [str(state) for state in LetterState]}
DEPARTMENT_REF = {
    "oneOf": [{"$ref": "#/components/schemas/StaffDepartment"}, {"type": "null"}],
    "description": "The department the letter is routed to; null before acceptance",
}
OVERDUE = {
    "type": "boolean",
    "description": "Open (`assigned` or `review`) and past its deadline",
}
FOLLOW_UP = {
    "type": "boolean",
    "description": "Closed with the rating 不满意 and waiting for the office to reopen or close it",
}

SCHEMAS: dict[str, Any] = {
    "StaffDepartment": _object({"code": STRING, "name": STRING}),
    "StaffListedLetter": _object(
        {
            "tracking_no": STRING,
            "channel": {**STRING, "description": "The channel's code"},
            "state": STATE,
            "title": STRING,
            "writer_name": STRING,
            "department": DEPARTMENT_REF,
            "submitted_at": _moment("When the letter was received"),
            "due_at": _moment("The reply deadline, fixed at acceptance", nullable=True),
            "overdue": OVERDUE,
            "needs_follow_up": FOLLOW_UP,
            "links": _object({"self": STRING}),
        }
    ),
    "StaffLetterList": _object(
        {
            "letters": {
                "type": "array",
                "items": {"$ref": "#/components/schemas/StaffListedLetter"},
                "description": "Newest first",
            },
            "next_cursor": {
                "type": ["string", "null"],
                "description": "Pass as `cursor` for the next page; null on the last page",
            },
        }
    ),
    "StaffLetter": _object(
        {
            "tracking_no": STRING,
            "channel": {**STRING, "description": "The channel's code"},
            "source": {"type": "string", "enum": [str(source) for source in Source]},
            "state": STATE,
            "title": STRING,
            "body": STRING,
            "writer": _object(
                {"name": STRING, "phone": STRING, "email": STRING, "address": STRING},
                "The writer's details as given (empty strings when not given)",
            ),
            "publish_consent": {
                "type": "boolean",
                "description": "The writer agreed to publication",
            },
            "department": DEPARTMENT_REF,
            "submitted_at": _moment("When the letter was received"),
            "accepted_at": _moment("When the office accepted it", nullable=True),
            "due_at": _moment("The reply deadline", nullable=True),
            "overdue": OVERDUE,
            "replied_at": _moment("When the latest reply was released", nullable=True),
            "closed_at": _moment("When the letter closed", nullable=True),
            "published_at": _moment("When its public copy was published", nullable=True),
            "needs_follow_up": FOLLOW_UP,
            "timeline": {
                "type": "array",
                "description": "Every event, oldest first, internal ones too",
                "items": _object(
                    {
                        "kind": {**STRING, "description": "The step, e.g. `accept`, `approve`"},
                        "from_state": {"type": ["string", "null"]},
                        "to_state": STRING,
                        "public": {
                            "type": "boolean",
                            "description": "Shown to the writer on the tracking page",
                        },
                        "note": STRING,
                        "actor": {**STRING, "description": "Staff name; empty for the writer"},
                        "at": _moment("When"),
                    }
                ),
            },
            "notes": {
                "type": "array",
                "description": "Internal notes, oldest first",
                "items": _object({"author": STRING, "body": STRING, "at": _moment("When")}),
            },
            "draft": {
                "oneOf": [
                    _object(
                        {
                            "body": STRING,
                            "submitted_at": _moment(
                                "When it was submitted for review", nullable=True
                            ),
                        }
                    ),
                    {"type": "null"},
                ],
                "description": "The reply being written, not yet released",
            },
            "reply": {
                "oneOf": [
                    _object({"body": STRING, "released_at": _moment("When it was released")}),
                    {"type": "null"},
                ],
                "description": "The latest reply released to the writer",
            },
            "ratings": {
                "type": "array",
                "items": _object(
                    {
                        "rating": {"type": "string", "enum": [str(r) for r in Rating]},
                        "comment": STRING,
                        "at": _moment("When"),
                    }
                ),
            },
            "extension_request_id": {
                "type": ["integer", "null"],
                "description": "The extension request waiting for the office's decision",
            },
            "actions": {
                "type": "array",
                "items": {"type": "string", "enum": list(SPECS)},
                "description": "The actions this token may take on the letter now: POST"
                " /staff/letters/{tracking_no}/{action}",
            },
        }
    ),
}
