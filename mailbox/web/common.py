"""What every route shares: rendering, CSRF, the client's address, reading forms."""

from __future__ import annotations

import hmac
from ipaddress import ip_address, ip_network
from typing import Any
from urllib.parse import urlsplit

from jinja2 import Environment
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse

from mailbox.auth.tokens import csrf_token_valid, new_csrf_token
from mailbox.clock import Clock
from mailbox.db.database import Database
from mailbox.i18n import get_locale
from mailbox.services.attachments import Upload
from mailbox.services.channels import ChannelDirectory
from mailbox.settings import Settings

CSRF_COOKIE = "mb_csrf"
CSRF_FIELD = "csrf_token"
MAX_FORM_FIELDS = 40


class CsrfFailed(HTTPException):
    def __init__(self) -> None:
        super().__init__(403, "csrf")


def settings_of(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def db_of(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


def channels_of(request: Request) -> ChannelDirectory:
    directory: ChannelDirectory = request.app.state.channels
    return directory


def clock_of(request: Request) -> Clock:
    clock: Clock = request.app.state.clock
    return clock


def env_of(request: Request) -> Environment:
    env: Environment = request.app.state.templates
    return env


def secure_cookies(request: Request) -> bool:
    """Cookies get the Secure flag when the site is https, or this request came over TLS:
    directly, or to one of our proxies, which says so in X-Forwarded-Proto."""
    if settings_of(request).base_url.startswith("https://") or request.url.scheme == "https":
        return True
    peer = request.client.host if request.client else ""
    proto = request.headers.get("x-forwarded-proto", "").strip().lower()
    return proto == "https" and _trusted_proxy(request, peer)


def _trusted_proxy(request: Request, address: str) -> bool:
    try:
        return any(
            ip_address(address) in ip_network(net, strict=False)
            for net in settings_of(request).trusted_proxies
        )
    except ValueError:
        return False


def client_ip(request: Request) -> str:
    """The peer's address, or the first untrusted one in X-Forwarded-For behind our proxies."""
    peer = request.client.host if request.client else ""
    if not _trusted_proxy(request, peer):
        return peer
    # Every X-Forwarded-For line, in order: a client may send its own, and a proxy appends.
    forwarded = ",".join(request.headers.getlist("x-forwarded-for"))
    hops = [hop.strip() for hop in forwarded.split(",")]
    for hop in reversed([hop for hop in hops if hop]):
        if not _trusted_proxy(request, hop):
            return hop
    return peer


def csrf_token(request: Request) -> str:
    """The token for this browser's forms; a new one is set as a cookie when missing."""
    secret = settings_of(request).secret_key
    cookie = request.cookies.get(CSRF_COOKIE, "")
    if cookie and csrf_token_valid(secret, cookie):
        return cookie
    if not getattr(request.state, "new_csrf", None):
        request.state.new_csrf = new_csrf_token(secret)
    token: str = request.state.new_csrf
    return token


def render(
    request: Request, template: str, context: dict[str, Any] | None = None, status: int = 200
) -> HTMLResponse:
    settings = settings_of(request)
    values = {
        "request": request,
        "settings": settings,
        "tz": settings.tz,
        "csrf_token": lambda: csrf_token(request),
        "locale": get_locale(),
        "large_text": request.cookies.get("mb_large") == "1",
        "high_contrast": request.cookies.get("mb_contrast") == "1",
        "user": getattr(request.state, "user", None),
        **(context or {}),
    }
    html = env_of(request).get_template(template).render(values)
    response = HTMLResponse(html, status_code=status)
    new_token = getattr(request.state, "new_csrf", None)
    if new_token:
        response.set_cookie(
            CSRF_COOKIE, new_token, httponly=True, samesite="lax", secure=secure_cookies(request)
        )
    return response


async def read_form(request: Request) -> dict[str, str]:
    """The posted text fields, after the CSRF check; CsrfFailed when it does not pass."""
    fields, _files = await read_form_with_files(request, max_files=0)
    return fields


async def read_form_with_files(
    request: Request, *, max_files: int
) -> tuple[dict[str, str], list[Upload]]:
    """The text fields and up to max_files uploaded files (empty file inputs left out), after
    the CSRF check. Starlette answers 400 beyond max_files: callers allow some slack so
    that one file too many gets their own message."""
    form = await request.form(max_files=max_files, max_fields=MAX_FORM_FIELDS)
    # NUL is no character anyone types, and PostgreSQL cannot store it in text.
    fields = {
        key: value.replace("\x00", "")
        for key, value in form.items()
        if not isinstance(value, UploadFile)
    }
    try:
        check_csrf(request, fields)
        files = [
            Upload(filename=value.filename or "", data=await value.read())
            for _key, value in form.multi_items()
            if isinstance(value, UploadFile) and (value.filename or value.size)
        ]
    finally:
        await form.close()  # the spooled temporary files
    return fields, files


def check_csrf(request: Request, fields: dict[str, str]) -> None:
    cookie = request.cookies.get(CSRF_COOKIE, "")
    sent = fields.get(CSRF_FIELD, "")
    if not (
        same_origin(request)
        and cookie
        and sent
        # As bytes: compare_digest refuses str with non-ASCII characters (a tampered field).
        and hmac.compare_digest(
            cookie.encode("utf-8", "surrogatepass"), sent.encode("utf-8", "surrogatepass")
        )
        and csrf_token_valid(settings_of(request).secret_key, cookie)
    ):
        request.state.form = fields  # the caller may re-show the input
        raise CsrfFailed()


def same_origin(request: Request) -> bool:
    """A browser's Origin header, when sent, must name this site: a page on a sibling domain
    that planted its own CSRF cookie still cannot post here."""
    origin = request.headers.get("origin")
    if origin is None:
        return True  # older browsers and non-browser clients; the token still decides
    return urlsplit(origin).netloc == request.headers.get("host", "")


def whole_number(raw: str, longest: int = 18) -> int | None:
    """ASCII digits as a number, or None: str.isdigit() also takes "²" and "٣", which int()
    refuses or reads, and a long number would overflow the database's integers."""
    if raw.isascii() and raw.isdigit() and len(raw) <= longest:
        return int(raw)
    return None


def safe_next(target: str, default: str = "/") -> str:
    """A local path to go back to; anything else (//evil, http://) becomes the default."""
    if target.startswith("/") and not target.startswith(("//", "/\\")):
        return target
    return default
