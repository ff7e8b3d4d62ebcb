"""The administrator's webhooks: register, new secret, deactivate and activate, delete, send a
test, send a given-up delivery again; one transaction each, every change in the audit log."""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from urllib.parse import urlsplit

from mailbox.clock import Clock
from mailbox.db.database import Connection, Database
from mailbox.db.queries import admin as admin_queries
from mailbox.db.queries import webhooks as queries
from mailbox.db.queries.webhooks import Webhook
from mailbox.i18n import _
from mailbox.services.admin import Admin, InvalidInput, audit
from mailbox.services.errors import NotFound
from mailbox.webhooks.payload import PING, Event, context

URL_MAX = 2000
DESCRIPTION_MAX = 200


def new_secret() -> str:
    return f"whsec_{secrets.token_urlsafe(32)}"


def _not_a_web_address() -> InvalidInput:
    example = "https://portal.example.gov.cn/hooks/mailbox"
    return InvalidInput(
        _(
            "Enter a full web address that begins with https:// or http://, such as %(example)s.",
            example=example,
        )
    )


def check_url(url: str) -> str:
    """An absolute http(s) address, without a user name or password; InvalidInput if not."""
    url = url.strip()
    if not url:
        raise InvalidInput(_("Enter the address the events are sent to."))
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number in range
    except ValueError:
        raise _not_a_web_address() from None
    if (
        parts.scheme not in ("http", "https")
        or not parts.hostname
        or len(url) > URL_MAX
        or any(char.isspace() for char in url)
    ):
        raise _not_a_web_address()
    if parts.username is not None or parts.password is not None:
        raise InvalidInput(
            _("Put no user name or password in the address: the signature shows who sent it.")
        )
    return url


def check_events(events: Iterable[str]) -> list[str]:
    """The events chosen, in their usual order; at least one, and only known ones."""
    given = set(events)
    chosen = [str(event) for event in Event if event in given]
    if not chosen or len(chosen) != len(given):
        raise InvalidInput(_("Choose at least one event."))
    return chosen


async def _webhook(conn: Connection, webhook_id: int) -> Webhook:
    webhook = await queries.get_webhook(conn, webhook_id=webhook_id)
    if webhook is None:
        raise NotFound(f"webhook {webhook_id}")
    return webhook


async def register(
    db: Database,
    *,
    clock: Clock,
    actor: Admin,
    url: str,
    description: str,
    events: Iterable[str],
) -> tuple[int, str]:
    """The new webhook's id and its secret, which the page shows once."""
    url = check_url(url)
    chosen = check_events(events)
    description = description.strip()[:DESCRIPTION_MAX]
    secret = new_secret()
    async with db.transaction() as conn:
        webhook_id = await queries.create_webhook(
            conn,
            url=url,
            secret=secret,
            description=description,
            events=chosen,
            now=clock.now(),
            created_by_id=actor.user_id,
        )
        await audit(
            conn,
            clock,
            actor,
            "webhook.create",
            url,
            webhook_id=webhook_id,
            events=chosen,
            description=description,
        )
    return webhook_id, secret


async def replace_secret(db: Database, *, clock: Clock, actor: Admin, webhook_id: int) -> str:
    """A new secret, from the next attempt on (waiting deliveries too); shown once."""
    secret = new_secret()
    async with db.transaction() as conn:
        webhook = await _webhook(conn, webhook_id)
        await queries.set_secret(conn, webhook_id=webhook_id, secret=secret)
        await audit(conn, clock, actor, "webhook.new_secret", webhook.url, webhook_id=webhook_id)
    return secret


async def set_active(
    db: Database, *, clock: Clock, actor: Admin, webhook_id: int, active: bool
) -> None:
    """A deactivated webhook is sent nothing; new events are not queued for it, and what
    waits is sent once it is activated again."""
    async with db.transaction() as conn:
        webhook = await _webhook(conn, webhook_id)
        await queries.set_active(conn, webhook_id=webhook_id, active=active)
        action = "webhook.activate" if active else "webhook.deactivate"
        await audit(conn, clock, actor, action, webhook.url, webhook_id=webhook_id)


async def delete(db: Database, *, clock: Clock, actor: Admin, webhook_id: int) -> None:
    """The webhook and its delivery history."""
    async with db.transaction() as conn:
        webhook = await _webhook(conn, webhook_id)
        await queries.delete_webhook(conn, webhook_id=webhook_id)
        await audit(
            conn,
            clock,
            actor,
            "webhook.delete",
            webhook.url,
            webhook_id=webhook_id,
            events=list(webhook.events),
        )


async def send_test(db: Database, *, clock: Clock, actor: Admin, webhook_id: int) -> int:
    """Queue a `ping` to the webhook, signed like every delivery; the delivery's id."""
    now = clock.now()
    async with db.transaction() as conn:
        webhook = await _webhook(conn, webhook_id)
        if not webhook.is_active:
            raise InvalidInput(_("Activate the webhook first: nothing is sent to it meanwhile."))
        outbox_id = await queries.queue_one(
            conn,
            webhook_id=webhook_id,
            kind=PING,
            context=context(PING, occurred_at=now, letter=None, data={}),
            now=now,
        )
        assert outbox_id is not None  # the webhook was just read in this transaction
        await audit(
            conn,
            clock,
            actor,
            "webhook.test",
            webhook.url,
            webhook_id=webhook_id,
            delivery=outbox_id,
        )
    return outbox_id


async def send_again(
    db: Database, *, clock: Clock, actor: Admin, webhook_id: int, outbox_id: int
) -> None:
    """Queue a given-up delivery again, as it was (the same id and body)."""
    async with db.transaction() as conn:
        webhook = await _webhook(conn, webhook_id)
        delivery = await queries.get_delivery(conn, webhook_id=webhook_id, outbox_id=outbox_id)
        if delivery is None:
            raise NotFound(f"delivery {outbox_id}")
        if not await admin_queries.retry_mail(conn, outbox_id=outbox_id, now=clock.now()):
            raise InvalidInput(_("Only a delivery that was given up can be sent again."))
        await audit(
            conn,
            clock,
            actor,
            "webhook.send_again",
            webhook.url,
            webhook_id=webhook_id,
            delivery=outbox_id,
            event=delivery.kind,
            attempts=delivery.attempts,
        )
