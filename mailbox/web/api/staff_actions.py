"""The staff API's workflow actions: each one's JSON body, who may take it and when, and the
web form it becomes, so that the web's ACTIONS table runs it with the web's own checks."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from mailbox.db.database import Database
from mailbox.db.queries import users
from mailbox.db.queries.letters import LetterRow
from mailbox.db.queries.users import UserRow
from mailbox.domain.workflow import TRANSITIONS, Action
from mailbox.i18n import N_, _
from mailbox.services import handling, publication
from mailbox.services.handling import REPLY_MAX, REPLY_MIN
from mailbox.services.publication import TEXT_MAX, TITLE_MAX
from mailbox.web.api.bodies import FILL_IN, object_schema, text, whole_number
from mailbox.web.api.errors import ApiError, default_message
from mailbox.web.letter import NOTE_LENGTH, possible_actions

CODE_MAX = 40
NOTE_MAX = 5000  # an internal note (the web keeps 5,000 characters)


@dataclass(frozen=True)
class Facts:
    """What decides whether an action applies now, beyond the letter's state and the roles."""

    extension_id: int | None  # the extension request waiting for the office's decision
    has_reply: bool  # a reply has been released


def _always(letter: LetterRow, facts: Facts) -> bool:
    return True


@dataclass(frozen=True)
class Spec:
    web: str  # the web form's action: its key in letter.ACTIONS
    rule: Action | None  # whose roles and which states allow it; None: whoever sees the letter
    summary: str
    description: str
    fields: dict[str, dict[str, Any]] = field(default_factory=dict)
    required: tuple[str, ...] = ()
    rename: dict[str, str] = field(default_factory=dict)  # JSON field -> the web form's field
    refused: dict[str, str] = field(default_factory=dict)  # field -> why the service refused it
    applies: Callable[[LetterRow, Facts], bool] = _always
    not_now: str = N_("This step is not possible now: the letter has changed. Please look again.")

    @property
    def schema(self) -> dict[str, Any]:
        return object_schema(self.fields, self.required)


DEPARTMENT = {"department": text(CODE_MAX, "The department's code, e.g. `radio`")}
NO_DEPARTMENT = {"department": N_("There is no open department with this code.")}
REPLY_LENGTH = N_("A reply has 10 to 10,000 characters.")
REPLY = text(REPLY_MAX, "The reply to the writer, 10 to 10,000 characters", REPLY_MIN)
WAITING = N_("There is no extension request waiting for a decision.")
DECISION_NOTE = {"note": text(NOTE_LENGTH, "For the handler who asked", 0)}

SPECS: dict[str, Spec] = {
    "accept": Spec(
        Action.ACCEPT,
        Action.ACCEPT,
        "Accept a new letter and route it to a department",
        "Dispatcher or administrator; the letter must be `pending`. The reply deadline is fixed"
        " now (the channel's working days); the writer and the department are mailed.",
        DEPARTMENT,
        ("department",),
        refused=NO_DEPARTMENT,
    ),
    "reject": Spec(
        Action.REJECT,
        Action.REJECT,
        "Reject a new letter with a coded reason",
        "Dispatcher or administrator; `pending` letters. The writer is mailed the reason and"
        " where to turn instead. The reason codes are the office's list of reject reasons.",
        {
            "reason": text(CODE_MAX, "A reject reason's code, e.g. `not_ours`"),
            "note": text(1000, "An added note for the writer", 0),
        },
        ("reason",),
        refused={"reason": N_("There is no reject reason with this code.")},
    ),
    "mark-spam": Spec(
        Action.MARK_SPAM,
        Action.MARK_SPAM,
        "Mark a new letter as spam",
        "Dispatcher or administrator; `pending` letters. Kept, left out of every figure; the"
        " writer is not told. No body.",
    ),
    "restore": Spec(
        Action.RESTORE,
        Action.RESTORE,
        "Restore a letter marked as spam",
        "Dispatcher or administrator; `spam` letters go back to `pending`. No body.",
    ),
    "merge": Spec(
        Action.MERGE,
        Action.MERGE,
        "Close a new letter as a repeat of another",
        "Dispatcher or administrator; `pending` letters become `duplicate` and leave the"
        " figures; the writer is mailed the original's tracking number.",
        {"original": text(CODE_MAX, "The tracking number of the original letter")},
        ("original",),
        refused={
            "original": N_(
                "This letter cannot be the original: give the tracking number of another letter"
                " that is not spam or a duplicate."
            )
        },
    ),
    "assign": Spec(
        Action.REASSIGN,
        Action.REASSIGN,
        "Route a returned letter to another department",
        "Dispatcher or administrator; `returned` letters. The deadline fixed at acceptance stays.",
        DEPARTMENT,
        ("department",),
        refused=NO_DEPARTMENT,
    ),
    "draft": Spec(
        "save_draft",
        Action.SUBMIT_DRAFT,
        "Save the reply draft",
        "A handler of the letter's department; `assigned` letters. Nothing is sent and the"
        " state stays; the draft replaces the previous one.",
        {"body": REPLY},
        ("body",),
        refused={"body": REPLY_LENGTH},
    ),
    "reply": Spec(
        Action.SUBMIT_DRAFT,
        Action.SUBMIT_DRAFT,
        "Reply: save the draft and send it on",
        "A handler of the letter's department; `assigned` letters. The draft is saved, then"
        " submitted for review (`review`) when the channel's replies are reviewed, or released"
        " to the writer at once (`replied`, the writer is mailed) when they are not.",
        {"body": REPLY},
        ("body",),
        refused={"body": REPLY_LENGTH},
    ),
    "approve": Spec(
        Action.APPROVE,
        Action.APPROVE,
        "Approve the draft: the reply goes to the writer",
        "A reviewer of the letter's department; `review` letters become `replied` and the"
        " writer is mailed a link to read and rate the reply. No body.",
    ),
    "send-back": Spec(
        Action.SEND_BACK,
        Action.SEND_BACK,
        "Send the draft back to the handler",
        "A reviewer of the letter's department; `review` letters go back to `assigned`.",
        {"comment": text(NOTE_LENGTH, "What to change")},
        ("comment",),
        rename={"comment": "note"},
        refused={"comment": FILL_IN},
    ),
    "return": Spec(
        Action.RETURN,
        Action.RETURN,
        "Return a letter that is not the department's",
        "A handler of the letter's department; `assigned` letters become `returned` and wait"
        " for the dispatcher to assign them elsewhere.",
        {"reason": text(NOTE_LENGTH, "Why it is not the department's letter")},
        ("reason",),
        rename={"reason": "note"},
        refused={"reason": FILL_IN},
    ),
    "extend": Spec(
        Action.REQUEST_EXTENSION,
        Action.REQUEST_EXTENSION,
        "Ask for more working days",
        "A handler of the letter's department; `assigned` or `review` letters without a"
        " request waiting. The office grants or refuses it; the deadline moves only on grant.",
        {
            "working_days": whole_number(1, 60, "How many more working days"),
            "reason": text(NOTE_LENGTH, "Why"),
        },
        ("working_days", "reason"),
        rename={"reason": "note"},
        refused={"reason": FILL_IN},
        applies=lambda letter, facts: facts.extension_id is None,
        not_now=N_("An extension request is already waiting for a decision."),
    ),
    "grant-extension": Spec(
        Action.GRANT_EXTENSION,
        Action.GRANT_EXTENSION,
        "Grant the extension request waiting",
        "Dispatcher or administrator; the deadline moves by the working days asked for and"
        " the handler is mailed.",
        DECISION_NOTE,
        applies=lambda letter, facts: facts.extension_id is not None,
        not_now=WAITING,
    ),
    "refuse-extension": Spec(
        Action.REFUSE_EXTENSION,
        Action.REFUSE_EXTENSION,
        "Refuse the extension request waiting",
        "Dispatcher or administrator; the deadline stays and the handler is mailed.",
        DECISION_NOTE,
        applies=lambda letter, facts: facts.extension_id is not None,
        not_now=WAITING,
    ),
    "reopen": Spec(
        Action.REOPEN,
        Action.REOPEN,
        "Reopen a letter the writer was not satisfied with",
        "Dispatcher or administrator; `closed` letters rated 不满意 (`needs_follow_up`). The"
        " department gets it back with a new deadline; the writer is mailed.",
        {"note": text(NOTE_LENGTH, "What is still missing, for the department")},
        ("note",),
        refused={"note": FILL_IN},
        applies=lambda letter, facts: handling.letter_needs_follow_up(letter),
    ),
    "close": Spec(
        Action.CLOSE_UNSATISFIED,
        Action.CLOSE_UNSATISFIED,
        "Close the follow-up of an unsatisfied letter",
        "Dispatcher or administrator; `closed` letters rated 不满意 (`needs_follow_up`). The"
        " writer is mailed the note.",
        {"note": text(NOTE_LENGTH, "For the writer")},
        ("note",),
        refused={"note": FILL_IN},
        applies=lambda letter, facts: handling.letter_needs_follow_up(letter),
    ),
    "correct-reply": Spec(
        Action.CORRECT_REPLY,
        Action.CORRECT_REPLY,
        "Correct the released reply",
        "A reviewer, dispatcher or administrator; `replied` or `closed` letters. A released"
        " reply is never changed: the correction is released as a new reply.",
        {"body": REPLY, "note": text(NOTE_LENGTH, "What was corrected", 0)},
        ("body",),
        refused={"body": REPLY_LENGTH},
        applies=lambda letter, facts: facts.has_reply,
    ),
    "publish": Spec(
        Action.PUBLISH,
        Action.PUBLISH,
        "Publish the letter's public copy",
        "Dispatcher or administrator; `replied` or `closed` letters whose writer agreed to"
        " publication (else 409). The public copy starts as the original with the writer's"
        " name, numbers and addresses masked; any part given here replaces that part of it"
        " first (the edit is logged).",
        {
            "title": text(TITLE_MAX, "The public title"),
            "body": text(TEXT_MAX, "The public text of the letter"),
            "reply": text(TEXT_MAX, "The public text of the reply"),
        },
        refused={
            part: N_("This part of the public copy is empty or too long.")
            for part in ("title", "body", "reply")
        },
        applies=lambda letter, facts: letter.publish_consent and letter.published_at is None,
        not_now=N_("The writer did not agree to publication: this letter cannot be published."),
    ),
    "unpublish": Spec(
        Action.UNPUBLISH,
        Action.UNPUBLISH,
        "Withdraw the public copy",
        "Dispatcher or administrator; published letters. The copy is kept for the staff.",
        {"note": text(NOTE_LENGTH, "Why, for the timeline", 0)},
        applies=lambda letter, facts: letter.published_at is not None,
    ),
    "note": Spec(
        "note",
        None,
        "Add an internal note",
        "Anyone who sees the letter, in any state. Notes are for the staff only.",
        {"body": text(NOTE_MAX, "The note")},
        ("body",),
        refused={"body": FILL_IN},
    ),
}


def may_take(spec: Spec, user: UserRow) -> bool:
    """Whether the person's roles ever allow the action (the department is checked later)."""
    return spec.rule is None or bool(TRANSITIONS[spec.rule].roles & user.roles)


def applies_now(spec: Spec, letter: LetterRow, facts: Facts) -> bool:
    states = TRANSITIONS[spec.rule].sources if spec.rule else None
    return (states is None or letter.state in states) and spec.applies(letter, facts)


def available(user: UserRow, letter: LetterRow, facts: Facts) -> list[str]:
    """The actions this person may take on the letter now, as the staff page offers them."""
    allowed = possible_actions(user, letter)
    return [
        name
        for name, spec in SPECS.items()
        if (spec.rule is None or spec.rule in allowed) and spec.applies(letter, facts)
    ]


async def web_form(
    db: Database,
    *,
    name: str,
    spec: Spec,
    values: dict[str, str],
    letter: LetterRow,
    facts: Facts,
    review_required: bool,
) -> tuple[str, dict[str, str]]:
    """The web's action and the form it reads, made from the API call's checked values."""
    form = {spec.rename.get(key, key): value for key, value in values.items()}
    action = spec.web
    if "department" in values:
        department_id = await users.department_id_by_code(db, code=values["department"])
        if department_id is None:
            raise ApiError(422, default_message(422), fields=refusal(spec))
        form["department_id"] = str(department_id)
    if name in ("grant-extension", "refuse-extension"):
        form["request_id"] = str(facts.extension_id)
    if name == "reply" and not review_required:
        action = Action.RELEASE
    if name == "publish" and values:
        # Parts not given keep the copy as it stands (saved, or freshly masked).
        draft = await publication.draft_for(db, letter)
        if draft is not None:
            for part, shown in (
                ("title", draft.title),
                ("body", draft.body),
                ("reply", draft.reply),
            ):
                form[f"pub_{part}"] = values.get(part, shown)
    return action, form


def refusal(spec: Spec, part: str = "") -> dict[str, str]:
    """The fields to name when the service refused the values as given."""
    if part and part in spec.refused:
        return {part: _(spec.refused[part])}
    return {name: _(message) for name, message in spec.refused.items()}
