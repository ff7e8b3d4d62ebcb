"""The letter's states and the transitions between them (DESIGN §3)."""

from __future__ import annotations

from enum import StrEnum


class LetterState(StrEnum):
    PENDING = "pending"
    REJECTED = "rejected"
    SPAM = "spam"
    DUPLICATE = "duplicate"
    ASSIGNED = "assigned"
    RETURNED = "returned"
    REVIEW = "review"
    REPLIED = "replied"
    CLOSED = "closed"


class Source(StrEnum):
    WEB = "web"
    POST = "post"
    PHONE = "phone"
    VISIT = "visit"
    API = "api"
    OPEN311 = "open311"
    IMPORT = "import"


class Channel(StrEnum):
    DIRECTOR = "director"
    CONSULT = "consult"
    COMPLAINT = "complaint"
    SUGGESTION = "suggestion"


# What the writer sees on /track: internal steps (review, returned) read as "being handled".
PUBLIC_STATE: dict[LetterState, LetterState] = {
    LetterState.PENDING: LetterState.PENDING,
    LetterState.REJECTED: LetterState.REJECTED,
    LetterState.SPAM: LetterState.PENDING,
    LetterState.DUPLICATE: LetterState.DUPLICATE,
    LetterState.ASSIGNED: LetterState.ASSIGNED,
    LetterState.RETURNED: LetterState.ASSIGNED,
    LetterState.REVIEW: LetterState.ASSIGNED,
    LetterState.REPLIED: LetterState.REPLIED,
    LetterState.CLOSED: LetterState.CLOSED,
}
