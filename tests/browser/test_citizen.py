"""A citizen in a real browser: writes on a phone, with the keyboard alone, gets errors
explained, switches to large text, high contrast and English, and passes the ALTCHA check.

Drives Debian's Chromium (/usr/bin/chromium) with Playwright against `python -m mailbox serve`.
With MAILBOX_SCREENSHOTS=1 the phone test also refreshes docs/form-phone.png for the README.
"""

from __future__ import annotations

import os
import re
import sqlite3
from collections.abc import Callable
from contextlib import closing
from pathlib import Path

import pytest

from tests.browser.conftest import require_chromium, started_server

require_chromium()

from playwright.sync_api import Page, expect  # noqa: E402

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOT = ROOT / "docs" / "form-phone.png"

LETTER = {
    "title": "关于小区夜间施工噪音的咨询",
    "body": (
        "我住在天山区幸福路某小区，最近一个月小区东侧的工地每天晚上施工到十一点以后，"
        "噪音很大，老人和孩子都休息不好。\n请问夜间施工需要办理什么手续？"
        "这个工地是否办理了夜间施工许可？谢谢。"
    ),
    "name": "李秀兰",
    "phone": "13912345678",
    "email": "li.xiulan@example.com",
}


def no_horizontal_scroll(page: Page) -> bool:
    return bool(page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"))


def focused_id(page: Page) -> str:
    return str(page.evaluate("document.activeElement ? document.activeElement.id : ''"))


def tab_to(page: Page, element_id: str, limit: int = 30) -> int:
    """Press Tab until the element with this id has focus; the number of presses."""
    for presses in range(1, limit + 1):
        page.keyboard.press("Tab")
        if focused_id(page) == element_id:
            return presses
    raise AssertionError(f"#{element_id} was not reached with {limit} Tab presses")


def read_receipt(page: Page) -> tuple[str, str]:
    expect(page).to_have_url(re.compile(r"/receipt$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("您的来信已收到")
    number = page.locator("#tracking-no").inner_text().strip()
    code = page.locator("#query-code").inner_text().strip()
    assert re.fullmatch(r"\d{14}", number), number
    assert re.fullmatch(r"[A-Z0-9]{4}-[A-Z0-9]{4}", code), code
    return number, code


def test_a_letter_written_and_tracked_on_a_phone(phone_page: Page) -> None:
    page = phone_page
    page.goto("/")
    assert no_horizontal_scroll(page), "the home page scrolls sideways on a 360px phone"
    page.get_by_role("link", name="进入网上咨询写信").click()
    expect(page).to_have_url(re.compile(r"/write/consult$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("网上咨询")

    page.get_by_label("标题").fill(LETTER["title"])
    page.get_by_label("来信内容").fill(LETTER["body"])
    page.get_by_label("您的姓名").fill(LETTER["name"])
    page.get_by_label("联系电话").fill(LETTER["phone"])
    page.get_by_label("电子邮箱").fill(LETTER["email"])
    assert no_horizontal_scroll(page), "the letter form scrolls sideways on a 360px phone"
    if os.environ.get("MAILBOX_SCREENSHOTS") == "1":
        SCREENSHOT.parent.mkdir(exist_ok=True)
        page.evaluate("window.scrollTo(0, 0)")
        page.screenshot(path=str(SCREENSHOT))  # what the phone shows: the top of the form

    page.get_by_role("button", name="提交信件").click()
    number, code = read_receipt(page)
    assert no_horizontal_scroll(page), "the receipt scrolls sideways on a 360px phone"

    page.goto("/track")
    page.get_by_label("信件编号").fill(number)
    page.get_by_label("查询码").fill(code)
    page.get_by_role("button", name="查询", exact=True).click()
    expect(page.locator("#letter-state")).to_have_text("已收到，等待受理")
    expect(page.locator("#letter-title")).to_have_text(LETTER["title"])
    assert no_horizontal_scroll(page), "the tracking page scrolls sideways on a 360px phone"


def test_the_skip_link_is_the_first_tab_stop(page: Page) -> None:
    page.goto("/write/consult")
    page.keyboard.press("Tab")
    skip = page.locator("a.skip-link")
    expect(skip).to_be_focused()
    expect(skip).to_have_text("跳到主要内容")
    box = skip.bounding_box()
    assert box is not None and box["x"] >= 0 and box["y"] >= 0, (
        "the focused skip link is off-screen"
    )
    page.keyboard.press("Enter")
    expect(page.locator("#main")).to_be_focused()
    # The next Tab continues inside the main content, at the first form field.
    page.keyboard.press("Tab")
    expect(page.locator("#title")).to_be_focused()


def test_a_letter_written_with_the_keyboard_alone(page: Page) -> None:
    page.goto("/write/consult")
    tab_to(page, "title")
    order = ["title"]
    for text, following in [
        (LETTER["title"], "body"),
        (LETTER["body"], "attachments"),  # the file picker: nothing to type
        ("", "name"),
        (LETTER["name"], "phone"),
        (LETTER["phone"], "email"),
        (LETTER["email"], "address"),
        ("乌鲁木齐市天山区幸福路8号", "publish_consent"),
    ]:
        page.keyboard.type(text)
        page.keyboard.press("Tab")
        order.append(focused_id(page))
        assert order[-1] == following, f"Tab went from #{order[-2]} to #{order[-1]}"
    page.keyboard.press("Space")
    expect(page.locator("#publish_consent")).to_be_checked()
    page.keyboard.press("Tab")  # the honeypot field is skipped (tabindex=-1)
    send = page.get_by_role("button", name="提交信件")
    expect(send).to_be_focused()
    expect(page.locator("#body")).to_have_value(LETTER["body"])
    page.keyboard.press("Enter")
    read_receipt(page)


def test_errors_are_summarised_linked_and_focused(page: Page) -> None:
    page.goto("/write/consult")
    page.get_by_role("button", name="提交信件").click()

    summary = page.locator("#error-summary")
    expect(summary).to_be_visible()
    expect(summary).to_have_attribute("role", "alert")
    expect(summary).to_be_focused()
    expect(summary.get_by_role("heading")).to_have_text("请修改以下内容：")
    links = summary.get_by_role("link")
    hrefs = [links.nth(i).get_attribute("href") for i in range(links.count())]
    assert hrefs == ["#title", "#body", "#name", "#phone"]
    for field in ("title", "body", "name", "phone"):
        expect(page.locator(f"#{field}")).to_have_attribute("aria-invalid", "true")
        described = page.locator(f"#{field}").get_attribute("aria-describedby") or ""
        assert f"{field}-error" in described.split(), f"#{field} does not name its error"
        expect(page.locator(f"#{field}-error")).to_be_visible()
    for field in ("email", "address"):
        expect(page.locator(f"#{field}")).not_to_have_attribute("aria-invalid", "true")

    # A link in the summary takes the writer to the field.
    links.nth(2).click()
    expect(page.locator("#name")).to_be_focused()

    # What was typed is kept; only the remaining mistakes are reported.
    page.get_by_label("标题").fill(LETTER["title"])
    page.get_by_label("来信内容").fill(LETTER["body"])
    page.get_by_label("联系电话").fill("12345")
    page.get_by_label("电子邮箱").fill(LETTER["email"])
    page.get_by_role("button", name="提交信件").click()
    expect(summary).to_be_focused()
    hrefs = [links.nth(i).get_attribute("href") for i in range(links.count())]
    assert hrefs == ["#name", "#phone"]
    expect(page.locator("#title")).to_have_value(LETTER["title"])
    expect(page.locator("#body")).to_have_value(LETTER["body"])
    expect(page.locator("#phone")).to_have_value("12345")
    expect(page.locator("#email")).to_have_value(LETTER["email"])
    expect(page.locator("#title")).not_to_have_attribute("aria-invalid", "true")
    expect(page.locator("#phone")).to_have_attribute("aria-invalid", "true")


def body_font_px(page: Page) -> float:
    return float(page.evaluate("parseFloat(getComputedStyle(document.body).fontSize)"))


def test_large_text_and_high_contrast_are_remembered(page: Page) -> None:
    html = page.locator("html")
    page.goto("/write/consult")
    normal = body_font_px(page)
    normal_background = page.evaluate("getComputedStyle(document.body).backgroundColor")

    large = page.get_by_role("button", name="大字模式")
    expect(large).to_have_attribute("aria-pressed", "false")
    large.click()
    expect(html).to_have_class(re.compile(r"\blarge-text\b"))
    expect(page).to_have_url(re.compile(r"/write/consult$"))
    expect(large).to_have_attribute("aria-pressed", "true")
    assert body_font_px(page) > normal
    page.reload()
    expect(html).to_have_class(re.compile(r"\blarge-text\b"))
    assert body_font_px(page) > normal

    contrast = page.get_by_role("button", name="高对比度")
    expect(contrast).to_have_attribute("aria-pressed", "false")
    contrast.click()
    expect(html).to_have_class(re.compile(r"\bhigh-contrast\b"))
    expect(contrast).to_have_attribute("aria-pressed", "true")
    background = page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert background != normal_background
    assert background == "rgb(0, 0, 0)"
    page.reload()
    expect(html).to_have_class(re.compile(r"\bhigh-contrast\b"))
    expect(html).to_have_class(re.compile(r"\blarge-text\b"))

    # The settings follow the writer to other pages, and a second press turns them off.
    page.goto("/track")
    expect(html).to_have_class(re.compile(r"\blarge-text\b.*\bhigh-contrast\b"))
    page.get_by_role("button", name="大字模式").click()
    expect(page).to_have_url(re.compile(r"/track$"))
    expect(html).not_to_have_class(re.compile(r"\blarge-text\b"))
    assert body_font_px(page) == normal
    page.get_by_role("button", name="高对比度").click()
    expect(html).not_to_have_class(re.compile(r"\bhigh-contrast\b"))


def test_english(page: Page) -> None:
    page.goto("/")
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    page.get_by_role("link", name="English").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Write to us")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    # Remembered on the next page, with a way back to Chinese.
    page.get_by_role("link", name="Write to Online Consultation").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Online Consultation")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("link", name="中文")).to_have_attribute("lang", "zh-CN")


def test_the_spam_challenge_solves_itself(
    tmp_path_factory: pytest.TempPathFactory, new_page: Callable[..., Page]
) -> None:
    with started_server(tmp_path_factory, "browser-altcha", spam_challenge="on") as (
        url,
        database,
    ):
        page = new_page(url)
        page.goto("/write/consult")
        solution = page.locator("input[name=altcha]")
        expect(solution).to_have_count(1)
        page.get_by_label("标题").fill(LETTER["title"])
        page.get_by_label("来信内容").fill(LETTER["body"])
        page.get_by_label("您的姓名").fill(LETTER["name"])
        page.get_by_label("联系电话").fill(LETTER["phone"])
        expect(solution).to_have_value(re.compile(r".{20,}"), timeout=20_000)
        widget = page.locator("altcha-widget .altcha")
        expect(widget).to_have_attribute("data-state", "verified")
        expect(widget).to_contain_text("已验证")  # the Chinese strings were loaded
        page.get_by_role("button", name="提交信件").click()
        number, _code = read_receipt(page)
    # The letter passed on the proof of work, not on the slower no-script fallback.
    with closing(sqlite3.connect(f"file:{database}?mode=ro", uri=True)) as connection:
        row = connection.execute(
            "SELECT challenge, title FROM letters WHERE tracking_no = ?", (number,)
        ).fetchone()
    assert row == ("pow", LETTER["title"])
