"""axe-core in the browser tests: inject it into a page and fail with a readable list.

axe-core comes from the npm registry's `axe-core` package by way of the PyPI package
`axe-playwright-python` (pinned in pyproject.toml), which ships npm's `axe.min.js` unchanged;
only that file is used. It is evaluated through Playwright, which the page's CSP does not block.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Any

from playwright.sync_api import Page

AXE_VERSION = "4.12.1"
# GB/T 37668-2019 level 2 is WCAG 2.1 AA; axe tags its rules by the success criteria they test.
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
# Rules outside those tags that check what the issue asks for too: landmarks, one h1,
# headings in order, all content inside a landmark.
EXTRA_RULES = [
    "landmark-one-main",
    "landmark-unique",
    "landmark-no-duplicate-banner",
    "landmark-no-duplicate-contentinfo",
    "page-has-heading-one",
    "heading-order",
    "empty-heading",
    "region",
]
OPTIONS: dict[str, Any] = {
    "runOnly": {"type": "tag", "values": TAGS},
    "rules": {rule: {"enabled": True} for rule in EXTRA_RULES},
    "resultTypes": ["violations"],
}


@cache
def axe_source() -> str:
    source = resources.files("axe_playwright_python").joinpath("axe.min.js").read_text()
    assert source.startswith(f"/*! axe v{AXE_VERSION}"), source[:40]
    return source


def violations(page: Page) -> list[dict[str, Any]]:
    """Run axe on the page as it is now; its violations of the rules above."""
    if not page.evaluate("typeof window.axe === 'object'"):
        page.evaluate(axe_source())
    found: list[dict[str, Any]] = page.evaluate("options => axe.run(document, options)", OPTIONS)[
        "violations"
    ]
    return found


def describe(found: list[dict[str, Any]], targets: int = 3) -> str:
    """One paragraph a violation: rule, impact, the first elements, what to read."""
    lines = []
    for violation in found:
        nodes = violation["nodes"]
        lines.append(
            f"- {violation['id']} ({violation['impact']}): {violation['help']}"
            f" [{len(nodes)} element{'s' if len(nodes) != 1 else ''}]"
        )
        for node in nodes[:targets]:
            target = " ".join(str(part) for part in node["target"])
            summary = node.get("failureSummary", "").replace("\n", " ")
            lines.append(f"    {target}: {summary}")
        lines.append(f"    {violation['helpUrl']}")
    return "\n".join(lines)


def assert_no_violations(page: Page, what: str = "") -> None:
    found = violations(page)
    assert not found, (
        f"axe-core {AXE_VERSION} found {len(found)} violation(s) on {what or page.url}:\n"
        + describe(found)
    )
