"""API tokens: created for a user (shown once), checked on every API request, revoked."""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum

from mailbox.auth.permissions import Page, may_open
from mailbox.auth.tokens import token_hash
from mailbox.clock import Clock
from mailbox.db.database import Database
from mailbox.db.queries import api_tokens, users
from mailbox.db.queries.api_tokens import TokenRow
from mailbox.db.queries.users import UserRow
from mailbox.i18n import _
from mailbox.services.errors import ServiceError

PREFIX = "mbx_"  # recognisable in logs and by secret scanners
SHOWN = 12  # characters kept in clear to tell tokens apart
LABEL_MAX = 80
USED_EVERY = timedelta(minutes=5)


class Scope(StrEnum):
    STAFF = "staff"  # everything its user's roles allow
    SUBMIT = "submit"  # only submitting letters: for a portal, a mini program, 12345


class InvalidToken(ServiceError):
    pass


@dataclass(frozen=True)
class Caller:
    """Who calls the API: the token's user, with the user's roles as they are now."""

    user: UserRow
    scope: Scope
    token_id: int

    @property
    def may_submit(self) -> bool:
        """A submit token, or a staff token whose user may enter letters on the web."""
        return self.scope is Scope.SUBMIT or may_open(Page.ENTER, self.user)

    @property
    def is_staff(self) -> bool:
        return self.scope is Scope.STAFF


async def create_token(
    db: Database,
    *,
    clock: Clock,
    username: str,
    label: str,
    scope: str = Scope.STAFF,
    actor_user_id: int | None = None,
    client_ip: str = "",
) -> tuple[int, str]:
    """The new token's id and the token itself, which is shown once and never stored."""
    label = label.strip()[:LABEL_MAX] or username
    if scope not in set(Scope):
        raise InvalidToken(_("Unknown token scope: %(scope)s", scope=scope))
    token = PREFIX + secrets.token_urlsafe(32)
    async with db.transaction() as conn:
        user = await users.get_user_by_username(conn, username=username)
        if user is None or not user.is_active:
            raise InvalidToken(_("There is no active user %(name)s.", name=username))
        token_id = await api_tokens.add_token(
            conn,
            user_id=user.id,
            label=label,
            scope=scope,
            token_hash=token_hash(token),
            prefix=token[:SHOWN],
            now=clock.now(),
            created_by_id=actor_user_id,
        )
        await users.audit(
            conn,
            action="token.create",
            target=username,
            actor_user_id=actor_user_id,
            client_ip=client_ip,
            now=clock.now(),
            data=json.dumps({"token_id": token_id, "scope": scope, "label": label}),
        )
    return token_id, token


async def authenticate(db: Database, *, clock: Clock, token: str) -> Caller | None:
    """The caller holding this token, or None for an unknown, revoked or disabled one."""
    if not token.startswith(PREFIX) or len(token) > 200:
        return None
    found = await api_tokens.live_token(db, token_hash=token_hash(token))
    if found is None:
        return None
    row, user = found
    now = clock.now()
    if row.last_used_at is None or row.last_used_at < now - USED_EVERY:
        async with db.transaction() as conn:
            await api_tokens.mark_used(conn, token_id=row.id, now=now, before=now - USED_EVERY)
    return Caller(user=user, scope=Scope(row.scope), token_id=row.id)


async def revoke_token(
    db: Database,
    *,
    clock: Clock,
    token_id: int,
    actor_user_id: int | None = None,
    client_ip: str = "",
) -> TokenRow:
    async with db.transaction() as conn:
        row = await api_tokens.revoke(conn, token_id=token_id, now=clock.now())
        if row is None:
            raise InvalidToken(_("There is no such token, or it was already revoked."))
        await users.audit(
            conn,
            action="token.revoke",
            target=row.username,
            actor_user_id=actor_user_id,
            client_ip=client_ip,
            now=clock.now(),
            data=json.dumps({"token_id": token_id, "label": row.label}),
        )
    return row


async def list_tokens(db: Database) -> list[TokenRow]:
    return await api_tokens.all_tokens(db)
