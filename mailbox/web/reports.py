"""The staff report page: a period's figures in tables and charts, the summary sentence, the
downloads, and the office's summary templates."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from fractions import Fraction
from typing import Any
from urllib.parse import parse_qsl, urlencode
from zoneinfo import ZoneInfo

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from mailbox.auth.permissions import Page, is_office
from mailbox.db.queries.figures import submission_years
from mailbox.figures.counts import FIGURE_NAMES, RATE_NAMES, Counts, percent
from mailbox.figures.definitions import DEFINITIONS
from mailbox.figures.exports import to_csv, to_json, to_xlsx
from mailbox.figures.period import InvalidPeriod, Period, parse_as_of
from mailbox.figures.present import (
    DEFAULT_SUMMARY,
    SUMMARY_FIELDS,
    InvalidTemplate,
    check_template,
    website_form,
)
from mailbox.figures.report import Line, Report
from mailbox.i18n import N_, _, get_locale
from mailbox.services.reports import (
    LOCALES,
    make_report,
    set_summary_template,
    summary_templates,
)
from mailbox.web.common import (
    client_ip,
    clock_of,
    db_of,
    read_form,
    render,
    settings_of,
    whole_number,
)
from mailbox.web.staff import staff_page
from mailbox.web.workspace import staff_context

YEARS = range(2000, 2101)
LONGEST_MONTHS = 120  # a longer period would be a table of hundreds of months
TEMPLATE_MAX = 1000
PARAMS = ("period", "year", "from", "to", "as_of")
EXPORTS = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "json": "application/json",
}
AVERAGES = ("avg_days", "avg_working_days")
# The 留言办理 block's lines (present.website_form) as the page names them.
WEBSITE_FORM_LABELS = {
    "收到留言数量": N_("Messages received"),
    "办结留言数量": N_("Messages completed"),
    "平均办理时间(天)": N_("Average handling time (days)"),
    "公开答复数量": N_("Replies published"),
}
# What the placeholders without a figure of their own stand for.
PLACEHOLDER_WORDS = {
    "period": N_("“全年” for a calendar year, otherwise the dates"),
    "channels": N_("each channel with its number of letters"),
}


@dataclass(frozen=True)
class Asked:
    """The period asked for in the query string: its values as typed (for the form and the
    links), and the period, or the errors by field."""

    values: dict[str, str]
    period: Period | None
    errors: dict[str, str]

    @property
    def query(self) -> str:
        """The same question as a query string, for links and the template form."""
        names = ("from", "to") if self.values["period"] == "dates" else ("year",)
        kept = {name: self.values[name] for name in (*names, "as_of") if self.values[name]}
        return urlencode(kept)


def _date(raw: str, field: str, errors: dict[str, str]) -> date | None:
    if not raw:
        errors[field] = _("Enter a date.")
        return None
    try:
        day = date.fromisoformat(raw)
    except ValueError:
        day = None
    if day is None or len(raw) != 10 or day.year not in YEARS:
        errors[field] = _("Enter a date from 2000 to 2100, such as 2018-03-31.")
        return None
    return day


def read_period(params: Mapping[str, str], *, tz: ZoneInfo, now: datetime) -> Asked:
    """A calendar year (the current one by default), or dates from and to (inclusive); as of a
    date (its end) or a moment, now by default. Nothing the user types gets past as a 500."""
    values = {name: params.get(name, "").strip()[:40] for name in PARAMS}
    dates = values["period"] == "dates" or (
        values["period"] != "year" and bool(values["from"] or values["to"])
    )
    values["period"] = "dates" if dates else "year"
    errors: dict[str, str] = {}
    as_of = now
    if values["as_of"]:
        try:
            as_of = parse_as_of(values["as_of"], tz)
        except InvalidPeriod:
            as_of = now
            errors["as_of"] = _(
                "Enter a date (2019-01-15) or a date and time (2019-01-15 18:00), or nothing."
            )
        else:
            if as_of.year not in YEARS:
                errors["as_of"] = _("Enter a moment from 2000 to 2100.")
    start = end = None
    if dates:
        start = _date(values["from"], "from", errors)
        end = _date(values["to"], "to", errors)
        if start and end and end < start:
            errors["to"] = _("The end date is before the start date.")
        elif start and end and _months(start, end) > LONGEST_MONTHS:
            errors["to"] = _("A report covers at most %(years)d years.", years=LONGEST_MONTHS // 12)
    else:
        values["year"] = values["year"] or str(now.astimezone(tz).year)
        year = values["year"]
        if not (len(year) == 4 and year.isascii() and year.isdigit() and int(year) in YEARS):
            errors["year"] = _("Choose a year from 2000 to 2100.")
        else:
            start, end = date(int(year), 1, 1), date(int(year), 12, 31)
    if errors or start is None or end is None:
        return Asked(values, None, errors)
    return Asked(values, Period.between(start, end, as_of=as_of, tz=tz), {})


def _months(start: date, end: date) -> int:
    return (end.year - start.year) * 12 + end.month - start.month + 1


def _asked(request: Request) -> Asked:
    return read_period(
        request.query_params, tz=settings_of(request).tz, now=clock_of(request).now()
    )


def shown(counts: Counts, name: str, decimals: int) -> str:
    """A figure as the tables show it: rates rounded half up from the exact fraction,
    averages to one decimal, "–" where there is nothing to divide."""
    value = getattr(counts, name)
    if name in RATE_NAMES:
        return percent(value, decimals)
    if name in AVERAGES:
        return "–" if value is None else f"{value:.1f}"
    return str(value)


def line_name(line: Line, locale: str) -> str:
    return line.name_en if locale == "en" else line.name


def _month_bars(report: Report) -> list[dict[str, Any]]:
    """Received and replied by month; the year is written under each January (and the first)."""
    bars = []
    for index, line in enumerate(report.months):
        year, month = (line.code or "0-0").split("-")
        bars.append(
            {
                "label": str(int(month)),
                "year": year if index == 0 or month == "01" else "",
                "received": line.counts.received,
                "replied": line.counts.replied,
            }
        )
    return bars


def _channel_shares(report: Report, locale: str, decimals: int) -> list[dict[str, Any]]:
    total = report.total.received
    shares = []
    for line in report.channels:
        share = Fraction(line.counts.received, total) if total else None
        shares.append(
            {
                "label": line_name(line, locale),
                "value": float(share or 0),
                "text": f"{line.counts.received} ({percent(share, decimals)})",
            }
        )
    return shares


def _on_time(report: Report, locale: str, decimals: int) -> list[dict[str, Any]]:
    """The departments that replied, each with its on-time rate."""
    bars = []
    for line in report.departments:
        rate = line.counts.on_time_rate
        if rate is None:
            continue
        text = f"{percent(rate, decimals)} ({line.counts.on_time}/{line.counts.replied})"
        bars.append({"label": line_name(line, locale), "value": float(rate), "text": text})
    return bars


def _placeholders(locale: str) -> list[tuple[str, str]]:
    index = 1 if locale == "en" else 0
    return [
        (
            name,
            _(PLACEHOLDER_WORDS[name])
            if name in PLACEHOLDER_WORDS
            else DEFINITIONS[name][index][0],
        )
        for name in SUMMARY_FIELDS
    ]


async def _page(
    request: Request,
    asked: Asked,
    *,
    template_errors: dict[str, str] | None = None,
    posted: dict[str, str] | None = None,
) -> Response:
    db, settings, clock = db_of(request), settings_of(request), clock_of(request)
    locale = get_locale()
    decimals = settings.rate_decimals
    context = await staff_context(request)
    full = await make_report(db, asked.period, decimals=decimals) if asked.period else None
    years = set(await submission_years(db, tz=settings.tz))
    years.add(clock.now().astimezone(settings.tz).year)
    year = whole_number(asked.values["year"], longest=4)
    if year is not None and year in YEARS:
        years.add(year)
    index = 1 if locale == "en" else 0
    editable = is_office(request.state.user)
    templates = {}
    if editable:
        stored = await summary_templates(db)
        templates = posted or {code: stored[code] for code in LOCALES}
    errors = {**asked.errors, **(template_errors or {})}
    context.update(
        asked=asked,
        values=asked.values,
        query=asked.query,
        errors=errors,
        full=full,
        report=full.report if full else None,
        summary=full.summaries[locale] if full else "",
        website_form=website_form(full.report.total) if full else {},
        website_labels=WEBSITE_FORM_LABELS,
        figures=[(name, DEFINITIONS[name][index]) for name in FIGURE_NAMES],
        decimals=decimals,
        shown=shown,
        line_name=line_name,
        years=sorted(years, reverse=True),
        month_bars=_month_bars(full.report) if full else [],
        channel_shares=_channel_shares(full.report, locale, decimals) if full else [],
        on_time=_on_time(full.report, locale, decimals) if full else [],
        editable=editable,
        template_max=TEMPLATE_MAX,
        templates=templates,
        default_templates=DEFAULT_SUMMARY,
        placeholders=_placeholders(locale),
        saved=request.query_params.get("saved") == "1",
    )
    return render(request, "staff/reports.html", context, status=400 if errors else 200)


@staff_page(Page.REPORTS)
async def reports_page(request: Request) -> Response:
    return await _page(request, _asked(request))


def _filename(period: Period, extension: str) -> str:
    if period.is_whole_year:
        return f"mailbox-report-{period.start.year}.{extension}"
    return f"mailbox-report-{period.start.isoformat()}-{period.end.isoformat()}.{extension}"


@staff_page(Page.REPORTS)
async def export(request: Request) -> Response:
    """The report as a file, with the page's parameters; a bad one gets the page and a 400."""
    extension = request.path_params["extension"]
    if extension not in EXPORTS:
        raise HTTPException(404)
    asked = _asked(request)
    if asked.period is None:
        return await _page(request, asked)
    decimals = settings_of(request).rate_decimals
    document = (await make_report(db_of(request), asked.period, decimals=decimals)).as_json()
    if extension == "csv":
        body = to_csv(document)
    elif extension == "xlsx":
        body = to_xlsx(document, decimals)
    else:
        body = to_json(document)
    filename = _filename(asked.period, extension)
    return Response(
        body,
        media_type=EXPORTS[extension],
        headers={"content-disposition": f'attachment; filename="{filename}"'},
    )


def _template_error(error: InvalidTemplate) -> str:
    if error.unknown:
        names = ", ".join("{" + name + "}" for name in error.unknown)
        return _(
            "There is no placeholder %(names)s. Use only the placeholders listed.", names=names
        )
    return _(
        "Write each placeholder as {name} with a name from the list, without spaces or a format;"
        " write {{ or }} for a brace itself."
    )


@staff_page(Page.REPORTS)
async def edit_summary(request: Request) -> Response:
    """The dispatcher or the administrator edits the summary sentence of every report: both
    languages are checked before either is saved; an empty one restores the default."""
    user = request.state.user
    if not is_office(user):
        raise HTTPException(403)
    form = await read_form(request)
    asked = read_period(
        dict(parse_qsl(form.get("query", "")[:300])),
        tz=settings_of(request).tz,
        now=clock_of(request).now(),
    )
    posted = {code: form.get(f"template_{code}", "").replace("\r\n", "\n") for code in LOCALES}
    errors: dict[str, str] = {}
    for code, text in posted.items():
        field = f"template_{code}"
        if len(text.strip()) > TEMPLATE_MAX:
            errors[field] = _("Write at most %(count)d characters.", count=TEMPLATE_MAX)
            continue
        try:
            check_template(text.strip())
        except InvalidTemplate as error:
            errors[field] = _template_error(error)
    if errors:
        return await _page(request, asked, template_errors=errors, posted=posted)
    db, clock = db_of(request), clock_of(request)
    current = await summary_templates(db)
    for code, text in posted.items():
        wanted = text.strip() or DEFAULT_SUMMARY[code]
        if wanted == current[code]:
            continue
        await set_summary_template(
            db,
            locale=code,
            template="" if wanted == DEFAULT_SUMMARY[code] else wanted,
            now=clock.now(),
            actor_user_id=user.id,
            client_ip=client_ip(request),
        )
    query = "&".join(part for part in (asked.query, "saved=1") if part)
    return RedirectResponse(f"/staff/reports?{query}#summary-templates", status_code=303)


routes = [
    Route("/staff/reports", reports_page),
    Route("/staff/reports/export.{extension}", export),
    Route("/staff/reports/summary", edit_summary, methods=["POST"]),
]
