"""`python -m mailbox backup DEST`: a consistent copy of the database while it serves."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from mailbox.cli_reports import _fail
from mailbox.clock import SystemClock
from mailbox.db.sqlite import sqlite_path
from mailbox.services.attachments import store_for
from mailbox.services.backup import (
    BackupRefused,
    backup_attachments,
    backup_sqlite,
    files_folder,
    pg_dump_command,
    prune,
    target_path,
)
from mailbox.settings import Settings


def _size(size: int) -> str:
    return f"{size / 1024 / 1024:.1f} MiB" if size >= 1024 * 1024 else f"{size / 1024:.0f} KiB"


def cmd_backup(settings: Settings, args: argparse.Namespace) -> int:
    dest = Path(args.dest)
    now = SystemClock().now().astimezone(settings.tz)
    if args.keep is not None and (args.keep < 1 or not dest.is_dir()):
        return _fail("--keep N needs N of at least 1 and DEST a directory")
    if not settings.database_url.startswith("sqlite"):
        # pg_dump matches the server's version and knows its formats; wrapping it would
        # only hide its options. The operator runs it (deploy/ has a timer for it).
        return _fail(
            "this database is PostgreSQL: back it up with pg_dump, for example\n\n    "
            + pg_dump_command(settings.database_url, dest, now)
            + "\n\nand restore with pg_restore --clean --if-exists --dbname=URL FILE;"
            + f"\nback up the attachment files too: {store_for(settings).root}"
        )
    try:
        done = backup_sqlite(sqlite_path(settings.database_url), target_path(dest, now))
        files = backup_attachments(done.path, store_for(settings).root)
    except BackupRefused as error:
        return _fail(str(error))
    print(f"wrote {done.path} ({_size(done.size)}), integrity check ok")
    if files:
        print(f"copied {files} attachment file(s) to {files_folder(done.path)}")
    if args.keep is not None:
        for old in prune(dest, args.keep):
            print(f"removed {old}")
    return 0


def add_commands(commands: Any) -> None:
    backup = commands.add_parser(
        "backup", help="copy the SQLite database while it serves (PostgreSQL: use pg_dump)"
    )
    backup.add_argument("dest", metavar="DEST", help="a new file, or a directory to put it in")
    backup.add_argument(
        "--keep",
        type=int,
        metavar="N",
        help="when DEST is a directory: keep only the newest N backups in it",
    )
    backup.set_defaults(run=cmd_backup)
