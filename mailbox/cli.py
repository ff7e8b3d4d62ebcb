"""The command line: `python -m mailbox COMMAND` (DESIGN §8)."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import logging.config
import os
import signal
import sys
from collections.abc import Awaitable, Callable

from mailbox import __version__, cli_backup, cli_reports, cli_retention, cli_tokens, i18n
from mailbox.auth.roles import Role
from mailbox.clock import SystemClock
from mailbox.db import migrate as migrations
from mailbox.db.database import Database, DatabaseUnavailable, open_database
from mailbox.db.queries import channels, users
from mailbox.observability.logs import logging_config
from mailbox.observability.multiprocess import share_metrics
from mailbox.services import accounts
from mailbox.settings import Settings, SettingsError, data_path, load_settings


def _fail(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return 2


async def _with_db(settings: Settings, work: Callable[[Database], Awaitable[int]]) -> int:
    pending = await migrations.pending(settings.database_url)
    if pending:
        return _fail("the database schema is outdated: run `python -m mailbox migrate` first")
    db = open_database(settings.database_url)
    await db.connect()
    try:
        return await work(db)
    finally:
        await db.close()


def cmd_migrate(settings: Settings, args: argparse.Namespace) -> int:
    applied = asyncio.run(migrations.migrate(settings.database_url))
    for migration in applied:
        print(f"applied {migration.version:04d}_{migration.name}")
    print("the schema is up to date")
    return 0


def cmd_serve(settings: Settings, args: argparse.Namespace) -> int:
    import uvicorn

    if asyncio.run(migrations.pending(settings.database_url)):
        return _fail(
            "the database schema is outdated: run `python -m mailbox migrate` "
            "(or `make run`, which migrates) before serving"
        )

    async def first_run(db: Database) -> int:
        token = await accounts.create_setup_token(db, clock=SystemClock())
        if token:
            base = settings.base_url
            if base == Settings.base_url:  # the default: show where this server listens
                base = f"http://{args.host}:{args.port}"
            print(
                "\nNo staff account exists yet. Open this one-time link (valid 24 hours) to\n"
                f"create the administrator:\n\n    {base}/setup/{token}\n",
                flush=True,
            )
        return 0

    asyncio.run(_with_db(settings, first_run))
    if args.workers > 1:
        share_metrics(data_path(settings) / "metrics")
    factory = (
        "mailbox.app:app_without_worker" if args.no_worker else ("mailbox.app:app_from_environment")
    )
    uvicorn.run(
        factory,
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        proxy_headers=False,  # client addresses are resolved by MAILBOX_TRUSTED_PROXIES
        server_header=False,
        access_log=False,  # ours (JSON, no query strings) replaces uvicorn's
        log_config=logging_config(access_log=args.access_log),
        log_level="info",
    )
    return 0


def cmd_worker(settings: Settings, args: argparse.Namespace) -> int:
    from mailbox.mail.media import transports
    from mailbox.mail.worker import run_worker
    from mailbox.services.reminders import run_daily

    if not settings.smtp_configured:
        print(
            "worker: MAILBOX_SMTP_HOST is not set: mail waits in the outbox; "
            "webhooks are delivered",
            file=sys.stderr,
        )

    logging.config.dictConfig(logging_config(access_log=False))

    async def work(db: Database) -> int:
        wakeup = asyncio.Event()
        task = asyncio.gather(
            run_worker(db, transports(settings), SystemClock(), wakeup),
            run_daily(db, settings=settings, clock=SystemClock(), wakeup=wakeup),
        )
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, task.cancel)
        print("worker: sending queued mail, webhooks and reminders; stop with Ctrl-C", flush=True)
        try:
            await task
        except asyncio.CancelledError:
            pass
        return 0

    return asyncio.run(_with_db(settings, work))


def cmd_create_user(settings: Settings, args: argparse.Namespace) -> int:
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = getpass.getpass("Password: ")
        if password != getpass.getpass("Password again: "):
            return _fail("the two passwords differ")

    async def work(db: Database) -> int:
        try:
            await accounts.create_user(
                db,
                clock=SystemClock(),
                username=args.name,
                password=password,
                roles=args.role,
                display_name=args.display_name or "",
                department_code=args.department,
                email=args.email or "",
            )
        except accounts.InvalidAccount as error:
            return _fail(str(error))
        print(f"created user {args.name} ({', '.join(args.role)})")
        return 0

    return asyncio.run(_with_db(settings, work))


def cmd_department(settings: Settings, args: argparse.Namespace) -> int:
    async def work(db: Database) -> int:
        async with db.transaction() as conn:
            added = await users.add_department(
                conn, code=args.code, name=args.name, now=SystemClock().now()
            )
        if added is None:
            return _fail(f"a department with the code {args.code} exists")
        print(f"added department {args.code} {args.name}")
        return 0

    return asyncio.run(_with_db(settings, work))


def cmd_channel(settings: Settings, args: argparse.Namespace) -> int:
    if args.reply_days is not None and not 1 <= args.reply_days <= 60:
        return _fail("--reply-days must be between 1 and 60")

    async def work(db: Database) -> int:
        async with db.transaction() as conn:
            found = await channels.update_channel(
                conn,
                code=args.code,
                name=args.name,
                reply_days=args.reply_days,
                review_required=args.review,
                enabled=args.enable,
            )
        if not found:
            return _fail(
                f"no channel {args.code}; channels: director, consult, complaint, suggestion"
            )
        print(f"channel {args.code} updated")
        return 0

    return asyncio.run(_with_db(settings, work))


def cmd_demo(settings: Settings, args: argparse.Namespace) -> int:
    from mailbox.demo.fill import DemoRefused, check_empty, fill
    from mailbox.demo.plan import MIN_LETTERS_A_YEAR
    from mailbox.demo.summary import describe

    if args.letters < MIN_LETTERS_A_YEAR:
        return _fail(f"--letters must be at least {MIN_LETTERS_A_YEAR}")
    for migration in asyncio.run(migrations.migrate(settings.database_url)):
        print(f"applied {migration.version:04d}_{migration.name}")

    async def work(db: Database) -> int:
        try:
            await check_empty(db)
            print("filling the database with demo data...", flush=True)
            result = await fill(
                db,
                settings=settings,
                now=SystemClock().now(),
                seed=args.seed,
                letters_a_year=args.letters,
            )
        except DemoRefused as error:
            print(f"error: {error}", file=sys.stderr)
            return 1
        print(describe(result, settings.base_url))
        return 0

    return asyncio.run(_with_db(settings, work))


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="python -m mailbox", description=__doc__)
    top.add_argument("--version", action="version", version=f"mailbox {__version__}")
    commands = top.add_subparsers(dest="command", required=True, metavar="COMMAND")

    commands.add_parser("migrate", help="create or upgrade the database schema").set_defaults(
        run=cmd_migrate
    )
    serve = commands.add_parser("serve", help="serve the web site")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=1, help="server processes")
    serve.add_argument(
        "--no-worker", action="store_true", help="leave mail to `python -m mailbox worker`"
    )
    serve.add_argument(
        "--access-log",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="a JSON line on stderr for every request (default: on)",
    )
    serve.set_defaults(run=cmd_serve)
    commands.add_parser(
        "worker", help="send queued mail and webhooks without serving"
    ).set_defaults(run=cmd_worker)

    create = commands.add_parser("create-user", help="create a staff account")
    create.add_argument("name")
    create.add_argument("--role", action="append", required=True, choices=[r.value for r in Role])
    create.add_argument("--department", help="department code (handlers and reviewers)")
    create.add_argument("--display-name")
    create.add_argument("--email", help="for assignment, review and reminder mail")
    create.add_argument("--password-stdin", action="store_true")
    create.set_defaults(run=cmd_create_user)

    department = commands.add_parser("department", help="manage departments")
    department_commands = department.add_subparsers(dest="action", required=True)
    add = department_commands.add_parser("add", help="add a department")
    add.add_argument("code")
    add.add_argument("name")
    add.set_defaults(run=cmd_department)

    channel = commands.add_parser("channel", help="configure a channel")
    channel_commands = channel.add_subparsers(dest="action", required=True)
    set_channel = channel_commands.add_parser("set", help="change a channel's settings")
    set_channel.add_argument("code")
    set_channel.add_argument("--name")
    set_channel.add_argument("--reply-days", type=int)
    set_channel.add_argument("--review", action=argparse.BooleanOptionalAction, default=None)
    set_channel.add_argument("--enable", dest="enable", action="store_true", default=None)
    set_channel.add_argument("--disable", dest="enable", action="store_false")
    set_channel.set_defaults(run=cmd_channel)

    demo = commands.add_parser(
        "demo", help="fill an empty database with departments, staff and a year of letters"
    )
    demo.add_argument("--letters", type=int, default=600, help="letters a year (default 600)")
    demo.add_argument("--seed", type=int, default=1, help="the same seed, the same letters")
    demo.set_defaults(run=cmd_demo)
    cli_reports.add_commands(commands)
    cli_retention.add_commands(commands)
    cli_tokens.add_commands(commands)
    cli_backup.add_commands(commands)
    return top


def main(argv: list[str] | None = None) -> int:
    # Messages follow the administrator's terminal: Chinese under a zh_* locale, else English.
    language = os.environ.get("LC_ALL") or os.environ.get("LANG", "")
    i18n.set_locale("zh_CN" if language.startswith("zh") else "en")
    args = parser().parse_args(argv)
    try:
        settings = load_settings()
    except SettingsError as error:
        return _fail(f"setting: {error}")
    try:
        code: int = args.run(settings, args)
    except DatabaseUnavailable as error:
        return _fail(f"the database cannot be reached: {error}")
    except OSError as error:
        return _fail(f"{error}")
    return code
