"""The GeoReport v2 endpoints under /open311/v2. Every path answers in XML or JSON by its
suffix (XML without one). GETs show only what the public may see; POST requests takes a letter
from a client with an API key, through the same checks and mail as the web form.
`jurisdiction_id` is accepted and ignored: one office, one jurisdiction."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from mailbox.db.queries import open311
from mailbox.db.queries.open311 import RequestRow
from mailbox.domain.codes import normalise_tracking_no
from mailbox.domain.states import Source
from mailbox.i18n import _, get_locale
from mailbox.services import api_tokens
from mailbox.web.api.common import submit_for_caller
from mailbox.web.common import (
    MAX_FORM_FIELDS,
    channels_of,
    clock_of,
    db_of,
    settings_of,
)
from mailbox.web.open311 import filters, mapping
from mailbox.web.open311.render import (
    DEFAULT_FORMAT,
    Format,
    Many,
    Open311Error,
    Value,
    document,
    errors_document,
    format_of,
    split_format,
)
from mailbox.web.open311.submit import letter_from

BASE = "/open311/v2"
# Services and definitions change only when an administrator edits a channel.
SHORT_CACHE = {"cache-control": "public, max-age=60", "vary": "Accept-Language, Cookie"}
KEY_MAX = 200

Handler = Callable[[Request, Format], Awaitable[Response]]


def answers(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
    """The endpoint in the format of its path's suffix; its Open311Errors in the same format."""

    async def endpoint(request: Request) -> Response:
        fmt = format_of(request)
        if fmt is None:
            return errors_document(DEFAULT_FORMAT, Open311Error(404))
        try:
            return await handler(request, fmt)
        except Open311Error as error:
            return errors_document(fmt, error)

    return endpoint


def _stem(request: Request) -> str:
    return split_format(request.path_params["name"])[0]


async def discovery(request: Request, fmt: Format) -> Response:
    settings = settings_of(request)
    endpoint: dict[str, Value] = {
        "specification": mapping.SPECIFICATION,
        "url": f"{settings.base_url}{BASE}",
        "changeset": mapping.CHANGESET,
        "type": "production",
        "formats": Many("format", ["text/xml", "application/json"]),
    }
    value: dict[str, Value] = {
        "changeset": mapping.CHANGESET,
        "contact": f"{settings.org_name} {settings.base_url}",
        "key_service": _(
            "API keys are issued by the office's administrator (the API tokens page, or "
            "python -m mailbox token create NAME --scope submit)."
        ),
        "endpoints": Many("endpoint", [endpoint]),
    }
    return document(fmt, "discovery", value, headers=SHORT_CACHE)


async def services(request: Request, fmt: Format) -> Response:
    settings, locale = settings_of(request), get_locale()
    enabled = await channels_of(request).enabled()
    listed = [mapping.service(channel, locale=locale, settings=settings) for channel in enabled]
    return document(fmt, "services", Many("service", listed), headers=SHORT_CACHE)


async def service_definition(request: Request, fmt: Format) -> Response:
    channel = await channels_of(request).get(_stem(request))
    if channel is None or not channel.enabled:
        raise Open311Error(404, _("There is no service with this service_code."))
    return document(fmt, "service_definition", mapping.definition(channel), headers=SHORT_CACHE)


async def _requests(request: Request, fmt: Format, rows: list[RequestRow]) -> Response:
    settings, locale = settings_of(request), get_locale()
    channels = {channel.code: channel for channel in await channels_of(request).all()}
    # Each channel's notice once, not once a row (a translation and a format each).
    notices = {code: mapping.service_notice(channel) for code, channel in channels.items()}
    listed = [
        mapping.service_request(
            row,
            channels.get(row.channel),
            locale=locale,
            settings=settings,
            notice=notices.get(row.channel, ""),
        )
        for row in rows
    ]
    return document(fmt, "service_requests", Many("request", listed))


async def list_requests(request: Request, fmt: Format) -> Response:
    settings, db = settings_of(request), db_of(request)
    codes = [channel.code for channel in await channels_of(request).all()]
    query = filters.parse(
        request.query_params, channel_codes=codes, now=clock_of(request).now(), tz=settings.tz
    )
    if query.tracking_nos is not None:
        rows = await open311.requests_numbered(db, tracking_nos=query.tracking_nos)
    else:
        rows = await open311.requests_between(
            db,
            starts=query.starts,
            ends=query.ends,
            states=query.states,
            channels=query.channels,
            limit=filters.MAX_RESULTS,
        )
    return await _requests(request, fmt, rows)


async def _numbered(request: Request) -> RequestRow | None:
    number = normalise_tracking_no(_stem(request)[: filters.NUMBER_MAX])
    rows = await open311.requests_numbered(db_of(request), tracking_nos=[number])
    return rows[0] if rows else None


async def one_request(request: Request, fmt: Format) -> Response:
    row = await _numbered(request)
    if row is None:
        raise Open311Error(404, _("There is no service request with this service_request_id."))
    return await _requests(request, fmt, [row])


async def token(request: Request, fmt: Format) -> Response:
    """Requests are created at once (type realtime), so no other tokens are ever given out:
    a token is read as the service_request_id it would have stood for."""
    row = await _numbered(request)
    if row is None:
        raise Open311Error(404, _("There is no service request for this token."))
    found = {"service_request_id": row.tracking_no, "token": _stem(request)}
    return document(fmt, "service_requests", Many("request", [found]))


async def _form(request: Request) -> dict[str, str]:
    """The posted fields. No cookie and no CSRF token: the api_key is the authority, and a
    browser cannot send it for someone else."""
    form = await request.form(max_files=0, max_fields=MAX_FORM_FIELDS)
    return {key: value for key, value in form.items() if not isinstance(value, UploadFile)}


async def create_request(request: Request, fmt: Format) -> Response:
    """The letter is stored, its receipt mailed, and the answer sent after the commit. The query
    code goes back to the key holder, as from the JSON API: the client acts for the writer,
    who needs it to read the reply and may have given no email address."""
    form = await _form(request)
    settings, clock, db = settings_of(request), clock_of(request), db_of(request)
    caller = await api_tokens.authenticate(
        db, clock=clock, token=form.get("api_key", "").strip()[:KEY_MAX]
    )
    if caller is None:
        raise Open311Error(403, _("A valid api_key is needed to submit a service request."))
    if not caller.may_submit:
        raise Open311Error(403, _("This api_key may not submit service requests."))
    code = form.get("service_code", "").strip()
    if not code:
        raise Open311Error(400, _("service_code: please choose a service."))
    channel = await channels_of(request).get(code)
    if channel is None or not channel.enabled:
        raise Open311Error(404, _("There is no service with this service_code."))
    letter, problems = letter_from(form, channel)
    if letter is None:
        raise Open311Error(400, *problems)
    receipt = await submit_for_caller(
        request, channel=channel, letter=letter, source=Source.OPEN311
    )
    notice = _(
        "Received with the tracking number %(number)s and the query code %(code)s: keep both "
        "to follow the letter at %(url)s. %(service_notice)s",
        number=receipt.tracking_no,
        code=f"{receipt.query_code[:4]}-{receipt.query_code[4:]}",
        url=f"{settings.base_url}/track",
        service_notice=mapping.service_notice(channel),
    )
    created = {
        "service_request_id": receipt.tracking_no,
        "service_notice": notice,
        "account_id": "",
    }
    return document(fmt, "service_requests", Many("request", [created]))


def _routes(path: str, handler: Handler, methods: list[str]) -> list[Route]:
    """The resource with a format suffix, and without one."""
    endpoint = answers(handler)
    return [
        Route(f"{BASE}/{path}.{{format}}", endpoint, methods=methods),
        Route(f"{BASE}/{path}", endpoint, methods=methods),
    ]


async def requests_resource(request: Request, fmt: Format) -> Response:
    if request.method == "POST":
        return await create_request(request, fmt)
    return await list_requests(request, fmt)


routes = [
    *_routes("discovery", discovery, ["GET"]),
    *_routes("services", services, ["GET"]),
    *_routes("requests", requests_resource, ["GET", "POST"]),
    Route(f"{BASE}/services/{{name}}", answers(service_definition), methods=["GET"]),
    Route(f"{BASE}/requests/{{name}}", answers(one_request), methods=["GET"]),
    Route(f"{BASE}/tokens/{{name}}", answers(token), methods=["GET"]),
]
