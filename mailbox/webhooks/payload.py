"""What a webhook delivery carries: its JSON body, rendered from the outbox row, and the
signature over the body's exact bytes."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import datetime
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from mailbox import __version__


class Event(StrEnum):
    """The letter events a webhook may subscribe to (the CHECK of webhook_events)."""

    SUBMITTED = "letter.submitted"
    ACCEPTED = "letter.accepted"
    REPLIED = "letter.replied"
    RATED = "letter.rated"
    OVERDUE = "letter.overdue"


PING = "ping"  # a test an administrator sends to one webhook; nobody subscribes to it
USER_AGENT = f"mailbox-webhooks/{__version__}"
SIGNATURE_HEADER = "X-Mailbox-Signature"


def letter_facts(
    *,
    tracking_no: str,
    channel: str,
    state: str,
    submitted_at: datetime,
    due_at: datetime | None,
) -> dict[str, Any]:
    """A letter as the receiver is told of it: no personal data, only what identifies it and
    where it stands (the receiver reads more through the API). The department's code is
    filled in by the query that queues the deliveries."""
    return {
        "tracking_no": tracking_no,
        "channel": channel,
        "state": state,
        "department": None,
        "submitted_at": submitted_at.isoformat(),
        "due_at": due_at.isoformat() if due_at else None,
    }


def context(
    event: str, *, occurred_at: datetime, letter: dict[str, Any] | None, data: dict[str, Any]
) -> dict[str, Any]:
    """The body without its delivery id, as the outbox keeps it (times in UTC)."""
    return {"event": event, "occurred_at": occurred_at.isoformat(), "letter": letter, "data": data}


def _office_time(value: Any, tz: ZoneInfo) -> Any:
    """Every `..._at` field shown in the office's time zone, with its offset."""
    if not isinstance(value, dict):
        return value
    return {
        key: (
            datetime.fromisoformat(item).astimezone(tz).isoformat()
            if key.endswith("_at") and isinstance(item, str)
            else _office_time(item, tz)
        )
        for key, item in value.items()
    }


def body(delivery_id: int, kept: dict[str, Any], tz: ZoneInfo) -> bytes:
    """The exact bytes posted: the same for every attempt of one delivery."""
    document = {"id": delivery_id, **_office_time(kept, tz)}
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()


def signature(secret: str, payload: bytes) -> str:
    """The X-Mailbox-Signature value: HMAC-SHA256 of the body with the webhook's secret."""
    digest = hmac.new(secret.encode(), payload, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def headers(*, delivery_id: int, event: str, secret: str, payload: bytes) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "X-Mailbox-Event": event,
        "X-Mailbox-Delivery": str(delivery_id),
        SIGNATURE_HEADER: signature(secret, payload),
    }
