"""Attachments between the web and the disk: check uploads against the limits, store them
before the transaction that records them, and clean up what a failed transaction left."""

from __future__ import annotations

import logging
import shutil
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass

from anyio import to_thread

from mailbox.attachments.inspect import Checked, Reason, Refused, check
from mailbox.attachments.store import AttachmentStore
from mailbox.db.database import Database
from mailbox.db.queries import attachments
from mailbox.db.queries.attachments import NewAttachment
from mailbox.i18n import _
from mailbox.services.errors import ServiceError
from mailbox.settings import Settings, data_path

log = logging.getLogger(__name__)
MB = 1024 * 1024
ORPHAN_AGE = 3600.0  # no transaction lasts an hour: a file that old without a row is lost


@dataclass(frozen=True)
class FileUsage:
    files: int
    size: int  # bytes, from the rows: walking the folder would cost a stat per file
    free: int  # bytes left on the disk that holds them


@dataclass(frozen=True)
class Upload:
    filename: str
    data: bytes


class AttachmentRefused(ServiceError):
    """An upload cannot be taken; the message says which file and why, for the writer."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def store_for(settings: Settings) -> AttachmentStore:
    return AttachmentStore(data_path(settings) / "attachments")


def refusal_message(refused: Refused, settings: Settings) -> str:
    name = refused.filename
    if refused.reason is Reason.EMPTY:
        return _("“%(name)s” is empty. Please choose the file again.") % {"name": name}
    if refused.reason is Reason.TOO_BIG:
        return _(
            "“%(name)s” is larger than %(mb)d MB. Please send a smaller file, "
            "or a photo taken at a lower resolution."
        ) % {"name": name, "mb": settings.attachment_mb}
    if refused.reason is Reason.DAMAGED:
        return _(
            "“%(name)s” could not be read: it may be damaged. Please save it again and retry."
        ) % {"name": name}
    if refused.reason is Reason.UNSAFE:
        return _(
            "“%(name)s” was refused for safety: it holds macros, a password or hidden content. "
            "Please save it as a plain document or as a PDF."
        ) % {"name": name}
    return _(
        "“%(name)s” cannot be attached: only photos (JPEG, PNG), PDF, Word (DOCX) and "
        "Excel (XLSX) files are accepted."
    ) % {"name": name}


async def check_uploads(
    settings: Settings, uploads: Sequence[Upload], *, already: tuple[int, int] = (0, 0)
) -> list[Checked]:
    """The uploads as they will be stored, or AttachmentRefused; `already` is the files and
    bytes the letter or reply holds before these."""
    files_before, bytes_before = already
    if len(uploads) + files_before > settings.attachment_files:
        raise AttachmentRefused(
            _("You can attach at most %(count)d files. Please leave some out.")
            % {"count": settings.attachment_files}
        )
    limit = settings.attachment_mb * MB
    checked: list[Checked] = []
    for upload in uploads:
        try:
            checked.append(await to_thread.run_sync(check, upload.filename, upload.data, limit))
        except Refused as refused:
            raise AttachmentRefused(refusal_message(refused, settings)) from None
    if sum(len(file.data) for file in checked) + bytes_before > settings.attachment_total_mb * MB:
        raise AttachmentRefused(
            _("The files together are larger than %(mb)d MB. Please leave some out.")
            % {"mb": settings.attachment_total_mb}
        )
    return checked


async def store_files(store: AttachmentStore, checked: Sequence[Checked]) -> list[NewAttachment]:
    """Write the files; their rows may now be inserted. On failure nothing stays behind."""
    stored: list[NewAttachment] = []
    try:
        for file in checked:
            name = await to_thread.run_sync(store.save, file.data)
            stored.append(
                NewAttachment(
                    stored_name=name,
                    filename=file.filename,
                    content_type=file.content_type,
                    size=len(file.data),
                    sha256=file.sha256,
                )
            )
    except BaseException:
        discard(store, stored)
        raise
    return stored


@asynccontextmanager
async def kept_files(
    settings: Settings, checked: Sequence[Checked]
) -> AsyncIterator[list[NewAttachment]]:
    """The checked files written to disk, for the transaction inside the block to record;
    if the block fails they are removed again (not committed, so no row names them)."""
    store = store_for(settings)
    stored = await store_files(store, checked)
    try:
        yield stored
    except BaseException:
        discard(store, stored)
        raise


def discard(store: AttachmentStore, stored: Sequence[NewAttachment] | Sequence[str]) -> None:
    """Remove files whose transaction did not commit (best effort: the sweep is the backstop)."""
    for item in stored:
        name = item if isinstance(item, str) else item.stored_name
        try:
            store.delete(name)
        except OSError as error:
            log.warning("attachment %s not removed: %s", name, error)


async def sweep_orphans(
    db: Database, store: AttachmentStore, older_than: float = ORPHAN_AGE
) -> int:
    """Delete files no row names (a crash between file and commit, or a purge cut short)."""
    names = await to_thread.run_sync(lambda: list(store.stored_names(older_than)))
    if not names:
        return 0
    async with db.transaction() as conn:
        known = await attachments.known(conn, stored_names=names)
    orphans = [name for name in names if name not in known]
    discard(store, orphans)
    if orphans:
        log.info("removed %d orphaned attachment file(s)", len(orphans))
    return len(orphans)


async def file_usage(db: Database, settings: Settings) -> FileUsage:
    async with db.transaction() as conn:
        files, size = await attachments.usage(conn)
    folder = store_for(settings).root
    while not folder.exists():  # before the first upload: the disk it will be on
        folder = folder.parent
    return FileUsage(files, size, shutil.disk_usage(folder).free)
