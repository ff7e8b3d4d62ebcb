"""The transport of each outbox medium: webhooks always, mail once SMTP is configured (until
then mail waits in the outbox)."""

from __future__ import annotations

from mailbox.db.queries.outbox import Medium
from mailbox.mail.transport import SmtpTransport
from mailbox.mail.worker import Transport
from mailbox.settings import Settings
from mailbox.webhooks.transport import WebhookTransport


def transports(settings: Settings) -> dict[Medium, Transport]:
    chosen: dict[Medium, Transport] = {Medium.WEBHOOK: WebhookTransport(settings)}
    if settings.smtp_configured:
        chosen[Medium.MAIL] = SmtpTransport(settings)
    return chosen
