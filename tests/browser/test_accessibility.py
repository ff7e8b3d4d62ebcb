"""Accessibility (GB/T 37668-2019 level 2 = WCAG 2.1 AA) and 适老化, checked in a real browser.

Every public page and the main staff pages, in Chinese and in English (chosen by the browser's
Accept-Language), in normal and in large-text mode, and in high-contrast mode: axe-core finds no
violation (tests/browser/axe.py); `<html lang>` matches the page; errors are tied to their
fields; a 320px window (400% zoom) does not scroll sideways. In normal mode also: the Chinese
page shows no English sentence nor internal code and the English page no Chinese interface
text; text enlarged to 200% does not scroll sideways at 1280px; every link and control shows
its focus; one h1, tables with captions and scoped headers. A citizen also writes and tracks a
letter with the keyboard alone, seeing where the focus is at each step.

One server with the demo office (`python -m mailbox demo`) and one staff account that holds every
role; each language and mode is one browser context that walks all pages in one tab.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from mailbox.auth.tokens import rating_token
from mailbox.domain.states import LetterState, Source
from mailbox.domain.workflow import Action
from mailbox.mail.render import SUBJECTS
from tests.browser.conftest import require_chromium, started_server
from tests.helpers import GOOD_LETTER, csrf_from
from tests.live import SECRET, cli, running_server, server_environment

require_chromium()

from playwright.sync_api import Page, ViewportSize, expect  # noqa: E402

from tests.browser.axe import AXE_VERSION, describe, violations  # noqa: E402

pytestmark = pytest.mark.browser

ORG = "示例厅"
USERNAME = "a11y"
PASSWORD = "a long password for tests"
WIDE = ViewportSize(width=1280, height=800)
NARROW = ViewportSize(width=320, height=640)
LETTER = {
    "title": "关于老旧小区加装电梯的咨询",
    "body": (
        "我家住在六楼，家里有两位八十多岁的老人，上下楼很不方便。请问加装电梯需要办理哪些手续？"
    ),
    "name": "赵桂芳",
    "phone": "13712345678",
}
# Chinese shown on English pages on purpose: examples of what to write, and terms of art.
CHINESE_IN_ENGLISH = {"关于某路段噪音扰民的咨询", "信访", "全年", "满意", "基本满意", "调休"}
# Words the Chinese pages may show in Latin letters (formats, standards, product names).
LATIN_IN_CHINESE = re.compile(r"^(CSV|XLSX|JSON|SVG|PDF|Atom|RSS|ALTCHA|ID|IP|URL|SMTP)$")
HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
ENGLISH_RUN = re.compile(r"[A-Za-z][A-Za-z'’]*(?:[ \t]+[A-Za-z][A-Za-z'’]*){2,}")
ADDRESS = re.compile(r"\S*(?:@|://|www\.)\S*")
# Internal codes: shown alone on a Chinese page, they are a state, step or mail left untranslated.
CODES = {str(code) for kind in (LetterState, Source, Action) for code in kind} | set(SUBJECTS)


@dataclass(frozen=True)
class Site:
    url: str
    database: Path
    channels: list[str]
    user_id: int
    letters: dict[str, str]  # staff letter pages to check: what → tracking number
    rate_path: str


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    folder = tmp_path_factory.mktemp("accessibility")
    database = folder / "mailbox.sqlite3"
    env = server_environment(f"sqlite+aiosqlite:///{database}", folder / "var", org_name=ORG)
    cli(env, "demo", "--letters", "50", "--seed", "3")  # it migrates the new database first
    with closing(sqlite3.connect(database)) as db:

        def first(sql: str) -> tuple[str | int, ...]:
            row = db.execute(sql).fetchone()
            assert row is not None, f"the demo data has no row for: {sql}"
            return tuple(row)

        # The account works in the department that has a letter in review: every queue has rows.
        (department,) = first(
            "SELECT d.code FROM letters l JOIN departments d ON d.id = l.department_id"
            " WHERE l.state = 'review' ORDER BY l.id"
        )
        letters = {
            state: str(first(f"SELECT tracking_no FROM letters WHERE state = '{state}'")[0])
            for state in ("pending", "assigned", "review", "closed")
        }
        replied_no, reply_id = first(
            "SELECT l.tracking_no, r.id FROM letters l JOIN replies r ON r.letter_id = l.id"
            " WHERE l.state = 'replied' AND r.released_at IS NOT NULL ORDER BY r.id DESC"
        )
        channels = [row[0] for row in db.execute("SELECT code FROM channels ORDER BY sort_order")]
    every_role = ("admin", "dispatcher", "handler", "reviewer", "reporter")
    roles = [arg for role in every_role for arg in ("--role", role)]
    cli(
        env,
        "create-user",
        USERNAME,
        *roles,
        "--department",
        str(department),
        "--display-name",
        "吴无障",
        "--password-stdin",
        stdin=PASSWORD + "\n",
    )
    with closing(sqlite3.connect(database)) as db:
        (user_id,) = db.execute("SELECT id FROM users WHERE username = ?", (USERNAME,)).fetchone()
    # The link the reply mail carries (mailbox/services/handling.py makes it the same way).
    rate_path = "/rate/" + rating_token(SECRET, str(replied_no), int(reply_id))
    with running_server(env, "--no-worker", log=folder / "server.log") as url:
        # A receipt mail waits in the outbox (no worker runs): the outbox page lists it.
        with httpx.Client(base_url=url) as client:
            form = client.get("/write/consult")
            sent = client.post(
                "/write/consult", data={**GOOD_LETTER, "csrf_token": csrf_from(form.text)}
            )
            assert sent.status_code == 303, sent.text
        yield Site(url, database, channels, user_id, letters, rate_path)


class StoredText:
    """Every text value in the database: what a page shows from it is data, not interface."""

    def __init__(self, database: Path) -> None:
        self.database = database
        self.text = ""

    def read(self) -> None:
        values = [ORG]
        with closing(sqlite3.connect(f"file:{self.database}?mode=ro", uri=True)) as db:
            tables = db.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table'"
                " AND name NOT LIKE 'publications_search%'"
            ).fetchall()
            for (table,) in tables:
                for row in db.execute(f'SELECT * FROM "{table}"'):
                    values += [value for value in row if isinstance(value, str)]
        self.text = "\n".join(values)

    def holds_all(self, pieces: list[str]) -> list[str]:
        """The pieces not found in the data (read again once, as pages add data)."""
        missing = [piece for piece in pieces if piece not in self.text]
        if missing:
            self.read()
            missing = [piece for piece in missing if piece not in self.text]
        return missing


# The page's own text: visible text nodes, names in attributes and the title; text inside an
# element marked with another language (the switch to 中文 / English) is left out.
PAGE_TEXT = """() => {
  const lang = document.documentElement.lang;
  const foreign = (el) => {
    const marked = el.closest('[lang]');
    return marked !== null && marked !== document.documentElement && marked.lang !== lang;
  };
  const texts = [document.title];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const el = node.parentElement;
    const text = node.data.trim();
    if (!text || !el || el.closest('script, style, template') || foreign(el)) continue;
    if (!el.checkVisibility() && !el.closest('.skip-link')) continue;
    texts.push(text);
  }
  for (const el of document.querySelectorAll('[aria-label], [title], [placeholder], [alt]')) {
    if (foreign(el)) continue;
    for (const name of ['aria-label', 'title', 'placeholder', 'alt']) {
      const value = (el.getAttribute(name) || '').trim();
      if (value) texts.push(value);
    }
  }
  return texts;
}"""

# Errors tied to fields: an invalid field names its error; every error message has its field.
ERROR_TIES = """() => {
  const problems = [];
  const invalid = [...document.querySelectorAll('[aria-invalid="true"]')];
  for (const el of invalid) {
    const ids = (el.getAttribute('aria-describedby') || '').split(/\\s+/).filter(Boolean);
    const said = ids.map((id) => document.getElementById(id))
      .filter((target) => target && target.textContent.trim());
    if (!said.length) problems.push(`#${el.id} is marked invalid but names no error text`);
  }
  for (const message of document.querySelectorAll('.error-message')) {
    const tied = message.id && document.querySelector(`[aria-describedby~="${message.id}"]`);
    if (!tied) problems.push(`the error "${message.textContent.trim()}" belongs to no field`);
  }
  return {invalid: invalid.length, problems};
}"""

# Whether the page scrolls sideways, and the outermost elements that stick out (a table may
# scroll inside its own .table-scroll box: WCAG 1.4.10 allows that for data tables).
# How an element is named in a message: tag, id and classes.
NAME_OF = """const nameOf = (el) => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '')
  + [...el.classList].map((name) => '.' + name).join('');
"""
SIDEWAYS = """(factor) => {
  NAME_OF
  const root = document.documentElement;
  const size = parseFloat(getComputedStyle(root).fontSize);
  root.style.fontSize = factor === 1 ? '' : (factor * size) + 'px';
  const width = root.clientWidth;
  const result = {scroll: root.scrollWidth, width, culprits: []};
  if (root.scrollWidth > width) {
    for (const el of document.body.querySelectorAll('*')) {
      const outer = el.parentElement;
      if (el.getBoundingClientRect().right <= width + 1 || el.closest('.table-scroll')) continue;
      if (outer !== document.body && outer.getBoundingClientRect().right > width + 1) continue;
      result.culprits.push(nameOf(el));
    }
  }
  root.style.fontSize = '';
  return result;
}""".replace("NAME_OF", NAME_OF)

# What axe leaves to best practice: one h1; every table named (caption) with scoped headers.
STRUCTURE = """() => {
  NAME_OF
  const problems = [];
  const h1 = document.querySelectorAll('h1').length;
  if (h1 !== 1) problems.push(`${h1} h1 headings`);
  for (const table of document.querySelectorAll('table')) {
    const named = table.querySelector(':scope > caption')
      || table.hasAttribute('aria-label') || table.hasAttribute('aria-labelledby');
    if (!named) problems.push(`${nameOf(table)} has no caption`);
    const loose = [...table.querySelectorAll('th')].filter((th) => !th.hasAttribute('scope'));
    if (loose.length) problems.push(`${nameOf(table)}: ${loose.length} th without scope`);
  }
  return problems;
}""".replace("NAME_OF", NAME_OF)

# Every control and link shows where the focus is: an outline or a box shadow when focused.
UNMARKED_FOCUS = """() => {
  NAME_OF
  const controls = document.querySelectorAll(
    'a[href], button, input:not([type=hidden]), select, textarea, summary, [tabindex]');
  const unmarked = [];
  const before = document.activeElement;
  for (const el of controls) {
    if (el.tabIndex < 0 || el.disabled || !el.checkVisibility()) continue;
    el.focus();
    if (document.activeElement !== el) continue;
    const style = getComputedStyle(el);
    const outline = style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0;
    if (!outline && style.boxShadow === 'none') {
      unmarked.push(nameOf(el) + ' ' + (el.textContent || el.name || '').trim().slice(0, 30));
    }
  }
  if (before && before.focus) before.focus();
  return unmarked;
}""".replace("NAME_OF", NAME_OF)


@dataclass
class Walk:
    """One browser context going through pages; what is wrong on each, reported at the end."""

    page: Page
    language: str  # "zh-CN" or "en"
    mode: str  # "normal", "large" or "contrast"
    stored: StoredText
    problems: list[str] = field(default_factory=list)
    checked: list[str] = field(default_factory=list)

    def go(self, path: str, status: int = 200) -> None:
        response = self.page.goto(path)
        assert response is not None and response.status == status, (
            f"{path} answered {response.status if response else None}, not {status}"
        )

    def check(self, what: str) -> None:
        page = self.page
        self.checked.append(what)
        where = f"{what} [{self.language}, {self.mode}]"
        found = violations(page)
        if found:
            self.problems.append(f"{where}: axe-core {AXE_VERSION}:\n{describe(found)}")
        lang = page.evaluate("document.documentElement.lang")
        if lang != self.language:
            self.problems.append(f'{where}: <html lang="{lang}">, not "{self.language}"')
        classes = page.evaluate("document.documentElement.className").split()
        wanted = {
            "normal": set(),
            "large": {"large-text"},
            "contrast": {"large-text", "high-contrast"},
        }
        if set(classes) & {"large-text", "high-contrast"} != wanted[self.mode]:
            self.problems.append(f"{where}: the page is shown with classes {classes}")
        ties = page.evaluate(ERROR_TIES)
        self.problems += [f"{where}: {problem}" for problem in ties["problems"]]
        # WCAG 1.4.4: text at 200% in the 1280px window (in normal mode, where it starts
        # from the normal size); WCAG 1.4.10: a 320px window (400% zoom) in every mode.
        if self.mode == "normal":
            self.problems += [f"{where}: {problem}" for problem in page.evaluate(STRUCTURE)]
            self._language(where)
            self._sideways(where, "with text at 200%", 2)
            unmarked = page.evaluate(UNMARKED_FOCUS)
            if unmarked:
                self.problems.append(f"{where}: no visible focus on {unmarked}")
        page.set_viewport_size(NARROW)
        self._sideways(where, "in a 320px window", 1)
        page.set_viewport_size(WIDE)

    def _sideways(self, where: str, how: str, factor: int) -> None:
        found = self.page.evaluate(SIDEWAYS, factor)
        if found["scroll"] > found["width"]:
            self.problems.append(
                f"{where}: {how} the page is {found['scroll']}px wide in {found['width']}px;"
                f" sticking out: {', '.join(found['culprits'][:5])}"
            )

    def _language(self, where: str) -> None:
        texts: list[str] = self.page.evaluate(PAGE_TEXT)
        if self.language == "en":
            pieces = [run for text in texts for run in HAN.findall(text)]
            pieces = [run for run in pieces if run not in CHINESE_IN_ENGLISH]
            kind = "Chinese on the English page"
        else:
            pieces = []
            codes = sorted({text for text in texts if text in CODES})
            if codes:
                self.problems.append(f"{where}: internal codes shown as text: {codes}")
            for text in texts:
                for run in ENGLISH_RUN.findall(ADDRESS.sub(" ", text)):
                    words = [word for word in run.split() if not LATIN_IN_CHINESE.match(word)]
                    if len(words) >= 3:
                        pieces.append(run)
            kind = "English on the Chinese page"
        missing = self.stored.holds_all(sorted(set(pieces)))
        if missing:
            self.problems.append(f"{where}: {kind}, not from the data: {missing}")

    def error_fields(self) -> int:
        return int(self.page.evaluate(ERROR_TIES)["invalid"])

    def finish(self) -> None:
        assert not self.problems, (
            f"{len(self.problems)} problem(s) on {len(self.checked)} pages:\n\n"
            + "\n\n".join(self.problems)
        )


# High contrast (with large text, as those who need it mostly have both) covers one channel,
# one letter and two administration pages of each kind: the colours are those of every page.
MODES = [
    pytest.param("zh-CN", "normal", id="zh-normal"),
    pytest.param("zh-CN", "large", id="zh-large"),
    pytest.param("en", "normal", id="en-normal"),
    pytest.param("en", "large", id="en-large"),
    pytest.param("zh-CN", "contrast", id="zh-high-contrast"),
]


def _some(mode: str, items: list[str], few: int) -> list[str]:
    return items[:few] if mode == "contrast" else items


@pytest.fixture(scope="module")
def stored(site: Site) -> StoredText:
    return StoredText(site.database)


def _walk(
    new_page: Callable[..., Page], url: str, stored: StoredText, language: str, mode: str
) -> Walk:
    """A context whose browser asks for this language (Accept-Language), switched to the mode
    with the buttons every page offers."""
    page = new_page(url, locale=language, viewport=WIDE)
    walk = Walk(page, language, mode, stored)
    walk.go("/track")
    if mode in ("large", "contrast"):
        page.locator("button[name=toggle][value=large]").click()
        expect(page.locator("html")).to_have_class(re.compile(r"\blarge-text\b"))
    if mode == "contrast":
        page.locator("button[name=toggle][value=contrast]").click()
        expect(page.locator("html")).to_have_class(re.compile(r"\bhigh-contrast\b"))
    return walk


@pytest.mark.parametrize(("language", "mode"), MODES)
def test_public_pages(
    new_page: Callable[..., Page], site: Site, stored: StoredText, language: str, mode: str
) -> None:
    walk = _walk(new_page, site.url, stored, language, mode)
    page = walk.page
    walk.go("/")
    walk.check("/")
    for channel in _some(mode, site.channels, 1):
        walk.go(f"/write/{channel}")
        walk.check(f"/write/{channel}")
        page.locator("form.letter-form button[type=submit]").click()
        expect(page.locator("#error-summary")).to_be_focused()
        walk.check(f"/write/{channel} with errors")
        assert walk.error_fields() >= 4, "the empty letter's errors are not on its fields"
    for name, value in LETTER.items():
        page.locator(f"#{name}").fill(value)
    page.locator("form.letter-form button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/receipt$"))
    walk.check("/receipt")
    number = page.locator("#tracking-no").inner_text().strip()
    code = page.locator("#query-code").inner_text().strip()

    walk.go("/track")
    walk.check("/track")
    page.locator("#tracking_no").fill(number)
    page.locator("#query_code").fill("AAAA-AAAA" if code != "AAAA-AAAA" else "BBBB-BBBB")
    page.locator("form.track-form button[type=submit]").click()
    expect(page.locator("#error-summary")).to_be_visible()
    walk.check("/track with a wrong query code")
    assert walk.error_fields() == 2, "the wrong query code's error is not on the fields"
    page.locator("#query_code").fill(code)
    page.locator("form.track-form button[type=submit]").click()
    expect(page.locator("#letter-title")).to_have_text(LETTER["title"])
    walk.check("/track with the letter found")

    walk.go(site.rate_path)
    walk.check("/rate (from a reply's link)")
    walk.go("/stats")
    walk.check("/stats")
    walk.finish()


@pytest.mark.parametrize(("language", "mode"), MODES)
def test_public_archive(
    new_page: Callable[..., Page], site: Site, stored: StoredText, language: str, mode: str
) -> None:
    walk = _walk(new_page, site.url, stored, language, mode)
    response = walk.page.goto("/letters")
    assert response is not None
    if response.status == 404:
        pytest.skip("/letters answers 404: the public archive is not built yet")
    assert response.status == 200
    walk.check("/letters")
    shown = walk.page.locator("main a[href^='/letters/']").evaluate_all(
        "links => links.map((link) => link.getAttribute('href'))"
    )
    letters = [href for href in shown if re.fullmatch(r"/letters/\d{14}", href)]
    if letters:
        walk.go(letters[0])
        walk.check("/letters/{tracking_no}")
    walk.finish()
    assert letters, "the demo published no letter: /letters/{tracking_no} was not checked"


@pytest.mark.parametrize(("language", "mode"), MODES)
def test_staff_pages(
    new_page: Callable[..., Page], site: Site, stored: StoredText, language: str, mode: str
) -> None:
    walk = _walk(new_page, site.url, stored, language, mode)
    page = walk.page
    walk.go("/staff/login")
    walk.check("/staff/login")
    page.locator("#username").fill(USERNAME)
    page.locator("#password").fill("not the password")
    page.locator("form.narrow-form button[type=submit]").click()
    expect(page.locator("#error-summary")).to_be_visible()
    walk.check("/staff/login with a wrong password")
    page.locator("#password").fill(PASSWORD)
    page.locator("form.narrow-form button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/staff/queue$"))

    paths = ["/staff/queue", "/staff/inbox", "/staff/review", "/staff/dashboard"]
    paths += [f"/staff/letters/{number}" for number in _some(mode, [*site.letters.values()], 2)]
    paths += ["/staff/reports", "/staff/enter"]
    for path in paths:
        walk.go(path)
        walk.check(path)
    page.locator("main form[action='/staff/enter'] button[type=submit]").click()
    expect(page.locator("#error-summary")).to_be_visible()
    walk.check("/staff/enter with errors")
    assert walk.error_fields() >= 1, "the entry form's errors are not on its fields"

    walk.go("/staff/admin")
    walk.check("/staff/admin")
    admin_pages = page.locator("main nav a[href^='/staff/admin/']").evaluate_all(
        "links => links.map((link) => link.getAttribute('href'))"
    )
    assert len(admin_pages) >= 8, admin_pages
    for path in [*_some(mode, admin_pages, 2), f"/staff/admin/users/{site.user_id}"]:
        walk.go(path)
        walk.check(path)
    walk.finish()


def test_the_spam_challenge_widget(
    tmp_path_factory: pytest.TempPathFactory, new_page: Callable[..., Page]
) -> None:
    """The form as the office runs it (MAILBOX_SPAM_CHALLENGE=on, the default): the ALTCHA
    widget, solved, beside the errors of an empty letter. (The widget keeps its own colours in
    high-contrast mode: dark text on white.)"""
    with started_server(tmp_path_factory, "a11y-altcha", spam_challenge="on") as (url, database):
        walk = _walk(new_page, url, StoredText(database), "zh-CN", "normal")
        walk.go("/write/director")
        walk.page.locator("form.letter-form button[type=submit]").click()
        expect(walk.page.locator("#error-summary")).to_be_focused()
        widget = walk.page.locator("altcha-widget .altcha")
        expect(widget).to_have_attribute("data-state", "verified", timeout=20_000)
        walk.check("/write/director with errors and the spam check solved")
        walk.finish()


def test_the_language_follows_the_browser_until_the_reader_switches(
    new_page: Callable[..., Page], site: Site
) -> None:
    page = new_page(site.url, locale="en")  # Accept-Language: en
    html = page.locator("html")
    page.goto("/")
    expect(html).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", level=1)).to_have_text("Write to us")
    page.get_by_role("link", name="中文").click()
    expect(html).to_have_attribute("lang", "zh-CN")
    expect(page.get_by_role("heading", level=1)).to_have_text("我要写信")
    # The choice is kept on other pages although the browser still asks for English.
    page.goto("/track")
    expect(html).to_have_attribute("lang", "zh-CN")
    expect(page.get_by_role("heading", level=1)).to_have_text("信件查询")
    page.goto("/staff/login")
    expect(page.get_by_role("heading", level=1)).to_have_text("工作人员登录")
    page.get_by_role("link", name="English").click()
    expect(html).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", level=1)).to_have_text("Staff login")

    chinese = new_page(site.url, locale="zh-CN")  # a new visitor: the browser decides again
    chinese.goto("/track")
    expect(chinese.locator("html")).to_have_attribute("lang", "zh-CN")


# The focused element's focus indicator: an outline or a box shadow.
FOCUS = """() => {
  const el = document.activeElement;
  if (!el || el === document.body) return null;
  const style = getComputedStyle(el);
  const outline = style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0;
  return {
    tag: el.tagName.toLowerCase(), id: el.id, href: el.getAttribute('href') || '',
    text: (el.innerText || el.value || '').trim().slice(0, 40),
    visible: outline || style.boxShadow !== 'none',
  };
}"""


class Keyboard:
    """Tab, Shift+Tab, Enter, Space and typing; each focus stop must show where it is."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.stops = 0

    def focused(self) -> dict[str, str] | None:
        now: dict[str, str] | None = self.page.evaluate(FOCUS)
        if now is not None:
            assert now["visible"], f"no visible focus indicator on {now}"
        return now

    def tab(self, shift: bool = False) -> dict[str, str] | None:
        self.page.keyboard.press("Shift+Tab" if shift else "Tab")
        self.stops += 1
        return self.focused()

    def tab_until(self, matches: Callable[[dict[str, str]], bool], limit: int = 40) -> None:
        for _ in range(limit):
            now = self.tab()
            if now is not None and matches(now):
                return
        raise AssertionError(f"not reached with {limit} Tab presses")

    def tab_to(self, element_id: str) -> None:
        self.tab_until(lambda now: now["id"] == element_id)


def test_a_letter_written_and_tracked_with_the_keyboard_alone(
    new_page: Callable[..., Page], site: Site
) -> None:
    page = new_page(site.url, viewport=WIDE)
    keys = Keyboard(page)
    page.goto("/")

    first = keys.tab()
    assert first is not None and first["href"] == "#main", f"the first Tab stop is {first}"
    expect(page.locator("a.skip-link")).to_be_in_viewport()
    page.keyboard.press("Enter")
    expect(page.locator("#main")).to_be_focused()
    keys.tab_until(lambda now: now["href"] == "/write/consult")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/write/consult$"))

    keys.tab_to("title")
    for name, following in [
        ("title", "body"),
        ("body", "attachments"),
        ("attachments", "name"),  # the file picker: nothing to type
        ("name", "phone"),
        ("phone", "email"),
    ]:
        page.keyboard.type(LETTER.get(name, ""))
        now = keys.tab()
        assert now is not None and now["id"] == following, f"Tab went from #{name} to {now}"
    # Back to correct the phone number, then on past the optional fields.
    keys.tab(shift=True)
    expect(page.locator("#phone")).to_be_focused()
    page.keyboard.press("Control+A")
    page.keyboard.type(LETTER["phone"])
    keys.tab_to("publish_consent")
    page.keyboard.press("Space")
    expect(page.locator("#publish_consent")).to_be_checked()
    keys.tab_until(lambda now: now["tag"] == "button" and now["text"] == "提交信件")
    page.keyboard.press("Enter")

    expect(page).to_have_url(re.compile(r"/receipt$"))
    number = page.locator("#tracking-no").inner_text().strip()
    code = page.locator("#query-code").inner_text().strip()
    keys.tab_until(lambda now: now["href"] == "/track")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/track$"))
    keys.tab_to("tracking_no")
    page.keyboard.type(number)
    keys.tab_to("query_code")
    page.keyboard.type(code)
    keys.tab_until(lambda now: now["tag"] == "button" and now["text"] == "查询")
    page.keyboard.press("Enter")
    expect(page.locator("#letter-title")).to_have_text(LETTER["title"])
    expect(page.locator("#letter-state")).to_have_text("已收到，等待受理")
    # The letter's own text opens from the keyboard too.
    keys.tab_until(lambda now: now["tag"] == "summary")
    page.keyboard.press("Enter")
    expect(page.locator("details")).to_have_attribute("open", "")
    assert keys.stops < 80, f"{keys.stops} Tab presses for one letter"
