"""The attention list (DESIGN §6): words that flag letters and replies before publication.
It never rejects or blocks anything; staff pages show what it found with `attention_for`."""

from __future__ import annotations

import re
import unicodedata
import uuid
from dataclasses import dataclass, field
from typing import Any

from markupsafe import Markup

from mailbox.clock import Clock
from mailbox.db.database import Connection, Database
from mailbox.db.queries import attention as queries
from mailbox.i18n import _
from mailbox.publication.attention import AttentionWords, fold
from mailbox.services.admin import Admin, InvalidInput, audit
from mailbox.services.errors import NotFound

WORD_LENGTH = 50
MOST_AT_ONCE = 5000
# Between words in the box: new lines, spaces, commas (after NFKC "，" is ","), 、 and ;.
SEPARATORS = re.compile(r"[\s,、;]+")


# --- matching, with one automaton per process and database until the list changes ---

_cache: dict[str, tuple[tuple[Any, ...], AttentionWords]] = {}


async def current_words(db: Database | Connection) -> AttentionWords:
    """The list as it is now: one small query, and the automaton rebuilt only after an edit
    (in any process: each edit writes a new version into the database)."""
    key = getattr(db, "url", "")
    version = await queries.version(db)
    cached = _cache.get(key)
    if cached is not None and cached[0] == version:
        return cached[1]
    # Read after the version: a concurrent edit can only make this copy newer than its
    # version, and the next request then reads it again.
    matcher = AttentionWords(await queries.all_words(db))
    if key:
        _cache[key] = (version, matcher)
    return matcher


@dataclass(frozen=True)
class AttentionReport:
    """The listed words found in some texts; false when there are none."""

    words: tuple[str, ...]  # distinct, in the order they first appear
    matcher: AttentionWords = field(repr=False)

    def __bool__(self) -> bool:
        return bool(self.words)

    def found_in(self, text: str | None) -> list[str]:
        return list(dict.fromkeys(hit.word for hit in self.matcher.find(text or "")))

    def highlight(self, text: str | None) -> Markup:
        """The text HTML-escaped, each listed word in <mark class="attention">."""
        return self.matcher.highlight(text or "")


async def attention_for(db: Database | Connection, *texts: str | None) -> AttentionReport:
    """The listed words in any of the texts (None, for a missing draft, is skipped)."""
    matcher = await current_words(db)
    found: dict[str, None] = {}
    for text in texts:
        for hit in matcher.find(text or ""):
            found.setdefault(hit.word)
    return AttentionReport(words=tuple(found), matcher=matcher)


# --- the administrator's changes ---


def parse_words(raw: str) -> list[str]:
    """The words of the box: NFKC, split, each once. Raises InvalidInput."""
    words = list(dict.fromkeys(SEPARATORS.split(unicodedata.normalize("NFKC", raw).strip())))
    words = [word for word in words if word]
    if not words:
        raise InvalidInput(_("Enter at least one word."))
    if len(words) > MOST_AT_ONCE:
        raise InvalidInput(_("Add at most %(count)d words at a time.", count=MOST_AT_ONCE))
    for word in words:
        if len(word) > WORD_LENGTH:
            raise InvalidInput(
                _(
                    "A word may have at most %(count)d characters: %(word)s",
                    count=WORD_LENGTH,
                    word=word[:WORD_LENGTH] + "…",
                )
            )
    return words


@dataclass(frozen=True)
class Added:
    added: list[str]
    skipped: int  # listed already (the same once case and width are set aside)


async def add_words(db: Database, *, clock: Clock, actor: Admin, raw: str) -> Added:
    words = parse_words(raw)
    async with db.transaction() as conn:
        listed = {fold(word) for word in await queries.all_words(conn)}
        added: list[str] = []
        for word in words:
            key = fold(word)
            if key not in listed and await queries.add_word(conn, word=word, now=clock.now()):
                added.append(word)
            listed.add(key)
        if added:
            await queries.set_version(conn, token=uuid.uuid4().hex, now=clock.now())
            target = "、".join(added)
            target = target if len(target) <= 100 else target[:99] + "…"
            await audit(conn, clock, actor, "attention_word.add", target, words=added)
    return Added(added=added, skipped=len(words) - len(added))


async def delete_word(db: Database, *, clock: Clock, actor: Admin, word_id: int) -> str:
    async with db.transaction() as conn:
        word = await queries.delete_word(conn, word_id=word_id)
        if word is None:
            raise NotFound(f"attention word {word_id}")
        await queries.set_version(conn, token=uuid.uuid4().hex, now=clock.now())
        await audit(conn, clock, actor, "attention_word.delete", word)
    return word
