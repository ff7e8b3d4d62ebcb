"""How a report is shown: the summary sentence, the 政府网站工作年度报表 block, and the JSON of
DESIGN §8 (which the CSV and XLSX exports and the API share)."""

from __future__ import annotations

import string
from datetime import date
from typing import Any

from babel.dates import format_date

from mailbox.figures.counts import Counts, percent
from mailbox.figures.period import Period
from mailbox.figures.report import Line, Report

SUMMARY_KEY = "summary_template"
# The sentence of the seed's annual report; the office may edit it (site_texts).
DEFAULT_SUMMARY = {
    "zh_CN": "{period}收到{channels},{period}共受理信件{accepted}封,回复率{reply_rate}。",
    "en": "In {period} we received {channels}; {accepted} letters were accepted in all, "
    "and the reply rate was {reply_rate}.",
}
SUMMARY_FIELDS = (
    "period",
    "channels",
    "received",
    "accepted",
    "rejected",
    "replied",
    "reply_rate",
    "response_rate",
    "on_time_rate",
    "satisfaction_rate",
    "avg_days",
    "published",
)


class InvalidTemplate(ValueError):
    """A summary template with a placeholder that does not exist (named in `unknown`), an
    empty or formatted one ({}, {received:d}), or broken braces."""

    def __init__(self, message: str, unknown: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.unknown = unknown


def check_template(template: str) -> None:
    try:
        fields = [
            (name, spec, conversion)
            for _, name, spec, conversion in string.Formatter().parse(template)
            if name is not None
        ]
    except ValueError as error:
        raise InvalidTemplate(str(error)) from None
    unknown = tuple(sorted({name for name, _, _ in fields} - set(SUMMARY_FIELDS) - {""}))
    if unknown:
        raise InvalidTemplate(", ".join(unknown), unknown)
    # A format spec or conversion would fail (or differ) when the sentence is made.
    if any(not name or spec or conversion for name, spec, conversion in fields):
        raise InvalidTemplate("placeholders are written {name}, without a format")


def period_words(period: Period, locale: str) -> str:
    """全年 for a calendar year; otherwise the dates, as an annual report writes them."""
    if locale == "en":
        if period.is_whole_year:
            return f"the year {period.start.year}"
        return f"{_en_date(period.start)} to {_en_date(period.end)}"
    if period.is_whole_year:
        return "全年"
    return f"{_zh_date(period.start)}至{_zh_date(period.end)}"


def _zh_date(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def _en_date(day: date) -> str:
    return format_date(day, format="d MMMM y", locale="en")


def summary(report: Report, locale: str, template: str | None = None, decimals: int = 1) -> str:
    template = template or DEFAULT_SUMMARY["en" if locale == "en" else "zh_CN"]
    total = report.total
    if locale == "en":
        parts = [f"{line.counts.received} to {line.name_en}" for line in report.channels]
        channels = ", ".join(parts)
    else:
        channels = "、".join(f"{line.name}{line.counts.received}件" for line in report.channels)
    values: dict[str, Any] = {
        "period": period_words(report.period, locale),
        "channels": channels,
        "received": total.received,
        "accepted": total.accepted,
        "rejected": total.rejected,
        "replied": total.replied,
        "reply_rate": percent(total.reply_rate, decimals),
        "response_rate": percent(total.response_rate, decimals),
        "on_time_rate": percent(total.on_time_rate, decimals),
        "satisfaction_rate": percent(total.satisfaction_rate, decimals),
        "avg_days": total.avg_days if total.avg_days is not None else "–",
        "published": total.published,
    }
    return template.format_map(values)


def website_form(counts: Counts) -> dict[str, int | float | None]:
    """The 留言办理 block of the 政府网站工作年度报表."""
    avg = counts.avg_days
    return {
        "收到留言数量": counts.received,
        "办结留言数量": counts.replied,
        "平均办理时间(天)": float(avg) if avg is not None else None,
        "公开答复数量": counts.published,
    }


def _line(line: Line, key: str) -> dict[str, Any]:
    return {key: line.code, "name": line.name, "name_en": line.name_en, **line.counts.figures()}


def as_json(report: Report, summaries: dict[str, str]) -> dict[str, Any]:
    """DESIGN §8: every figure in each channel, department, month and the total."""
    period = report.period
    return {
        "period": {
            "from": period.start.isoformat(),
            "to": period.end.isoformat(),
            "as_of": period.as_of.isoformat(),
        },
        "channels": [_line(line, "code") for line in report.channels],
        "total": report.total.figures(),
        "departments": [_line(line, "code") for line in report.departments],
        "months": [{"month": line.code, **line.counts.figures()} for line in report.months],
        "summary": summaries.get("zh_CN", ""),
        "summary_en": summaries.get("en", ""),
        "website_yearly_form": website_form(report.total),
    }
