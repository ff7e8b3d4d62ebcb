"""Online backups of the SQLite database: a consistent copy taken while the server writes.

The copy is one step of SQLite's backup API. In WAL mode that step is a read transaction,
which never blocks the server's writer; it sees one snapshot, so the copy holds every
transaction committed before it began and nothing half done. Copying in several steps would
not help: the backup API starts again from the first page whenever another connection writes
between steps, so under steady load it might never finish. `VACUUM INTO` would also be
consistent, but rebuilds every table and index (slower, more CPU on a busy server); a page
copy is the file as it is.
"""

from __future__ import annotations

import os
import shlex
import shutil
import sqlite3
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from mailbox.attachments.store import fsync_path

PATTERN = "mailbox-*.sqlite3"


class BackupRefused(Exception):
    """The backup was not written; the message says why."""


@dataclass(frozen=True)
class Backup:
    path: Path
    size: int


def target_path(dest: Path, now: datetime) -> Path:
    """DEST itself, or a file named after `now` when DEST is a directory."""
    if dest.is_dir():
        return dest / f"mailbox-{now:%Y%m%d-%H%M%S}.sqlite3"
    return dest


def backup_sqlite(source: Path, target: Path) -> Backup:
    """Copy the database at `source` to `target`, which must not exist yet.

    Written to a temporary file beside `target`, checked with `PRAGMA integrity_check`, then
    linked into place: `target` appears whole or not at all, and an existing file is never
    overwritten (the link fails instead, even if one appears meanwhile)."""
    if not source.is_file():
        raise BackupRefused(f"no database at {source}")
    if target.exists():
        raise BackupRefused(f"{target} exists; it is not overwritten")
    if not target.parent.is_dir():
        raise BackupRefused(f"no directory {target.parent}")
    partial = target.with_name(f".{target.name}.partial-{os.getpid()}")
    try:
        _copy(source, partial)
        fsync_path(partial)
        try:
            os.link(partial, target)
        except FileExistsError:
            raise BackupRefused(f"{target} exists; it is not overwritten") from None
        fsync_path(target.parent)
    finally:
        partial.unlink(missing_ok=True)
    return Backup(target, target.stat().st_size)


def _copy(source: Path, partial: Path) -> None:
    # Opened read-only by URI: a backup never creates, migrates or writes the live database.
    live = sqlite3.connect(f"{source.resolve().as_uri()}?mode=ro", uri=True)
    copy = sqlite3.connect(partial)
    try:
        live.execute("PRAGMA busy_timeout=5000")
        live.backup(copy)  # pages=-1: one step, one snapshot
        # The copy stands alone: no -wal file beside it to lose when it is moved.
        copy.execute("PRAGMA journal_mode=DELETE")
        problems = [row[0] for row in copy.execute("PRAGMA integrity_check")]
    finally:
        copy.close()
        live.close()
    if problems != ["ok"]:
        raise BackupRefused("the copy failed its integrity check: " + "; ".join(problems[:5]))


def prune(directory: Path, keep: int) -> list[Path]:
    """Delete all but the newest `keep` backups in `directory`; the files deleted. Only
    files named like this command's own backups are considered."""
    backups = sorted(directory.glob(PATTERN))  # the names sort by time
    doomed = backups[:-keep] if keep > 0 else backups
    for path in doomed:
        path.unlink()
        shutil.rmtree(files_folder(path), ignore_errors=True)
    return doomed


def pg_dump_command(database_url: str, dest: Path, now: datetime) -> str:
    """The pg_dump call that backs up the configured PostgreSQL database, password left out
    (pg_dump reads it from ~/.pgpass or PGPASSWORD)."""
    parts = urlsplit(database_url.replace("postgresql+asyncpg://", "postgresql://", 1))
    netloc = parts.netloc.rpartition("@")
    user = netloc[0].partition(":")[0]
    safe = urlunsplit(parts._replace(netloc=f"{user}@{netloc[2]}" if user else netloc[2]))
    target = dest / f"mailbox-{now:%Y%m%d-%H%M%S}.dump" if dest.is_dir() else dest
    return f"pg_dump --format=custom --file={shlex.quote(str(target))} {shlex.quote(safe)}"


def files_folder(backup: Path) -> Path:
    """Where a backup's attachment files go: beside it, named after it."""
    return backup.with_name(backup.name + ".attachments")


def backup_attachments(backup: Path, store_root: Path) -> int:
    """Copy the attachment files the backup's rows name (no more: later uploads belong to
    later backups) into files_folder(backup); the number copied. Files never change once
    written, so copying after the snapshot is consistent with it."""
    copy = sqlite3.connect(f"{backup.resolve().as_uri()}?mode=ro", uri=True)
    try:
        names = [row[0] for row in copy.execute("SELECT stored_name FROM attachments")]
    finally:
        copy.close()
    folder = files_folder(backup)
    missing = []
    for name in names:
        source = store_root / name[:2] / name
        target = folder / name[:2] / name
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            shutil.copy2(source, target)
        except FileNotFoundError:
            missing.append(name)
    if missing:  # a row without its file: the backup would restore it as such
        raise BackupRefused(f"{len(missing)} attachment file(s) missing, e.g. {missing[0]}")
    return len(names)
