"""Posting one webhook delivery with httpx: a 2xx answer delivers it, anything else is
retried by the outbox worker."""

from __future__ import annotations

import httpx

from mailbox.db.queries.outbox import Outgoing
from mailbox.mail.worker import Refused
from mailbox.settings import Settings
from mailbox.webhooks.payload import body, headers

TIMEOUT = httpx.Timeout(10.0)


class WebhookTransport:
    def __init__(self, settings: Settings) -> None:
        self.tz = settings.tz
        # Built once: loading the certificate store is the slow part of a new client.
        self.ssl = httpx.create_ssl_context()

    async def send(self, item: Outgoing) -> None:
        payload = body(item.id, item.context, self.tz)
        event = item.context.get("event", item.kind)
        signed = headers(delivery_id=item.id, event=event, secret=item.secret, payload=payload)
        # A redirect is not followed: the receiver must be registered at its real address.
        # Only the status is read, never the answer's body, however large it is.
        async with (
            httpx.AsyncClient(verify=self.ssl, timeout=TIMEOUT, follow_redirects=False) as client,
            client.stream("POST", item.recipient, content=payload, headers=signed) as response,
        ):
            if not response.is_success:
                raise Refused(f"HTTP {response.status_code} {response.reason_phrase}".strip())
