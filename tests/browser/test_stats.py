"""/stats on a 360-pixel phone: the page stays put, wide tables scroll inside their frame."""

from __future__ import annotations

import re

from tests.browser.conftest import require_chromium

require_chromium()

from playwright.sync_api import Page, expect  # noqa: E402


def test_stats_on_a_phone(phone_page: Page) -> None:
    page = phone_page
    page.goto("/")
    page.get_by_role("link", name="办理统计").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("留言受理反馈情况")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), (
        "the statistics page scrolls sideways on a 360px phone"
    )
    regions = page.locator(".table-scroll")
    assert regions.count() >= 6
    assert page.locator("table").count() == regions.count()
    for index in range(regions.count()):
        # each table in a focusable region named by its caption, which scrolls if need be
        region = regions.nth(index)
        expect(region.locator("table")).to_have_count(1)
        expect(region).to_have_attribute("role", "region")
        expect(region).to_have_attribute("tabindex", "0")
        assert region.evaluate("r => getComputedStyle(r).overflowX") == "auto"
        assert region.evaluate("r => r.getBoundingClientRect().right <= window.innerWidth")
    expect(page.get_by_role("region", name=re.compile(r"^\d{4}年各月合计$"))).to_be_visible()

    page.get_by_label("年份").select_option("2025")
    page.get_by_role("button", name="查看").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("2025年留言受理反馈情况")
    expect(page.get_by_role("table", name="2025年各栏目情况")).to_be_visible()
