"""Sending one message over SMTP with aiosmtplib."""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import formatdate

import aiosmtplib
from jinja2 import Environment

from mailbox.db.queries.outbox import Outgoing
from mailbox.mail.render import render_mail
from mailbox.settings import Settings
from mailbox.templating import create_environment


def build_message(settings: Settings, env: Environment, mail: Outgoing) -> EmailMessage:
    rendered = render_mail(env, settings, kind=mail.kind, locale=mail.locale, context=mail.context)
    message = EmailMessage()
    message["From"] = settings.mail_from
    message["To"] = mail.recipient
    message["Subject"] = rendered.subject
    message["Date"] = formatdate(localtime=False)
    domain = settings.mail_from.rpartition("@")[2].strip("> ") or "localhost"
    # Stable per outbox row: a resend after a crash carries the same id, so clients dedupe.
    message["Message-ID"] = f"<outbox-{mail.id}@{domain}>"
    message.set_content(rendered.body_text)
    message.add_alternative(rendered.body_html, subtype="html")
    return message


class SmtpTransport:
    def __init__(self, settings: Settings, env: Environment | None = None) -> None:
        self.settings = settings
        self.env = env or create_environment()

    async def send(self, mail: Outgoing) -> None:
        settings = self.settings
        await aiosmtplib.send(
            build_message(settings, self.env, mail),
            hostname=settings.smtp_host,
            port=settings.smtp_port,
            username=settings.smtp_username or None,
            password=settings.smtp_password or None,
            use_tls=settings.smtp_tls == "tls",
            start_tls=settings.smtp_tls == "starttls",
            timeout=30,
        )
