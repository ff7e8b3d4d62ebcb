"""Tracking a letter: the right pair shows it; anything else gets one and the same answer."""

from __future__ import annotations

import re

import httpx

from mailbox.clock import FixedClock
from tests.helpers import csrf_token, submit_and_read_receipt


async def track(client: httpx.AsyncClient, number: str, code: str) -> httpx.Response:
    token = await csrf_token(client)
    return await client.post(
        "/track", data={"tracking_no": number, "query_code": code, "csrf_token": token}
    )


def without_tokens(html: str) -> str:
    return re.sub(r'name="csrf_token" value="[^"]+"', "", html)


async def test_the_writer_sees_status_and_timeline(client: httpx.AsyncClient) -> None:
    number, code = await submit_and_read_receipt(client)
    response = await track(client, number, code)
    assert response.status_code == 200
    assert 'id="letter-state"' in response.text
    assert "已收到，等待受理" in response.text
    assert "关于小区附近基站的咨询" in response.text
    assert "2026年9月30日 10:00" in response.text  # office time, in the timeline
    assert response.headers["cache-control"] == "no-store"


async def test_the_code_is_forgiving_about_case_spaces_and_dashes(
    client: httpx.AsyncClient,
) -> None:
    number, code = await submit_and_read_receipt(client)
    response = await track(client, f" {number[:8]} {number[8:]} ", code.lower().replace("-", " "))
    assert response.status_code == 200 and 'id="letter-state"' in response.text


async def test_unknown_number_and_wrong_code_look_the_same(client: httpx.AsyncClient) -> None:
    number, code = await submit_and_read_receipt(client)
    wrong_code = await track(client, number, "ABCD-EFGH")
    unknown = await track(client, "20260930000000", code)
    assert wrong_code.status_code == unknown.status_code == 404
    assert without_tokens(wrong_code.text).replace(number, "") == without_tokens(
        unknown.text
    ).replace("20260930000000", "")
    assert "letter-state" not in wrong_code.text


async def test_lookups_per_address_are_limited(
    client: httpx.AsyncClient, clock: FixedClock
) -> None:
    number, code = await submit_and_read_receipt(client)
    for attempt in range(30):
        assert (await track(client, f"202609300000{attempt:02d}", "WRONG234")).status_code == 404
    limited = await track(client, number, code)  # even the right pair waits now
    assert limited.status_code == 429
    clock.advance(hours=1)
    assert (await track(client, number, code)).status_code == 200


async def test_wrong_codes_per_tracking_number_are_limited_but_never_lock_the_writer_out(
    app: object, client: httpx.AsyncClient
) -> None:
    number, code = await submit_and_read_receipt(client)
    for attempt in range(21):
        transport = httpx.ASGITransport(app=app, client=(f"198.51.100.{attempt}", 1234))  # type: ignore[arg-type]
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as other:
            expected = 404 if attempt < 20 else 429
            assert (await track(other, number, "WRONG234")).status_code == expected
    # Tracking numbers are public: strangers' failures must not keep the writer out.
    assert (await track(client, number, code)).status_code == 200


async def test_track_form_needs_csrf(client: httpx.AsyncClient) -> None:
    response = await client.post("/track", data={"tracking_no": "1", "query_code": "2"})
    assert response.status_code == 400
