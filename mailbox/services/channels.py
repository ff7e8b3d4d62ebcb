"""The channels, kept in memory for a few seconds: every form needs them, few edits touch them."""

from __future__ import annotations

import time

from mailbox.db.database import Database
from mailbox.db.queries.channels import ChannelRow, list_channels

FRESH_FOR = 5.0  # seconds; an administrator's change reaches every server within this


class ChannelDirectory:
    def __init__(self, db: Database) -> None:
        self._db = db
        self._rows: list[ChannelRow] = []
        self._read_at = float("-inf")

    async def all(self) -> list[ChannelRow]:
        if time.monotonic() - self._read_at > FRESH_FOR:
            self._rows = await list_channels(self._db)
            self._read_at = time.monotonic()
        return self._rows

    async def enabled(self) -> list[ChannelRow]:
        return [row for row in await self.all() if row.enabled]

    async def get(self, code: str) -> ChannelRow | None:
        return next((row for row in await self.all() if row.code == code), None)

    def forget(self) -> None:
        """Read again on next use (after this process changed a channel)."""
        self._read_at = float("-inf")
