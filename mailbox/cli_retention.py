"""`python -m mailbox purge`: anonymise letters closed longer ago than the retention period."""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

from mailbox.cli_reports import _fail, _run
from mailbox.clock import SystemClock
from mailbox.db.database import Database
from mailbox.i18n import _
from mailbox.services.retention import PurgeReport, RowCounts, purge
from mailbox.settings import Settings


def _state(state: str) -> str:
    names = {
        "closed": _("Finished"),
        "rejected": _("Not accepted"),
        "duplicate": _("Merged with an earlier letter"),
        "spam": _("Spam"),
    }
    return names.get(state, state)


def _rows(rows: RowCounts) -> list[tuple[str, int]]:
    return [
        (_("Replies with the writer's details masked"), rows.replies_masked),
        (_("History entries with the writer's details masked"), rows.events_masked),
        (_("Extension reasons with the writer's details masked"), rows.extension_reasons_masked),
        (_("Rating comments emptied"), rows.rating_comments_cleared),
        (_("Internal notes emptied"), rows.internal_notes_cleared),
        (_("Mails and webhook messages deleted from the outbox"), rows.mails_deleted),
        (_("Unpublished public copies deleted"), rows.unpublished_copies_deleted),
        (_("Attachments deleted (files and records)"), rows.attachments_deleted),
        (_("Published public copies kept"), rows.public_copies_kept),
        (_("Published copies with the writer's details masked"), rows.public_copies_masked),
    ]


def describe(report: PurgeReport) -> str:
    """The report in the terminal's language."""
    lines = [
        _("Retention period: %(years)d years; letters closed before %(cutoff)s are anonymised.")
        % {"years": report.retention_years, "cutoff": report.cutoff.isoformat()}
    ]
    if report.dry_run:
        lines.append(_("Dry run: nothing was changed."))
    if not report.total:
        lines.append(_("No letter is due for anonymising."))
        return "\n".join(lines)
    lines.append("")
    lines.append(_("Year closed\tState\tLetters"))
    for count in report.letters:
        lines.append(f"{count.year}\t{_state(count.state)}\t{count.letters}")
    lines.append(_("Total\t\t%(count)d") % {"count": report.total})
    lines.append("")
    lines.append(
        _(
            "Emptied: the writer's name, phone, email, address and network address; the title"
            " and body are replaced by a note; rating comments and internal notes are emptied."
        )
    )
    lines.extend(
        _("%(label)s: %(count)d") % {"label": label, "count": count}
        for label, count in _rows(report.rows)
    )
    if report.dry_run:
        lines.append(_("Run `python -m mailbox purge` without --dry-run to make these changes."))
    else:
        lines.append(_("Letters anonymised: %(count)d.") % {"count": report.total})
    return "\n".join(lines)


def cmd_purge(settings: Settings, args: argparse.Namespace) -> int:
    if settings.retention_years == 0:
        return _fail(
            _(
                "MAILBOX_RETENTION_YEARS is 0, so letters are kept for ever and there is nothing"
                " to purge. Set it to the number of years to keep letters after closing, for"
                " example MAILBOX_RETENTION_YEARS=5 in .env."
            )
        )

    async def work(db: Database) -> int:
        report = await purge(db, settings=settings, clock=SystemClock(), dry_run=args.dry_run)
        print(describe(report))
        return 0

    return asyncio.run(_run(settings, work))


def add_commands(commands: Any) -> None:
    purge_command = commands.add_parser(
        "purge",
        help="anonymise letters closed more than MAILBOX_RETENTION_YEARS ago (DESIGN §6)",
    )
    purge_command.add_argument(
        "--dry-run", action="store_true", help="report what would change and change nothing"
    )
    purge_command.set_defaults(run=cmd_purge)
