"""The outbox: written with the state change, claimed by workers, never sent twice.

It carries mail and webhook deliveries (its `medium`), each claimed by the worker of its medium.
A row holds what to render (template kind, language, JSON context), not the rendered message:
rendering is left to the worker, off the citizen's request. A mail's context is emptied once
it is sent, since a receipt's context holds the query code in clear; a webhook delivery's is
kept as its history (it holds no personal data).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from mailbox.db.database import Connection


class Medium(StrEnum):
    MAIL = "mail"
    WEBHOOK = "webhook"


@dataclass(frozen=True)
class Outgoing:
    """A claimed mail or webhook delivery, as its transport needs it."""

    id: int
    kind: str  # the mail template, or the webhook event
    recipient: str  # the address, or the URL
    locale: str
    context: dict[str, Any]
    attempts: int
    secret: str  # the webhook's signing secret as it is now; '' for mail


@dataclass(frozen=True)
class OutboxStatus:
    sent_at: datetime | None
    failed_at: datetime | None
    attempts: int
    last_error: str


async def enqueue(
    conn: Connection,
    *,
    kind: str,
    recipient: str,
    locale: str,
    context: dict[str, Any],
    now: datetime,
    letter_id: int | None = None,
) -> int:
    outbox_id: int = await conn.fetch_value(
        "INSERT INTO outbox (letter_id, kind, recipient, locale, context, created_at,"
        " send_after) VALUES (:letter_id, :kind, :recipient, :locale, :context, :now, :now)"
        " RETURNING id",
        {
            "letter_id": letter_id,
            "kind": kind,
            "recipient": recipient,
            "locale": locale,
            "context": json.dumps(context, ensure_ascii=False),
            "now": now,
        },
    )
    return outbox_id


# A deactivated webhook's deliveries wait, unclaimed, until it is activated again.
_DUE = (
    "SELECT id FROM outbox WHERE medium = :medium AND sent_at IS NULL AND failed_at IS NULL"
    " AND send_after <= :now AND (claimed_until IS NULL OR claimed_until < :now)"
    " AND (webhook_id IS NULL OR webhook_id IN (SELECT id FROM webhooks WHERE is_active))"
    " ORDER BY id LIMIT :limit"
)
# SKIP LOCKED lets several workers on PostgreSQL take disjoint batches; SQLite has one writer.
_RETURNING = (
    " RETURNING id, kind, recipient, locale, context, attempts,"
    " COALESCE((SELECT secret FROM webhooks WHERE webhooks.id = outbox.webhook_id), '')"
    " AS secret"
)
_CLAIM = {
    "sqlite": "UPDATE outbox SET claimed_until = :until, claim_token = :token"
    f" WHERE id IN ({_DUE}){_RETURNING}",
    "postgresql": "UPDATE outbox SET claimed_until = :until, claim_token = :token"
    f" WHERE id IN ({_DUE} FOR UPDATE SKIP LOCKED){_RETURNING}",
}


async def claim_due(
    conn: Connection,
    *,
    now: datetime,
    until: datetime,
    limit: int,
    token: str,
    medium: Medium = Medium.MAIL,
) -> list[Outgoing]:
    """Claim up to `limit` due rows of `medium` for the worker holding `token`."""
    rows = await conn.fetch_all(
        _CLAIM[conn.dialect],
        {"now": now, "until": until, "limit": limit, "token": token, "medium": medium},
    )
    items = [Outgoing(**{**row, "context": json.loads(row["context"])}) for row in rows]
    return sorted(items, key=lambda item: item.id)


async def start_attempt(
    conn: Connection, *, outbox_id: int, token: str, now: datetime, until: datetime
) -> bool:
    """Renew the claim and count the attempt just before sending; False when the claim was
    lost (it ran out and another worker took the mail), so this worker must not send it."""
    renewed = await conn.execute(
        "UPDATE outbox SET claimed_until = :until, attempts = attempts + 1 WHERE id = :id"
        " AND claim_token = :token AND claimed_until >= :now AND sent_at IS NULL",
        {"until": until, "id": outbox_id, "token": token, "now": now},
    )
    return renewed == 1


async def mark_sent(conn: Connection, *, outbox_id: int, token: str, now: datetime) -> None:
    await conn.execute(
        "UPDATE outbox SET sent_at = :now, claimed_until = NULL, last_error = '',"
        " context = CASE WHEN medium = 'mail' THEN '{}' ELSE context END"
        " WHERE id = :id AND claim_token = :token",
        {"now": now, "id": outbox_id, "token": token},
    )


async def mark_failed(
    conn: Connection,
    *,
    outbox_id: int,
    token: str,
    error: str,
    retry_at: datetime | None,
    now: datetime,
) -> None:
    """Record a failed attempt: retry later, or give up when retry_at is None. A given-up
    mail keeps its context so that an administrator can send it again once the cause is
    mended; housekeeping empties it after a while (it may hold a query code)."""
    await conn.execute(
        "UPDATE outbox SET last_error = :error, claimed_until = NULL,"
        " send_after = COALESCE(:retry_at, send_after), failed_at = :failed_at"
        " WHERE id = :id AND claim_token = :token",
        {
            "error": error[:500],
            "retry_at": retry_at,
            "failed_at": now if retry_at is None else None,
            "id": outbox_id,
            "token": token,
        },
    )


async def forget_given_up(conn: Connection, *, before: datetime) -> int:
    """Empty the context of mail given up before `before`; how many."""
    return await conn.execute(
        "UPDATE outbox SET context = '{}' WHERE medium = 'mail' AND failed_at < :before"
        " AND context <> '{}'",
        {"before": before},
    )


async def status(conn: Connection, *, outbox_id: int) -> OutboxStatus | None:
    row = await conn.fetch_one(
        "SELECT sent_at, failed_at, attempts, last_error FROM outbox WHERE id = :id",
        {"id": outbox_id},
    )
    return OutboxStatus(**row) if row else None


async def backlog(conn: Connection) -> int:
    waiting: int = await conn.fetch_value(
        "SELECT COUNT(*) FROM outbox WHERE medium = 'mail' AND sent_at IS NULL"
        " AND failed_at IS NULL"
    )
    return waiting
