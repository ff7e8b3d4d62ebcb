"""/stats: a year's 留言受理反馈情况 for everyone, counts only, per channel and month."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import date, datetime, timedelta
from typing import Any

from babel.dates import format_date
from markupsafe import Markup
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from mailbox.figures.definitions import DEFINITIONS
from mailbox.figures.period import Period
from mailbox.figures.report import Line
from mailbox.i18n import get_locale
from mailbox.services.reports import make_report
from mailbox.web.common import clock_of, db_of, env_of, render, settings_of

FIRST_YEAR = 2000
CACHE_SECONDS = 300
# The 留言办理 block of the 政府网站工作年度报表, which the page publishes per month.
FIGURES = ("received", "replied", "avg_days", "published")


class TablesCache:
    """The rendered tables of a year in a language, kept CACHE_SECONDS by the app's clock.

    They hold nothing of the reader (the page around them has the CSRF token and display
    choices, so it is rendered per request); one request makes a missing or stale entry
    while the others for the same key wait for it rather than repeat the aggregation.
    """

    def __init__(self) -> None:
        self._entries: dict[tuple[int, str], tuple[datetime, Markup]] = {}
        self._locks: dict[tuple[int, str], asyncio.Lock] = {}

    async def get(
        self, key: tuple[int, str], now: datetime, make: Callable[[], Awaitable[Markup]]
    ) -> Markup:
        entry = self._entries.get(key)
        if entry is not None and now < entry[0]:
            return entry[1]
        async with self._locks.setdefault(key, asyncio.Lock()):
            entry = self._entries.get(key)
            if entry is not None and now < entry[0]:
                return entry[1]
            tables = await make()
            self._entries[key] = (now + timedelta(seconds=CACHE_SECONDS), tables)
            return tables


def _cache(request: Request) -> TablesCache:
    state = request.app.state
    if not hasattr(state, "stats_tables"):  # one per app: tests run apps side by side
        state.stats_tables = TablesCache()
    cache: TablesCache = state.stats_tables
    return cache


def _year(request: Request, current: int) -> int:
    raw = request.query_params.get("year")
    if raw is None:
        return current
    # isascii: int() would also take "２０２６" and " 2026"
    if not (raw.isascii() and raw.isdigit() and len(raw) == 4):
        raise HTTPException(400)
    if not FIRST_YEAR <= int(raw) <= current:
        raise HTTPException(400)
    return int(raw)


def _month_name(month: int, locale: str) -> str:
    if locale == "en":
        return format_date(date(2000, month, 1), format="MMMM", locale="en")
    return f"{month}月"


async def _tables(request: Request, year: int, now: datetime) -> Markup:
    settings = settings_of(request)
    locale = get_locale()
    period = Period.of_year(year, as_of=now, tz=settings.tz)
    full = await make_report(db_of(request), period, decimals=settings.rate_decimals)
    report = full.report
    # months that have begun: the current year's later months would only show zeros
    shown = [index for index, month in enumerate(period.months) if month.starts <= now]

    def months(lines: list[Line]) -> list[tuple[str, Any]]:
        return [(_month_name(period.months[i].month, locale), lines[i].counts) for i in shown]

    channels = [(line.name_en if locale == "en" else line.name, line) for line in report.channels]
    language = 1 if locale == "en" else 0  # DEFINITIONS: (Chinese, English)
    context = {
        "year": year,
        "as_of": now,
        "tz": settings.tz,
        "figures": FIGURES,
        "headings": {name: DEFINITIONS[name][language][0] for name in FIGURES},
        "definitions": [DEFINITIONS[name][language] for name in FIGURES],
        # the summary says 全年 (the whole year): only once the year is over
        "summary": full.summaries[locale] if period.ends <= now else "",
        "channels": [(name, line.counts) for name, line in channels],
        "total": report.total,
        "months": months(report.months),
        "channel_months": [
            (name, months(report.channel_months[line.code]))
            for name, line in channels
            if line.code is not None
        ],
    }
    html = env_of(request).get_template("public/_stats_tables.html").render(context)
    return Markup(html)


async def stats(request: Request) -> Response:
    now = clock_of(request).now()
    current = now.astimezone(settings_of(request).tz).year
    year = _year(request, current)

    async def make() -> Markup:
        return await _tables(request, year, now)

    tables = await _cache(request).get((year, get_locale()), now, make)
    context = {"year": year, "years": range(current, FIRST_YEAR - 1, -1), "tables": tables}
    response = render(request, "public/stats.html", context)
    # private: every page carries the reader's CSRF token (the display form); the language
    # and display cookies choose what it shows
    response.headers["cache-control"] = f"private, max-age={CACHE_SECONDS}"
    response.headers["vary"] = "Cookie, Accept-Language"
    return response


routes = [Route("/stats", stats)]
