"""Figures for the operator: letters by state and the outbox by medium (readiness, metrics)."""

from __future__ import annotations

from dataclasses import dataclass

from mailbox.db.database import Connection


@dataclass(frozen=True)
class OutboxCounts:
    waiting: dict[str, int]  # medium → rows not yet sent and not given up
    given_up: dict[str, int]  # medium → rows the worker stopped retrying


async def letters_by_state(conn: Connection) -> dict[str, int]:
    rows = await conn.fetch_all("SELECT state, COUNT(*) AS n FROM letters GROUP BY state")
    return {row["state"]: int(row["n"]) for row in rows}


async def outbox_waiting(conn: Connection) -> dict[str, int]:
    # Served by the partial index outbox_due: cheap enough for every readiness probe.
    rows = await conn.fetch_all(
        "SELECT medium, COUNT(*) AS n FROM outbox"
        " WHERE sent_at IS NULL AND failed_at IS NULL GROUP BY medium"
    )
    return {row["medium"]: int(row["n"]) for row in rows}


async def outbox_counts(conn: Connection) -> OutboxCounts:
    rows = await conn.fetch_all(
        "SELECT medium, COUNT(*) AS n FROM outbox WHERE failed_at IS NOT NULL GROUP BY medium"
    )
    given_up = {row["medium"]: int(row["n"]) for row in rows}
    return OutboxCounts(waiting=await outbox_waiting(conn), given_up=given_up)
