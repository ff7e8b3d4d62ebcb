"""A report: the figures of a period per channel, department and month, and in total, from
one aggregation in the database (no loop over letters here: the rows are groups)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from mailbox.db.database import Connection
from mailbox.db.queries import figures as queries
from mailbox.db.queries.channels import list_channels
from mailbox.figures.counts import Counts
from mailbox.figures.period import Period


@dataclass(frozen=True)
class Line:
    """One row of a table: a channel, a department or a month, and its figures."""

    code: str | None  # channel or department code, "YYYY-MM" for a month; None: no department
    name: str
    name_en: str
    counts: Counts


@dataclass(frozen=True)
class Report:
    period: Period
    channels: list[Line]
    departments: list[Line]
    months: list[Line]
    total: Counts
    # per channel code, its months (like `months`): the public /stats page's monthly tables
    channel_months: dict[str, list[Line]] = field(default_factory=dict)


NO_DEPARTMENT = ("未分派", "Not assigned")


async def build_report(conn: Connection, period: Period) -> Report:
    bounds: dict[str, Any] = {
        "starts": period.starts,
        "ends": period.ends,
        "as_of": period.as_of,
        "month_starts": [month.starts for month in period.months],
    }
    groups: dict[tuple[str, int | None, int], Counts] = defaultdict(Counts)
    for row in await queries.letter_counts(conn, **bounds):
        key, values = _split(row)
        groups[key] += Counts(**values)
    for row in await queries.rating_counts(conn, **bounds):
        key, values = _split(row)
        groups[key] += Counts(**values)

    by_channel: dict[str, Counts] = defaultdict(Counts)
    by_department: dict[int | None, Counts] = defaultdict(Counts)
    by_month: dict[int, Counts] = defaultdict(Counts)
    by_channel_month: dict[tuple[str, int], Counts] = defaultdict(Counts)
    for (channel, department_id, month), counts in groups.items():
        by_channel[channel] += counts
        by_department[department_id] += counts
        by_month[month] += counts
        by_channel_month[channel, month] += counts

    channels = [
        Line(row.code, row.name, row.name_en, by_channel[row.code])
        for row in await list_channels(conn)
        if row.enabled or by_channel[row.code].received
    ]
    departments = [
        Line(row["code"], row["name"], row["name"], by_department[row["id"]])
        for row in await conn.fetch_all(
            "SELECT id, code, name, enabled FROM departments ORDER BY code", {}
        )
        if row["enabled"] or by_department.get(row["id"])
    ]
    if by_department.get(None):
        departments.append(Line(None, *NO_DEPARTMENT, by_department[None]))
    months = [
        Line(month.label, month.label, month.label, by_month[index])
        for index, month in enumerate(period.months)
    ]
    channel_months = {
        line.code: [
            Line(month.label, month.label, month.label, by_channel_month[line.code, index])
            for index, month in enumerate(period.months)
        ]
        for line in channels
        if line.code is not None
    }
    total = sum(groups.values(), Counts())
    return Report(period, channels, departments, months, total, channel_months)


def _split(row: Mapping[str, Any]) -> tuple[tuple[str, int | None, int], dict[str, int]]:
    key = (row["channel"], row["department_id"], int(row["month"]))
    values = {
        name: int(value or 0)
        for name, value in row.items()
        if name not in ("channel", "department_id", "month")
    }
    return key, values
