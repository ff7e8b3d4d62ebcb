"""Attachments over HTTP on both databases: uploads checked by content, nothing stored when
refused, photos without EXIF, who may download what (exact statuses), reply documents through
review and release, publication one file at a time, orphans and purge."""

from __future__ import annotations

import hashlib
import html
import io
import json
import os
import re
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest
from PIL import Image
from starlette.applications import Starlette

from mailbox.attachments.store import AttachmentStore
from mailbox.db.database import Database
from mailbox.db.queries import attachments as attachment_rows
from mailbox.services import api_tokens, handling, intake
from mailbox.services.attachments import store_for, sweep_orphans
from mailbox.services.retention import purge
from mailbox.services.transitions import Actor
from tests import files
from tests.conftest import with_settings
from tests.helpers import GOOD_LETTER, count_rows, csrf_from, csrf_token
from tests.services.conftest import staff_actor
from tests.web.test_workspace import logged_in, office  # noqa: F401  (the fixture)

Upload = tuple[str, bytes, str]
REPLY = "经实地检测，该基站辐射符合国家标准。检测报告见附件，如有疑问请来电咨询。"


def upload(name: str) -> Upload:
    content_type, make = files.ALLOWED[name]
    return name, make(), content_type


async def post_with_files(
    client: httpx.AsyncClient, uploads: list[Upload], **fields: str
) -> httpx.Response:
    token = await csrf_token(client, "/write/consult")
    return await client.post(
        "/write/consult",
        data={**GOOD_LETTER, **fields, "csrf_token": token},
        files=[("attachments", item) for item in uploads],
    )


async def letter_with_files(
    client: httpx.AsyncClient, uploads: list[Upload], **fields: str
) -> tuple[str, str]:
    response = await post_with_files(client, uploads, **fields)
    assert response.status_code == 303, response.text
    receipt = (await client.get("/receipt")).text
    number = re.search(r'id="tracking-no" class="code">(\d+)<', receipt)
    code = re.search(r'id="query-code" class="code">([A-Z0-9-]+)<', receipt)
    assert number and code
    return number.group(1), code.group(1)


def stored_files(app: Starlette) -> list[Path]:
    root = store_for(app.state.settings).root
    return [path for path in root.rglob("*") if path.is_file()] if root.exists() else []


async def rows_of(db: Database, number: str) -> list[attachment_rows.AttachmentRow]:
    letter_id = await db.fetch_value(
        "SELECT id FROM letters WHERE tracking_no = :no", {"no": number}
    )
    return await attachment_rows.of_letter(db, letter_id=letter_id)


async def test_each_allowed_kind_is_stored_with_the_letter(
    app: Starlette, db: Database, client: httpx.AsyncClient
) -> None:
    number, _code = await letter_with_files(client, [upload(name) for name in files.ALLOWED])
    rows = await rows_of(db, number)
    assert [(row.filename, row.content_type) for row in rows] == [
        (name, content_type) for name, (content_type, _make) in files.ALLOWED.items()
    ]
    store = store_for(app.state.settings)
    for row in rows:
        data = store.path(row.stored_name).read_bytes()
        assert hashlib.sha256(data).hexdigest() == row.sha256 and len(data) == row.size
        assert row.reply_id is None and row.published_at is None
    assert len(stored_files(app)) == 5
    event = await db.fetch_value("SELECT data FROM letter_events WHERE kind = 'submitted'")
    assert json.loads(event)["attachments"] == 5


SIXTH = [(f"扫描件{i}.pdf", files.pdf(), "application/pdf") for i in range(6)]


@pytest.mark.parametrize(
    ("uploads", "message"),
    [
        ([("现场照片.jpg", files.exe(), "image/jpeg")], "“现场照片.jpg”无法作为附件"),
        ([("photo.jpg", files.html(), "image/jpeg")], "“photo.jpg”无法作为附件"),
        ([("合同.docx", files.zip_bomb_docx(), "application/zip")], "出于安全原因，“合同.docx”"),
        (
            [("大文件.pdf", files.pdf() + bytes(10 * 1024 * 1024), "application/pdf")],
            "“大文件.pdf”超过 10 MB",
        ),
        (SIXTH, "最多只能附 5 个文件"),
        # One bad file among good ones: the good ones are not stored either.
        ([upload("通知扫描件.pdf"), ("a.jpg", files.exe(), "image/jpeg")], "“a.jpg”无法作为附件"),
    ],
    ids=["renamed-exe", "html-as-jpg", "zip-bomb", "oversized", "sixth-file", "one-bad"],
)
async def test_refused_uploads_store_nothing_and_keep_the_text(
    app: Starlette, db: Database, client: httpx.AsyncClient, uploads: list[Upload], message: str
) -> None:
    response = await post_with_files(client, uploads)
    assert response.status_code == 400
    page = html.unescape(response.text)
    assert message in page and "请重新选择您的文件" in page
    assert f'value="{GOOD_LETTER["title"]}"' in page and GOOD_LETTER["body"] in page
    assert await count_rows(db, "letters") == 0 and await count_rows(db, "attachments") == 0
    assert stored_files(app) == []


async def test_a_form_error_elsewhere_says_the_files_must_be_chosen_again(
    app: Starlette, client: httpx.AsyncClient
) -> None:
    response = await post_with_files(client, [upload("通知扫描件.pdf")], title="短")
    assert response.status_code == 400 and "请重新选择您的文件" in response.text
    assert stored_files(app) == []


@pytest.mark.usefixtures("office")
async def test_a_photo_downloads_without_its_gps_position(
    app: Starlette, db: Database, client: httpx.AsyncClient
) -> None:
    number, _code = await letter_with_files(client, [upload("现场照片.jpg")])
    (row,) = await rows_of(db, number)
    async with logged_in(app, "dispatcher") as staff:
        page = await staff.get(f"/staff/letters/{number}")
        assert f"/staff/letters/{number}/files/{row.id}" in page.text
        response = await staff.get(f"/staff/letters/{number}/files/{row.id}")
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/jpeg"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["content-disposition"] == (
        "attachment; filename=\"attachment.jpg\"; filename*=UTF-8''"
        "%E7%8E%B0%E5%9C%BA%E7%85%A7%E7%89%87.jpg"
    )
    assert "sandbox" in response.headers["content-security-policy"]
    image = Image.open(io.BytesIO(response.content))
    assert image.format == "JPEG" and not image.getexif() and b"PhoneMaker" not in response.content


async def _accept(app: Starlette, db: Database, number: str, department: str) -> None:
    department_id = await db.fetch_value(
        "SELECT id FROM departments WHERE code = :code", {"code": department}
    )
    await intake.accept(
        db,
        settings=app.state.settings,
        clock=app.state.clock,
        actor=Actor(user_id=None, roles=frozenset({"dispatcher"})),
        tracking_no=number,
        department_id=department_id,
    )


async def _track(client: httpx.AsyncClient, number: str, code: str) -> httpx.Response:
    token = await csrf_token(client, "/track")
    return await client.post(
        "/track", data={"tracking_no": number, "query_code": code, "csrf_token": token}
    )


@pytest.mark.usefixtures("office")
async def test_who_may_download_a_writers_file(
    app: Starlette, db: Database, client: httpx.AsyncClient
) -> None:
    number, code = await letter_with_files(client, [upload("通知扫描件.pdf")])
    await _accept(app, db, number, "radio")
    (row,) = await rows_of(db, number)
    staff_url = f"/staff/letters/{number}/files/{row.id}"
    expected = {
        "dispatcher": 200,
        "radio_handler": 200,
        "radio_reviewer": 200,
        "policy_handler": 404,  # another department's letter does not exist for them
        "reporter": 403,  # the figures' role never opens letters
        "admin": 200,  # the administrator opens every letter, as on the letter page
        "anonymous": 303,  # to the login page
    }
    for name, status in expected.items():
        async with logged_in(app, name) as staff:
            response = await staff.get(staff_url)
        assert response.status_code == status, name
        if status == 200:
            assert response.content == files.pdf()
    # The writer: the right code gives links for an hour; a wrong code gives none.
    found = await _track(client, number, code)
    assert found.status_code == 200
    links = re.findall(r'href="(/track/files/[^"]+)"', found.text)
    assert len(links) == 1 and "一小时内有效" in found.text
    assert (await client.get(links[0])).content == files.pdf()
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app, client=("192.0.2.9", 1)), base_url="http://t"
    ) as stranger:
        wrong = await _track(stranger, number, "AAAA-AAAA")
        assert wrong.status_code == 404 and "/track/files/" not in wrong.text
        assert (await stranger.get(links[0])).status_code == 200  # a link is a capability
        tampered = links[0][:-3] + ("aaa" if not links[0].endswith("aaa") else "bbb")
        assert (await stranger.get(tampered)).status_code == 404
        assert (await stranger.get(f"/letters/{number}/files/{row.id}")).status_code == 404


async def test_an_hour_old_download_link_no_longer_works(
    app: Starlette, db: Database, client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    number, code = await letter_with_files(client, [upload("通知扫描件.pdf")])
    link = re.findall(r'href="(/track/files/[^"]+)"', (await _track(client, number, code)).text)[0]
    later = time.time() + 3601
    monkeypatch.setattr(time, "time", lambda: later)  # itsdangerous reads the wall clock
    assert (await client.get(link)).status_code == 404


@pytest.mark.parametrize(
    "path",
    [
        "/staff/letters/{no}/files/..%2F..%2Fsecret_key",
        "/staff/letters/{no}/files/%2e%2e",
        "/staff/letters/{no}/files/{id}%00",
        "/staff/letters/{no}/files/-1",
        "/staff/letters/{no}/files/%C2%B2",  # "²" passes str.isdigit()
        "/staff/letters/..%2F{no}/files/{id}",
        "/staff/letters/{no}%2F..%2F/files/{id}",
        "/track/files/..%2F..%2Fvar%2Fsecret_key",
        "/track/files/%2e%2e%2f%2e%2e%2fetc%2fpasswd",
        "/rate/..%2F..%2F/files/{id}",
        "/letters/{no}/files/..%2F{id}",
        "/letters/..%2Fstaff%2Fletters%2F{no}/files/{id}",
        "/static/..%2F..%2Fvar%2Fattachments%2F{stored}",
        "/static/../var/attachments/{stored}",
    ],
)
@pytest.mark.usefixtures("office")
async def test_path_traversal_in_every_parameter_is_refused(
    app: Starlette, db: Database, client: httpx.AsyncClient, path: str
) -> None:
    number, _code = await letter_with_files(client, [upload("通知扫描件.pdf")])
    (row,) = await rows_of(db, number)
    url = path.format(no=number, id=row.id, stored=f"{row.stored_name[:2]}/{row.stored_name}")
    async with logged_in(app, "dispatcher") as staff:
        response = await staff.get(url)
    assert response.status_code == 404, url
    assert response.content != files.pdf()


@pytest.mark.usefixtures("office")
async def test_a_reply_document_goes_through_review_and_out_by_link(
    app: Starlette, db: Database, client: httpx.AsyncClient
) -> None:
    number, code = await letter_with_files(client, [], email="writer@example.com")
    await _accept(app, db, number, "radio")
    report = ("检测报告.pdf", files.pdf(), "application/pdf")
    async with logged_in(app, "radio_handler") as handler:
        page = await handler.get(f"/staff/letters/{number}")
        token = csrf_from(page.text)
        sent = await handler.post(
            f"/staff/letters/{number}",
            data={"csrf_token": token, "action": "submit_draft", "body": REPLY},
            files=[("attachments", report)],
        )
        assert sent.status_code == 303, sent.text
    (row,) = await rows_of(db, number)
    assert row.reply_id is not None and row.filename == "检测报告.pdf"
    # Under review: the writer sees nothing of the draft, the reviewer sees the document.
    assert "检测报告" not in (await _track(client, number, code)).text
    async with logged_in(app, "radio_reviewer") as reviewer:
        page = await reviewer.get(f"/staff/letters/{number}")
        assert 'id="review-files"' in page.text and "检测报告.pdf" in page.text
        approved = await reviewer.post(
            f"/staff/letters/{number}",
            data={"csrf_token": csrf_from(page.text), "action": "approve"},
        )
        assert approved.status_code == 303
    mail = await db.fetch_one("SELECT context FROM outbox WHERE kind = 'replied'")
    assert mail is not None
    context = json.loads(mail["context"])
    assert context["documents"] == ["检测报告.pdf"]
    # The mail's link opens the reply with its documents, each a download.
    page = await client.get(f"/rate/{context['rating_token']}")
    link = f"/rate/{context['rating_token']}/files/{row.id}"
    assert link in page.text
    download = await client.get(link)
    assert download.status_code == 200 and download.content == files.pdf()
    assert download.headers["content-disposition"].startswith("attachment;")
    tracked = await _track(client, number, code)
    assert 'id="reply-files"' in tracked.text and "检测报告.pdf" in tracked.text
    events = [r["kind"] for r in await db.fetch_all("SELECT kind FROM letter_events ORDER BY id")]
    assert "attach" in events


async def test_a_handler_removes_a_document_from_the_draft(
    app: Starlette,
    db: Database,
    office: dict[str, str],  # noqa: F811
) -> None:
    number = office["radio"]
    async with logged_in(app, "radio_handler") as handler:
        token = csrf_from((await handler.get(f"/staff/letters/{number}")).text)
        saved = await handler.post(
            f"/staff/letters/{number}",
            data={"csrf_token": token, "action": "save_draft", "body": REPLY},
            files=[
                ("attachments", ("a.pdf", files.pdf(), "application/pdf")),
                ("attachments", ("b.xlsx", files.xlsx(), "application/octet-stream")),
            ],
        )
        assert saved.status_code == 303
        first, second = await rows_of(db, number)
        page = await handler.get(f"/staff/letters/{number}")
        assert f'form="detach-{first.id}"' in page.text
        removed = await handler.post(
            f"/staff/letters/{number}",
            data={"csrf_token": token, "action": "detach", "attachment_id": str(first.id)},
        )
        assert removed.status_code == 303
    assert [row.id for row in await rows_of(db, number)] == [second.id]
    assert not store_for(app.state.settings).path(first.stored_name).exists()
    assert store_for(app.state.settings).path(second.stored_name).exists()
    # Another department cannot touch it.
    async with logged_in(app, "policy_handler") as other:
        token = csrf_from((await other.get("/staff/inbox")).text)
        refused = await other.post(
            f"/staff/letters/{number}",
            data={"csrf_token": token, "action": "detach", "attachment_id": str(second.id)},
        )
        assert refused.status_code == 404
    assert len(await rows_of(db, number)) == 1


@pytest.mark.usefixtures("office")
async def test_attachments_are_published_one_by_one_after_a_warning(
    app: Starlette, db: Database, client: httpx.AsyncClient
) -> None:
    number, _code = await letter_with_files(
        client, [upload("现场照片.jpg"), upload("通知扫描件.pdf")], publish_consent="1"
    )
    await _accept(app, db, number, "radio")
    settings, clock = app.state.settings, app.state.clock
    handler = Actor(
        user_id=await db.fetch_value("SELECT id FROM users WHERE username = 'radio_handler'"),
        roles=frozenset({"handler"}),
        department_id=await db.fetch_value("SELECT id FROM departments WHERE code = 'radio'"),
    )
    reviewer = Actor(
        user_id=await db.fetch_value("SELECT id FROM users WHERE username = 'radio_reviewer'"),
        roles=frozenset({"reviewer"}),
        department_id=handler.department_id,
    )
    await handling.save_draft(db, clock=clock, actor=handler, tracking_no=number, body=REPLY)
    await handling.submit_for_review(db, clock=clock, actor=handler, tracking_no=number)
    await handling.approve(db, settings=settings, clock=clock, actor=reviewer, tracking_no=number)
    photo, scan = await rows_of(db, number)
    async with logged_in(app, "dispatcher") as dispatcher:
        page = await dispatcher.get(f"/staff/letters/{number}")
        assert 'id="publication-files-warning"' in page.text
        token = csrf_from(page.text)
        await dispatcher.post(
            f"/staff/letters/{number}",
            data={"csrf_token": token, "action": "publish"},
        )
        unchecked = await dispatcher.post(
            f"/staff/letters/{number}",
            data={"csrf_token": token, "action": "publish_file", "attachment_id": str(scan.id)},
        )
        assert unchecked.status_code == 400 and "请确认" in unchecked.text
        assert (await client.get(f"/letters/{number}/files/{scan.id}")).status_code == 404
        published = await dispatcher.post(
            f"/staff/letters/{number}",
            data={
                "csrf_token": token,
                "action": "publish_file",
                "attachment_id": str(scan.id),
                "checked": "1",
            },
        )
        assert published.status_code == 303
        public = await client.get(f"/letters/{number}")
        assert f"/letters/{number}/files/{scan.id}" in public.text
        assert f"/files/{photo.id}" not in public.text
        assert (await client.get(f"/letters/{number}/files/{scan.id}")).status_code == 200
        assert (await client.get(f"/letters/{number}/files/{photo.id}")).status_code == 404
        withdrawn = await dispatcher.post(
            f"/staff/letters/{number}",
            data={"csrf_token": token, "action": "unpublish_file", "attachment_id": str(scan.id)},
        )
        assert withdrawn.status_code == 303
    assert (await client.get(f"/letters/{number}/files/{scan.id}")).status_code == 404
    kinds = [r["kind"] for r in await db.fetch_all("SELECT kind FROM letter_events ORDER BY id")]
    assert kinds[-2:] == ["publish_file", "unpublish_file"]


async def test_orphaned_files_are_swept_and_kept_files_stay(
    app: Starlette, db: Database, client: httpx.AsyncClient
) -> None:
    number, _code = await letter_with_files(client, [upload("通知扫描件.pdf")])
    (row,) = await rows_of(db, number)
    store: AttachmentStore = store_for(app.state.settings)
    # A crash after the file was written and before the letter committed: an old orphan, a
    # young one (its transaction may still commit), and a half-written incoming file.
    old_orphan, young_orphan = store.save(b"lost"), store.save(b"in flight")
    incoming = store.root / "incoming" / ("0" * 32)
    incoming.write_bytes(b"half")
    hour_ago = time.time() - 3700
    for path in (store.path(old_orphan), store.path(row.stored_name), incoming):
        os.utime(path, (hour_ago, hour_ago))
    assert await sweep_orphans(db, store) == 1
    assert not store.path(old_orphan).exists() and not incoming.exists()
    assert store.path(young_orphan).exists() and store.path(row.stored_name).exists()


async def test_purge_removes_the_files_with_the_letter(
    app: Starlette, db: Database, client: httpx.AsyncClient
) -> None:
    number, _code = await letter_with_files(client, [upload("现场照片.jpg"), upload("合同.docx")])
    kept_number, _kept = await letter_with_files(client, [upload("统计.xlsx")])
    rows = await rows_of(db, number)
    old = datetime(2015, 3, 1, tzinfo=ZoneInfo("Asia/Shanghai"))
    await db.execute(
        "UPDATE letters SET state = 'closed', closed_at = :old WHERE tracking_no = :no",
        {"old": old, "no": number},
    )
    settings = with_settings(app.state.settings, retention_years=5)
    report = await purge(db, settings=settings, clock=app.state.clock, dry_run=False)
    assert report.total == 1 and report.rows.attachments_deleted == 2
    assert await rows_of(db, number) == []
    store = store_for(settings)
    assert not any(store.path(row.stored_name).exists() for row in rows)
    (kept,) = await rows_of(db, kept_number)
    assert store.path(kept.stored_name).exists()


async def test_the_api_takes_files_as_multipart_and_shows_them_to_the_writer(
    app: Starlette, db: Database, client: httpx.AsyncClient
) -> None:
    await staff_actor(db, "portal", "reporter", None)
    _id, token = await api_tokens.create_token(
        db, clock=app.state.clock, username="portal", label="mini program", scope="submit"
    )
    letter = json.dumps({**GOOD_LETTER, "channel": "complaint"}, ensure_ascii=False)
    headers = {"authorization": f"Bearer {token}"}
    refused = await client.post(
        "/api/v1/letters",
        data={"letter": letter},
        files=[("attachments", ("证据.jpg", files.html(), "image/jpeg"))],
        headers=headers,
    )
    assert refused.status_code == 422
    assert "“证据.jpg”" in refused.json()["error"]["fields"]["attachments"]
    assert await count_rows(db, "letters") == 0 and stored_files(app) == []

    sent = await client.post(
        "/api/v1/letters",
        data={"letter": letter},
        files=[("attachments", upload("现场照片.jpg")), ("attachments", upload("合同.docx"))],
        headers=headers,
    )
    assert sent.status_code == 201, sent.text
    receipt = sent.json()
    view = await client.get(
        f"/api/v1/letters/{receipt['tracking_no']}", params={"query_code": receipt["query_code"]}
    )
    shown = view.json()["attachments"]
    assert [(item["filename"], item["from_writer"]) for item in shown] == [
        ("现场照片.jpg", True),
        ("合同.docx", True),
    ]
    assert (await client.get(shown[1]["url"])).content == files.docx()


@pytest.mark.usefixtures("office")
async def test_the_admin_page_shows_the_space_attachments_take(
    app: Starlette, client: httpx.AsyncClient
) -> None:
    await letter_with_files(client, [upload("通知扫描件.pdf"), upload("统计.xlsx")])
    async with logged_in(app, "admin") as admin:
        page = await admin.get("/staff/admin")
    usage = re.search(r'id="attachment-usage">([^<]+)<', page.text)
    assert usage and usage.group(1).startswith("2 个文件"), page.text
