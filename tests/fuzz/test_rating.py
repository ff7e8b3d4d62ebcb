"""The writer's rating of a reply (the mailed link's form, and the API's) and the writer's
forms under odd bodies: never a 500; a rating is stored whole (one rating, one event, the
letter closed) or not at all; a wrong link, code or token changes nothing."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote_from_bytes

import httpx
from hypothesis import example, given
from hypothesis import strategies as st
from starlette.applications import Starlette

from mailbox.auth.tokens import rating_token
from mailbox.db.database import Database
from mailbox.services import handling
from mailbox.services.transitions import Actor
from tests.fuzz.conftest import FUZZ, explore, on_this_loop, raw_request, snapshot
from tests.fuzz.letters import REPLY, Writer, replied_letter, team_of
from tests.fuzz.staff import Pairs, encoded, encodings, field_values, stranger_token
from tests.fuzz.strategies import (
    BOUNDARY,
    as_bytes,
    body_sizes,
    content_types,
    files,
    multipart,
    texts,
    urlencoded,
    values,
)
from tests.fuzz.test_machines import NASTY_JSON, json_values
from tests.helpers import csrf_token
from tests.services.conftest import new_letter

GOOD = "<good>"
RATINGS = [str(rating) for rating in handling.Rating]


@dataclass
class Ratings:
    """The letter being rated; a new one once a rating closed it."""

    app: Starlette
    team: Actor
    writer: Writer

    @property
    def db(self) -> Database:
        db: Database = self.app.state.db
        return db

    async def counts(self) -> dict[str, Any]:
        return {
            **await snapshot(self.db),
            "rated": await self.db.fetch_value(
                "SELECT COUNT(*) FROM ratings r JOIN letters l ON l.id = r.letter_id"
                " WHERE l.tracking_no = :n",
                {"n": self.writer.number},
            ),
        }

    async def check(self, before: dict[str, Any], status: int, stored: bool) -> None:
        """Refused: nothing changed. Stored: one rating, one event, the letter closed."""
        after = await self.counts()
        assert status < 500, status
        if not stored:
            assert 400 <= status < 500, status
            assert after == before, "a refused rating changed letters"
            return
        assert (after["ratings"], after["rated"]) == (before["ratings"] + 1, 1)
        assert after["letter_events"] == before["letter_events"] + 1
        for table in ("letters", "replies", "internal_notes", "publications"):
            assert after[table] == before[table], table
        row = await self.db.fetch_one(
            "SELECT l.state, r.rating, r.comment FROM letters l JOIN ratings r"
            " ON r.letter_id = l.id WHERE l.tracking_no = :n",
            {"n": self.writer.number},
        )
        assert row is not None and row["state"] == "closed" and row["rating"] in RATINGS
        assert len(row["comment"]) <= 500 and "\x00" not in row["comment"]
        self.writer = await replied_letter(self.app, self.team)


async def test_ratings_with_random_fields_are_stored_whole_or_not_at_all(
    app: Starlette, client: httpx.AsyncClient, db: Database
) -> None:
    run = on_this_loop()
    team = await team_of(db)
    ratings = Ratings(app, team, await replied_letter(app, team))
    # A link whose reply was corrected since (not the latest), and one for a letter without
    # a reply: neither rates anything.
    stale = await replied_letter(app, team)
    await handling.correct_reply(
        db,
        clock=app.state.clock,
        actor=team,
        tracking_no=stale.number,
        body=REPLY + "更正。",
        note="",
    )
    unanswered = rating_token(app.state.settings.secret_key, await new_letter(app), 1)
    token = await csrf_token(client)
    other = await stranger_token(app)
    links = {"good": GOOD, "stale": stale.token, "unanswered": unanswered, "forged": "x.y"}

    async def by_link(
        link: str, rating: str | bytes, comment: str | bytes, extra: Pairs, encoding: str, csrf: str
    ) -> None:
        path = "/rate/" + (ratings.writer.token if link == "good" else links[link])
        sent = {"good": token, "other": other, "missing": ""}[csrf]
        pairs: Pairs = [("rating", rating), ("comment", comment), *extra]
        body, content_type = encoded(pairs + ([("csrf_token", sent)] if sent else []), encoding)
        before = await ratings.counts()
        response = await client.post(path, content=body, headers={"content-type": content_type})
        stored = response.status_code == 200
        if link == "good" and csrf == "good" and rating in RATINGS and not extra:
            assert stored or response.status_code == 413, response.status_code
        assert not stored or (link == "good" and csrf == "good"), (link, csrf)
        assert response.status_code < 500, response.text[:500]
        await ratings.check(before, response.status_code, stored)

    async def by_api(number: str | bytes, data: dict[str, Any] | bytes, kind: str | None) -> None:
        writer = ratings.writer
        part = writer.number if number == GOOD else quote_from_bytes(as_bytes(number), safe="")
        target = f"/api/v1/letters/{part}/rating".encode()
        if isinstance(data, dict):
            data = {key: writer.code if value == GOOD else value for key, value in data.items()}
            body = json.dumps(data, ensure_ascii=False).encode("utf-8", "surrogatepass")
        else:
            body = data
        before = await ratings.counts()
        headers = [(b"content-type", kind.encode("latin-1"))] if kind else []
        status, text = await raw_request(app, "POST", target, headers, body)
        stored = status == 200
        right = (
            number == GOOD
            and isinstance(data, dict)
            and data.get("query_code") == writer.code
            and data.get("rating") in RATINGS
            and data.get("comment", "") in ("", "谢谢")
            and kind == "application/json"
        )
        assert stored == right, (right, status, text[:300])
        await ratings.check(before, status, stored)

    api_bodies = st.one_of(
        st.fixed_dictionaries(
            {},
            optional={
                "query_code": st.one_of(st.just(GOOD), json_values),
                "rating": st.one_of(st.sampled_from(RATINGS), json_values),
                "comment": st.one_of(st.just("谢谢"), json_values),
            },
        ),
        st.sampled_from(NASTY_JSON),
        st.binary(max_size=100),
    )

    @FUZZ
    @given(
        via=st.sampled_from(["link", "link", "api"]),
        link=st.sampled_from(["good", "good", "good", "stale", "unanswered", "forged"]),
        rating=st.one_of(st.sampled_from(RATINGS), field_values("satisfied")),
        comment=field_values("谢谢"),
        extra=st.lists(st.tuples(values, values), max_size=2),
        encoding=encodings,
        csrf=st.sampled_from(["good", "good", "good", "other", "missing"]),
        number=st.one_of(st.just(GOOD), texts),
        data=api_bodies,
        kind=st.one_of(st.just("application/json"), content_types),
    )
    @example(
        via="link",
        link="good",
        rating="unsatisfied",
        comment="\x00" * 600,
        extra=[],
        encoding="multipart",
        csrf="good",
        number=GOOD,
        data={},
        kind=None,
    )
    @example(
        via="link",
        link="stale",
        rating="satisfied",
        comment="",
        extra=[],
        encoding="quoted",
        csrf="good",
        number=GOOD,
        data={},
        kind=None,
    )
    @example(
        via="api",
        link="good",
        rating="",
        comment="",
        extra=[],
        encoding="quoted",
        csrf="good",
        number=GOOD,
        data={"query_code": GOOD, "rating": "satisfied"},
        kind="application/json",
    )
    def check(
        via: str,
        link: str,
        rating: str | bytes,
        comment: str | bytes,
        extra: Pairs,
        encoding: str,
        csrf: str,
        number: str | bytes,
        data: dict[str, Any] | bytes,
        kind: str | None,
    ) -> None:
        if via == "link":
            run(by_link(link, rating, comment, extra, encoding, csrf))
        else:
            run(by_api(number, data, kind))

    await explore(check)


async def test_odd_bodies_to_the_writers_forms_change_nothing(
    app: Starlette, client: httpx.AsyncClient, db: Database
) -> None:
    run = on_this_loop()
    team = await team_of(db)
    ratings = Ratings(app, team, await replied_letter(app, team))
    token = await csrf_token(client)

    async def send(
        where: str, shape: str, kind: str | None, attachments: Any, noise: bytes, size: int
    ) -> None:
        writer = ratings.writer
        fields: dict[str, Pairs] = {
            "/track": [("tracking_no", writer.number), ("query_code", writer.code)],
            "/rate": [("rating", "satisfied"), ("comment", "谢谢")],
            "/display": [("toggle", "large"), ("next", "/track")],
            "/api": [("query_code", writer.code), ("rating", "satisfied")],
        }
        good: Pairs = [*fields[where], ("csrf_token", token)]
        bodies: dict[str, Callable[[], bytes]] = {
            "form": lambda: urlencoded(good) + noise,
            "multipart": lambda: multipart(good, attachments) + noise,
            "json": lambda: json.dumps(dict(fields[where])).encode() + noise,
            "bytes": lambda: noise,
            "oversized": lambda: urlencoded([*good, ("comment", "字" * (size // 9))]),
            "empty": lambda: b"",
        }
        path = {
            "/rate": f"/rate/{writer.token}",
            "/api": f"/api/v1/letters/{writer.number}/rating",
        }.get(where, where)
        before = await ratings.counts()
        headers = {"content-type": kind} if kind is not None else {}
        response = await client.post(path, content=bodies[shape](), headers=headers)
        status = response.status_code
        assert status < 500, (where, shape, kind, response.text[:500])
        # What a browser's form or a JSON client would send may work; anything else is refused.
        stored = where in ("/rate", "/api") and status == 200
        if where in ("/track", "/display") and status in (200, 303):
            assert await ratings.counts() == before
            return
        await ratings.check(before, status, stored)

    @FUZZ
    @given(
        where=st.sampled_from(["/track", "/rate", "/display", "/api"]),
        shape=st.sampled_from(["form", "multipart", "json", "bytes", "oversized", "empty"]),
        kind=content_types,
        attachments=files,
        noise=st.binary(max_size=300),
        size=body_sizes,
    )
    @example(
        where="/rate",
        shape="multipart",
        kind=f"multipart/form-data; boundary={BOUNDARY}",
        attachments=[("a.txt", b"hello", "text/plain")],
        noise=b"",
        size=0,
    )
    @example(
        where="/track",
        shape="oversized",
        kind="application/x-www-form-urlencoded",
        attachments=[],
        noise=b"",
        size=2 * 1024 * 1024,
    )
    @example(
        where="/api", shape="json", kind="application/json", attachments=[], noise=b"\xff", size=0
    )
    def check(
        where: str, shape: str, kind: str | None, attachments: Any, noise: bytes, size: int
    ) -> None:
        run(send(where, shape, kind, attachments, noise, size))

    await explore(check)
