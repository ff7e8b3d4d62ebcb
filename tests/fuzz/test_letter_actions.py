"""The staff letter page's forms under random input, posted by real logged-in staff with valid
form tokens (and a few broken ones): never a 500; a refused post changes nothing anywhere;
a step taken is whole (the letter's state is its last event's) and its page still shows."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from typing import Any, TypeVar

from hypothesis import example, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from starlette.applications import Starlette

from mailbox.db.database import Database
from mailbox.domain.workflow import TRANSITIONS, Action, may
from mailbox.web.letter import ACTIONS
from tests.fuzz.conftest import EXAMPLES, FUZZ, explore, on_this_loop
from tests.fuzz.letters import KINDS, REASON, REPLY, Letters
from tests.fuzz.staff import (
    Desk,
    Pairs,
    changed_tables,
    csrf_cases,
    encoded,
    encodings,
    everything,
    extra_pairs,
    field_values,
    post,
    sign_in,
    stranger_token,
    with_csrf,
)
from tests.fuzz.strategies import values
from tests.web.test_workspace import office

__all__ = ["office"]  # a fixture, used by name

KINDS_ALL = list(KINDS)
PEOPLE = ["admin", "dispatcher", "radio_handler", "radio_reviewer", "policy_handler", "reporter"]
T = TypeVar("T", bound=Callable[..., Any])
GOOD = "<good>"  # a field's sensible value, worked out when the example runs
GOOD_VALUES = {"reason": "not_ours", "working_days": "5", "body": REPLY, "pub_title": "关于基站"}
# Each action, the letters and the people it is meant for, and the fields its form sends.
FORMS: dict[str, tuple[list[str], list[str], list[str]]] = {
    Action.ACCEPT: (["pending"], ["dispatcher", "admin"], ["department_id"]),
    Action.REJECT: (["pending"], ["dispatcher"], ["reason", "note"]),
    Action.MARK_SPAM: (["pending"], ["dispatcher"], []),
    Action.RESTORE: (["spam"], ["admin"], []),
    Action.MERGE: (["pending"], ["dispatcher"], ["original"]),
    Action.REASSIGN: (["returned"], ["dispatcher"], ["department_id"]),
    "save_draft": (["assigned", "drafted"], ["radio_handler"], ["body"]),
    Action.SUBMIT_DRAFT: (["assigned", "drafted"], ["radio_handler"], ["body"]),
    Action.RELEASE: (["direct"], ["radio_handler"], ["body"]),
    Action.APPROVE: (["review"], ["radio_reviewer"], []),
    Action.SEND_BACK: (["review"], ["radio_reviewer"], ["note"]),
    Action.RETURN: (["assigned"], ["radio_handler"], ["note"]),
    Action.REQUEST_EXTENSION: (["assigned"], ["radio_handler"], ["working_days", "note"]),
    Action.GRANT_EXTENSION: (["extension"], ["dispatcher"], ["request_id", "note"]),
    Action.REFUSE_EXTENSION: (["extension"], ["admin"], ["request_id", "note"]),
    Action.REOPEN: (["closed"], ["dispatcher"], ["note"]),
    Action.CLOSE_UNSATISFIED: (["closed"], ["dispatcher"], ["note"]),
    Action.CORRECT_REPLY: (["replied", "closed"], ["radio_reviewer", "admin"], ["body", "note"]),
    Action.EDIT_PUBLICATION: (["replied"], ["dispatcher"], ["pub_title", "pub_body", "pub_reply"]),
    Action.PUBLISH: (["replied"], ["dispatcher"], ["pub_title", "pub_body", "pub_reply"]),
    Action.UNPUBLISH: (["published"], ["dispatcher"], ["note"]),
    "note": (list(KINDS), PEOPLE[:5], ["body"]),
}
# Fields of forms not listed above (the actions on a letter's files) are fuzzed all the same.
FIELD_NAMES = sorted(
    {name for _kinds, _people, names in FORMS.values() for name in names}
    | {"attachment_id", "checked"}
)
assert set(FORMS) <= set(ACTIONS)


@st.composite
def letter_posts(draw: st.DrawFn) -> dict[str, Any]:
    """An action with any fields, on a letter it is meant for or any, by a person it is meant
    for or anyone: one of the two wrong is where a step half taken would hide."""
    known = draw(st.integers(0, 5)) > 0
    action: str | bytes = draw(st.sampled_from(sorted(ACTIONS)) if known else values)
    kinds, people, names = (
        FORMS[action] if isinstance(action, str) and action in FORMS else (KINDS, PEOPLE, [])
    )
    kind = draw(st.sampled_from(kinds if draw(st.integers(0, 2)) else KINDS_ALL))
    who = draw(st.sampled_from(people if draw(st.integers(0, 2)) else PEOPLE))
    fields = draw(
        st.fixed_dictionaries(
            {name: field_values(GOOD) for name in names},
            optional={name: field_values(GOOD) for name in FIELD_NAMES if name not in names},
        )
    )
    return {"action": action, "kind": kind, "who": who, "fields": fields}


def good_post(action: str) -> dict[str, Any]:
    kinds, people, names = FORMS[action]
    return {
        "action": action,
        "kind": kinds[0],
        "who": people[0],
        "fields": dict.fromkeys(names, GOOD),
    }


# Steps once taken in part: refused, yet with something saved on the way.
MISTAKES = [
    # Another letter's extension request, decided from this letter's page (was a 303).
    {**good_post(Action.GRANT_EXTENSION), "kind": "pending"},
    # A reviewer's draft: saved, then the submission refused (403), or saved alone (303).
    {**good_post(Action.SUBMIT_DRAFT), "who": "radio_reviewer"},
    {**good_post("save_draft"), "who": "radio_reviewer"},
    # Released without the review its channel requires: the draft was saved (409).
    {**good_post(Action.RELEASE), "kind": "assigned"},
    # An edited copy of a letter published already: the edit was saved (409).
    {**good_post(Action.PUBLISH), "kind": "published"},
]


def every_mistake(test: T) -> T:
    for posted in MISTAKES:
        test = example(posted=posted, extra=[], encoding="quoted", csrf="good", forged="")(test)
    return test


def every_form(test: T) -> T:
    """Each form as the page fills it, with a valid token: every step is taken at least once."""
    for action in FORMS:
        test = example(
            posted=good_post(action), extra=[], encoding="quoted", csrf="good", forged=""
        )(test)
    return test


@dataclass
class Bench:
    """What the examples share: the app, its staff logged in, the letters to act on."""

    db: Database
    desks: dict[str, Desk]
    letters: Letters
    department: int
    other_token: str  # a well-signed form token of another browser
    outcomes: Counter[tuple[str, int]] = field(default_factory=Counter)

    async def act(
        self, posted: dict[str, Any], extra: Pairs, encoding: str, csrf: str, forged: str | bytes
    ) -> None:
        db, desk = self.db, self.desks[posted["who"]]
        number = await self.letters.get(posted["kind"])
        fields: Pairs = [
            (name, await self._good(name, number) if value == GOOD else value)
            for name, value in posted["fields"].items()
        ]
        pairs = with_csrf(
            [("action", posted["action"]), *fields, *extra], csrf, desk, self.other_token, forged
        )
        body, content_type = encoded(pairs, encoding)
        before = await everything(db)
        last_event = await db.fetch_value("SELECT COALESCE(MAX(id), 0) FROM letter_events")
        letter = await db.fetch_one(
            "SELECT id, state, department_id FROM letters WHERE tracking_no = :n", {"n": number}
        )
        assert letter is not None
        path = f"/staff/letters/{number}"
        response = await post(desk, path, body, content_type, csrf)
        status = response.status_code
        self.outcomes[(str(posted["action"])[:20], status)] += 1
        assert status < 500, (posted, status, response.text[:500])
        if status != 303:
            assert status in (400, 403, 404, 409, 413), status
            changed = changed_tables(before, await everything(db))
            assert not changed, (posted, status, changed)
            if csrf != "good":  # 404: a letter outside the person's scope; 400: a broken body
                refusals = (403, 404, 413) if encoding == "quoted" else (400, 403, 404, 413)
                assert status in refusals, status
            return
        assert csrf == "good", (csrf, posted)
        assert response.headers["location"] == path
        await self._step_taken(desk, str(posted["action"]), letter, last_event)
        page = await desk.client.get(path)  # what was stored still shows
        assert page.status_code == 200, page.text[:500]

    async def _step_taken(
        self, desk: Desk, action: str, letter: Mapping[str, Any], last_event: int
    ) -> None:
        """A whole step, by someone allowed to take it, on this page's letter only."""
        await _states_follow_timelines(self.db)
        events = await _events_since(self.db, last_event)
        assert {(e["actor_user_id"], e["letter_id"]) for e in events} <= {
            (desk.user_id, letter["id"])
        }, events
        rule = Action.SUBMIT_DRAFT if action == "save_draft" else action
        if rule in TRANSITIONS:
            assert letter["state"] in TRANSITIONS[Action(rule)].sources, (action, letter)
            assert may(
                Action(rule),
                desk.roles,
                user_department_id=desk.department_id,
                letter_department_id=letter["department_id"],
            ), (desk.name, action)
        if action in TRANSITIONS:
            assert events and events[-1]["kind"] == action, (action, events)
        elif action in ("save_draft", "note"):
            assert not events, events

    async def _good(self, name: str, number: str) -> str:
        """A field's sensible value for this letter."""
        if name == "department_id":
            return str(self.department)
        if name == "request_id":
            return str(await self.letters.extension_id(number))
        if name == "original":
            return await self.letters.get("replied")
        return GOOD_VALUES.get(name, REASON)


async def _events_since(db: Database, since: int) -> list[Mapping[str, Any]]:
    return await db.fetch_all(
        "SELECT letter_id, kind, actor_user_id FROM letter_events WHERE id > :since ORDER BY id",
        {"since": since},
    )


async def _states_follow_timelines(db: Database) -> None:
    """Whole steps only: every letter is in the state its last event moved it to."""
    rows = await db.fetch_all(
        "SELECT l.tracking_no, l.state, e.to_state FROM letters l JOIN letter_events e"
        " ON e.id = (SELECT MAX(id) FROM letter_events WHERE letter_id = l.id)"
    )
    torn = [tuple(row.values()) for row in rows if row["state"] != row["to_state"]]
    assert not torn, torn
    assert len(rows) == await db.fetch_value("SELECT COUNT(*) FROM letters")


async def test_letter_forms_with_random_fields_never_fail_nor_half_change_a_letter(
    app: Starlette, db: Database, office: dict[str, str]
) -> None:
    run = on_this_loop()
    department: int = await db.fetch_value("SELECT id FROM departments WHERE code = 'radio'")
    async with db.transaction() as conn:  # replies in this channel go out without review
        await conn.execute(
            "UPDATE channels SET review_required = :no WHERE code = 'suggestion'", {"no": False}
        )
    app.state.channels.forget()
    async with AsyncExitStack() as stack:
        desks = {name: await sign_in(stack, app, db, name) for name in PEOPLE}
        bench = Bench(
            db, desks, Letters(app, desks, department), department, await stranger_token(app)
        )

        @hypothesis_settings(FUZZ, max_examples=2 * EXAMPLES)  # many forms: twice the share
        @given(
            posted=letter_posts(),
            extra=extra_pairs(["action", *FIELD_NAMES]),
            encoding=encodings,
            csrf=csrf_cases,
            forged=values,
        )
        @every_form
        @example(
            posted=good_post(Action.ACCEPT), extra=[], encoding="raw", csrf="origin", forged=""
        )
        @example(posted=good_post("note"), extra=[], encoding="quoted", csrf="other", forged="")
        @every_mistake
        def check(
            posted: dict[str, Any], extra: Pairs, encoding: str, csrf: str, forged: str | bytes
        ) -> None:
            run(bench.act(posted, extra, encoding, csrf, forged))

        await explore(check)
    outcomes = bench.outcomes
    successes = {action for (action, status), _n in outcomes.items() if status == 303}
    assert successes >= set(FORMS), sorted(set(FORMS) - successes)
    if EXAMPLES >= 100:  # the random inputs reached the handlers, not only the CSRF check
        assert sum(n for (_a, status), n in outcomes.items() if status in (400, 409)) > 10
