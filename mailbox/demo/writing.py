"""The demo's words: fictional writers, their letters and the departments' replies."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from random import Random
from zoneinfo import ZoneInfo

from mailbox.demo import texts
from mailbox.demo.texts import Topic
from mailbox.domain.validation import LetterInput, validate_letter

DEPARTMENTS = {department.code: department for department in texts.DEPARTMENTS}


@dataclass(frozen=True)
class Writer:
    name: str
    phone: str  # 1380000xxxx: a block kept out of real use
    email: str  # example.com, reserved for examples
    address: str
    client_ip: str  # documentation networks (RFC 5737)


def new_writer(rng: Random) -> Writer:
    name = rng.choice(texts.SURNAMES) + rng.choice(texts.GIVEN_NAMES)
    number = rng.randrange(10_000)
    email = f"writer{number:04d}@example.com" if rng.random() < 0.7 else ""
    address = ""
    if rng.random() < 0.4:
        address = f"{rng.choice(texts.PLACES)}{rng.choice(texts.ROADS)}{rng.randrange(1, 300)}号"
    network = rng.choice(("192.0.2", "198.51.100", "203.0.113"))
    return Writer(
        name, f"1380000{number:04d}", email, address, f"{network}.{rng.randrange(1, 255)}"
    )


def department_name(code: str) -> str:
    return DEPARTMENTS[code].name


def topic_of(department: str, topic: int) -> Topic:
    return DEPARTMENTS[department].topics[topic]


def letter_text(rng: Random, topic: Topic, channel: str) -> tuple[str, str]:
    title = rng.choice(texts.CHANNEL_TITLES[channel]).format(subject=topic.subject)
    business = any(word in topic.detail for word in texts.BUSINESS_WORDS)
    role = rng.choice(texts.BUSINESS_ROLES if business else texts.RESIDENT_ROLES)
    body = (
        f"{texts.GREETINGS[channel]}\n"
        f"我是{rng.choice(texts.PLACES)}的一名{role}。{topic.detail}"
        f"{rng.choice(texts.ASKS[channel])}\n{rng.choice(texts.CLOSINGS)}"
    )
    return title, body


def spam_text(rng: Random) -> tuple[str, str]:
    return rng.choice(texts.SPAM_LETTERS)


def repeat_text(title: str, body: str, first_sent: datetime, tz: ZoneInfo) -> tuple[str, str]:
    repeat_title = texts.REPEAT_TITLE.format(title=title)[:50]
    opening = texts.REPEAT_OPENING.format(date=_date(first_sent, tz))
    return repeat_title, opening + body


def letter_input(writer: Writer, title: str, body: str, publish_consent: bool) -> LetterInput:
    """Through the form's own validation, so that the demo holds only letters the form takes."""
    letter, errors = validate_letter(
        {
            "title": title,
            "body": body,
            "name": writer.name,
            "phone": writer.phone,
            "email": writer.email,
            "address": writer.address,
            "publish_consent": "1" if publish_consent else "",
        }
    )
    if letter is None:
        raise ValueError(f"demo letter {title!r} is not valid: {errors}")
    return letter


@dataclass(frozen=True)
class ReplyFor:
    """What a reply refers to."""

    writer: str
    title: str
    channel: str
    channel_name: str
    department: str
    submitted_at: datetime
    tz: ZoneInfo


def reply_text(about: ReplyFor, topic: Topic, *, again: bool = False) -> str:
    if again:
        opening = texts.REPLY_AGAIN.format(name=about.writer)
        substance = texts.REPLY_AGAIN_DETAIL
    else:
        opening = texts.REPLY_OPENING.format(
            name=about.writer,
            date=_date(about.submitted_at, about.tz),
            channel=about.channel_name,
            title=about.title,
        )
        substance = topic.answer + texts.REPLY_FOLLOW[about.channel]
    closing = texts.REPLY_CLOSING.format(department=DEPARTMENTS[about.department].name)
    return opening + substance + closing


def corrected_text(about: ReplyFor, topic: Topic) -> str:
    return texts.CORRECTION + reply_text(about, topic)


def _date(moment: datetime, tz: ZoneInfo) -> str:
    local = moment.astimezone(tz)
    return f"{local.year}年{local.month}月{local.day}日"
