"""The language of each request, and the security headers of each response (pure ASGI)."""

from __future__ import annotations

import re
from http.cookies import SimpleCookie
from urllib.parse import parse_qs

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mailbox import i18n

LANG_COOKIE = "mb_lang"
ONE_YEAR = 365 * 24 * 3600

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "worker-src 'self' blob:; connect-src 'self'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
)
SECURITY_HEADERS = [
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"x-frame-options", b"DENY"),
]


def _header(scope: Scope, name: bytes) -> str:
    for key, value in scope.get("headers", []):
        if key == name:
            return str(value.decode("latin-1"))
    return ""


class LocaleAndHeaders:
    """`?lang=en` switches and is remembered in a cookie; else the cookie; else the browser."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        chosen = parse_qs(scope.get("query_string", b"").decode("latin-1")).get("lang", [""])[0]
        chosen = chosen if chosen in i18n.LOCALES else ""
        cookies = SimpleCookie(_header(scope, b"cookie"))
        remembered = cookies[LANG_COOKIE].value if LANG_COOKIE in cookies else ""
        if chosen:
            locale = chosen
        elif remembered in i18n.LOCALES:
            locale = remembered
        else:
            locale = i18n.negotiate(_header(scope, b"accept-language"))
        i18n.set_locale(locale)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {key.lower() for key, _value in headers}
                headers += [item for item in SECURITY_HEADERS if item[0] not in present]
                headers.append((b"content-language", i18n.HTML_LANG[locale].encode()))
                if chosen:
                    cookie = f"{LANG_COOKIE}={chosen}; Path=/; Max-Age={ONE_YEAR}; SameSite=Lax"
                    headers.append((b"set-cookie", cookie.encode()))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


# The forms that take files: the letter form, the API's letter, the staff letter page.
UPLOAD_PATHS = re.compile(r"/write/[^/]+|/api/v1/letters|/staff/letters/[^/]+")


class BodyLimit:
    """Refuse request bodies over the limit (413) before they are read into memory; file
    uploads to the forms that take them may be larger (upload_bytes)."""

    def __init__(self, app: ASGIApp, max_bytes: int = 256 * 1024, upload_bytes: int = 0) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.upload_bytes = max(upload_bytes, max_bytes)

    def _limit(self, scope: Scope) -> int:
        if (
            scope["method"] == "POST"
            and UPLOAD_PATHS.fullmatch(scope["path"])
            and _header(scope, b"content-type").lower().startswith("multipart/form-data")
        ):
            return self.upload_bytes
        return self.max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _header(scope, b"content-length")
        limit = self._limit(scope)
        received = 0

        # Raised from receive(), i.e. inside the route, where the error pages are rendered.
        async def counted() -> Message:
            nonlocal received
            if declared.isascii() and declared.isdigit() and int(declared) > limit:
                raise HTTPException(413)
            message = await receive()
            received += len(message.get("body", b""))
            if received > limit:
                raise HTTPException(413)
            return message

        await self.app(scope, counted, send)
