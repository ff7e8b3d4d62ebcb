"""The office in GeoReport terms: a channel is a service, a letter a service request, and a
request shows only what the public may see (never the writer, never the unpublished text)."""

from __future__ import annotations

from datetime import datetime

from mailbox.db.queries.channels import ChannelRow
from mailbox.db.queries.open311 import RequestRow
from mailbox.domain.states import LetterState
from mailbox.i18n import _
from mailbox.settings import Settings
from mailbox.web.api.common import iso
from mailbox.web.open311.render import Many, Value

SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
# When this document's services or definitions last changed shape (discovery's changeset).
CHANGESET = "2026-09-30"
DESCRIPTION_MAX = 4000  # the specification's limit for a request's description

# "closed: it has been resolved": a released reply resolves a letter (the figures count it
# as 办结), and so do a rejection (the writer is told why) and a merge into an earlier letter.
CLOSED_STATES = frozenset(
    {LetterState.REJECTED, LetterState.DUPLICATE, LetterState.REPLIED, LetterState.CLOSED}
)
# What a listing by date shows: the figures' cohort, without spam and merged duplicates.
LISTED_STATES = tuple(
    state for state in LetterState if state not in (LetterState.SPAM, LetterState.DUPLICATE)
)
STATUSES = ("open", "closed")


def status_of(state: str) -> str:
    """Spam reads as open, as it does to the writer on /track: marking it is never told."""
    return "closed" if state in CLOSED_STATES else "open"


def listed_states(statuses: set[str]) -> list[str]:
    return [str(state) for state in LISTED_STATES if status_of(state) in statuses]


def service_notice(channel: ChannelRow) -> str:
    return _(
        "Letters are accepted or declined within %(intake)d working days, and answered "
        "within %(days)d working days of acceptance.",
        intake=channel.intake_days,
        days=channel.reply_days,
    )


def service(channel: ChannelRow, *, locale: str, settings: Settings) -> dict[str, Value]:
    return {
        "service_code": channel.code,
        "service_name": channel.display_name(locale),
        "description": service_notice(channel),
        "metadata": True,  # the definition tells the title and publication attributes
        "type": "realtime",  # the tracking number is returned at once
        "keywords": ", ".join(dict.fromkeys((channel.name, channel.name_en, channel.code))),
        "group": settings.org_name,
    }


def definition(channel: ChannelRow) -> dict[str, Value]:
    """The form's fields that GeoReport has no argument for. The others are its own:
    description (the letter), first_name and last_name, phone, email, address_string."""
    attributes: list[Value] = [
        {
            "variable": True,
            "code": "title",
            "datatype": "string",
            "required": False,
            "datatype_description": _("4 to 50 characters"),
            "order": 1,
            "description": _(
                "The letter's title. Without it, the first line of the description is the "
                "title (its first 50 characters)."
            ),
        },
        {
            "variable": True,
            "code": "publish_consent",
            "datatype": "singlevaluelist",
            "required": False,
            "datatype_description": "",
            "order": 2,
            "description": _(
                "May the letter and its reply be published on the website, with the writer's "
                "personal data masked? Without an answer they are not published."
            ),
            "values": Many(
                "value",
                [
                    {"key": "1", "name": _("Yes, they may be published")},
                    {"key": "0", "name": _("No")},
                ],
            ),
        },
        {
            "variable": False,
            "code": "writer",
            "datatype": "string",
            "required": False,
            "datatype_description": "",
            "order": 3,
            "description": _(
                "The writer's name (first_name, last_name) and phone number are required; an "
                "email address is optional: the receipt with the query code is mailed to it."
            ),
        },
    ]
    return {"service_code": channel.code, "attributes": Many("attribute", attributes)}


def _updated(row: RequestRow) -> datetime:
    """The last change; for a closed request the moment it closed (the specification's rule).
    A letter marked as spam shows its submission: the marking is not the public's to see."""
    if row.state == LetterState.SPAM:
        return row.submitted_at
    if row.state in (LetterState.REPLIED, LetterState.CLOSED):
        return row.replied_at or row.closed_at or row.updated_at
    if row.state in CLOSED_STATES:
        return row.closed_at or row.updated_at
    return row.updated_at


def _published_letter(row: RequestRow) -> str:
    """The published copy as a description: its title on the first line, as a POST gives it;
    cut at the specification's 4,000 characters (the whole copy is on /letters)."""
    if not row.public_body:
        return ""
    text = f"{row.public_title}\n\n{row.public_body}"
    return text if len(text) <= DESCRIPTION_MAX else text[: DESCRIPTION_MAX - 1] + "…"


def service_request(
    row: RequestRow, channel: ChannelRow | None, *, locale: str, settings: Settings, notice: str
) -> dict[str, Value]:
    """Every field of the specification, in its order; location fields are empty (letters
    are not geographic, and the writer's address is personal data)."""
    return {
        "service_request_id": row.tracking_no,
        "status": status_of(row.state),
        "status_notes": row.public_reply,  # the published, masked reply; empty until then
        "service_name": channel.display_name(locale) if channel else row.channel,
        "service_code": row.channel,
        "description": _published_letter(row),  # masked, and empty until published
        "agency_responsible": row.department if row.state != LetterState.SPAM else "",
        "service_notice": notice,  # service_notice(channel), made once per request
        "requested_datetime": iso(row.submitted_at, settings),
        "updated_datetime": iso(_updated(row), settings),
        "expected_datetime": iso(row.due_at, settings),
        "address": "",
        "address_id": "",
        "zipcode": "",
        "lat": "",
        "long": "",
        "media_url": "",
    }
