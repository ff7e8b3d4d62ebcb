"""What the fault tests ask of the mail a real SMTP server (aiosmtpd) received."""

from __future__ import annotations

from collections import Counter
from email.message import EmailMessage


def delivered_once(messages: list[EmailMessage]) -> None:
    """Every message arrived exactly once: the outbox row's Message-ID is never seen twice."""
    repeated = {key: n for key, n in Counter(m["Message-ID"] for m in messages).items() if n > 1}
    assert not repeated, f"sent more than once: {repeated}"


def recipients(messages: list[EmailMessage]) -> Counter[str]:
    return Counter(str(message["To"]) for message in messages)
