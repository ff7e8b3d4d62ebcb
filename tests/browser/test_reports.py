"""The report page in real browsers: a reporter logs in and lands on it, copies the summary
sentence, reads it on a 360px phone without sideways scrolling, and prints the figures.

Letters are written through the public form of `python -m mailbox serve` (this year, by the
server's own clock); the reporter's account is made with the command line.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

import httpx
import pytest

from tests.browser.conftest import PHONE, require_chromium
from tests.helpers import GOOD_LETTER, csrf_from
from tests.live import cli, migrate, running_server, server_environment

require_chromium()

from playwright.sync_api import Page, expect  # noqa: E402

pytestmark = pytest.mark.browser

PASSWORD = "a long password for tests"
LETTERS = ["consult", "consult", "director"]
SENTENCE = re.compile(
    r"^全年收到厅长信箱1件、网上咨询2件、在线投诉0件、意见建议0件,全年共受理信件0封"
)


def _write(url: str, channel: str) -> None:
    with httpx.Client(base_url=url) as client:
        form = client.get(f"/write/{channel}")
        sent = client.post(
            f"/write/{channel}", data={**GOOD_LETTER, "csrf_token": csrf_from(form.text)}
        )
        assert sent.status_code == 303, sent.text


@pytest.fixture(scope="module")
def office(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A server with a reporter account and three letters of this year."""
    folder = tmp_path_factory.mktemp("reports-server")
    env = server_environment(f"sqlite+aiosqlite:///{folder / 'mailbox.sqlite3'}", folder / "var")
    migrate(env)
    cli(env, "create-user", "li", "--role", "reporter", "--display-name", "李统计",
         "--password-stdin", stdin=PASSWORD + "\n")  # fmt: skip
    with running_server(env, "--no-worker", log=folder / "server.log") as url:
        for channel in LETTERS:
            _write(url, channel)
        yield url


def log_in(page: Page) -> None:
    page.goto("/staff/login")
    page.get_by_label("用户名").fill("li")
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page).to_have_url(re.compile(r"/staff/reports$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("报表")


def no_horizontal_scroll(page: Page) -> bool:
    return bool(page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"))


def test_the_reporter_copies_the_summary_sentence(
    office: str, new_page: Callable[..., Page]
) -> None:
    page = new_page(office)
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=office)
    log_in(page)
    summary = page.get_by_label("摘要句（可用于年度报告）")
    expect(summary).to_have_value(SENTENCE)
    sentence = summary.input_value()
    expect(page.locator("#by-channel tfoot td[data-figure=received]")).to_have_text("3")

    page.get_by_role("button", name="复制").click()
    expect(page.locator("#copy-status")).to_have_text("已复制。")
    assert page.evaluate("navigator.clipboard.readText()") == sentence

    for name in ("每月收到和答复的来信", "各渠道来信占比"):
        chart = page.get_by_role("img", name=re.compile(f"^{name} "))
        expect(chart).to_have_count(1)
        assert chart.evaluate("element => element.tagName") == "svg"
    expect(page.locator("svg.chart[role=img]")).to_have_count(2)  # no reply yet: no on-time

    # Printed: the tables and charts without the navigation and the forms.
    page.emulate_media(media="print")
    expect(page.locator(".staff-bar")).to_be_hidden()
    expect(page.locator("form.report-form")).to_be_hidden()
    expect(page.locator("#by-month")).to_be_visible()
    expect(page.locator("#chart-months")).to_be_visible()
    expect(page.locator(".summary-print")).to_have_text(sentence)


def test_the_report_on_a_phone(office: str, new_page: Callable[..., Page]) -> None:
    page = new_page(office, **PHONE)
    log_in(page)
    expect(page.locator("#summary")).to_have_value(SENTENCE)
    assert no_horizontal_scroll(page), "the report page scrolls sideways on a 360px phone"
    # The wide tables scroll inside their own frame instead.
    frame = page.locator("#by-channel").locator("xpath=..")
    assert frame.evaluate("element => element.scrollWidth > element.clientWidth")
    for chart in page.locator("svg.chart").all():
        box = chart.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 360

    # A wrong date is explained at the field; the page still fits.
    page.get_by_label("指定起止日期").check()
    page.get_by_label("起始日期").fill("2018-12-31")
    page.get_by_label("截止日期（含当天）").fill("2018-01-01")
    page.get_by_role("button", name="生成报表").click()
    expect(page.locator("#to-error")).to_have_text("结束日期早于开始日期。")
    expect(page.locator("#error-summary")).to_be_focused()
    assert no_horizontal_scroll(page), "the report page with errors scrolls sideways"
