"""The transition table: every allowed move, every forbidden one, and who may make it."""

from __future__ import annotations

import pytest

from mailbox.domain.states import LetterState as S
from mailbox.domain.workflow import TRANSITIONS, Action, TransitionRefused, may, next_state

ALLOWED = {
    (Action.ACCEPT, S.PENDING): S.ASSIGNED,
    (Action.REJECT, S.PENDING): S.REJECTED,
    (Action.MARK_SPAM, S.PENDING): S.SPAM,
    (Action.RESTORE, S.SPAM): S.PENDING,
    (Action.MERGE, S.PENDING): S.DUPLICATE,
    (Action.SUBMIT_DRAFT, S.ASSIGNED): S.REVIEW,
    (Action.RELEASE, S.ASSIGNED): S.REPLIED,
    (Action.APPROVE, S.REVIEW): S.REPLIED,
    (Action.SEND_BACK, S.REVIEW): S.ASSIGNED,
    (Action.RETURN, S.ASSIGNED): S.RETURNED,
    (Action.REASSIGN, S.RETURNED): S.ASSIGNED,
    (Action.REQUEST_EXTENSION, S.ASSIGNED): S.ASSIGNED,
    (Action.REQUEST_EXTENSION, S.REVIEW): S.REVIEW,
    (Action.GRANT_EXTENSION, S.ASSIGNED): S.ASSIGNED,
    (Action.GRANT_EXTENSION, S.REVIEW): S.REVIEW,
    (Action.REFUSE_EXTENSION, S.ASSIGNED): S.ASSIGNED,
    (Action.REFUSE_EXTENSION, S.REVIEW): S.REVIEW,
    (Action.RATE, S.REPLIED): S.CLOSED,
    (Action.EXPIRE_RATING, S.REPLIED): S.CLOSED,
    (Action.REOPEN, S.CLOSED): S.ASSIGNED,
    (Action.CLOSE_UNSATISFIED, S.CLOSED): S.CLOSED,
    (Action.CORRECT_REPLY, S.REPLIED): S.REPLIED,
    (Action.CORRECT_REPLY, S.CLOSED): S.CLOSED,
    (Action.EDIT_PUBLICATION, S.REPLIED): S.REPLIED,
    (Action.EDIT_PUBLICATION, S.CLOSED): S.CLOSED,
    (Action.PUBLISH, S.REPLIED): S.REPLIED,
    (Action.PUBLISH, S.CLOSED): S.CLOSED,
    (Action.UNPUBLISH, S.REPLIED): S.REPLIED,
    (Action.UNPUBLISH, S.CLOSED): S.CLOSED,
    (Action.PUBLISH_FILE, S.REPLIED): S.REPLIED,
    (Action.PUBLISH_FILE, S.CLOSED): S.CLOSED,
    (Action.UNPUBLISH_FILE, S.REPLIED): S.REPLIED,
    (Action.UNPUBLISH_FILE, S.CLOSED): S.CLOSED,
}


@pytest.mark.parametrize("action", list(Action))
@pytest.mark.parametrize("state", list(S))
def test_every_action_in_every_state(action: Action, state: S) -> None:
    expected = ALLOWED.get((action, state))
    if expected is None:
        with pytest.raises(TransitionRefused):
            next_state(action, state)
    else:
        assert next_state(action, state) == expected


def test_the_table_and_this_test_agree() -> None:
    from_table = {(a, s) for a, rule in TRANSITIONS.items() for s in rule.sources}
    assert from_table == set(ALLOWED)


def test_department_work_is_for_the_department_only() -> None:
    handler = frozenset({"handler"})
    assert may(Action.SUBMIT_DRAFT, handler, user_department_id=1, letter_department_id=1)
    assert not may(Action.SUBMIT_DRAFT, handler, user_department_id=1, letter_department_id=2)
    assert not may(Action.SUBMIT_DRAFT, handler, user_department_id=None, letter_department_id=None)
    office = frozenset({"dispatcher", "handler"})
    assert not may(Action.APPROVE, office, user_department_id=1, letter_department_id=2)
    assert may(Action.ACCEPT, office, user_department_id=1, letter_department_id=None)


def test_citizen_actions_are_not_for_staff() -> None:
    everyone = frozenset({"admin", "dispatcher", "handler", "reviewer", "reporter"})
    for action in (Action.RATE, Action.EXPIRE_RATING):
        assert not may(action, everyone, user_department_id=1, letter_department_id=1)
    assert not may(
        Action.ACCEPT, frozenset({"reporter"}), user_department_id=None, letter_department_id=None
    )
