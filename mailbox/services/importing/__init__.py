"""Importing letters from an old system (DESIGN §8): every row is checked first, and then
all are written in one transaction, or none."""

from __future__ import annotations

from dataclasses import dataclass, replace

from mailbox.db.database import Database
from mailbox.i18n import _
from mailbox.services.calendar import office_calendar
from mailbox.services.importing.checking import check_rows, read_lookups, taken_numbers
from mailbox.services.importing.reading import Problem, UnreadableFile, read_rows
from mailbox.services.importing.writing import write_letter
from mailbox.settings import Settings

__all__ = ["ImportRefused", "Imported", "Problem", "import_letters"]


class ImportRefused(ValueError):
    """Nothing was imported; `problems` lists every one, by line and column."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(str(problem) for problem in problems[:5]))
        self.problems = problems


@dataclass(frozen=True)
class Imported:
    letters: int
    tracking_numbers: list[str]


async def import_letters(db: Database, *, settings: Settings, data: bytes, jsonl: bool) -> Imported:
    try:
        rows = read_rows(data, jsonl=jsonl)
    except UnreadableFile as error:
        raise ImportRefused(error.problems) from None
    async with db.transaction() as conn:
        lookups = await read_lookups(conn, settings.tz, await office_calendar(conn))
        given = [row.values.get("tracking_no", "").strip() for row in rows]
        lookups = replace(lookups, taken_numbers=await taken_numbers(conn, [n for n in given if n]))
        letters, problems = check_rows(rows, lookups)
        if problems:
            raise ImportRefused(problems)
        if not letters:
            raise ImportRefused([Problem(1, "", _("the file has no letters"))])
        numbers = [
            await write_letter(
                conn,
                letter,
                secret_key=settings.secret_key,
                rating_days=settings.rating_days,
                tz=settings.tz,
            )
            for letter in letters
        ]
    return Imported(len(numbers), numbers)
