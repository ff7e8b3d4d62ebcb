"""Who may open which staff page, and which letters each person may see: one table."""

from __future__ import annotations

from enum import StrEnum

from mailbox.auth.roles import Role
from mailbox.db.queries.letters import LetterRow
from mailbox.db.queries.users import UserRow


class Page(StrEnum):
    QUEUE = "queue"  # the dispatcher's queue and search
    ENTER = "enter"  # enter a letter received by post, phone or visit
    INBOX = "inbox"  # a department's letters by deadline
    REVIEW = "review"  # a reviewer's queue
    LETTER = "letter"  # one letter, its writer's details, timeline and notes
    DASHBOARD = "dashboard"  # open letters, deadlines and replies: the office or a department
    ADMIN = "admin"
    REPORTS = "reports"


OFFICE = frozenset({Role.DISPATCHER, Role.ADMIN})
DEPARTMENT = frozenset({Role.HANDLER, Role.REVIEWER})

PAGE_ROLES: dict[Page, frozenset[Role]] = {
    Page.QUEUE: OFFICE,
    Page.ENTER: OFFICE,
    Page.INBOX: DEPARTMENT,
    Page.REVIEW: frozenset({Role.REVIEWER}),
    Page.LETTER: OFFICE | DEPARTMENT,
    Page.DASHBOARD: OFFICE | DEPARTMENT,
    Page.ADMIN: frozenset({Role.ADMIN}),
    Page.REPORTS: frozenset({Role.REPORTER, Role.DISPATCHER, Role.ADMIN}),
}


def may_open(page: Page, user: UserRow) -> bool:
    return bool(PAGE_ROLES[page] & user.roles)


def is_office(user: UserRow) -> bool:
    return bool(OFFICE & user.roles)


def sees_letter(user: UserRow, letter: LetterRow) -> bool:
    """The office sees every letter; a department only the letters routed to it."""
    if is_office(user):
        return True
    return (
        bool(DEPARTMENT & user.roles)
        and user.department_id is not None
        and letter.department_id == user.department_id
    )


def home_page(user: UserRow) -> str:
    """Where /staff takes each person."""
    if is_office(user):
        return "/staff/queue"
    if Role.HANDLER in user.roles:
        return "/staff/inbox"
    if Role.REVIEWER in user.roles:
        return "/staff/review"
    if Role.REPORTER in user.roles:
        return "/staff/reports"
    return "/staff/welcome"
