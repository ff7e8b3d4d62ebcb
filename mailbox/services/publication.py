"""Publishing replied letters (DESIGN §6): only with the writer's consent, only as a separate
public copy that masking prepares and a dispatcher edits; every edit, publication and
withdrawal is an event. The original is never shown publicly."""

from __future__ import annotations

from dataclasses import dataclass

from mailbox.clock import Clock
from mailbox.db.database import Connection, Database
from mailbox.db.queries import attachments, publications, replies
from mailbox.db.queries.letters import LetterRow
from mailbox.db.queries.publications import PublicCopy
from mailbox.domain.states import LetterState
from mailbox.domain.validation import clean_text
from mailbox.domain.workflow import Action, TransitionRefused
from mailbox.publication.masking import mask
from mailbox.services.errors import NotFound, ServiceError
from mailbox.services.transitions import Actor, Change, load_letter, transition

TITLE_MAX, TEXT_MAX = 100, 20_000


class NoConsent(TransitionRefused):
    """The writer did not agree to publication: the letter is counted, never published."""


class InvalidCopy(ServiceError):
    """A public copy with an empty or too long part (`part` names it)."""

    def __init__(self, part: str) -> None:
        super().__init__(part)
        self.part = part


@dataclass(frozen=True)
class Draft:
    """The public copy to show the dispatcher: saved, or freshly masked from the original."""

    title: str
    body: str
    reply: str
    saved: bool
    is_published: bool


def may_publish(letter: LetterRow) -> bool:
    return letter.publish_consent and letter.state in (LetterState.REPLIED, LetterState.CLOSED)


async def _released_reply(conn: Connection, letter: LetterRow) -> str:
    reply = await replies.latest_released(conn, letter_id=letter.id)
    if reply is None:
        raise TransitionRefused(f"letter {letter.tracking_no} has no released reply")
    return reply.body


def masked_copy(letter: LetterRow, reply: str) -> tuple[str, str, str]:
    """The first public copy: the writer's name, numbers, addresses and emails masked."""
    names = [letter.writer_name] if letter.writer_name else []
    return (
        mask(letter.title, names=names).text,
        mask(letter.body, names=names).text,
        mask(reply, names=names).text,
    )


async def draft_for(conn: Connection, letter: LetterRow) -> Draft | None:
    """The copy for the staff page, or None when the letter cannot be published."""
    if not may_publish(letter):
        return None
    saved = await publications.get_copy(conn, letter_id=letter.id)
    if saved is not None:
        return Draft(saved.title, saved.body, saved.reply, True, saved.is_published)
    title, body, reply = masked_copy(letter, await _released_reply(conn, letter))
    return Draft(title, body, reply, False, False)


def _checked(title: str, body: str, reply: str) -> tuple[str, str, str]:
    title = clean_text(title)
    body, reply = clean_text(body, multiline=True), clean_text(reply, multiline=True)
    for part, text, limit in (
        ("title", title, TITLE_MAX),
        ("body", body, TEXT_MAX),
        ("reply", reply, TEXT_MAX),
    ):
        if not text or len(text) > limit:
            raise InvalidCopy(part)
    return title, body, reply


async def _consented(conn: Connection, tracking_no: str) -> LetterRow:
    letter = await load_letter(conn, tracking_no)
    if not letter.publish_consent:
        raise NoConsent(f"the writer of {tracking_no} did not consent to publication")
    return letter


async def save_copy(
    db: Database,
    *,
    clock: Clock,
    actor: Actor,
    tracking_no: str,
    title: str,
    body: str,
    reply: str,
) -> None:
    """Save the dispatcher's edit of the public copy (re-indexed at once if it is public)."""
    title, body, reply = _checked(title, body, reply)
    now = clock.now()
    async with db.transaction() as conn:
        letter = await _consented(conn, tracking_no)
        before = await publications.get_copy(conn, letter_id=letter.id)
        await transition(
            conn,
            letter=letter,
            action=Action.EDIT_PUBLICATION,
            actor=actor,
            now=now,
            change=Change(public=False, data={"changed": _changed(before, title, body, reply)}),
        )
        await publications.save_copy(
            conn,
            letter_id=letter.id,
            title=title,
            body=body,
            reply=reply,
            now=now,
            user_id=actor.user_id,
        )
        if before is not None and before.is_published:
            await publications.index_copy(
                conn, letter_id=letter.id, text=_search_text(title, body, reply)
            )


def _changed(before: PublicCopy | None, title: str, body: str, reply: str) -> list[str]:
    if before is None:
        return ["title", "body", "reply"]
    now = {"title": title, "body": body, "reply": reply}
    return [part for part, text in now.items() if getattr(before, part) != text]


def _search_text(title: str, body: str, reply: str) -> str:
    return "\n".join((title, body, reply))


async def publish(db: Database, *, clock: Clock, actor: Actor, tracking_no: str) -> None:
    """Make the public copy public (the masked original, if nobody edited it yet)."""
    now = clock.now()
    async with db.transaction() as conn:
        letter = await _consented(conn, tracking_no)
        copy = await publications.get_copy(conn, letter_id=letter.id)
        if copy is not None and copy.is_published:
            raise TransitionRefused(f"letter {tracking_no} is published already")
        await transition(
            conn,
            letter=letter,
            action=Action.PUBLISH,
            actor=actor,
            now=now,
            change=Change(fields={"published_at": now}),
        )
        if copy is None:
            title, body, reply = masked_copy(letter, await _released_reply(conn, letter))
            await publications.save_copy(
                conn,
                letter_id=letter.id,
                title=title,
                body=body,
                reply=reply,
                now=now,
                user_id=actor.user_id,
            )
        else:
            title, body, reply = copy.title, copy.body, copy.reply
        await publications.set_published(conn, letter_id=letter.id, published=True, now=now)
        await publications.index_copy(
            conn, letter_id=letter.id, text=_search_text(title, body, reply)
        )


async def unpublish(
    db: Database, *, clock: Clock, actor: Actor, tracking_no: str, note: str = ""
) -> None:
    """Withdraw the public copy (kept for the staff, out of the archive and its search)."""
    now = clock.now()
    async with db.transaction() as conn:
        letter = await load_letter(conn, tracking_no)
        copy = await publications.get_copy(conn, letter_id=letter.id)
        if copy is None or not copy.is_published:
            raise TransitionRefused(f"letter {tracking_no} is not published")
        await transition(
            conn,
            letter=letter,
            action=Action.UNPUBLISH,
            actor=actor,
            now=now,
            change=Change(fields={"published_at": None}, public=False, note=note.strip()),
        )
        await publications.set_published(conn, letter_id=letter.id, published=False, now=now)
        await publications.index_copy(conn, letter_id=letter.id, text=None)


class NotChecked(ServiceError):
    """The dispatcher did not confirm that the file shows no personal data."""


async def publish_file(
    db: Database,
    *,
    clock: Clock,
    actor: Actor,
    tracking_no: str,
    attachment_id: int,
    publish: bool,
    checked: bool = False,
) -> None:
    """Show one attachment with the published letter, or stop showing it. Publishing needs
    the writer's consent and the dispatcher's word that the file was checked: photos and
    scans carry faces, names and numbers that masking the text cannot reach."""
    if publish and not checked:
        raise NotChecked(f"attachment {attachment_id}: not confirmed as checked")
    now = clock.now()
    async with db.transaction() as conn:
        letter = await _consented(conn, tracking_no)
        row = await attachments.get(conn, letter_id=letter.id, attachment_id=attachment_id)
        if row is None:
            raise NotFound(f"attachment {attachment_id} of {tracking_no}")
        if (row.published_at is not None) == publish:
            raise TransitionRefused(f"attachment {attachment_id} is already so")
        await transition(
            conn,
            letter=letter,
            action=Action.PUBLISH_FILE if publish else Action.UNPUBLISH_FILE,
            actor=actor,
            now=now,
            change=Change(public=False, note=row.filename, data={"attachment_id": row.id}),
        )
        await attachments.set_published(
            conn,
            attachment_id=row.id,
            by_id=actor.user_id if publish else None,
            now=now if publish else None,
        )
