"""The staff letter page: the letter, its timeline and notes, and every step on it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from mailbox.attachments.kinds import ACCEPT
from mailbox.auth.permissions import Page, is_office, sees_letter
from mailbox.clock import Clock
from mailbox.db.database import Database
from mailbox.db.queries import attachments, letters, replies, staffview
from mailbox.db.queries.letters import LetterRow
from mailbox.db.queries.users import UserRow
from mailbox.domain.states import LetterState
from mailbox.domain.workflow import TRANSITIONS, Action, TransitionRefused, may, next_state
from mailbox.i18n import _
from mailbox.services import handling, intake, publication
from mailbox.services.attachments import (
    AttachmentRefused,
    Upload,
    check_uploads,
    discard,
    kept_files,
    store_for,
)
from mailbox.services.attention import attention_for
from mailbox.services.errors import NotFound, ServiceError
from mailbox.services.transitions import Actor, NotPermitted
from mailbox.settings import Settings
from mailbox.web.common import (
    clock_of,
    db_of,
    read_form_with_files,
    render,
    settings_of,
    whole_number,
)
from mailbox.web.staff import staff_page
from mailbox.web.workspace import actor_of, staff_context

NOTE_LENGTH = 2000


async def visible_letter(request: Request) -> LetterRow:
    letter = await letters.get_letter_by_tracking_no(
        db_of(request), tracking_no=request.path_params["tracking_no"]
    )
    # Outside your scope, a letter does not exist for you: 404, not 403.
    if letter is None or not sees_letter(request.state.user, letter):
        raise HTTPException(404)
    return letter


def possible_actions(user: UserRow, letter: LetterRow) -> set[str]:
    """The workflow actions this person's roles allow on the letter in its present state."""
    return {
        action
        for action, rule in TRANSITIONS.items()
        if letter.state in rule.sources
        and may(
            action,
            user.roles,
            user_department_id=user.department_id,
            letter_department_id=letter.department_id,
        )
    }


async def _letter_page(
    request: Request, letter: LetterRow, *, error: str = "", status: int = 200
) -> Response:
    db, user = db_of(request), request.state.user
    context = await staff_context(request)
    preview_due = None
    if letter.state == LetterState.PENDING:
        async with db.transaction() as conn:  # a read; the writer sees holidays just edited
            preview_due = await intake.due_at_for(
                conn, settings_of(request), letter, clock_of(request).now()
            )
    context.update(
        letter=letter,
        actions=possible_actions(user, letter),
        timeline=await staffview.timeline(db, letter_id=letter.id),
        notes=await staffview.notes(db, letter_id=letter.id),
        draft=await replies.current_draft(db, letter_id=letter.id),
        released=await replies.latest_released(db, letter_id=letter.id),
        templates=await staffview.reply_templates(
            db, channel=letter.channel, department_id=letter.department_id
        ),
        reasons=await staffview.reject_reasons(db),
        extension_id=await staffview.pending_extension_id(db, letter_id=letter.id),
        ratings=await replies.ratings(db, letter_id=letter.id),
        preview_due=preview_due,
        publication=await publication.draft_for(db, letter) if is_office(user) else None,
        error=error,
        office=is_office(user),
        files=await attachments.of_letter(db, letter_id=letter.id),
        attachment_accept=ACCEPT,
    )
    replies_shown = [reply.body for reply in (context["draft"], context["released"]) if reply]
    context["attention"] = await attention_for(db, letter.title, letter.body, *replies_shown)
    return render(request, "staff/letter.html", context, status=status)


@staff_page(Page.LETTER)
async def letter_page(request: Request) -> Response:
    return await _letter_page(request, await visible_letter(request))


@dataclass(frozen=True)
class Step:
    """One posted action: who takes it, on which letter, with what the form said."""

    db: Database
    settings: Settings
    clock: Clock
    actor: Actor
    letter: LetterRow
    form: dict[str, str]
    uploads: list[Upload] = field(default_factory=list)

    @property
    def on_letter(self) -> dict[str, Any]:
        """The arguments every letter service takes."""
        return {"clock": self.clock, "actor": self.actor, "tracking_no": self.letter.tracking_no}

    def note(self, limit: int = NOTE_LENGTH) -> str:
        return self.form.get("note", "").strip()[:limit]

    def number(self, name: str) -> int:
        found = whole_number(self.form.get(name, ""))
        if found is None:
            raise intake.InvalidDecision(name)
        return found


def _may_take(step: Step, action: Action) -> None:
    """The step's own checks, before a draft or a public copy is saved on its way: a step
    refused must leave nothing behind. (The services check again in their transactions.)"""
    next_state(action, LetterState(step.letter.state))
    if not may(
        action,
        step.actor.roles,
        user_department_id=step.actor.department_id,
        letter_department_id=step.letter.department_id,
    ):
        raise NotPermitted(f"{action} on {step.letter.tracking_no}")


async def _save_draft(step: Step) -> None:
    """The text, and any documents chosen with it: checked, written to disk, then recorded
    with the draft in one transaction (or removed again). Only the department's handlers
    draft, as the page and the API offer it."""
    _may_take(step, Action.SUBMIT_DRAFT)
    checked = []
    if step.uploads:
        draft = await replies.current_draft(step.db, letter_id=step.letter.id)
        async with step.db.transaction() as conn:
            already = (
                await attachments.total_size(conn, letter_id=step.letter.id, reply_id=draft.id)
                if draft
                else (0, 0)
            )
        checked = await check_uploads(step.settings, step.uploads, already=already)
    async with kept_files(step.settings, checked) as files:
        await handling.save_draft(
            step.db, body=step.form.get("body", ""), files=files, **step.on_letter
        )


async def _detach(step: Step) -> None:
    name = await handling.detach(
        step.db, attachment_id=step.number("attachment_id"), **step.on_letter
    )
    discard(store_for(step.settings), [name])


async def _publish_file(step: Step, *, publish: bool) -> None:
    await publication.publish_file(
        step.db,
        attachment_id=step.number("attachment_id"),
        publish=publish,
        checked=step.form.get("checked") == "1",
        **step.on_letter,
    )


async def _submit_draft(step: Step) -> None:
    await _save_draft(step)
    await handling.submit_for_review(step.db, **step.on_letter)


async def _release(step: Step) -> None:
    _may_take(step, Action.RELEASE)
    if await step.db.fetch_value(
        "SELECT review_required FROM channels WHERE code = :code", {"code": step.letter.channel}
    ):
        raise TransitionRefused("this channel's replies are reviewed first")
    await _save_draft(step)
    await handling.release_directly(step.db, settings=step.settings, **step.on_letter)


async def _decide_extension(step: Step, *, grant: bool) -> None:
    request_id = step.number("request_id")
    # The request waiting on this page's letter: another letter's is not decided from here.
    if request_id != await staffview.pending_extension_id(step.db, letter_id=step.letter.id):
        raise NotFound(f"extension request {request_id} of {step.letter.tracking_no}")
    await handling.decide_extension(
        step.db,
        settings=step.settings,
        clock=step.clock,
        actor=step.actor,
        request_id=request_id,
        grant=grant,
        note=step.note(),
    )


async def _publish(step: Step) -> None:
    """Publish what the form shows: the dispatcher's text is saved first if it was edited."""
    if step.form.get("pub_title") is not None:
        if step.letter.published_at is not None:  # refused below, after the edit was saved
            raise TransitionRefused(f"letter {step.letter.tracking_no} is published already")
        draft = await publication.draft_for(step.db, step.letter)
        shown = (step.form.get("pub_title"), step.form.get("pub_body"), step.form.get("pub_reply"))
        if draft is None or shown != (draft.title, draft.body, draft.reply):
            await ACTIONS[Action.EDIT_PUBLICATION](step)
    await publication.publish(step.db, **step.on_letter)


async def _add_note(step: Step) -> None:
    body = step.form.get("body", "").strip()[:5000]
    if not body:
        raise handling.InvalidWork("empty note")
    assert step.actor.user_id is not None
    async with step.db.transaction() as conn:
        await staffview.add_note(
            conn,
            letter_id=step.letter.id,
            author_user_id=step.actor.user_id,
            body=body,
            now=step.clock.now(),
        )


# Each form action and the service call it makes; the services check the workflow table and
# the actor's roles again, inside their transaction.
ACTIONS: dict[str, Callable[[Step], Awaitable[object]]] = {
    Action.ACCEPT: lambda s: intake.accept(
        s.db, settings=s.settings, department_id=s.number("department_id"), **s.on_letter
    ),
    Action.REJECT: lambda s: intake.reject(
        s.db, reason_code=s.form.get("reason", ""), note=s.note(1000), **s.on_letter
    ),
    Action.MARK_SPAM: lambda s: intake.mark_spam(s.db, **s.on_letter),
    Action.RESTORE: lambda s: intake.restore(s.db, **s.on_letter),
    Action.MERGE: lambda s: intake.merge(
        s.db,
        original_tracking_no="".join(ch for ch in s.form.get("original", "") if ch.isdigit()),
        **s.on_letter,
    ),
    Action.REASSIGN: lambda s: intake.reassign(
        s.db, department_id=s.number("department_id"), **s.on_letter
    ),
    "save_draft": _save_draft,
    Action.SUBMIT_DRAFT: _submit_draft,
    Action.RELEASE: _release,
    Action.APPROVE: lambda s: handling.approve(s.db, settings=s.settings, **s.on_letter),
    Action.SEND_BACK: lambda s: handling.send_back(s.db, comment=s.note(), **s.on_letter),
    Action.RETURN: lambda s: handling.return_to_office(s.db, reason=s.note(), **s.on_letter),
    Action.REQUEST_EXTENSION: lambda s: handling.request_extension(
        s.db, working_days=s.number("working_days"), reason=s.note(), **s.on_letter
    ),
    Action.GRANT_EXTENSION: lambda s: _decide_extension(s, grant=True),
    Action.REFUSE_EXTENSION: lambda s: _decide_extension(s, grant=False),
    Action.REOPEN: lambda s: handling.reopen(
        s.db, settings=s.settings, note=s.note(), **s.on_letter
    ),
    Action.CLOSE_UNSATISFIED: lambda s: handling.close_with_note(
        s.db, note=s.note(), **s.on_letter
    ),
    Action.CORRECT_REPLY: lambda s: handling.correct_reply(
        s.db, body=s.form.get("body", ""), note=s.note(), **s.on_letter
    ),
    Action.EDIT_PUBLICATION: lambda s: publication.save_copy(
        s.db,
        title=s.form.get("pub_title", ""),
        body=s.form.get("pub_body", ""),
        reply=s.form.get("pub_reply", ""),
        **s.on_letter,
    ),
    Action.PUBLISH: _publish,
    Action.UNPUBLISH: lambda s: publication.unpublish(s.db, note=s.note(), **s.on_letter),
    Action.PUBLISH_FILE: lambda s: _publish_file(s, publish=True),
    Action.UNPUBLISH_FILE: lambda s: _publish_file(s, publish=False),
    "detach": _detach,
    "note": _add_note,
}


@staff_page(Page.LETTER)
async def letter_action(request: Request) -> Response:
    letter = await visible_letter(request)
    settings = settings_of(request)
    form, uploads = await read_form_with_files(request, max_files=settings.attachment_files + 5)
    run = ACTIONS.get(form.get("action", ""))
    if run is None:
        raise HTTPException(400)
    step = Step(
        db=db_of(request),
        settings=settings,
        clock=clock_of(request),
        actor=actor_of(request.state.user),
        letter=letter,
        form=form,
        uploads=uploads,
    )
    try:
        await run(step)
        request.app.state.outbox_wakeup.set()  # any mail the step queued goes out now
    except NotPermitted:
        raise HTTPException(403) from None
    except publication.NoConsent:
        message = _("The writer did not agree to publication: this letter cannot be published.")
        return await _letter_page(request, letter, error=message, status=403)
    except TransitionRefused:
        fresh = await visible_letter(request)
        message = _("This step is not possible now: the letter has changed. Please look again.")
        return await _letter_page(request, fresh, error=message, status=409)
    except NotFound:
        raise HTTPException(404) from None
    except AttachmentRefused as refused:
        return await _letter_page(request, letter, error=refused.message, status=400)
    except publication.NotChecked:
        message = _(
            "Please confirm that you have looked at the file and that it shows no personal "
            "details before publishing it."
        )
        return await _letter_page(request, letter, error=message, status=400)
    except ServiceError:
        message = _("Please check what you entered: something is missing or not valid.")
        return await _letter_page(request, letter, error=message, status=400)
    return RedirectResponse(f"/staff/letters/{letter.tracking_no}", status_code=303)


routes = [
    Route("/staff/letters/{tracking_no}", letter_page, methods=["GET"]),
    Route("/staff/letters/{tracking_no}", letter_action, methods=["POST"]),
]
