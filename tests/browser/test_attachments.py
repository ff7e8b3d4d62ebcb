"""Attachments in real browsers: a citizen on a 360-pixel phone attaches a photo taken with
GPS on; the file picker's own check stops a file that is too large before it is sent; the
dispatcher routes the letter and the department's handler downloads the photo, without EXIF."""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from PIL import Image

from tests import files
from tests.browser.conftest import PHONE, require_chromium
from tests.browser.test_cycle import DEPARTMENT, LETTER, expect_state, log_in, set_up_office
from tests.live import running_server, server_environment

require_chromium()

from playwright.sync_api import Page, expect  # noqa: E402

pytestmark = pytest.mark.browser


@pytest.fixture
def office(tmp_path: Path) -> Iterator[str]:
    env = server_environment(
        f"sqlite+aiosqlite:///{tmp_path / 'mailbox.sqlite3'}", tmp_path / "var", attachment_mb="1"
    )
    set_up_office(env)
    with running_server(env, "--no-worker", log=tmp_path / "server.log") as url:
        yield url


def test_a_photo_from_a_phone_reaches_the_handler_without_its_location(
    office: str, new_page: Callable[..., Page], tmp_path: Path
) -> None:
    photo = tmp_path / "现场照片.jpg"
    photo.write_bytes(files.jpeg_with_gps((800, 600)))
    too_big = tmp_path / "录像.pdf"
    too_big.write_bytes(files.pdf() + bytes(2 * 1024 * 1024))

    citizen = new_page(office, **PHONE)
    citizen.goto("/write/complaint")
    citizen.get_by_label("标题").fill(LETTER["title"])
    citizen.get_by_label("来信内容").fill(LETTER["body"])
    citizen.get_by_label("您的姓名").fill(LETTER["name"])
    citizen.get_by_label("联系电话").fill(LETTER["phone"])
    picker = citizen.get_by_label("照片或文件")
    # A file over the limit (1 MB here) is named at once, and the letter is not sent.
    picker.set_input_files([str(photo), str(too_big)])
    expect(citizen.locator("#attachments-check")).to_contain_text("“录像.pdf”超过 1 MB")
    citizen.get_by_role("button", name="提交信件").click()
    expect(citizen).to_have_url(re.compile(r"/write/complaint$"))
    expect(picker).to_be_focused()
    assert citizen.evaluate("document.documentElement.scrollWidth <= window.innerWidth")

    picker.set_input_files([str(photo)])
    expect(citizen.locator("#attachments-check")).to_be_hidden()
    citizen.get_by_role("button", name="提交信件").click()
    expect(citizen).to_have_url(re.compile(r"/receipt$"))
    number = citizen.locator("#tracking-no").inner_text().strip()

    dispatcher = new_page(office)
    log_in(dispatcher, "dispatcher", "/staff/queue", "待办来信")
    dispatcher.goto(f"/staff/letters/{number}")
    dispatcher.get_by_label("主办处室").select_option(label=DEPARTMENT[1])
    dispatcher.get_by_role("button", name="受理", exact=True).click()
    expect_state(dispatcher, "assigned")

    handler = new_page(office)
    log_in(handler, "handler", "/staff/inbox", "本处室来信")
    handler.goto(f"/staff/letters/{number}")
    link = handler.locator("#writer-files").get_by_role("link", name="现场照片.jpg")
    with handler.expect_download() as download_info:
        link.click()
    download = download_info.value
    assert download.suggested_filename == "现场照片.jpg"
    data = Path(download.path()).read_bytes()
    image = Image.open(io.BytesIO(data))
    assert image.size == (800, 600) and not image.getexif() and b"PhoneMaker" not in data
