"""The writer's look-up (`POST /track`, and the API's) under random input: never a 500; the
letter shows for its own numbers only, however typed; nothing changes; the limit per address
answers 429 whatever came before."""

from __future__ import annotations

from collections.abc import AsyncIterator
from urllib.parse import quote_from_bytes

import httpx
import pytest
from hypothesis import example, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from starlette.applications import Starlette

from mailbox.app import create_app
from mailbox.clock import FixedClock
from mailbox.db.database import Database
from mailbox.settings import Settings
from tests.conftest import with_settings
from tests.fuzz.conftest import EXAMPLES, FUZZ, explore, on_this_loop, raw_request, snapshot
from tests.fuzz.letters import Writer, replied_letter, team_of
from tests.fuzz.staff import Pairs, encoded, encodings, field_values, stranger_token
from tests.fuzz.strategies import as_bytes, urlencoded, values
from tests.helpers import csrf_token


def spelled(writer: Writer) -> tuple[list[str], list[str]]:
    """The ways a writer may type the right numbers: spaces, dashes, lower case."""
    number, code = writer.number, writer.code
    return (
        [number, f" {number[:8]} {number[8:]} ", f"{number[:4]}-{number[4:]}"],
        [code, code.lower(), f"{code[:4]}-{code[4:]}", " ".join(code)],
    )


def right_or_not(right: list[str]) -> st.SearchStrategy[tuple[str | bytes, bool]]:
    """A field's value, and whether it is the right one however spelled."""
    return st.one_of(
        st.sampled_from(right).map(lambda value: (value, True)),
        field_values("").map(lambda value: (value, False)),
    )


async def _track(
    client: httpx.AsyncClient, db: Database, body: bytes, content_type: str | None
) -> httpx.Response:
    before = await snapshot(db)
    headers = {"content-type": content_type} if content_type else {}
    response = await client.post("/track", content=body, headers=headers)
    assert response.status_code < 500, response.text[:500]
    assert await snapshot(db) == before, "a look-up changed letters"
    return response


async def test_lookups_with_random_fields_show_a_letter_only_for_its_own_numbers(
    app: Starlette, client: httpx.AsyncClient, db: Database
) -> None:
    run = on_this_loop()
    writer = await replied_letter(app, await team_of(db))
    numbers, codes = spelled(writer)
    token = await csrf_token(client)
    other = await stranger_token(app)
    Field = tuple[str | bytes, bool]

    async def look(number: Field, code: Field, extra: Pairs, encoding: str, csrf: str) -> None:
        sent = {"good": token, "other": other, "missing": "", "forged": "a.b"}[csrf]
        pairs: Pairs = [("tracking_no", number[0]), ("query_code", code[0]), *extra]
        body, content_type = encoded(pairs + ([("csrf_token", sent)] if sent else []), encoding)
        response = await _track(client, db, body, content_type)
        status, shown = response.status_code, 'id="letter-state"' in response.text
        if csrf != "good":
            assert status in (400, 413) and not shown, status
        elif status not in (400, 413):  # a form that could be read: the answer is the pair's
            assert shown == (number[1] and code[1]), (number, code, status)
            assert status == (200 if shown else 404) or (status == 429 and not shown), status
            if shown:
                assert f'href="/rate/{writer.token}"' in response.text

    @FUZZ
    @given(
        number=right_or_not(numbers),
        code=right_or_not(codes),
        extra=st.lists(st.tuples(values, values), max_size=3),
        encoding=encodings,
        csrf=st.sampled_from(["good", "good", "good", "other", "missing", "forged"]),
    )
    @example(
        number=(numbers[1], True), code=(codes[3], True), extra=[], encoding="raw", csrf="good"
    )
    @example(
        number=(numbers[0], True), code=(codes[0], True), extra=[], encoding="quoted", csrf="other"
    )
    @example(
        number=("²³", False), code=("\ud800", False), extra=[], encoding="multipart", csrf="good"
    )
    def check(number: Field, code: Field, extra: Pairs, encoding: str, csrf: str) -> None:
        run(look(number, code, extra, encoding, csrf))

    await explore(check)


TRACK_LIMIT = 4


@pytest.fixture
async def limited(settings: Settings, clock: FixedClock) -> AsyncIterator[Starlette]:
    """The app with the look-up limit per address on, at a few an hour."""
    application = create_app(
        with_settings(settings, track_limit=TRACK_LIMIT), clock=clock, run_mail_worker=False
    )
    async with application.router.lifespan_context(application):
        yield application


async def _look_up(
    app: Starlette,
    web: httpx.AsyncClient,
    host: str,
    token: str,
    asked: tuple[str, str | bytes, str | bytes],
) -> bool:
    """One look-up by the page or the API; whether it reached the limit's count (the API
    refuses a missing code, and a number with "/" is no address of it, before counting)."""
    way, number, code = asked
    if way == "track":
        body = urlencoded([("tracking_no", number), ("query_code", code), ("csrf_token", token)])
        kind = {"content-type": "application/x-www-form-urlencoded"}
        status = (await web.post("/track", content=body, headers=kind)).status_code
    else:
        target = b"/api/v1/letters/" + (quote_from_bytes(as_bytes(number), safe="") or "x").encode()
        query = urlencoded([("query_code", code)])
        status, _body = await raw_request(app, "GET", target + b"?" + query, [], b"", (host, 1))
        if not as_bytes(code) or b"/" in as_bytes(number):
            assert status in (404, 422), status
            return False
    assert status in (200, 404, 429), status
    return True


async def test_the_lookup_limit_answers_429_whatever_was_asked_before(limited: Starlette) -> None:
    """However wrong or hostile the look-ups from an address, by the page or the API, once
    the address used its share the next one (even the right pair) is answered 429."""
    app, db = limited, limited.state.db
    run = on_this_loop()
    writer = await replied_letter(app, await team_of(db))
    right = {"tracking_no": writer.number, "query_code": writer.code}
    addresses = iter(range(1, 10**6))

    async def from_address(asked: list[tuple[str, str | bytes, str | bytes]], ipv6: bool) -> None:
        n = next(addresses)  # a new address (an IPv6 /64 counts as one) for each example
        host = f"2001:db8:{n:x}::7" if ipv6 else f"10.{n >> 16}.{(n >> 8) & 255}.{n & 255}"
        transport = httpx.ASGITransport(app=app, client=(host, 1000))
        before = await snapshot(db)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as web:
            token = await csrf_token(web)
            counted = [await _look_up(app, web, host, token, one) for one in asked].count(True)
            page = await web.post("/track", data={**right, "csrf_token": token})
            over = counted >= TRACK_LIMIT
            assert page.status_code == (429 if over else 200), (counted, page.status_code)
            assert ('id="letter-state"' in page.text) != over
            api = await web.get(f"/api/v1/letters/{writer.number}?query_code={writer.code}")
            if counted + 1 >= TRACK_LIMIT:  # the page's look-up was one more
                assert api.status_code == 429, api.status_code
                assert api.headers["retry-after"] == "3600" and api.json()["error"]
            else:
                assert api.status_code == 200, api.status_code
        assert await snapshot(db) == before

    @hypothesis_settings(FUZZ, max_examples=max(EXAMPLES // 5, 10))
    @given(
        asked=st.lists(
            st.tuples(
                st.sampled_from(["track", "api"]),
                st.one_of(st.just(writer.number), values),
                st.one_of(st.just(writer.code), values),
            ),
            max_size=TRACK_LIMIT + 2,
        ),
        ipv6=st.booleans(),
    )
    def check(asked: list[tuple[str, str | bytes, str | bytes]], ipv6: bool) -> None:
        run(from_address(asked, ipv6))

    await explore(check)
