"""Reports for people: the figures of a period with the office's summary sentences."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from mailbox.db.database import Connection, Database
from mailbox.db.queries import users
from mailbox.figures.period import Period
from mailbox.figures.present import DEFAULT_SUMMARY, SUMMARY_KEY, as_json, check_template, summary
from mailbox.figures.report import Report, build_report

LOCALES = ("zh_CN", "en")


@dataclass(frozen=True)
class FullReport:
    report: Report
    summaries: dict[str, str]  # by locale
    decimals: int

    def as_json(self) -> dict[str, Any]:
        return as_json(self.report, self.summaries)


async def summary_templates(conn: Connection) -> dict[str, str]:
    rows = await conn.fetch_all(
        "SELECT locale, value FROM site_texts WHERE key = :key", {"key": SUMMARY_KEY}
    )
    return DEFAULT_SUMMARY | {row["locale"]: row["value"] for row in rows}


async def set_summary_template(
    db: Database,
    *,
    locale: str,
    template: str,
    now: datetime,
    actor_user_id: int | None = None,
    client_ip: str = "",
) -> None:
    """An empty template restores the default. Raises InvalidTemplate and changes nothing.
    A change made by a person (actor_user_id) goes into the audit log with it."""
    if locale not in LOCALES:
        raise ValueError(f"unknown locale {locale!r}")
    template = template.strip()
    if template:
        check_template(template)
    async with db.transaction() as conn:
        await conn.execute(
            "DELETE FROM site_texts WHERE key = :key AND locale = :locale",
            {"key": SUMMARY_KEY, "locale": locale},
        )
        if template:
            await conn.execute(
                "INSERT INTO site_texts (key, locale, value, updated_at)"
                " VALUES (:key, :locale, :value, :now)",
                {"key": SUMMARY_KEY, "locale": locale, "value": template, "now": now},
            )
        if actor_user_id is not None:
            await users.audit(
                conn,
                action="summary.update",
                target=locale,
                actor_user_id=actor_user_id,
                client_ip=client_ip,
                now=now,
                data=json.dumps({"template": template}, ensure_ascii=False),
            )


async def make_report(db: Database, period: Period, *, decimals: int = 1) -> FullReport:
    """Read on the reading connections: a year's aggregation must not hold the writer."""
    report = await build_report(db, period)
    templates = await summary_templates(db)
    summaries = {locale: summary(report, locale, templates[locale], decimals) for locale in LOCALES}
    return FullReport(report, summaries, decimals)
