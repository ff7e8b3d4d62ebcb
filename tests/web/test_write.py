"""The letter form: validation in both languages, nothing stored on bad input, the receipt."""

from __future__ import annotations

import httpx
import pytest

from mailbox.db.database import Database
from tests.helpers import GOOD_LETTER, count_rows, csrf_token, post_letter, submit_and_read_receipt


async def assert_nothing_stored(db: Database) -> None:
    for table in ("letters", "letter_events", "outbox"):
        assert await count_rows(db, table) == 0, table


@pytest.mark.parametrize("channel", ["director", "consult", "complaint", "suggestion"])
async def test_each_channel_has_a_form(client: httpx.AsyncClient, channel: str) -> None:
    response = await client.get(f"/write/{channel}")
    assert response.status_code == 200
    for field in ("title", "body", "name", "phone", "email", "address", "publish_consent"):
        assert f'name="{field}"' in response.text
    assert 'name="publish_consent" value="1" aria-describedby' in response.text  # unchecked


async def test_unknown_channel_is_404(client: httpx.AsyncClient) -> None:
    assert (await client.get("/write/nonsense")).status_code == 404


async def test_a_good_letter_is_stored_with_event_and_receipt_mail(
    client: httpx.AsyncClient, db: Database
) -> None:
    number, code = await submit_and_read_receipt(client, "director")
    assert len(number) == 14 and number.startswith("20260930")
    assert len(code) == 9 and code[4] == "-"
    letter = await db.fetch_one("SELECT * FROM letters")
    assert letter is not None
    assert letter["tracking_no"] == number and letter["state"] == "pending"
    assert letter["channel"] == "director" and letter["writer_phone"] == "13812345678"
    assert code.replace("-", "") not in str(dict(letter))  # only a keyed hash is stored
    assert not letter["publish_consent"]
    event = await db.fetch_one("SELECT * FROM letter_events")
    assert event is not None and event["kind"] == "submitted" and event["to_state"] == "pending"
    mail = await db.fetch_one("SELECT * FROM outbox")
    assert mail is not None and mail["recipient"] == "zhang@example.com"
    assert mail["kind"] == "receipt" and mail["locale"] == "zh_CN"
    assert number in mail["context"] and code.replace("-", "") in mail["context"]


async def test_the_query_code_is_shown_once(client: httpx.AsyncClient) -> None:
    _number, code = await submit_and_read_receipt(client)
    again = await client.get("/receipt")
    assert again.status_code == 200
    assert code not in again.text
    assert "只显示一次" in again.text


async def test_without_email_no_mail_is_queued_and_the_receipt_says_so(
    client: httpx.AsyncClient, db: Database
) -> None:
    response = await post_letter(client, email="")
    assert response.status_code == 303
    receipt = await client.get("/receipt")
    assert "未填写电子邮箱" in receipt.text
    assert await count_rows(db, "outbox") == 0


async def test_consent_is_recorded_when_ticked(client: httpx.AsyncClient, db: Database) -> None:
    assert (await post_letter(client, publish_consent="1")).status_code == 303
    assert await db.fetch_value("SELECT publish_consent FROM letters") in (True, 1)


BAD_INPUT = [
    ("title", "", "请填写标题", "Please enter a title"),
    ("title", "短", "标题应为4至50字", "The title must be 4 to 50 characters long; it is 1"),
    ("title", "长" * 51, "标题应为4至50字", "it is 51"),
    ("body", "太短了", "来信内容应为10至5000字", "The letter must be 10 to 5000"),
    ("body", "字" * 5001, "来信内容应为10至5000字", "it is 5001"),
    ("name", "", "请填写您的姓名", "Please enter your name"),
    ("name", "名" * 31, "姓名最多30个字", "at most 30 characters"),
    ("phone", "", "请填写联系电话", "Please enter a phone number"),
    ("phone", "12345", "大陆手机号码", "mainland mobile number"),
    ("phone", "23812345678", "大陆手机号码", "mainland mobile number"),
    ("email", "not-an-email", "电子邮箱", "Please check the email address"),
    ("address", "址" * 101, "地址最多100个字", "at most 100 characters"),
]


@pytest.mark.parametrize(("field", "value", "chinese", "english"), BAD_INPUT)
async def test_bad_input_is_explained_in_both_languages_and_changes_nothing(
    client: httpx.AsyncClient, db: Database, field: str, value: str, chinese: str, english: str
) -> None:
    response = await post_letter(client, **{field: value})
    assert response.status_code == 400
    assert chinese in response.text
    assert f'id="{field}-error"' in response.text and f'href="#{field}"' in response.text
    kept = GOOD_LETTER["title"] if field != "title" else GOOD_LETTER["body"]
    assert kept in response.text  # the citizen's input is kept
    client.cookies.set("mb_lang", "en")
    response = await post_letter(client, **{field: value})
    assert response.status_code == 400
    assert english in response.text.replace("&#39;", "'")
    await assert_nothing_stored(db)


@pytest.mark.parametrize(
    "phone", ["13812345678", "+86 138 1234 5678", "010-12345678", "0991-1234567", "02112345678"]
)
async def test_mobile_and_landline_numbers_are_accepted(
    client: httpx.AsyncClient, phone: str
) -> None:
    assert (await post_letter(client, phone=phone)).status_code == 303


async def test_missing_csrf_token_keeps_the_text_and_stores_nothing(
    client: httpx.AsyncClient, db: Database
) -> None:
    await client.get("/write/consult")
    response = await client.post("/write/consult", data={**GOOD_LETTER, "csrf_token": "forged"})
    assert response.status_code == 400
    assert GOOD_LETTER["body"] in response.text
    await assert_nothing_stored(db)


async def test_honeypot_refuses_and_stores_nothing(client: httpx.AsyncClient, db: Database) -> None:
    response = await post_letter(client, website="http://spam.example")
    assert response.status_code == 400
    await assert_nothing_stored(db)


async def test_control_characters_are_removed(client: httpx.AsyncClient, db: Database) -> None:
    assert (await post_letter(client, title="基站\x00\x07审批咨询")).status_code == 303
    assert await db.fetch_value("SELECT title FROM letters") == "基站审批咨询"


async def test_submissions_per_address_are_limited(
    client: httpx.AsyncClient, db: Database, app: object
) -> None:
    limit = 10
    for _ in range(limit):
        assert (await post_letter(client)).status_code == 303
    response = await post_letter(client)
    assert response.status_code == 429
    assert GOOD_LETTER["body"] in response.text
    assert await count_rows(db, "letters") == limit


async def test_english_page_when_the_browser_prefers_english(client: httpx.AsyncClient) -> None:
    response = await client.get("/write/consult", headers={"accept-language": "en-GB,en;q=0.9"})
    assert '<html lang="en"' in response.text and "Online Consultation" in response.text
    response = await client.get("/write/consult", headers={"accept-language": "zh-CN,zh"})
    assert '<html lang="zh-CN"' in response.text and "网上咨询" in response.text
    token = await csrf_token(client)
    assert token


async def test_an_oversized_body_is_refused_before_it_is_read(
    client: httpx.AsyncClient, db: Database
) -> None:
    token = await csrf_token(client, "/write/consult")
    response = await client.post(
        "/write/consult", data={**GOOD_LETTER, "body": "字" * 200_000, "csrf_token": token}
    )
    assert response.status_code == 413
    await assert_nothing_stored(db)


async def test_pages_carry_security_headers(client: httpx.AsyncClient) -> None:
    response = await client.get("/")
    policy = response.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy
    assert "frame-ancestors 'none'" in policy
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "same-origin"


async def test_the_receipt_says_mail_waits_while_smtp_is_not_configured(
    client: httpx.AsyncClient,
) -> None:
    assert (await post_letter(client)).status_code == 303
    receipt = await client.get("/receipt")
    assert "本单位邮件服务可用后，将向您发送回执邮件" in receipt.text
    assert receipt.headers["cache-control"] == "no-store"


async def test_a_browser_that_goes_away_mid_post_is_not_an_error(
    app: object, caplog: pytest.LogCaptureFixture
) -> None:
    from starlette.types import Message

    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/write/consult",
        "raw_path": b"/write/consult",
        "query_string": b"",
        "root_path": "",
        "client": ("203.0.113.7", 1),
        "server": ("t", 80),
        "headers": [(b"content-type", b"application/x-www-form-urlencoded")],
    }
    await app(scope, receive, send)  # type: ignore[operator]
    assert sent[0]["status"] == 400
    assert not [record for record in caplog.records if record.levelname == "ERROR"]
