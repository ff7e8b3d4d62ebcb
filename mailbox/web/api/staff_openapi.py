"""The OpenAPI description of the staff API (paths relative to /api/v1), made from the same
action table and schemas that the endpoints check and answer with."""

from __future__ import annotations

from typing import Any

from mailbox.domain.states import LetterState
from mailbox.web.api.staff_actions import SPECS, Spec
from mailbox.web.api.staff_views import SCHEMAS

SECURITY: list[dict[str, list[str]]] = [{"bearerAuth": []}]
TAGS = ["Staff"]


def _error(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/responses/{name}"}


def _json(schema: str, description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}},
    }


SCOPE = (
    "A staff-scope token acts with its user's roles as they are now. Dispatchers and"
    " administrators see every letter; handlers and reviewers only their department's; other"
    " roles and submit-scope tokens get 403. A letter outside the token's scope is 404, as if"
    " it did not exist."
)
TRACKING_NO = {
    "name": "tracking_no",
    "in": "path",
    "required": True,
    "description": "The letter's tracking number",
    "schema": {"type": "string", "pattern": "^[A-Za-z0-9-]{1,40}$"},
}


def _query(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "schema": schema,
        "description": description,
    }


LIST = {
    "get": {
        "operationId": "listStaffLetters",
        "tags": TAGS,
        "summary": "List the letters in the token's scope",
        "description": SCOPE
        + "\n\nNewest first. Filters combine; `q` searches as the staff queue does: a tracking"
        " number, a phone number (digits), the writer's name, or words of the title or body."
        " Pages are keyset-paginated: pass `next_cursor` of one page as `cursor` for the next;"
        " a page is never shifted by letters arriving meanwhile. A filter value that names"
        " nothing (an unknown state, channel or department code) or a cursor not handed out by"
        " this API is 422, naming the parameter in `fields`.",
        "security": SECURITY,
        "parameters": [
            _query(
                "state",
                {"type": "string", "enum": [str(state) for state in LetterState]},
                "Only letters in this state",
            ),
            _query("channel", {"type": "string", "minLength": 1}, "A channel's code"),
            _query(
                "department",
                {"type": "string", "minLength": 1},
                "A department's code. For handlers and reviewers another department's code"
                " finds nothing",
            ),
            _query(
                "q",
                {"type": "string", "maxLength": 100},
                "Tracking number, phone, writer's name, or words",
            ),
            _query(
                "overdue",
                {"type": "boolean", "default": False},
                "`true`: only open letters past their deadline",
            ),
            _query("cursor", {"type": "string", "minLength": 1}, "`next_cursor` of the last page"),
            _query(
                "limit",
                {"type": "integer", "minimum": 1, "maximum": 100, "default": 20},
                "Letters per page",
            ),
        ],
        "responses": {
            "200": _json("StaffLetterList", "A page of letters"),
            "401": _error("Unauthorized"),
            "403": _error("Forbidden"),
            "422": _error("Invalid"),
            "503": _error("Unavailable"),
        },
    }
}

ONE = {
    "get": {
        "operationId": "getStaffLetter",
        "tags": TAGS,
        "summary": "One letter as the staff letter page shows it",
        "description": SCOPE
        + "\n\nThe writer's details, the whole timeline (internal events too), internal notes,"
        " the draft and the released reply, the extension request waiting, and `actions`:"
        " the actions this token may take on the letter now.",
        "security": SECURITY,
        "parameters": [TRACKING_NO],
        "responses": {
            "200": _json("StaffLetter", "The letter"),
            "401": _error("Unauthorized"),
            "403": _error("Forbidden"),
            "404": _error("NotFound"),
            "503": _error("Unavailable"),
        },
    }
}

STEP = (
    "\n\nThe same step, with the same checks, mail and timeline event, as the button on the staff"
    " letter page. Answers with the letter after the step. Errors: 404 for a letter outside"
    " the token's scope; 403 when the token's roles never allow this action; 422 for a body"
    " that breaks the schema or a value the office does not know (`fields` names it); 409"
    " when the letter's present state (or a missing consent, a missing extension request)"
    " does not allow it now. A refused call changes nothing."
)


def _schema_name(name: str) -> str:
    return "StaffAction" + "".join(part.title() for part in name.split("-")) + "Body"


def _action_path(name: str, spec: Spec) -> dict[str, Any]:
    return {
        "post": {
            "operationId": "staff" + "".join(part.title() for part in name.split("-")),
            "tags": TAGS,
            "summary": spec.summary,
            "description": spec.description + STEP,
            "security": SECURITY,
            "parameters": [TRACKING_NO],
            "requestBody": {
                "required": bool(spec.required),
                "content": {
                    "application/json": {
                        "schema": {"$ref": f"#/components/schemas/{_schema_name(name)}"}
                    }
                },
            },
            "responses": {
                "200": _json("StaffLetter", "The letter after the step"),
                "400": _error("BadRequest"),
                "401": _error("Unauthorized"),
                "403": _error("Forbidden"),
                "404": _error("NotFound"),
                "409": _error("Conflict"),
                "413": _error("TooLarge"),
                "415": _error("UnsupportedMediaType"),
                "422": _error("Invalid"),
                "503": _error("Unavailable"),
            },
        }
    }


OPENAPI: dict[str, Any] = {
    "tags": [
        {
            "name": "Staff",
            "description": "The office's work on letters: lists, one letter with its timeline,"
            " and every workflow step, with the staff pages' rules and permissions.",
        }
    ],
    "paths": {
        "/staff/letters": LIST,
        "/staff/letters/{tracking_no}": ONE,
        **{
            f"/staff/letters/{{tracking_no}}/{name}": _action_path(name, spec)
            for name, spec in SPECS.items()
        },
    },
    "schemas": {
        **SCHEMAS,
        **{_schema_name(name): spec.schema for name, spec in SPECS.items()},
    },
}
