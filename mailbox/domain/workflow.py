"""The letter's life (DESIGN §3): one table of allowed transitions, and who may take them."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from mailbox.auth.roles import Role
from mailbox.domain.states import LetterState as S


class Action(StrEnum):
    ACCEPT = "accept"
    REJECT = "reject"
    MARK_SPAM = "mark_spam"
    RESTORE = "restore"
    MERGE = "merge"
    SUBMIT_DRAFT = "submit_draft"
    RELEASE = "release"  # the handler's reply goes out directly (channel without review)
    APPROVE = "approve"
    SEND_BACK = "send_back"
    RETURN = "return"
    REASSIGN = "reassign"
    REQUEST_EXTENSION = "request_extension"
    GRANT_EXTENSION = "grant_extension"
    REFUSE_EXTENSION = "refuse_extension"
    RATE = "rate"
    EXPIRE_RATING = "expire_rating"
    REOPEN = "reopen"
    CLOSE_UNSATISFIED = "close_unsatisfied"
    CORRECT_REPLY = "correct_reply"
    EDIT_PUBLICATION = "edit_publication"  # the public copy, masked and edited (DESIGN §6)
    PUBLISH = "publish"
    UNPUBLISH = "unpublish"
    PUBLISH_FILE = "publish_file"  # one attachment, after a warning (issue 8)
    UNPUBLISH_FILE = "unpublish_file"


@dataclass(frozen=True)
class Rule:
    sources: frozenset[S]
    target: S | None  # None: the state stays (the event still records what happened)
    roles: frozenset[Role]  # empty: the writer or the system, never staff
    in_department: bool  # handlers and reviewers only for their department's letters


def _rule(sources: set[S], target: S | None, roles: set[Role], in_department: bool = False) -> Rule:
    return Rule(frozenset(sources), target, frozenset(roles), in_department)


OFFICE = {Role.DISPATCHER, Role.ADMIN}
OPEN = {S.ASSIGNED, S.REVIEW}

TRANSITIONS: dict[Action, Rule] = {
    Action.ACCEPT: _rule({S.PENDING}, S.ASSIGNED, OFFICE),
    Action.REJECT: _rule({S.PENDING}, S.REJECTED, OFFICE),
    Action.MARK_SPAM: _rule({S.PENDING}, S.SPAM, OFFICE),
    Action.RESTORE: _rule({S.SPAM}, S.PENDING, OFFICE),
    Action.MERGE: _rule({S.PENDING}, S.DUPLICATE, OFFICE),
    Action.SUBMIT_DRAFT: _rule({S.ASSIGNED}, S.REVIEW, {Role.HANDLER}, in_department=True),
    Action.RELEASE: _rule({S.ASSIGNED}, S.REPLIED, {Role.HANDLER}, in_department=True),
    Action.APPROVE: _rule({S.REVIEW}, S.REPLIED, {Role.REVIEWER}, in_department=True),
    Action.SEND_BACK: _rule({S.REVIEW}, S.ASSIGNED, {Role.REVIEWER}, in_department=True),
    Action.RETURN: _rule({S.ASSIGNED}, S.RETURNED, {Role.HANDLER}, in_department=True),
    Action.REASSIGN: _rule({S.RETURNED}, S.ASSIGNED, OFFICE),
    Action.REQUEST_EXTENSION: _rule(OPEN, None, {Role.HANDLER}, in_department=True),
    Action.GRANT_EXTENSION: _rule(OPEN, None, OFFICE),
    Action.REFUSE_EXTENSION: _rule(OPEN, None, OFFICE),
    Action.RATE: _rule({S.REPLIED}, S.CLOSED, set()),
    Action.EXPIRE_RATING: _rule({S.REPLIED}, S.CLOSED, set()),
    Action.REOPEN: _rule({S.CLOSED}, S.ASSIGNED, OFFICE),
    Action.CLOSE_UNSATISFIED: _rule({S.CLOSED}, S.CLOSED, OFFICE),
    Action.CORRECT_REPLY: _rule({S.REPLIED, S.CLOSED}, None, {Role.REVIEWER} | OFFICE),
    Action.EDIT_PUBLICATION: _rule({S.REPLIED, S.CLOSED}, None, OFFICE),
    Action.PUBLISH: _rule({S.REPLIED, S.CLOSED}, None, OFFICE),
    Action.UNPUBLISH: _rule({S.REPLIED, S.CLOSED}, None, OFFICE),
    Action.PUBLISH_FILE: _rule({S.REPLIED, S.CLOSED}, None, OFFICE),
    Action.UNPUBLISH_FILE: _rule({S.REPLIED, S.CLOSED}, None, OFFICE),
}


class TransitionRefused(Exception):
    """The action is not allowed from the letter's state, or not for this person."""


def next_state(action: Action, current: S) -> S:
    """The state after the action; TransitionRefused when the action does not apply."""
    rule = TRANSITIONS[action]
    if current not in rule.sources:
        raise TransitionRefused(f"{action} is not possible in state {current}")
    return rule.target or current


def may(
    action: Action,
    roles: frozenset[str],
    *,
    user_department_id: int | None,
    letter_department_id: int | None,
) -> bool:
    """Whether a staff member with these roles may take the action on this letter."""
    rule = TRANSITIONS[action]
    if not rule.roles & roles:
        return False
    if rule.in_department:
        return user_department_id is not None and user_department_id == letter_department_id
    return True
