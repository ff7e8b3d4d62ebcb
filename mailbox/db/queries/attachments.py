"""Attachment rows: the metadata of files kept under the data folder."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from mailbox.db.database import Connection


@dataclass(frozen=True)
class AttachmentRow:
    id: int
    letter_id: int
    reply_id: int | None
    stored_name: str
    filename: str
    content_type: str
    size: int
    sha256: str
    created_at: datetime
    published_at: datetime | None

    @property
    def from_writer(self) -> bool:
        return self.reply_id is None


@dataclass(frozen=True)
class NewAttachment:
    stored_name: str
    filename: str
    content_type: str
    size: int
    sha256: str


_COLUMNS = (
    "id, letter_id, reply_id, stored_name, filename, content_type, size, sha256, created_at,"
    " published_at"
)


async def insert(
    conn: Connection,
    *,
    letter_id: int,
    files: Iterable[NewAttachment],
    now: datetime,
    reply_id: int | None = None,
    uploaded_by_id: int | None = None,
) -> None:
    for file in files:
        await conn.execute(
            "INSERT INTO attachments (letter_id, reply_id, stored_name, filename, content_type,"
            " size, sha256, uploaded_by_id, created_at) VALUES (:letter_id, :reply_id,"
            " :stored_name, :filename, :content_type, :size, :sha256, :by, :now)",
            vars(file)
            | {"letter_id": letter_id, "reply_id": reply_id, "by": uploaded_by_id, "now": now},
        )


async def of_letter(conn: Connection, *, letter_id: int) -> list[AttachmentRow]:
    """The writer's files and every reply's, in the order they came."""
    rows = await conn.fetch_all(
        f"SELECT {_COLUMNS} FROM attachments WHERE letter_id = :letter_id ORDER BY id",
        {"letter_id": letter_id},
    )
    return [AttachmentRow(**row) for row in rows]


async def get(conn: Connection, *, letter_id: int, attachment_id: int) -> AttachmentRow | None:
    row = await conn.fetch_one(
        f"SELECT {_COLUMNS} FROM attachments WHERE id = :id AND letter_id = :letter_id",
        {"id": attachment_id, "letter_id": letter_id},
    )
    return AttachmentRow(**row) if row else None


async def total_size(conn: Connection, *, letter_id: int, reply_id: int | None) -> tuple[int, int]:
    """How many files and bytes the writer's letter (reply_id None) or a reply holds."""
    row = await conn.fetch_one(
        "SELECT COUNT(*) AS files, COALESCE(SUM(size), 0) AS size FROM attachments"
        " WHERE letter_id = :letter_id AND "
        + ("reply_id IS NULL" if reply_id is None else "reply_id = :reply_id"),
        {"letter_id": letter_id} | ({} if reply_id is None else {"reply_id": reply_id}),
    )
    assert row is not None
    return int(row["files"]), int(row["size"])


async def delete(conn: Connection, *, attachment_id: int) -> str | None:
    """Remove the row; the stored name, for deleting the file after the commit."""
    name: str | None = await conn.fetch_value(
        "DELETE FROM attachments WHERE id = :id RETURNING stored_name", {"id": attachment_id}
    )
    return name


async def delete_of_letters(conn: Connection, *, letter_ids: list[int]) -> list[str]:
    names: list[str] = []
    for letter_id in letter_ids:
        rows = await conn.fetch_all(
            "DELETE FROM attachments WHERE letter_id = :id RETURNING stored_name",
            {"id": letter_id},
        )
        names += [row["stored_name"] for row in rows]
    return names


async def set_published(
    conn: Connection, *, attachment_id: int, by_id: int | None, now: datetime | None
) -> int:
    return await conn.execute(
        "UPDATE attachments SET published_at = :now, published_by_id = :by WHERE id = :id"
        " AND reply_id IS NULL",
        {"now": now, "by": by_id, "id": attachment_id},
    )


async def known(conn: Connection, *, stored_names: list[str]) -> set[str]:
    """Which of these names a row holds: the rest are orphans."""
    found: set[str] = set()
    for start in range(0, len(stored_names), 500):
        chunk = stored_names[start : start + 500]
        marks = ", ".join(f":n{i}" for i in range(len(chunk)))
        rows = await conn.fetch_all(
            f"SELECT stored_name FROM attachments WHERE stored_name IN ({marks})",
            {f"n{i}": name for i, name in enumerate(chunk)},
        )
        found |= {row["stored_name"] for row in rows}
    return found


async def usage(conn: Connection) -> tuple[int, int]:
    row = await conn.fetch_one(
        "SELECT COUNT(*) AS files, COALESCE(SUM(size), 0) AS size FROM attachments"
    )
    assert row is not None
    return int(row["files"]), int(row["size"])
