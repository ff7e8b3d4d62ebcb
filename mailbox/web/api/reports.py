"""GET /api/v1/reports: the figures of a year or a period as the JSON of DESIGN §8, the same
document as `python -m mailbox report --format json` and the staff reports page's download."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from mailbox.auth.permissions import Page, may_open
from mailbox.figures.counts import FIGURE_NAMES, RATE_NAMES
from mailbox.figures.definitions import DEFINITIONS
from mailbox.i18n import _
from mailbox.services.reports import make_report
from mailbox.web.api.common import ok, require_staff
from mailbox.web.api.errors import ApiError, default_message
from mailbox.web.common import clock_of, db_of, settings_of
from mailbox.web.reports import read_period

PARAMS = ("year", "from", "to", "as_of")


async def report(request: Request) -> Response:
    """A calendar year, or dates from and to (inclusive, at most ten years), as of a date or a
    moment (now by default); checked as the staff reports page checks them."""
    caller = await require_staff(request)
    if not may_open(Page.REPORTS, caller.user):
        raise ApiError(403, default_message(403))
    asked = {name: request.query_params.get(name, "") for name in PARAMS}
    dates = bool(asked["from"] or asked["to"])
    if dates and asked["year"]:
        message = _("Give either a year or the dates from and to, not both.")
        raise ApiError(422, default_message(422), fields={"year": message})
    if not (dates or asked["year"]):
        message = _("Give a year, or the dates from and to.")
        raise ApiError(422, default_message(422), fields={"year": message})
    settings = settings_of(request)
    period = read_period(
        {**asked, "period": "dates" if dates else "year"},
        tz=settings.tz,
        now=clock_of(request).now(),
    )
    if period.period is None:
        raise ApiError(422, default_message(422), fields=period.errors)
    full = await make_report(db_of(request), period.period, decimals=settings.rate_decimals)
    return ok(full.as_json())


def _figures() -> dict[str, Any]:
    properties: dict[str, Any] = {}
    for name in FIGURE_NAMES:
        meaning = DEFINITIONS[name][1]
        description = f"{meaning[0]}: {meaning[1]}"
        if name in RATE_NAMES:
            kind: Any = {"type": ["number", "null"], "minimum": 0, "maximum": 1}
            description += " (a fraction from 0 to 1; null when there is nothing to divide)"
        elif name.startswith("avg_"):
            kind = {"type": ["number", "null"]}
            description += " (to one decimal; null when no letter was replied to)"
        else:
            kind = {"type": "integer", "minimum": 0}
        properties[name] = {**kind, "description": description}
    return properties


def _line(key: str, key_schema: Any, description: str, named: bool = True) -> dict[str, Any]:
    properties: dict[str, Any] = {key: {"type": key_schema, "description": description}}
    if named:
        properties |= {"name": {"type": "string"}, "name_en": {"type": "string"}}
    properties |= _figures()
    return {
        "type": "object",
        "required": list(properties),
        "properties": properties,
        "additionalProperties": False,
    }


WEBSITE_FORM = {
    "收到留言数量": {"type": "integer", "minimum": 0, "description": "Letters received"},
    "办结留言数量": {"type": "integer", "minimum": 0, "description": "Letters replied to"},
    "平均办理时间(天)": {
        "type": ["number", "null"],
        "description": "Average calendar days to the first reply",
    },
    "公开答复数量": {"type": "integer", "minimum": 0, "description": "Replies published"},
}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _list(name: str) -> dict[str, Any]:
    return {"type": "array", "items": _ref(name)}


SCHEMAS: dict[str, Any] = {
    "ReportFigures": {
        "type": "object",
        "required": list(FIGURE_NAMES),
        "properties": _figures(),
        "additionalProperties": False,
    },
    "ReportChannel": _line("code", "string", "The channel's code"),
    "ReportDepartment": _line(
        "code", ["string", "null"], "The department's code; null for letters not assigned"
    ),
    "ReportMonth": _line("month", "string", "YYYY-MM", named=False),
    "Report": {
        "type": "object",
        "required": [
            "period",
            "channels",
            "total",
            "departments",
            "months",
            "summary",
            "summary_en",
            "website_yearly_form",
        ],
        "additionalProperties": False,
        "properties": {
            "period": {
                "type": "object",
                "required": ["from", "to", "as_of"],
                "additionalProperties": False,
                "properties": {
                    "from": {"type": "string", "format": "date"},
                    "to": {"type": "string", "format": "date"},
                    "as_of": {
                        "type": "string",
                        "format": "date-time",
                        "description": "The moment the figures are counted at",
                    },
                },
            },
            "channels": _list("ReportChannel"),
            "total": _ref("ReportFigures"),
            "departments": _list("ReportDepartment"),
            "months": _list("ReportMonth"),
            "summary": {"type": "string", "description": "The summary sentence, in Chinese"},
            "summary_en": {"type": "string", "description": "The summary sentence, in English"},
            "website_yearly_form": {
                "type": "object",
                "description": "The 留言办理 block of the 政府网站工作年度报表",
                "required": list(WEBSITE_FORM),
                "additionalProperties": False,
                "properties": WEBSITE_FORM,
            },
        },
    },
}


PARAMETERS = [
    ("year", {"type": "integer", "minimum": 2000, "maximum": 2100}, "A calendar year"),
    ("from", {"type": "string", "format": "date"}, "The first day, 2000 to 2100"),
    ("to", {"type": "string", "format": "date"}, "The last day, 2000 to 2100"),
    (
        "as_of",
        {"type": "string"},
        "A date (2019-01-15) or a date and time (2019-01-15T18:00:00+08:00)",
    ),
]

OPENAPI: dict[str, Any] = {
    "tags": [{"name": "Reports", "description": "The figures of DESIGN §5, as JSON."}],
    "paths": {
        "/reports": {
            "get": {
                "operationId": "getReport",
                "tags": ["Reports"],
                "summary": "The figures of a year or a period",
                "description": "For reporters, dispatchers and administrators (staff-scope"
                " token). Give `year`, or `from` and `to` (inclusive, at most ten years); not"
                " both. `as_of` counts the figures as they stood at that moment: a date means"
                " the end of that day, a date and time without an offset is in the office's"
                " time zone; now by default. Letters count in the period they were submitted"
                " in; spam and duplicates never count. The same document as"
                " `python -m mailbox report --format json`. A missing or malformed period is"
                " 422 naming the parameter in `fields`.",
                "security": [{"bearerAuth": []}],
                "parameters": [
                    {"name": name, "in": "query", "schema": schema, "description": description}
                    for name, schema, description in PARAMETERS
                ],
                "responses": {
                    "200": {
                        "description": "The report",
                        "content": {"application/json": {"schema": _ref("Report")}},
                    },
                    "401": {"$ref": "#/components/responses/Unauthorized"},
                    "403": {"$ref": "#/components/responses/Forbidden"},
                    "422": {"$ref": "#/components/responses/Invalid"},
                    "503": {"$ref": "#/components/responses/Unavailable"},
                },
            }
        }
    },
    "schemas": SCHEMAS,
}

routes = [Route("/api/v1/reports", report, methods=["GET"])]
