"""A POSTed service request as a letter: GeoReport's arguments become the letter form's fields,
checked by the form's own rules, and the form's messages come back under GeoReport's names."""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping

from mailbox.db.queries.channels import ChannelRow
from mailbox.domain.validation import TITLE_MAX, TITLE_MIN, LetterInput, clean_text, validate_letter
from mailbox.i18n import _

TITLE_ATTRIBUTE = "attribute[title]"
CONSENT_ATTRIBUTE = "attribute[publish_consent]"
YES, NO = ("1", "true", "yes", "on"), ("", "0", "false", "no", "off")


def _east_asian(text: str) -> bool:
    return any(unicodedata.east_asian_width(ch) in ("W", "F") for ch in text)


def writer_name(first_name: str, last_name: str) -> str:
    """张 + 三丰 → 张三丰 (family name first, no space, for names in Chinese, Japanese or
    Korean script); John + Smith → John Smith."""
    first, last = clean_text(first_name), clean_text(last_name)
    if not (first and last):
        return first or last
    return f"{last}{first}" if _east_asian(first + last) else f"{first} {last}"


def title_from(description: str, fallback: str) -> str:
    """The description's first line, or its first 50 characters when that line is longer.
    A first line too short for a title (such as 噪音) gives way to the text's beginning, and
    a text too short for that to the channel's name: the writer is never asked for a title
    the protocol has no field for."""
    text = clean_text(description, multiline=True)
    first_line = " ".join(text.split("\n", 1)[0].split())
    if len(first_line) >= TITLE_MIN:
        return first_line[:TITLE_MAX].strip()
    flat = " ".join(text.split())
    if len(flat) >= TITLE_MIN:
        return flat[:TITLE_MAX].strip()
    return fallback


def _consent(raw: str) -> bool | None:
    value = raw.strip().lower()
    return True if value in YES else False if value in NO else None


def letter_from(
    form: Mapping[str, str], channel: ChannelRow
) -> tuple[LetterInput | None, list[str]]:
    """The letter, or None and a message per wrong argument, named as the client sent it."""
    description = form.get("description", "")
    given_title = form.get(TITLE_ATTRIBUTE, "").strip()
    consent = _consent(form.get(CONSENT_ATTRIBUTE, ""))
    letter, errors = validate_letter(
        {
            "title": given_title or title_from(description, channel.name),
            "body": description,
            "name": writer_name(form.get("first_name", ""), form.get("last_name", "")),
            "phone": form.get("phone", ""),
            "email": form.get("email", ""),
            "address": form.get("address_string", ""),
            "publish_consent": "1" if consent else "",
        }
    )
    if "title" in errors and "body" in errors and not given_title:
        del errors["title"]  # the title came from the description: one message is enough
    names = {
        "title": TITLE_ATTRIBUTE if given_title else "description",
        "body": "description",
        "name": "first_name, last_name",
        "phone": "phone",
        "email": "email",
        "address": "address_string",
    }
    messages = [f"{names[field]}: {message}" for field, message in errors.items()]
    if consent is None:
        messages.append(CONSENT_ATTRIBUTE + ": " + _("Send 1 (yes) or 0 (no)."))
    if messages:
        return None, messages
    return letter, []
