"""The JSON API and Open311 under random input: raw bytes, wrong JSON types, deep nesting,
numbers no JSON reader should take, random query parameters. Never a 500; a refused request
changes nothing."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote_from_bytes

import httpx
from hypothesis import example, given
from hypothesis import strategies as st
from starlette.applications import Starlette

from mailbox.db.database import Database
from mailbox.domain.validation import FIELDS
from mailbox.web.api.staff_actions import SPECS
from tests.fuzz.conftest import FUZZ, explore, on_this_loop, raw_request, snapshot
from tests.fuzz.strategies import as_bytes, content_types, texts, urlencoded, values
from tests.helpers import GOOD_LETTER
from tests.web.test_api_staff import auth, tokens
from tests.web.test_open311 import FORM as OPEN311_FORM
from tests.web.test_open311 import keys
from tests.web.test_workspace import office

__all__ = ["keys", "office", "tokens"]  # fixtures, used by name

# Any JSON value, and some that only a lenient reader takes (NaN, Infinity, 1e400).
json_values = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(min_value=-(10**40), max_value=10**40),
        st.floats(allow_nan=True, allow_infinity=True),
        texts,
    ),
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=12,
)
# Every part of the site: each route's prefix, random segments after it. Request targets are
# ASCII, percent-encoded: servers (uvicorn's h11 and httptools) refuse raw bytes above 0x7f.
PREFIXES = [
    "/",
    "/write",
    "/write/consult",
    "/receipt",
    "/track",
    "/rate",
    "/letters",
    "/letters/feed.atom",
    "/stats",
    "/staff",
    "/staff/letters",
    "/staff/queue",
    "/staff/admin/users",
    "/staff/reports",
    "/staff/reports/export.csv",
    "/setup",
    "/altcha/challenge",
    "/api/v1/channels",
    "/api/v1/letters",
    "/api/v1/reports",
    "/api/v1/openapi.json",
    "/api/docs",
    "/open311/v2/services.json",
    "/open311/v2/requests.xml",
    "/open311/v2/requests",
    "/open311/v2/discovery.json",
    "/static",
    "/healthz",
    "/readyz",
    "/metrics",
]
path_segments = st.one_of(
    st.sampled_from([b"%00", b"%ff", b"%", b"%zz", b"..", b"%2e%2e", b"x" * 10_000, b""]),
    texts.map(lambda t: quote_from_bytes(as_bytes(t), safe="").encode()),
    st.binary(max_size=20).map(lambda b: quote_from_bytes(b, safe="").encode()),
)
NASTY_JSON = [
    b"",
    b"{",
    b"[]",
    b"null",
    b'{"title": 1e400}',
    b'{"title": NaN, "body": Infinity, "name": -Infinity}',
    b"[" * 100_000 + b"]" * 100_000,
    b'{"a":' * 5_000 + b"1" + b"}" * 5_000,
    b'{"title": "\\ud800"}',
    b'{"title": "\xff\xfe"}',
    b"\xef\xbb\xbf{}",
    b'{"channel": "consult", "channel": 7}',
]


def letter_bodies() -> st.SearchStrategy[bytes]:
    """A letter as JSON with any field of any type, or bytes that are hardly JSON."""
    objects = st.fixed_dictionaries(
        {},
        optional={
            "channel": st.one_of(st.just("consult"), json_values),
            **{
                name: st.one_of(st.just(GOOD_LETTER.get(name, True)), json_values)
                for name in FIELDS
            },
        },
    ).map(lambda data: json.dumps(data, ensure_ascii=False).encode("utf-8", "surrogatepass"))
    return st.one_of(objects, st.sampled_from(NASTY_JSON), st.binary(max_size=200))


async def _refused_or_done(
    db: Database, send: Any, *, done: set[int], note: str = ""
) -> httpx.Response:
    before = await snapshot(db)
    response: httpx.Response = await send()
    assert response.status_code < 500, (note, response.status_code, response.text[:500])
    if response.status_code not in done:
        assert 400 <= response.status_code < 500, response.status_code
        assert await snapshot(db) == before, "a refused request changed letters"
    return response


async def test_api_submissions_of_random_bodies_never_fail_or_half_store(
    app: Starlette, db: Database, tokens: dict[str, str]
) -> None:
    run = on_this_loop()
    transport = httpx.ASGITransport(app=app, client=("198.51.100.30", 1000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as api:

        async def send(body: bytes, content_type: str | None) -> None:
            headers = auth(tokens["submit"])
            if content_type is not None:
                headers["content-type"] = content_type
            letters_before = await db.fetch_value("SELECT COUNT(*) FROM letters")
            response = await _refused_or_done(
                db, lambda: api.post("/api/v1/letters", content=body, headers=headers), done={201}
            )
            if response.status_code == 201:
                number = response.json()["tracking_no"]
                assert await db.fetch_value("SELECT COUNT(*) FROM letters") == letters_before + 1
                events = await db.fetch_value(
                    "SELECT COUNT(*) FROM letter_events e JOIN letters l ON l.id = e.letter_id"
                    " WHERE l.tracking_no = :n AND e.kind = 'submitted'",
                    {"n": number},
                )
                assert events == 1

        @FUZZ
        @given(
            body=letter_bodies(),
            content_type=st.one_of(st.just("application/json"), content_types),
        )
        @example(
            body=json.dumps({"channel": "consult", **GOOD_LETTER}).encode(),
            content_type="application/json",
        )
        def check(body: bytes, content_type: str | None) -> None:
            run(send(body, content_type))

        await explore(check)


async def test_api_lookups_and_staff_queries_with_random_parameters_never_fail(
    app: Starlette, db: Database, tokens: dict[str, str], office: dict[str, str]
) -> None:
    run = on_this_loop()
    names = st.one_of(
        st.sampled_from(
            ["query_code", "state", "channel", "department", "q", "overdue", "limit", "cursor"]
        ),
        values,
    )
    queries = st.lists(st.tuples(names, values), max_size=5).map(urlencoded)
    numbers = st.one_of(st.sampled_from([n.encode() for n in office.values()]), path_segments)

    async def ask(target: bytes, caller: str) -> None:
        before = await snapshot(db)
        headers = (
            [(b"authorization", f"Bearer {tokens[caller]}".encode())] if tokens[caller] else []
        )
        status, body = await raw_request(app, "GET", target, headers)
        assert status < 500, (target[:200], status, body[:300])
        assert await snapshot(db) == before

    @FUZZ
    @given(
        number=numbers,
        query=queries,
        where=st.sampled_from(
            ["/api/v1/letters/", "/api/v1/staff/letters", "/api/v1/staff/letters/"]
        ),
        caller=st.sampled_from(["admin", "radio_handler", "reporter", "anonymous"]),
    )
    @example(
        number=b"1", query=b"limit=" + b"9" * 40, where="/api/v1/staff/letters", caller="admin"
    )
    @example(number=b"1", query=b"cursor=%00", where="/api/v1/staff/letters", caller="admin")
    @example(
        number=b"%ff%00", query=b"query_code=%ff", where="/api/v1/letters/", caller="anonymous"
    )
    def check(number: bytes, query: bytes, where: str, caller: str) -> None:
        path = where.encode() + (number if where.endswith("/") else b"")
        run(ask(path + b"?" + query, caller))

    await explore(check)


def csrf_cookie(value: bytes) -> bytes:
    return b"mb_csrf=" + value


async def test_random_paths_and_query_strings_never_fail(app: Starlette, db: Database) -> None:
    run = on_this_loop()
    queries = st.lists(st.tuples(values, values), max_size=4).map(urlencoded)

    async def get(target: bytes, cookie: bytes) -> None:
        before = await snapshot(db)
        status, body = await raw_request(app, "GET", target, [(b"cookie", cookie)])
        assert status < 500, (target[:200], status, body[:300])
        assert await snapshot(db) == before

    @FUZZ
    @given(
        prefix=st.sampled_from(PREFIXES),
        segments=st.lists(path_segments, max_size=3),
        query=st.one_of(queries, st.binary(max_size=60).map(quote_from_bytes).map(str.encode)),
        cookie=st.one_of(
            st.just(b""), st.binary(max_size=80), values.map(lambda v: b"mb_csrf=" + as_bytes(v))
        ),
    )
    @example(prefix="/track", segments=[], query=b"", cookie="mb_csrf=a.\xe9".encode("latin-1"))
    @example(prefix="/", segments=[b"%00", b"%ff"], query=b"lang=%ff", cookie=b"mb_lang=\xff")
    def check(prefix: str, segments: list[bytes], query: bytes, cookie: bytes) -> None:
        target = b"/".join([prefix.encode(), *segments]) + b"?" + query
        run(get(target, cookie))

    await explore(check)


async def test_staff_api_actions_with_random_json_never_fail_or_change_a_refused_letter(
    app: Starlette, db: Database, tokens: dict[str, str], office: dict[str, str]
) -> None:
    run = on_this_loop()
    transport = httpx.ASGITransport(app=app, client=("198.51.100.32", 1000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as api:

        async def act(number: str, action: str, body: bytes, caller: str) -> None:
            headers = {**auth(tokens[caller]), "content-type": "application/json"}
            url = f"/api/v1/staff/letters/{number}/{action}"
            await _refused_or_done(
                db, lambda: api.post(url, content=body, headers=headers), done={200}, note=url
            )

        fields = st.dictionaries(
            st.sampled_from(
                [
                    "reason",
                    "note",
                    "department",
                    "original",
                    "body",
                    "working_days",
                    "title",
                    "reply",
                    "comment",
                    "grant",
                    "copy",
                ]
            ),
            json_values,
            max_size=4,
        ).map(lambda data: json.dumps(data).encode())

        @FUZZ
        @given(
            number=st.sampled_from(list(office.values())),
            action=st.one_of(
                st.sampled_from(sorted(SPECS)),
                st.text(min_size=1, max_size=10).filter(
                    lambda t: "/" not in t and "?" not in t and "#" not in t
                ),
            ),
            body=st.one_of(fields, st.sampled_from(NASTY_JSON), st.binary(max_size=60)),
            caller=st.sampled_from(["admin", "dispatcher", "radio_handler", "radio_reviewer"]),
        )
        def check(number: str, action: str, body: bytes, caller: str) -> None:
            run(act(number, quote_from_bytes(as_bytes(action), safe=""), body, caller))

        await explore(check)


async def test_open311_posts_of_random_fields_never_fail_or_half_store(
    app: Starlette, db: Database, keys: dict[str, str]
) -> None:
    run = on_this_loop()
    transport = httpx.ASGITransport(app=app, client=("198.51.100.33", 1000))
    form = st.fixed_dictionaries(
        {},
        optional={name: st.one_of(st.just(value), values) for name, value in OPEN311_FORM.items()},
    )
    extra = st.lists(
        st.tuples(st.one_of(st.sampled_from(list(OPEN311_FORM)), values), values), max_size=3
    )
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as api:

        async def post(body: bytes, content_type: str | None, fmt: str) -> None:
            headers = {"content-type": content_type} if content_type else {}
            await _refused_or_done(
                db,
                lambda: api.post(f"/open311/v2/requests.{fmt}", content=body, headers=headers),
                done={200, 201},
            )

        @FUZZ
        @given(
            fields=form,
            more=extra,
            with_key=st.booleans(),
            content_type=st.one_of(st.just("application/x-www-form-urlencoded"), content_types),
            fmt=st.sampled_from(["json", "xml", "html", "\x00"]),
        )
        @example(
            fields=OPEN311_FORM,
            more=[],
            with_key=True,
            content_type="application/x-www-form-urlencoded",
            fmt="json",
        )
        def check(
            fields: dict[str, str | bytes],
            more: list[tuple[str | bytes, str | bytes]],
            with_key: bool,
            content_type: str | None,
            fmt: str,
        ) -> None:
            pairs = [*fields.items(), *more]
            if with_key:
                pairs.append(("api_key", keys["portal"]))
            run(post(urlencoded(pairs), content_type, quote_from_bytes(as_bytes(fmt), safe="")))

        await explore(check)
