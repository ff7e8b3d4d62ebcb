"""A letter's whole life in real browsers, with real mail: the citizen writes on a phone, the
dispatcher accepts, the handler drafts, the reviewer sends back and then approves, the citizen
rates 不满意, the dispatcher reopens, the department answers again and the citizen rates 满意.

Four people, each in a browser context of their own (separate cookies), against
`python -m mailbox serve` with its in-process mail worker sending to an aiosmtpd server on
loopback. Accounts and the department are made with the command line, as an operator would.
"""

from __future__ import annotations

import re
import sqlite3
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from email.message import EmailMessage
from pathlib import Path

import pytest

from tests.browser.conftest import PHONE, require_chromium
from tests.live import cli, migrate, running_server, server_environment
from tests.mail.conftest import SmtpServer

require_chromium()

from playwright.sync_api import Page, expect  # noqa: E402

pytestmark = pytest.mark.browser

MAIL_FROM = "xinxiang@example.gov.cn"
MAIL_WAIT = 10.0  # seconds a step's mail may take to arrive
DEPARTMENT = ("radio", "无线电管理处")
PASSWORD = "a long password for tests"

CITIZEN = "wang.jianguo@example.com"
# user name, roles, department, address, display name
STAFF = {
    "dispatcher": ("zhou", ["dispatcher"], None, "zhou@example.gov.cn", "周调度"),
    "handler": ("chen", ["handler"], "radio", "chen@example.gov.cn", "陈经办"),
    "reviewer": ("lin", ["reviewer"], "radio", "lin@example.gov.cn", "林审核"),
}
LETTER = {
    "title": "业余无线电台执照到期换证咨询",
    "body": (
        "我的业余无线电台执照下个月到期，请问换证需要准备哪些材料？"
        "能否在网上办理，还是必须到无线电管理处窗口办理？谢谢。"
    ),
    "name": "王建国",
    "phone": "13812345678",
}
FIRST_DRAFT = "您好，业余无线电台执照换证请携带身份证原件到窗口办理。"
REVIEW_COMMENT = "请补充网上办理的途径和所需材料清单。"
SECOND_DRAFT = (
    "您好，业余无线电台执照换证可在政务服务网在线办理，需上传身份证、操作证书和电台照片；"
    "也可携带上述材料原件到无线电管理处窗口办理。"
)
UNSATISFIED_COMMENT = "没有说明办理时限，也没有给出网址。"
REOPEN_NOTE = "请补充办理时限和政务服务网网址后重新答复。"
THIRD_DRAFT = (
    "您好，补充答复如下：业余无线电台执照换证请登录政务服务网（zwfw.example.gov.cn）"
    "在线办理，材料齐全的，自受理之日起10个工作日内办结。"
)


# What each mail is called in Chinese (mailbox/mail/render.py SUBJECTS, zh_CN catalog).
def received(number: str) -> str:
    return f"您的来信（编号{number}）已收到"


def accepted(number: str) -> str:
    return f"您的来信（编号{number}）已受理"


def replied(number: str) -> str:
    return f"您的来信（编号{number}）已答复"


def reopened(number: str) -> str:
    return f"您的来信（编号{number}）已重新办理"


def assigned(number: str) -> str:
    return f"新交办来信（编号{number}）"


def review_requested(number: str) -> str:
    return f"来信（编号{number}）的答复待审核"


def sent_back(number: str) -> str:
    return f"来信（编号{number}）的答复被退回修改"


# --- the command line, the server and the mail ---------------------------------------------


def set_up_office(env: dict[str, str]) -> None:
    """The database, the department and the three staff accounts, made as an operator would."""
    migrate(env)
    cli(env, "department", "add", *DEPARTMENT)
    for username, roles, department, email, display_name in STAFF.values():
        args = ["create-user", username, "--email", email, "--display-name", display_name]
        args += [arg for role in roles for arg in ("--role", role)]
        args += ["--department", department] if department else []
        cli(env, *args, "--password-stdin", stdin=PASSWORD + "\n")


@contextmanager
def office(folder: Path, smtp: SmtpServer) -> Iterator[tuple[str, Path]]:
    """A fresh database with the department and the three staff accounts, and `serve` with
    its mail worker sending to `smtp`: the base URL and the database file."""
    database = folder / "mailbox.sqlite3"
    env = server_environment(
        f"sqlite+aiosqlite:///{database}",
        folder / "var",
        smtp_host="127.0.0.1",
        smtp_port=str(smtp.port),
        mail_from=MAIL_FROM,
    )
    set_up_office(env)
    with running_server(env, log=folder / "server.log") as url:
        yield url, database


class Mailbag:
    """What the SMTP server received, taken in step by step."""

    def __init__(self, smtp: SmtpServer) -> None:
        self.smtp = smtp
        self.taken = 0

    def expect(self, *wanted: tuple[str, str]) -> list[EmailMessage]:
        """Wait for exactly these (recipient, subject) mails, in any order, and return them
        in that order. A mail that arrives twice, or one nobody expected, fails the step."""
        deadline = time.monotonic() + MAIL_WAIT
        while len(self.smtp.messages) < self.taken + len(wanted):
            if time.monotonic() > deadline:
                break
            time.sleep(0.05)
        new = self.smtp.messages[self.taken :]
        self.taken += len(new)
        got = [(str(message["To"]), str(message["Subject"])) for message in new]
        assert Counter(got) == Counter(wanted), f"expected mail {wanted}, got {got}"
        for message in new:
            assert message["From"] == MAIL_FROM
        return [new[got.index(want)] for want in wanted]


def text_of(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert isinstance(part, EmailMessage)
    return str(part.get_content())


def rating_link(message: EmailMessage, base_url: str) -> str:
    found = re.findall(r"https?://\S+/rate/[A-Za-z0-9_.\-]+", text_of(message))
    assert len(found) == 1, text_of(message)
    assert found[0].startswith(f"{base_url}/rate/"), found[0]
    return str(found[0])


# --- what each person does in the browser ---------------------------------------------------


def no_horizontal_scroll(page: Page) -> bool:
    return bool(page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"))


def log_in(page: Page, role: str, home: str, heading: str) -> None:
    username, _roles, _department, _email, display_name = STAFF[role]
    page.goto("/staff/login")
    expect(page.get_by_role("heading", level=1)).to_have_text("工作人员登录")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page).to_have_url(re.compile(rf"{re.escape(home)}$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(heading)
    expect(page.locator(".staff-bar")).to_contain_text(f"当前登录：{display_name}")


def open_from_list(page: Page, list_name: str, number: str) -> None:
    """Open the letter from the table captioned `list_name` on the current page."""
    page.get_by_role("table", name=list_name).get_by_role("link", name=number).click()
    expect(page).to_have_url(re.compile(rf"/staff/letters/{number}$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(LETTER["title"])


def expect_state(page: Page, state: str) -> None:
    expect(page).to_have_url(re.compile(r"/staff/letters/\d{14}$"))
    expect(page.locator("#error-summary")).to_have_count(0)
    expect(page.locator("#letter-state")).to_have_attribute("data-state", state)


def send_for_review(page: Page, text: str) -> None:
    reply = page.get_by_label("答复内容")
    reply.fill(text)
    page.get_by_role("button", name="提交审核").click()
    expect_state(page, "review")
    expect(page.get_by_role("button", name="提交审核")).to_have_count(0)  # nothing more to do


def rate(page: Page, link: str, reply_text: str, choice: str, comment: str) -> None:
    page.goto(link)
    expect(page.get_by_role("heading", level=1)).to_have_text("对您来信的答复")
    expect(page.locator("section[aria-labelledby=reply-title] .text")).to_have_text(reply_text)
    page.get_by_label(choice, exact=True).check()
    if comment:
        page.get_by_label("意见").fill(comment)
    assert no_horizontal_scroll(page), "the rating page scrolls sideways on a 360px phone"
    page.get_by_role("button", name="提交评价").click()
    expect(page.get_by_role("status")).to_have_text("谢谢！您的评价已记录。")
    expect(page.get_by_role("button", name="提交评价")).to_have_count(0)


def test_a_letter_from_the_form_to_a_satisfied_rating(
    tmp_path: Path, new_page: Callable[..., Page]
) -> None:
    smtp = SmtpServer()
    smtp.start()
    try:
        with office(tmp_path, smtp) as (url, database):
            run_the_cycle(url, database, Mailbag(smtp), new_page)
    finally:
        smtp.stop()


def run_the_cycle(url: str, database: Path, mail: Mailbag, new_page: Callable[..., Page]) -> None:
    handler_mail, reviewer_mail = STAFF["handler"][3], STAFF["reviewer"][3]

    # 1. The citizen writes to 网上咨询 on a phone and reads the receipt.
    citizen = new_page(url, **PHONE)
    citizen.goto("/")
    citizen.get_by_role("link", name="进入网上咨询写信").click()
    expect(citizen.get_by_role("heading", level=1)).to_have_text("网上咨询")
    citizen.get_by_label("标题").fill(LETTER["title"])
    citizen.get_by_label("来信内容").fill(LETTER["body"])
    citizen.get_by_label("您的姓名").fill(LETTER["name"])
    citizen.get_by_label("联系电话").fill(LETTER["phone"])
    citizen.get_by_label("电子邮箱").fill(CITIZEN)
    citizen.get_by_role("button", name="提交信件").click()
    expect(citizen).to_have_url(re.compile(r"/receipt$"))
    expect(citizen.get_by_role("heading", level=1)).to_have_text("您的来信已收到")
    number = citizen.locator("#tracking-no").inner_text().strip()
    code = citizen.locator("#query-code").inner_text().strip()
    assert re.fullmatch(r"\d{14}", number), number
    expect(citizen.locator(".mail-status")).to_contain_text("回执邮件")
    assert no_horizontal_scroll(citizen), "the receipt scrolls sideways on a 360px phone"
    (receipt,) = mail.expect((CITIZEN, received(number)))
    assert code in text_of(receipt) and f"{url}/track?tracking_no={number}" in text_of(receipt)

    # 2. The dispatcher accepts it for 无线电管理处.
    dispatcher = new_page(url)
    log_in(dispatcher, "dispatcher", "/staff/queue", "待办来信")
    open_from_list(dispatcher, "待受理信件（按来信时间从早到晚排列）", number)
    expect(dispatcher.locator("#letter-state")).to_have_attribute("data-state", "pending")
    dispatcher.get_by_label("主办处室").select_option(label=DEPARTMENT[1])
    dispatcher.get_by_role("button", name="受理", exact=True).click()
    expect_state(dispatcher, "assigned")
    _accepted, new_work = mail.expect((CITIZEN, accepted(number)), (handler_mail, assigned(number)))
    assert DEPARTMENT[1] in text_of(new_work)
    assert f"{url}/staff/letters/{number}" in text_of(new_work)

    # 3. The handler finds it in 本处室来信, saves a draft and sends it for review.
    handler = new_page(url)
    log_in(handler, "handler", "/staff/inbox", "本处室来信")
    open_from_list(handler, "按答复期限先后排列", number)
    handler.get_by_label("答复内容").fill(FIRST_DRAFT)
    handler.get_by_role("button", name="保存草稿").click()
    expect_state(handler, "assigned")
    expect(handler.get_by_label("答复内容")).to_have_value(FIRST_DRAFT)  # kept
    handler.get_by_role("button", name="提交审核").click()
    expect_state(handler, "review")
    mail.expect((reviewer_mail, review_requested(number)))

    # 4. The reviewer sends it back with a comment.
    reviewer = new_page(url)
    log_in(reviewer, "reviewer", "/staff/review", "审核")
    open_from_list(reviewer, "按答复期限先后排列", number)
    review = reviewer.locator("#review")
    expect(review.locator(".text")).to_have_text(FIRST_DRAFT)
    review.get_by_label("修改意见").fill(REVIEW_COMMENT)
    review.get_by_role("button", name="退回修改").click()
    expect_state(reviewer, "assigned")
    (back,) = mail.expect((handler_mail, sent_back(number)))
    assert REVIEW_COMMENT in text_of(back)

    # 5. The handler sees the comment, revises and submits again; the reviewer approves.
    handler.goto(f"/staff/letters/{number}")
    expect(handler.locator(".timeline")).to_contain_text(REVIEW_COMMENT)
    expect(handler.get_by_label("答复内容")).to_have_value(FIRST_DRAFT)
    send_for_review(handler, SECOND_DRAFT)
    mail.expect((reviewer_mail, review_requested(number)))

    reviewer.goto("/staff/review")
    open_from_list(reviewer, "按答复期限先后排列", number)
    expect(reviewer.locator("#review .text")).to_have_text(SECOND_DRAFT)
    reviewer.get_by_role("button", name="审核通过并答复").click()
    expect_state(reviewer, "replied")
    (first_reply,) = mail.expect((CITIZEN, replied(number)))
    first_link = rating_link(first_reply, url)

    # 6. The citizen follows the link in the mail, reads the reply and is not satisfied.
    rate(citizen, first_link, SECOND_DRAFT, "不满意", UNSATISFIED_COMMENT)

    # 7. The dispatcher finds it under 不满意评价 and gives it back to the department.
    dispatcher.goto("/staff/queue")
    open_from_list(dispatcher, "重新交办或附说明后办结", number)
    follow_up = dispatcher.locator("#follow-up")
    expect(follow_up.get_by_role("heading")).to_have_text("来信人不满意")
    follow_up.get_by_label("说明（来信人可以看到）").fill(REOPEN_NOTE)
    follow_up.get_by_role("button", name="重新交办").click()
    expect_state(dispatcher, "assigned")
    expect(dispatcher.locator("#follow-up")).to_have_count(0)
    again, told = mail.expect((handler_mail, assigned(number)), (CITIZEN, reopened(number)))
    assert DEPARTMENT[1] in text_of(again) and REOPEN_NOTE in text_of(again)
    assert "重新办理" in text_of(told)
    dispatcher.goto("/staff/queue")
    expect(dispatcher.get_by_role("table", name="重新交办或附说明后办结")).to_have_count(0)

    # 8. The department answers again; the citizen gets a new link and is satisfied.
    handler.goto("/staff/inbox")
    open_from_list(handler, "按答复期限先后排列", number)
    expect(handler.locator(".timeline")).to_contain_text(REOPEN_NOTE)
    send_for_review(handler, THIRD_DRAFT)
    mail.expect((reviewer_mail, review_requested(number)))

    reviewer.goto("/staff/review")
    open_from_list(reviewer, "按答复期限先后排列", number)
    expect(reviewer.locator("#review .text")).to_have_text(THIRD_DRAFT)
    reviewer.get_by_role("button", name="审核通过并答复").click()
    expect_state(reviewer, "replied")
    (second_reply,) = mail.expect((CITIZEN, replied(number)))
    second_link = rating_link(second_reply, url)
    assert second_link != first_link

    rate(citizen, second_link, THIRD_DRAFT, "满意", "")
    # The first link rates nothing any more.
    citizen.goto(first_link)
    expect(citizen.get_by_role("heading", level=1)).to_have_text("对您来信的答复")
    expect(citizen.get_by_role("button", name="提交评价")).to_have_count(0)

    # 9. The records: closed, no follow-up, both ratings, the whole timeline, every mail once.
    with closing(sqlite3.connect(f"file:{database}?mode=ro", uri=True)) as connection:
        letter_id, state, needs_follow_up = connection.execute(
            "SELECT id, state, needs_follow_up FROM letters WHERE tracking_no = ?", (number,)
        ).fetchone()
        ratings = connection.execute(
            "SELECT rating, comment FROM ratings WHERE letter_id = ? ORDER BY id", (letter_id,)
        ).fetchall()
        kinds = [
            kind
            for (kind,) in connection.execute(
                "SELECT kind FROM letter_events WHERE letter_id = ? ORDER BY id", (letter_id,)
            )
        ]
        outbox = connection.execute("SELECT count(*), count(sent_at) FROM outbox").fetchone()
        letters = connection.execute("SELECT count(*) FROM letters").fetchone()[0]
    assert (state, needs_follow_up) == ("closed", 0)
    assert ratings == [("unsatisfied", UNSATISFIED_COMMENT), ("satisfied", "")]
    assert kinds == [
        "submitted",
        "accept",
        "submit_draft",
        "send_back",
        "submit_draft",
        "approve",
        "rate",
        "reopen",
        "submit_draft",
        "approve",
        "rate",
    ]

    received_by: dict[str, list[str]] = {}
    for message in mail.smtp.messages:
        received_by.setdefault(str(message["To"]), []).append(str(message["Subject"]))
    assert received_by == {  # the dispatcher gets none: only overdue reminders go there
        CITIZEN: [
            received(number),
            accepted(number),
            replied(number),
            reopened(number),
            replied(number),
        ],
        handler_mail: [assigned(number), sent_back(number), assigned(number)],
        reviewer_mail: [review_requested(number)] * 3,
    }
    ids = [str(message["Message-ID"]) for message in mail.smtp.messages]
    assert len(set(ids)) == len(ids) == 11, ids
    # Everything queued was sent, once: nothing is left over to arrive later.
    assert letters == 1 and outbox == (11, 11)
