"""Reading an import file: CSV (UTF-8, with or without BOM, a header row) or JSON Lines, each
data row with the line it starts on, so that every error can name it."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass

from mailbox.i18n import _

COLUMNS = (
    "channel",
    "title",
    "body",
    "name",
    "phone",
    "email",
    "submitted_at",
    "status",
    "department",
    "accepted_at",
    "due_at",
    "replied_at",
    "reply",
    "reject_reason",
    "rating",
    "published",
    "tracking_no",
)
REQUIRED = ("channel", "title", "body", "submitted_at", "status")


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the file: where (line, column) and what, in the user's language."""

    line: int
    column: str
    message: str

    def __str__(self) -> str:
        if self.column:
            return _("line %(line)d, column %(column)s: %(message)s") % vars(self)
        return _("line %(line)d: %(message)s") % vars(self)


@dataclass(frozen=True)
class RawRow:
    line: int
    values: dict[str, str]


class UnreadableFile(ValueError):
    """Not a file this command can read at all (nothing else is checked then)."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(map(str, problems)))
        self.problems = problems


def read_rows(data: bytes, *, jsonl: bool) -> list[RawRow]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise UnreadableFile([Problem(line, "", _("the file is not UTF-8 text"))]) from None
    return _read_jsonl(text) if jsonl else _read_csv(text)


def _read_csv(text: str) -> list[RawRow]:
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [name.strip().lower() for name in next(reader)]
    except StopIteration:
        raise UnreadableFile([Problem(1, "", _("the file is empty"))]) from None
    problems = _check_header(header)
    if problems:
        raise UnreadableFile(problems)
    rows = []
    start = reader.line_num + 1
    for record in reader:
        if any(cell.strip() for cell in record):
            if len(record) != len(header):
                problems.append(
                    Problem(
                        start,
                        "",
                        _("%(found)d values where the header has %(expected)d")
                        % {"found": len(record), "expected": len(header)},
                    )
                )
            else:
                rows.append(RawRow(start, dict(zip(header, record, strict=True))))
        start = reader.line_num + 1
    if problems:
        raise UnreadableFile(problems)
    return rows


def _read_jsonl(text: str) -> list[RawRow]:
    rows, problems = [], []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except ValueError:
            problems.append(Problem(number, "", _("not valid JSON")))
            continue
        if not isinstance(item, dict):
            problems.append(Problem(number, "", _("not a JSON object")))
            continue
        unknown = sorted(set(item) - set(COLUMNS))
        if unknown:
            problems.append(
                Problem(
                    number,
                    unknown[0],
                    _("unknown column (known: %(known)s)") % {"known": ", ".join(COLUMNS)},
                )
            )
            continue
        values = {key: "" if value is None else str(value) for key, value in item.items()}
        if isinstance(item.get("published"), bool):
            values["published"] = "1" if item["published"] else "0"
        rows.append(RawRow(number, values))
    if problems:
        raise UnreadableFile(problems)
    return rows


def _check_header(header: list[str]) -> list[Problem]:
    problems = [
        Problem(1, name, _("unknown column (known: %(known)s)") % {"known": ", ".join(COLUMNS)})
        for name in header
        if name not in COLUMNS
    ]
    problems += [
        Problem(1, name, _("the column is missing from the header"))
        for name in REQUIRED
        if name not in header
    ]
    duplicated = sorted({name for name in header if header.count(name) > 1})
    problems += [Problem(1, name, _("the column appears twice")) for name in duplicated]
    return problems
