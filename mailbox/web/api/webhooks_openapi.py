"""The webhooks' part of the OpenAPI document: what the office posts to a registered address."""

from __future__ import annotations

from typing import Any

from mailbox.webhooks.payload import PING, SIGNATURE_HEADER, Event

_WHAT = {
    Event.SUBMITTED: "A letter was submitted (web form, API, Open311, or entered by staff)",
    Event.ACCEPTED: "A letter was accepted and routed to a department; `due_at` is fixed",
    Event.REPLIED: "The reply was released to the writer",
    Event.RATED: "The writer rated the reply; `data.rating` says how",
    Event.OVERDUE: "An accepted letter passed its deadline unanswered (escalation)",
    PING: "A test sent from the administration pages; `letter` is null",
}

_TIMESTAMP = {"type": "string", "format": "date-time"}


def _delivery(event: str, summary: str) -> dict[str, Any]:
    def header(name: str, description: str, schema: dict[str, Any]) -> dict[str, Any]:
        return {
            "name": name,
            "in": "header",
            "required": True,
            "description": description,
            "schema": schema,
        }

    return {
        "post": {
            "operationId": f"webhook_{event.replace('.', '_')}",
            "tags": ["Webhooks"],
            "summary": summary,
            "parameters": [
                header("X-Mailbox-Event", "The event", {"type": "string", "const": event}),
                header(
                    "X-Mailbox-Delivery",
                    "The delivery's id, the same on every retry",
                    {"type": "string", "pattern": "^[0-9]+$"},
                ),
                header(
                    SIGNATURE_HEADER,
                    "`sha256=` and the hex HMAC-SHA256 of the exact body bytes, keyed with"
                    " the webhook's secret",
                    {"type": "string", "pattern": "^sha256=[0-9a-f]{64}$"},
                ),
            ],
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {"schema": {"$ref": "#/components/schemas/WebhookDelivery"}}
                },
            },
            "responses": {
                "2XX": {
                    "description": "Received. Any other answer, or none within 10 s, is"
                    " retried later with growing pauses"
                }
            },
        }
    }


OPENAPI: dict[str, Any] = {
    "tags": [
        {
            "name": "Webhooks",
            "description": "Posted by the office to the addresses an administrator registered",
        }
    ],
    "webhooks": {str(event): _delivery(str(event), what) for event, what in _WHAT.items()},
    "schemas": {
        "WebhookDelivery": {
            "type": "object",
            "required": ["id", "event", "occurred_at", "letter", "data"],
            "properties": {
                "id": {"type": "integer", "description": "The delivery's id: ignore repeats"},
                "event": {"type": "string", "enum": [str(event) for event in _WHAT]},
                "occurred_at": _TIMESTAMP,
                "letter": {
                    "oneOf": [{"$ref": "#/components/schemas/WebhookLetter"}, {"type": "null"}]
                },
                "data": {
                    "type": "object",
                    "description": "`letter.rated`: `rating` (satisfied, basically_satisfied,"
                    " unsatisfied); `letter.overdue`: `due_at`, `days_overdue`; else empty",
                },
            },
        },
        "WebhookLetter": {
            "type": "object",
            "description": "No personal data: read more through the API with a staff token",
            "required": ["tracking_no", "channel", "state", "department", "submitted_at", "due_at"],
            "properties": {
                "tracking_no": {"type": "string"},
                "channel": {"type": "string"},
                "state": {"type": "string"},
                "department": {
                    "type": ["string", "null"],
                    "description": "The lead department's code, once accepted",
                },
                "submitted_at": _TIMESTAMP,
                "due_at": {"type": ["string", "null"], "format": "date-time"},
            },
        },
    },
}
