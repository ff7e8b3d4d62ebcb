"""`python -m mailbox token create|list|revoke`: API tokens for integrations (issue 6)."""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import Any

from mailbox.cli_reports import _fail, _run
from mailbox.clock import SystemClock
from mailbox.db.database import Database
from mailbox.i18n import _
from mailbox.services import api_tokens
from mailbox.settings import Settings


def cmd_token(settings: Settings, args: argparse.Namespace) -> int:
    async def create(db: Database) -> int:
        try:
            token_id, token = await api_tokens.create_token(
                db,
                clock=SystemClock(),
                username=args.name,
                label=args.label or "",
                scope=args.scope,
            )
        except api_tokens.InvalidToken as error:
            return _fail(str(error))
        print(token)
        print(
            _(
                "Token %(id)d for %(name)s (%(scope)s). Keep it secret: it is shown only now."
                " Send it as `Authorization: Bearer <token>`."
            )
            % {"id": token_id, "name": args.name, "scope": args.scope},
            file=sys.stderr,
        )
        return 0

    async def listing(db: Database) -> int:
        for row in await api_tokens.list_tokens(db):
            state = _("revoked") if row.revoked_at else _("active")
            used = row.last_used_at.isoformat(timespec="minutes") if row.last_used_at else "-"
            fields = [str(row.id), f"{row.prefix}…", row.username, row.scope, state, used]
            print("\t".join([*fields, row.label]))
        return 0

    async def revoke(db: Database) -> int:
        try:
            await api_tokens.revoke_token(db, clock=SystemClock(), token_id=args.id)
        except api_tokens.InvalidToken as error:
            return _fail(str(error))
        print(_("Token %(id)d revoked.") % {"id": args.id})
        return 0

    work = {"create": create, "list": listing, "revoke": revoke}[args.action]
    return asyncio.run(_run(settings, work))


def add_commands(commands: Any) -> None:
    token = commands.add_parser("token", help="API tokens for integrations")
    actions = token.add_subparsers(dest="action", required=True)
    create = actions.add_parser("create", help="print a new API token for user NAME")
    create.add_argument("name", help="the user the token acts for")
    create.add_argument(
        "--scope",
        choices=[scope.value for scope in api_tokens.Scope],
        default=api_tokens.Scope.STAFF.value,
        help="staff: what the user's roles allow (default); submit: only submit letters",
    )
    create.add_argument("--label", help="what the token is for, e.g. the portal's name")
    create.set_defaults(run=cmd_token)
    actions.add_parser("list", help="list tokens (never the tokens themselves)").set_defaults(
        run=cmd_token
    )
    revoke = actions.add_parser("revoke", help="revoke token ID")
    revoke.add_argument("id", type=int)
    revoke.set_defaults(run=cmd_token)
