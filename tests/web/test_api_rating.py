"""The writer rates the reply through the API with the query code: once, only while the
rating is open, and nothing changes on a refused request."""

from __future__ import annotations

import httpx
from starlette.applications import Starlette

from mailbox.db.database import Database
from tests.helpers import submit_and_read_receipt
from tests.web.test_rating import REPLY, reply_to


async def _state(db: Database, number: str) -> tuple[str, int]:
    row = await db.fetch_one(
        "SELECT state, (SELECT COUNT(*) FROM ratings r WHERE r.letter_id = l.id) AS ratings"
        " FROM letters l WHERE tracking_no = :n",
        {"n": number},
    )
    assert row is not None
    return row["state"], row["ratings"]


async def test_the_writer_rates_the_reply_once(
    app: Starlette, client: httpx.AsyncClient, db: Database
) -> None:
    number, code = await submit_and_read_receipt(client)
    path = f"/api/v1/letters/{number}/rating"
    too_early = await client.post(path, json={"query_code": code, "rating": "satisfied"})
    assert too_early.status_code == 409
    assert too_early.json()["error"]["code"] == "conflict"

    await reply_to(app, number)
    view = await client.get(f"/api/v1/letters/{number}", params={"query_code": code})
    assert view.json()["rating_open"] is True and view.json()["reply"] == REPLY

    wrong = await client.post(path, json={"query_code": "ABCDEFGH", "rating": "satisfied"})
    assert wrong.status_code == 404
    invalid = await client.post(path, json={"query_code": code, "rating": "great"})
    assert invalid.status_code == 422 and set(invalid.json()["error"]["fields"]) == {"rating"}
    assert await _state(db, number) == ("replied", 0)

    rated = await client.post(
        path, json={"query_code": code, "rating": "basically_satisfied", "comment": "还行\x00"}
    )
    assert rated.status_code == 200, rated.text
    assert rated.json()["state"] == "closed" and rated.json()["rating_open"] is False
    comment = await db.fetch_value("SELECT comment FROM ratings")
    assert comment == "还行"  # NUL cannot be stored, and nobody types it

    again = await client.post(path, json={"query_code": code, "rating": "unsatisfied"})
    assert again.status_code == 409
    assert await _state(db, number) == ("closed", 1)
