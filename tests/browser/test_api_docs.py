"""/api/docs in Chromium: the vendored Swagger UI shows every operation under the site's
Content-Security-Policy, works from the keyboard, and calls the API; without JavaScript the
server-rendered list stays.

Drives Debian's Chromium (/usr/bin/chromium) with Playwright against `python -m mailbox serve`.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import httpx
import pytest

from tests.browser.conftest import require_chromium

require_chromium()

from playwright.sync_api import Page, expect  # noqa: E402

pytestmark = pytest.mark.browser

# Playwright injects this before the page's own scripts, outside the CSP's reach.
RECORD_CSP_VIOLATIONS = """
window.cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.cspViolations.push(event.violatedDirective + " " + event.blockedURI);
});
"""


def operation_ids(server: str) -> list[str]:
    document = httpx.get(f"{server}/api/v1/openapi.json").json()
    return [
        operation["operationId"]
        for item in document["paths"].values()
        for operation in item.values()
        if isinstance(operation, dict) and "operationId" in operation
    ]


def test_the_docs_page_shows_every_operation_with_no_errors_and_no_csp_violation(
    page: Page, server: str
) -> None:
    page.add_init_script(RECORD_CSP_VIOLATIONS)
    page.goto("/api/docs")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("Public letter office API")
    for operation_id in operation_ids(server):
        # Swagger UI names each operation's block after its first tag and operationId.
        expect(page.locator(f"[id$='-{operation_id}'].opblock")).to_have_count(1)
    expect(page.locator("#api-fallback")).to_be_hidden()
    expect(page.get_by_role("heading", name="6. Webhooks")).to_be_visible()
    assert page.evaluate("window.cspViolations") == []


def test_an_operation_is_opened_and_tried_with_the_keyboard_alone(page: Page) -> None:
    page.goto("/api/docs")
    summary = page.locator("#operations-Letters-listChannels .opblock-summary-control")
    summary.focus()
    page.keyboard.press("Enter")
    operation = page.locator("#operations-Letters-listChannels")
    expect(operation).to_have_class(re.compile(r"\bis-open\b"))
    try_it = operation.get_by_role("button", name="Try it out")
    try_it.focus()
    page.keyboard.press("Enter")
    execute = operation.get_by_role("button", name="Execute")
    execute.focus()
    page.keyboard.press("Enter")
    # The live answer of GET /channels, fetched under connect-src 'self'.
    expect(operation.locator(".live-responses-table tbody .response-col_status")).to_have_text(
        "200"
    )
    expect(operation.locator(".live-responses-table")).to_contain_text("consult")


def test_without_javascript_the_page_lists_the_operations_and_the_guide(
    new_page: Callable[..., Page], server: str
) -> None:
    page = new_page(server, java_script_enabled=False, locale="en")
    page.goto("/api/docs")
    expect(page.get_by_role("heading", name="Operations")).to_be_visible()
    table = page.locator("#api-fallback table")
    expect(table).to_contain_text("/api/v1/letters/{tracking_no}")
    expect(page.get_by_role("link", name="The OpenAPI 3.1 document (JSON)")).to_have_attribute(
        "href", "/api/v1/openapi.json"
    )
    expect(page.locator(".api-guide")).to_contain_text("X-Mailbox-Signature")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
