"""The citizen's pages: channels, the letter form, the receipt, tracking, display mode."""

from __future__ import annotations

from typing import Any

from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from mailbox.attachments.kinds import ACCEPT
from mailbox.auth.tokens import file_token, read_rating_token
from mailbox.db.queries import attachments, channels, letters, outbox, replies
from mailbox.domain.states import Source
from mailbox.domain.validation import FIELDS, clean_text, validate_letter
from mailbox.domain.workflow import TransitionRefused
from mailbox.i18n import _, get_locale
from mailbox.services import antispam, handling
from mailbox.services.attachments import (
    AttachmentRefused,
    check_uploads,
    kept_files,
)
from mailbox.services.errors import RateLimited
from mailbox.services.submission import submit_letter
from mailbox.services.tracking import look_up
from mailbox.web.common import (
    CsrfFailed,
    channels_of,
    client_ip,
    clock_of,
    db_of,
    read_form,
    read_form_with_files,
    render,
    safe_next,
    secure_cookies,
    settings_of,
)

RECEIPT_COOKIE = "mb_receipt"
RECEIPT_LIFETIME = 3600
ONE_YEAR = 365 * 24 * 3600


def _track_page(
    request: Request,
    values: dict[str, str],
    *,
    error: str = "",
    status: int = 200,
    letter: object = None,
    channel: object = None,
    numbers_wrong: bool = False,
    file_links: dict[int, str] | None = None,
) -> Response:
    context = {
        "file_links": file_links or {},
        "values": values,
        "error": error,
        "letter": letter,
        "channel": channel,
        "numbers_wrong": numbers_wrong,  # the error is about the two fields: tie it to them
    }
    response = render(request, "public/track.html", context, status=status)
    response.headers["cache-control"] = "no-store"
    return response


def _receipts(request: Request) -> URLSafeTimedSerializer:
    state = request.app.state
    if not hasattr(state, "receipts"):  # built once: its key derivation is not free
        state.receipts = URLSafeTimedSerializer(settings_of(request).secret_key, salt="receipt")
    serializer: URLSafeTimedSerializer = state.receipts
    return serializer


async def home(request: Request) -> Response:
    enabled = await channels_of(request).enabled()
    return render(request, "public/home.html", {"channels": enabled})


async def _enabled_channel(request: Request) -> channels.ChannelRow:
    channel = await channels_of(request).get(request.path_params["channel"])
    if channel is None or not channel.enabled:
        raise HTTPException(404)
    return channel


def _write_page(
    request: Request,
    channel: channels.ChannelRow,
    values: dict[str, str],
    errors: dict[str, str],
    status: int = 200,
) -> Response:
    settings = settings_of(request)
    context: dict[str, Any] = {
        "channel": channel,
        "values": {name: values.get(name, "") for name in FIELDS},
        "errors": errors,
        "form_stamp": antispam.form_stamp(settings.secret_key),
        "challenge_on": settings.challenge_on,
        "attachment_accept": ACCEPT,
    }
    return render(request, "public/write.html", context, status=status)


async def write_form(request: Request) -> Response:
    channel = await _enabled_channel(request)
    return _write_page(request, channel, {}, {})


async def write_submit(request: Request) -> Response:
    channel = await _enabled_channel(request)
    settings = settings_of(request)
    try:
        # Some slack over the limit, so one file too many gets its own message, not a 400.
        form, uploads = await read_form_with_files(request, max_files=settings.attachment_files + 5)
    except CsrfFailed:
        kept = getattr(request.state, "form", {})
        message = _(
            "Your letter was not sent: this page had expired or your browser blocked cookies. "
            "Your text is kept below; please send it again."
        )
        return _write_page(request, channel, kept, {"form": message}, status=400)
    if form.get(antispam.HONEYPOT, ""):
        raise HTTPException(400, "honeypot")
    letter, errors = validate_letter(form)
    spam_check = antispam.check(settings, form) if settings.challenge_on else None
    if spam_check and spam_check.error:
        errors["form"] = spam_check.error
    checked = []
    if uploads:
        try:
            checked = await check_uploads(settings, uploads)
        except AttachmentRefused as refused:
            errors["attachments"] = refused.message
        if errors:  # a browser never sends files back: say so next to the file field
            errors["attachments"] = " ".join(
                (errors.get("attachments", ""), _("Please choose your files again."))
            ).strip()
    if letter is None or errors:
        return _write_page(request, channel, form, errors, status=400)
    address = client_ip(request)
    try:
        async with kept_files(settings, checked) as files:
            if spam_check:
                await antispam.spend(
                    db_of(request), settings, clock_of(request), address, spam_check
                )
            receipt = await submit_letter(
                db_of(request),
                settings=settings,
                clock=clock_of(request),
                channel=channel,
                letter=letter,
                source=Source.WEB,
                locale=get_locale(),
                client_ip=address,
                challenge=spam_check.kind if spam_check else "off",
                files=files,
            )
    except RateLimited:
        message = _(
            "Too many letters have been sent from your network in the last hour. "
            "Your text is kept below; please try again later or call the office."
        )
        return _write_page(request, channel, form, {"form": message}, status=429)
    request.app.state.outbox_wakeup.set()
    token = _receipts(request).dumps(
        {"t": receipt.tracking_no, "c": receipt.query_code, "o": receipt.outbox_id}
    )
    response = RedirectResponse("/receipt", status_code=303)
    response.set_cookie(
        RECEIPT_COOKIE,
        token,
        max_age=RECEIPT_LIFETIME,
        path="/receipt",
        httponly=True,
        samesite="lax",
        secure=secure_cookies(request),
    )
    return response


async def receipt(request: Request) -> Response:
    """Shows the query code once: the cookie that carries it is removed by this response."""
    data: dict[str, Any] | None = None
    raw = request.cookies.get(RECEIPT_COOKIE, "")
    if raw:
        try:
            data = _receipts(request).loads(raw, max_age=RECEIPT_LIFETIME)
        except BadSignature:
            data = None
    mail_status = None
    if data and data.get("o"):
        mail_status = await outbox.status(db_of(request), outbox_id=data["o"])
    settings = settings_of(request)
    context = {
        "receipt": data,
        "query_code_display": f"{data['c'][:4]}-{data['c'][4:]}" if data else "",
        "mail_status": mail_status,
        "mail_configured": settings.smtp_configured,
    }
    response = render(request, "public/receipt.html", context)
    response.headers["cache-control"] = "no-store"
    response.delete_cookie(RECEIPT_COOKIE, path="/receipt")
    return response


async def track(request: Request) -> Response:
    if request.method == "GET":
        number = request.query_params.get("tracking_no", "")
        return _track_page(request, {"tracking_no": number})
    try:
        form = await read_form(request)
    except CsrfFailed:
        kept = getattr(request.state, "form", {})
        message = _("This page had expired. Please enter the numbers again.")
        return _track_page(
            request, {"tracking_no": kept.get("tracking_no", "")[:40]}, error=message, status=400
        )
    values = {"tracking_no": form.get("tracking_no", "")[:40]}
    try:
        letter = await look_up(
            db_of(request),
            settings=settings_of(request),
            clock=clock_of(request),
            tracking_no=form.get("tracking_no", "")[:40],
            query_code=form.get("query_code", "")[:40],
            client_ip=client_ip(request),
        )
    except RateLimited:
        message = _("Too many look-ups. Please wait an hour and try again, or call the office.")
        return _track_page(request, values, error=message, status=429)
    if letter is None:
        message = _(
            "No letter matches this tracking number and query code. "
            "Please check both and try again."
        )
        return _track_page(request, values, error=message, status=404, numbers_wrong=True)
    channel = await channels_of(request).get(letter.channel)
    secret = settings_of(request).secret_key
    links = {
        row.id: "/track/files/" + file_token(secret, row.letter_id, row.id) for row in letter.files
    }
    return _track_page(request, values, letter=letter, channel=channel, file_links=links)


async def rate(request: Request) -> Response:
    """The reply mail's one-click link: read the reply and rate it, without the query code."""
    db, settings, clock = db_of(request), settings_of(request), clock_of(request)
    found = read_rating_token(settings.secret_key, request.path_params["token"])
    letter = await letters.get_letter_by_tracking_no(db, tracking_no=found[0]) if found else None
    if found is None or letter is None:
        raise HTTPException(404)
    reply = await replies.released_reply(db, letter_id=letter.id, reply_id=found[1])
    if reply is None:  # the link shows the reply it was sent for, even after a newer one
        raise HTTPException(404)
    latest = await replies.latest_released(db, letter_id=letter.id)
    error, thanks, status = "", False, 200
    if request.method == "POST":
        form = await read_form(request)
        try:
            rating = handling.Rating(form.get("rating", ""))
        except ValueError:
            error, status = _("Please choose one of the three answers."), 400
        else:
            try:
                await handling.rate(
                    db,
                    clock=clock,
                    tracking_no=letter.tracking_no,
                    rating=rating,
                    comment=clean_text(form.get("comment", ""), multiline=True)[:500],
                    reply_id=found[1],
                )
                thanks = True
            except TransitionRefused:
                error, status = _("This reply can no longer be rated."), 409
    letter = await letters.get_letter_by_tracking_no(db, tracking_no=found[0])
    assert letter is not None
    open_for_rating = (
        letter.state == "replied"
        and latest is not None
        and latest.id == found[1]
        and (letter.rating_until is None or clock.now() <= letter.rating_until)
    )
    context = {
        "letter": letter,
        "reply": reply,
        "documents": [
            row
            for row in await attachments.of_letter(db, letter_id=letter.id)
            if row.reply_id == reply.id
        ],
        "token": request.path_params["token"],
        "open_for_rating": open_for_rating,
        "error": error,
        "thanks": thanks,
    }
    response = render(request, "public/rate.html", context, status=status)
    response.headers["cache-control"] = "no-store"
    # The link is a capability: the site-wide Referrer-Policy (same-origin) keeps it from other
    # sites. "no-referrer" would make browsers send `Origin: null` with the rating form.
    return response


async def display(request: Request) -> Response:
    """Large text / high contrast, remembered in cookies; works without JavaScript."""
    form = await read_form(request)
    response = RedirectResponse(safe_next(form.get("next", "/")), status_code=303)
    for option, cookie in (("large", "mb_large"), ("contrast", "mb_contrast")):
        if form.get("toggle") == option:
            on = request.cookies.get(cookie) != "1"
            response.set_cookie(cookie, "1" if on else "0", max_age=ONE_YEAR, samesite="lax")
    return response


async def challenge(request: Request) -> Response:
    settings = settings_of(request)
    if not settings.challenge_on:
        raise HTTPException(404)
    return JSONResponse(antispam.challenge_dict(settings), headers={"cache-control": "no-store"})


routes = [
    Route("/", home),
    Route("/write/{channel}", write_form, methods=["GET"]),
    Route("/write/{channel}", write_submit, methods=["POST"]),
    Route("/receipt", receipt),
    Route("/track", track, methods=["GET", "POST"]),
    Route("/display", display, methods=["POST"]),
    Route("/rate/{token}", rate, methods=["GET", "POST"]),
    Route("/altcha/challenge", challenge),
]
