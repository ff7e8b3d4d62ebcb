"""`python -m mailbox report` and `import`: the yearly figures and letters from an old system."""

from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import date
from pathlib import Path
from typing import Any

from mailbox.clock import SystemClock
from mailbox.db import migrate as migrations
from mailbox.db.database import Database, open_database
from mailbox.figures import exports
from mailbox.figures.period import InvalidPeriod, Period, parse_as_of
from mailbox.i18n import _
from mailbox.services.importing import ImportRefused, import_letters
from mailbox.services.reports import make_report
from mailbox.settings import Settings


def _fail(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return 2


async def _run(settings: Settings, work: Any) -> int:
    if await migrations.pending(settings.database_url):
        return _fail("the database schema is outdated: run `python -m mailbox migrate` first")
    db: Database = open_database(settings.database_url)
    await db.connect()
    try:
        result: int = await work(db)
        return result
    finally:
        await db.close()


def _period(settings: Settings, args: argparse.Namespace) -> Period:
    tz = settings.tz
    as_of = parse_as_of(args.as_of, tz) if args.as_of else SystemClock().now()
    if args.year is not None:
        if not 1990 <= args.year <= 2100:
            raise InvalidPeriod(f"--year {args.year} is out of range")
        return Period.of_year(args.year, as_of=as_of, tz=tz)
    if not (args.date_from and args.date_to):
        raise InvalidPeriod("give --year, or both --from and --to")
    try:
        start, end = date.fromisoformat(args.date_from), date.fromisoformat(args.date_to)
    except ValueError as error:
        raise InvalidPeriod(f"--from/--to: {error}") from None
    return Period.between(start, end, as_of=as_of, tz=tz)


def cmd_report(settings: Settings, args: argparse.Namespace) -> int:
    try:
        period = _period(settings, args)
    except InvalidPeriod as error:
        return _fail(str(error))

    async def work(db: Database) -> int:
        report = await make_report(db, period, decimals=settings.rate_decimals)
        document = report.as_json()
        output: bytes
        if args.format == "json":
            output = exports.to_json(document)
        elif args.format == "csv":
            output = exports.to_csv(document)
        elif args.format == "xlsx":
            output = exports.to_xlsx(document, settings.rate_decimals)
        else:
            output = exports.to_text(document, settings.rate_decimals).encode()
        if args.output:
            Path(args.output).write_bytes(output)
            print(f"written {args.output}")
        elif args.format == "xlsx":
            return _fail("XLSX is a binary file: give --output FILE")
        else:
            sys.stdout.buffer.write(output)
            sys.stdout.flush()
        return 0

    return asyncio.run(_run(settings, work))


def cmd_import(settings: Settings, args: argparse.Namespace) -> int:
    path = Path(args.file)
    data = path.read_bytes()
    jsonl = path.suffix.lower() in (".jsonl", ".ndjson", ".json")

    async def work(db: Database) -> int:
        try:
            imported = await import_letters(db, settings=settings, data=data, jsonl=jsonl)
        except ImportRefused as refused:
            for problem in refused.problems:
                print(str(problem), file=sys.stderr)
            print(
                _("Nothing was imported: %(count)d problem(s) in %(file)s.")
                % {"count": len(refused.problems), "file": path.name},
                file=sys.stderr,
            )
            return 1
        print(_("Imported %(count)d letters.") % {"count": imported.letters})
        return 0

    return asyncio.run(_run(settings, work))


def add_commands(commands: Any) -> None:
    report = commands.add_parser("report", help="the figures of a year or a period (DESIGN §5)")
    report.add_argument("--year", type=int)
    report.add_argument("--from", dest="date_from", metavar="YYYY-MM-DD")
    report.add_argument("--to", dest="date_to", metavar="YYYY-MM-DD")
    report.add_argument("--as-of", help="date or date and time (default: now)")
    report.add_argument("--format", choices=["text", "json", "csv", "xlsx"], default="text")
    report.add_argument("--output", help="write to this file instead of standard output")
    report.set_defaults(run=cmd_report)

    load = commands.add_parser("import", help="import letters from CSV or JSONL (all or nothing)")
    load.add_argument("file")
    load.set_defaults(run=cmd_import)
