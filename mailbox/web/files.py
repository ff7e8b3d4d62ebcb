"""Downloads of attachments, each behind its own check: staff in scope, the writer through a
link from /track or the reply mail, the public only for what a dispatcher published.

A URL never names a path: it names a row, and the row names the file. Every answer is a
download (Content-Disposition: attachment) with the type found at upload and nosniff, so a
file can never run as a page of this site."""

from __future__ import annotations

import logging
from urllib.parse import quote

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import Route

from mailbox.auth.permissions import Page
from mailbox.auth.tokens import read_file_token, read_rating_token
from mailbox.db.queries import attachments, letters, publications, replies
from mailbox.db.queries.attachments import AttachmentRow
from mailbox.services.attachments import store_for
from mailbox.services.tracking import writer_files
from mailbox.web.common import db_of, settings_of, whole_number
from mailbox.web.letter import visible_letter
from mailbox.web.staff import staff_page

log = logging.getLogger(__name__)
SANDBOX = "default-src 'none'; sandbox"  # should a browser open it anyway: no scripts, no origin


def content_disposition(filename: str) -> str:
    """RFC 6266: an ASCII name for old browsers, the real one (RFC 5987) for the rest."""
    stem, _dot, extension = filename.rpartition(".")
    plain = "".join(ch for ch in stem if ch.isascii() and (ch.isalnum() or ch in " -_()")).strip()
    fallback = f"{plain or 'attachment'}.{extension}"
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


def download(request: Request, row: AttachmentRow) -> Response:
    path = store_for(settings_of(request)).path(row.stored_name)
    if not path.is_file():  # a row always has its file; if not, say so in the log
        log.error("attachment %d: file %s is missing", row.id, row.stored_name)
        raise HTTPException(404)
    return FileResponse(
        path,
        media_type=row.content_type,
        headers={
            "content-disposition": content_disposition(row.filename),
            "x-content-type-options": "nosniff",
            "content-security-policy": SANDBOX,
            "cache-control": "private, no-store",
        },
    )


def _number(request: Request, name: str) -> int:
    number = whole_number(request.path_params[name])
    if number is None:
        raise HTTPException(404)
    return number


@staff_page(Page.LETTER)
async def staff_file(request: Request) -> Response:
    letter = await visible_letter(request)  # out of scope: 404
    row = await attachments.get(
        db_of(request), letter_id=letter.id, attachment_id=_number(request, "attachment_id")
    )
    if row is None:
        raise HTTPException(404)
    return download(request, row)


async def writer_file(request: Request) -> Response:
    """From the /track page: a signed link, for an hour, to one file the writer may see."""
    found = read_file_token(settings_of(request).secret_key, request.path_params["token"])
    if found is None:
        raise HTTPException(404)
    letter_id, attachment_id = found
    for row in await writer_files(db_of(request), letter_id=letter_id):
        if row.id == attachment_id:
            return download(request, row)
    raise HTTPException(404)


async def reply_file(request: Request) -> Response:
    """From the reply mail's link: the documents of the reply that mail was sent for."""
    db = db_of(request)
    found = read_rating_token(settings_of(request).secret_key, request.path_params["token"])
    letter = await letters.get_letter_by_tracking_no(db, tracking_no=found[0]) if found else None
    if found is None or letter is None:
        raise HTTPException(404)
    reply = await replies.released_reply(db, letter_id=letter.id, reply_id=found[1])
    row = await attachments.get(
        db, letter_id=letter.id, attachment_id=_number(request, "attachment_id")
    )
    if reply is None or row is None or row.reply_id != reply.id:
        raise HTTPException(404)
    return download(request, row)


async def published_file(request: Request) -> Response:
    db = db_of(request)
    letter = await publications.published_letter(db, tracking_no=request.path_params["tracking_no"])
    if letter is None:
        raise HTTPException(404)
    row = await attachments.get(
        db, letter_id=letter.letter_id, attachment_id=_number(request, "attachment_id")
    )
    if row is None or row.published_at is None:
        raise HTTPException(404)
    return download(request, row)


routes = [
    Route("/staff/letters/{tracking_no}/files/{attachment_id}", staff_file),
    Route("/track/files/{token}", writer_file),
    Route("/rate/{token}/files/{attachment_id}", reply_file),
    Route("/letters/{tracking_no}/files/{attachment_id}", published_file),
]
