"""The GET requests query: GeoReport's filters, checked, within its limits (90 days, 1,000)."""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo

from starlette.datastructures import QueryParams

from mailbox.domain.codes import normalise_tracking_no
from mailbox.i18n import _
from mailbox.web.open311.mapping import STATUSES, listed_states
from mailbox.web.open311.render import Open311Error

MAX_RESULTS = 1000
MAX_SPAN = timedelta(days=90)
NUMBER_MAX = 40  # longer than any tracking number, however it is written
YEARS = range(1900, 3000)  # beyond these, time zone arithmetic could overflow
# A '+' left unencoded in a query string arrives as a space: 2026-09-30T08:00:00 08:00.
_SPACED_OFFSET = re.compile(r"(?<=\d) (\d\d:?\d\d)$")


@dataclass(frozen=True)
class Query:
    tracking_nos: list[str] | None  # service_request_id was given: it overrides the rest
    starts: datetime
    ends: datetime
    states: list[str]
    channels: list[str] | None


def _values(params: QueryParams, name: str) -> list[str]:
    """Comma-delimited values, the parameter possibly repeated; empty means not given."""
    joined = ",".join(params.getlist(name))
    return [value.strip() for value in joined.split(",") if value.strip()]


def _moment(params: QueryParams, name: str, tz: tzinfo) -> datetime | None:
    raw = params.get(name, "").strip()
    if not raw:
        return None
    try:
        moment = datetime.fromisoformat(_SPACED_OFFSET.sub(r"+\1", raw))
    except ValueError:
        moment = None
    if moment is None or moment.year not in YEARS:
        raise Open311Error(
            400,
            _(
                "%(name)s: send a date and time such as 2026-09-30T08:00:00+08:00.",
                name=name,
            ),
        )
    # Without an offset, the office's time (the specification asks for one; we forgive).
    return moment if moment.tzinfo else moment.replace(tzinfo=tz)


def _range(params: QueryParams, now: datetime, tz: tzinfo) -> tuple[datetime, datetime]:
    """At most 90 days: by default the last 90; one end given, the 90 days from or to it."""
    starts, ends = _moment(params, "start_date", tz), _moment(params, "end_date", tz)
    if starts is None and ends is None:
        return now - MAX_SPAN, now
    if starts is None:
        assert ends is not None
        return ends - MAX_SPAN, ends
    if ends is None:
        return starts, starts + MAX_SPAN
    if starts > ends:
        raise Open311Error(400, _("start_date must not be later than end_date."))
    if ends - starts > MAX_SPAN:
        raise Open311Error(
            400,
            _("start_date and end_date may be at most %(days)d days apart.", days=MAX_SPAN.days),
        )
    return starts, ends


def parse(
    params: QueryParams, *, channel_codes: Collection[str], now: datetime, tz: tzinfo
) -> Query:
    numbers = _values(params, "service_request_id")
    if numbers:
        if len(numbers) > MAX_RESULTS:
            raise Open311Error(
                400,
                _("service_request_id: at most %(count)d at once.", count=MAX_RESULTS),
            )
        found = dict.fromkeys(normalise_tracking_no(n[:NUMBER_MAX]) for n in numbers)
        return Query([n for n in found if n], now, now, [], None)
    statuses = _values(params, "status")
    for status in statuses:
        if status not in STATUSES:
            raise Open311Error(400, _("status: send open, closed or both."))
    codes = _values(params, "service_code")
    for code in codes:
        if code not in channel_codes:
            raise Open311Error(
                400, _("service_code: there is no service %(code)s.", code=code[:NUMBER_MAX])
            )
    starts, ends = _range(params, now, tz)
    states = listed_states(set(statuses or STATUSES))
    return Query(None, starts, ends, states, list(dict.fromkeys(codes)) or None)
