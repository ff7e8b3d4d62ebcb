"""Helpers shared by the web tests: forms, CSRF tokens, letters."""

from __future__ import annotations

import re

import httpx

from mailbox.db.database import Database

GOOD_LETTER = {
    "title": "关于小区附近基站的咨询",
    "body": "我家附近新建了一座通信基站，想了解它的审批情况和辐射检测结果，谢谢。",
    "name": "张三丰",
    "phone": "13812345678",
    "email": "zhang@example.com",
    "address": "乌鲁木齐市天山区某街道1号",
}


def csrf_from(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "the page has no CSRF field"
    return match.group(1)


async def csrf_token(client: httpx.AsyncClient, path: str = "/track") -> str:
    response = await client.get(path)
    assert response.status_code == 200
    return csrf_from(response.text)


async def post_letter(
    client: httpx.AsyncClient, channel: str = "consult", **fields: str
) -> httpx.Response:
    token = await csrf_token(client, f"/write/{channel}")
    data = {**GOOD_LETTER, **fields, "csrf_token": token}
    return await client.post(f"/write/{channel}", data=data)


async def submit_and_read_receipt(
    client: httpx.AsyncClient, channel: str = "consult", **fields: str
) -> tuple[str, str]:
    """Submit a letter; its tracking number and query code from the receipt page."""
    response = await post_letter(client, channel, **fields)
    assert response.status_code == 303, response.text
    assert response.headers["location"] == "/receipt"
    receipt = await client.get("/receipt")
    assert receipt.status_code == 200
    number = re.search(r'id="tracking-no" class="code">(\d+)<', receipt.text)
    code = re.search(r'id="query-code" class="code">([A-Z0-9-]+)<', receipt.text)
    assert number and code, receipt.text
    return number.group(1), code.group(1)


async def count_rows(db: Database, table: str) -> int:
    count: int = await db.fetch_value(f"SELECT COUNT(*) FROM {table}")
    return count
