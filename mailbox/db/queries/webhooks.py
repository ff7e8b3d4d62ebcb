"""Webhooks, their subscriptions, and their deliveries (outbox rows of medium 'webhook')."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from mailbox.db.database import Connection, Row

HISTORY_PAGE_SIZE = 50


@dataclass(frozen=True)
class Webhook:
    id: int
    url: str
    description: str
    is_active: bool
    created_at: datetime
    events: tuple[str, ...]
    waiting: int  # deliveries not yet sent nor given up
    given_up: int


@dataclass(frozen=True)
class Delivery:
    """One delivery as its history shows it."""

    id: int
    kind: str  # the event
    tracking_no: str | None
    created_at: datetime
    send_after: datetime
    attempts: int
    last_error: str
    sent_at: datetime | None
    failed_at: datetime | None
    context: dict[str, Any]


_WEBHOOK = (
    "SELECT w.id, w.url, w.description, w.is_active, w.created_at,"
    " (SELECT COUNT(*) FROM outbox o WHERE o.webhook_id = w.id AND o.sent_at IS NULL"
    "  AND o.failed_at IS NULL) AS waiting,"
    " (SELECT COUNT(*) FROM outbox o WHERE o.webhook_id = w.id AND o.sent_at IS NULL"
    "  AND o.failed_at IS NOT NULL) AS given_up"
    " FROM webhooks w"
)


async def _with_events(conn: Connection, rows: list[Row]) -> list[Webhook]:
    if not rows:
        return []
    subscribed: dict[int, list[str]] = {row["id"]: [] for row in rows}
    for event in await conn.fetch_all(
        "SELECT webhook_id, event FROM webhook_events ORDER BY webhook_id, event"
    ):
        subscribed.get(event["webhook_id"], []).append(event["event"])
    return [
        Webhook(
            **{**row, "is_active": bool(row["is_active"]), "events": tuple(subscribed[row["id"]])}
        )
        for row in rows
    ]


async def list_webhooks(conn: Connection) -> list[Webhook]:
    return await _with_events(conn, list(await conn.fetch_all(f"{_WEBHOOK} ORDER BY w.id")))


async def get_webhook(conn: Connection, *, webhook_id: int) -> Webhook | None:
    row = await conn.fetch_one(f"{_WEBHOOK} WHERE w.id = :id", {"id": webhook_id})
    found = await _with_events(conn, [row] if row else [])
    return found[0] if found else None


async def create_webhook(
    conn: Connection,
    *,
    url: str,
    secret: str,
    description: str,
    events: Iterable[str],
    now: datetime,
    created_by_id: int,
) -> int:
    webhook_id: int = await conn.fetch_value(
        "INSERT INTO webhooks (url, secret, description, created_at, created_by_id)"
        " VALUES (:url, :secret, :description, :now, :by) RETURNING id",
        {
            "url": url,
            "secret": secret,
            "description": description,
            "now": now,
            "by": created_by_id,
        },
    )
    for event in events:
        await conn.execute(
            "INSERT INTO webhook_events (webhook_id, event) VALUES (:id, :event)",
            {"id": webhook_id, "event": event},
        )
    return webhook_id


async def set_secret(conn: Connection, *, webhook_id: int, secret: str) -> bool:
    changed = await conn.execute(
        "UPDATE webhooks SET secret = :secret WHERE id = :id", {"secret": secret, "id": webhook_id}
    )
    return changed == 1


async def set_active(conn: Connection, *, webhook_id: int, active: bool) -> bool:
    changed = await conn.execute(
        "UPDATE webhooks SET is_active = :active WHERE id = :id",
        {"active": active, "id": webhook_id},
    )
    return changed == 1


async def delete_webhook(conn: Connection, *, webhook_id: int) -> bool:
    """The webhook, its subscriptions and its deliveries."""
    await conn.execute("DELETE FROM outbox WHERE webhook_id = :id", {"id": webhook_id})
    return await conn.execute("DELETE FROM webhooks WHERE id = :id", {"id": webhook_id}) == 1


# One row per active webhook subscribed to the event, in the transaction of the change, and
# one statement however many webhooks there are. The department's code is set into the body
# here, which saves a query per event.
_QUEUE_EVENT = {
    "sqlite": (
        "INSERT INTO outbox (medium, webhook_id, letter_id, kind, recipient, locale, context,"
        " created_at, send_after)"
        " SELECT 'webhook', w.id, :letter_id, :event, w.url, '',"
        " json_set(:context, '$.letter.department',"
        "  (SELECT code FROM departments WHERE id = :department_id)),"
        " :now, :now"
        " FROM webhook_events e JOIN webhooks w ON w.id = e.webhook_id"
        " WHERE e.event = :event AND w.is_active ORDER BY w.id"
    ),
    "postgresql": (
        "INSERT INTO outbox (medium, webhook_id, letter_id, kind, recipient, locale, context,"
        " created_at, send_after)"
        " SELECT 'webhook', w.id, :letter_id::bigint, :event::text, w.url, '',"
        " jsonb_set(:context::jsonb, '{letter,department}',"
        "  COALESCE(to_jsonb((SELECT code FROM departments WHERE id = :department_id::bigint)),"
        "  'null'::jsonb))::text,"
        " :now::timestamptz, :now::timestamptz"
        " FROM webhook_events e JOIN webhooks w ON w.id = e.webhook_id"
        " WHERE e.event = :event::text AND w.is_active ORDER BY w.id"
    ),
}


async def queue_event(
    conn: Connection,
    *,
    event: str,
    letter_id: int,
    department_id: int | None,
    context: dict[str, Any],
    now: datetime,
) -> int:
    """Queue a letter event for every active webhook subscribed to it; how many."""
    return await conn.execute(
        _QUEUE_EVENT[conn.dialect],
        {
            "event": event,
            "letter_id": letter_id,
            "department_id": department_id,
            "context": json.dumps(context, ensure_ascii=False),
            "now": now,
        },
    )


async def queue_one(
    conn: Connection, *, webhook_id: int, kind: str, context: dict[str, Any], now: datetime
) -> int | None:
    """Queue a delivery to one webhook (a test); its id, or None when there is no webhook."""
    outbox_id: int | None = await conn.fetch_value(
        "INSERT INTO outbox (medium, webhook_id, kind, recipient, locale, context, created_at,"
        " send_after) SELECT 'webhook', id, :kind, url, '', :context, :now, :now"
        " FROM webhooks WHERE id = :id RETURNING id",
        {
            "id": webhook_id,
            "kind": kind,
            "context": json.dumps(context, ensure_ascii=False),
            "now": now,
        },
    )
    return outbox_id


_DELIVERY = (
    "SELECT o.id, o.kind, l.tracking_no, o.created_at, o.send_after, o.attempts, o.last_error,"
    " o.sent_at, o.failed_at, o.context"
    " FROM outbox o LEFT JOIN letters l ON l.id = o.letter_id"
)


def _delivery(row: Row) -> Delivery:
    return Delivery(**{**row, "context": json.loads(row["context"])})


async def deliveries(
    conn: Connection, *, webhook_id: int, before_id: int | None, limit: int = HISTORY_PAGE_SIZE
) -> list[Delivery]:
    """A page of the webhook's deliveries, newest first; `before_id` continues a page."""
    rows = await conn.fetch_all(
        f"{_DELIVERY} WHERE o.webhook_id = :webhook_id AND o.id < :before"
        " ORDER BY o.id DESC LIMIT :limit",
        {
            "webhook_id": webhook_id,
            "before": before_id if before_id is not None else 2**62,
            "limit": limit,
        },
    )
    return [_delivery(row) for row in rows]


async def get_delivery(conn: Connection, *, webhook_id: int, outbox_id: int) -> Delivery | None:
    row = await conn.fetch_one(
        f"{_DELIVERY} WHERE o.webhook_id = :webhook_id AND o.id = :id",
        {"webhook_id": webhook_id, "id": outbox_id},
    )
    return _delivery(row) if row else None


async def count_given_up(conn: Connection) -> int:
    """Deliveries that were given up and not sent again, over all webhooks."""
    count: int = await conn.fetch_value(
        "SELECT COUNT(*) FROM outbox WHERE medium = 'webhook' AND failed_at IS NOT NULL"
        " AND sent_at IS NULL"
    )
    return count
