"""The public archive (`/letters`): published replies, their search and an Atom feed. Only
the public copies are read here (`db/queries/publications.py`); the originals never are."""

from __future__ import annotations

from datetime import datetime, time
from urllib.parse import urlencode

from feedgen.feed import FeedGenerator
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from mailbox.db.queries import attachments, publications, staffview
from mailbox.domain.validation import clean_text
from mailbox.i18n import _, get_locale
from mailbox.web.common import channels_of, clock_of, db_of, render, settings_of, whole_number

PAGE_SIZE = 20
FEED_SIZE = 50
WORDS_MAX = 50
FIRST_YEAR = 2000


def _int(raw: str | None, low: int, high: int) -> int | None:
    """A whole number from a query parameter, or None; junk is a 400, never a 500."""
    if not raw:
        return None
    if not (raw.isascii() and raw.isdigit()) or not low <= int(raw) <= high:
        raise HTTPException(400)
    return int(raw)


def _after(raw_at: str | None, raw_id: str | None) -> tuple[datetime, int] | None:
    if not raw_at or not raw_id:
        return None
    try:
        moment = datetime.fromisoformat(raw_at)
    except ValueError:
        raise HTTPException(400) from None
    row_id = whole_number(raw_id)
    if moment.tzinfo is None or row_id is None:
        raise HTTPException(400)
    return moment, row_id


async def archive(request: Request) -> Response:
    params = request.query_params
    settings, db = settings_of(request), db_of(request)
    channels = {row.code: row for row in await channels_of(request).all()}
    departments = {d.id: d for d in await staffview.departments(db)}
    channel = params.get("channel") or None
    if channel is not None and channel not in channels:
        raise HTTPException(400)
    current = clock_of(request).now().astimezone(settings.tz).year
    year = _int(params.get("year"), FIRST_YEAR, current)
    department_id = _int(params.get("department"), 1, 2**31)
    words = clean_text(params.get("q", ""))[:WORDS_MAX]
    starts = ends = None
    if year is not None:
        starts = datetime.combine(datetime(year, 1, 1).date(), time(0), settings.tz)
        ends = datetime.combine(datetime(year + 1, 1, 1).date(), time(0), settings.tz)
    rows = await publications.published_page(
        db,
        channel=channel,
        department_id=department_id,
        starts=starts,
        ends=ends,
        words=words,
        after=_after(params.get("after_at"), params.get("after_id")),
        limit=PAGE_SIZE,
    )
    next_page = ""
    if len(rows) == PAGE_SIZE:
        kept = {k: v for k, v in params.items() if k not in ("after_at", "after_id")}
        last = rows[-1]
        next_page = "?" + urlencode(
            {**kept, "after_at": last.published_at.isoformat(), "after_id": last.letter_id}
        )
    context = {
        "rows": rows,
        "channels": channels,
        "departments": departments,
        "years": range(current, FIRST_YEAR - 1, -1),
        "chosen": {
            "channel": channel or "",
            "department": department_id,
            "year": year,
            "q": words,
        },
        "searching": bool(words or channel or year or department_id),
        "next_page": next_page,
    }
    return render(request, "public/letters.html", context)


async def one_letter(request: Request) -> Response:
    db = db_of(request)
    letter = await publications.published_letter(db, tracking_no=request.path_params["tracking_no"])
    if letter is None:
        raise HTTPException(404)
    published_files = [
        row
        for row in await attachments.of_letter(db, letter_id=letter.letter_id)
        if row.published_at is not None
    ]
    context = {
        "item": letter,
        "files": published_files,
        "channels": {row.code: row for row in await channels_of(request).all()},
        "departments": {d.id: d for d in await staffview.departments(db)},
    }
    return render(request, "public/letter.html", context)


async def feed(request: Request) -> Response:
    """An Atom feed of the newest published replies (public copies only)."""
    settings = settings_of(request)
    rows = await publications.published_page(db_of(request), limit=FEED_SIZE)
    base = settings.base_url
    generator = FeedGenerator()
    generator.id(f"{base}/letters")
    generator.title(_("%(org)s: published replies") % {"org": settings.org_name})
    generator.link(href=f"{base}/letters", rel="alternate")
    generator.link(href=f"{base}/letters/feed.atom", rel="self")
    generator.language("en" if get_locale() == "en" else "zh-CN")
    generator.updated(rows[0].published_at if rows else clock_of(request).now())
    for item in reversed(rows):  # feedgen puts the last added entry first
        entry = generator.add_entry()
        url = f"{base}/letters/{item.tracking_no}"
        entry.id(url)
        entry.link(href=url)
        entry.title(item.title)
        entry.published(item.published_at)
        entry.updated(item.published_at)
        entry.summary(item.reply[:500])
    body: bytes = generator.atom_str(pretty=True)
    return Response(body, media_type="application/atom+xml; charset=utf-8")


routes = [
    Route("/letters", archive),
    Route("/letters/feed.atom", feed),
    Route("/letters/{tracking_no}", one_letter),
]
