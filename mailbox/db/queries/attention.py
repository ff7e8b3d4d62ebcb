"""The attention list: its words, and the version that tells each process its copy is stale."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from mailbox.db.database import Connection

# A site_texts row that every change of the list rewrites with a new random value: SQLite
# may give a deleted word's id to the next one, so the ids and the count alone could repeat.
VERSION_KEY = "attention_words.version"


@dataclass(frozen=True)
class WordRow:
    id: int
    word: str
    created_at: datetime


async def version(conn: Connection) -> tuple[Any, ...]:
    """Changes whenever the list does (the count and last id also catch rows added by hand)."""
    row = await conn.fetch_one(
        "SELECT (SELECT value FROM site_texts WHERE key = :key AND locale = '') AS token,"
        " (SELECT COUNT(*) FROM attention_words) AS count,"
        " (SELECT MAX(id) FROM attention_words) AS last_id",
        {"key": VERSION_KEY},
    )
    assert row is not None
    return (row["token"], row["count"], row["last_id"])


async def set_version(conn: Connection, *, token: str, now: datetime) -> None:
    await conn.execute(
        "INSERT INTO site_texts (key, locale, value, updated_at) VALUES (:key, '', :token, :now)"
        " ON CONFLICT (key, locale) DO UPDATE SET value = excluded.value,"
        " updated_at = excluded.updated_at",
        {"key": VERSION_KEY, "token": token, "now": now},
    )


async def all_words(conn: Connection) -> list[str]:
    """In the order they were added (the first of two words that match alike names both)."""
    rows = await conn.fetch_all("SELECT word FROM attention_words ORDER BY id")
    return [row["word"] for row in rows]


async def count_words(conn: Connection) -> int:
    count: int = await conn.fetch_value("SELECT COUNT(*) FROM attention_words")
    return count


async def list_words(conn: Connection, *, containing: str = "", limit: int) -> list[WordRow]:
    """By word; only those containing the given text, when there is one."""
    # Not LIKE: its wildcards would need escaping, and SQLite's ignores case.
    position = "instr" if conn.dialect == "sqlite" else "strpos"
    rows = await conn.fetch_all(
        "SELECT id, word, created_at FROM attention_words"
        f" WHERE :part = '' OR {position}(word, :part) > 0 ORDER BY word LIMIT :limit",
        {"part": containing, "limit": limit},
    )
    return [WordRow(**row) for row in rows]


async def add_word(conn: Connection, *, word: str, now: datetime) -> bool:
    """False when the word is listed already."""
    added = await conn.fetch_value(
        "INSERT INTO attention_words (word, created_at) VALUES (:word, :now)"
        " ON CONFLICT (word) DO NOTHING RETURNING id",
        {"word": word, "now": now},
    )
    return added is not None


async def delete_word(conn: Connection, *, word_id: int) -> str | None:
    """The deleted word, or None when there is none with this id."""
    word: str | None = await conn.fetch_value(
        "DELETE FROM attention_words WHERE id = :id RETURNING word", {"id": word_id}
    )
    return word
