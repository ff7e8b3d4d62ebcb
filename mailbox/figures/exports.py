"""The report as files: CSV (UTF-8 with a BOM, for Excel), XLSX with a sheet of definitions,
JSON, and plain text for the terminal. All are made from the same JSON document."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from mailbox.figures.counts import FIGURE_NAMES, RATE_NAMES, percent
from mailbox.figures.definitions import DEFINITIONS

SECTIONS = (("channels", "code"), ("departments", "code"), ("months", "month"))
SECTION_TITLES = {
    "channels": "按渠道 By channel",
    "departments": "按处室 By department",
    "months": "按月份 By month",
    "total": "合计 Total",
}


def _rows(document: dict[str, Any]) -> list[list[Any]]:
    """One table: section, key, name, then every figure."""
    rows: list[list[Any]] = [["section", "key", "name", *FIGURE_NAMES]]
    for section, key in SECTIONS:
        for item in document[section]:
            name = item.get("name", item.get(key))
            rows.append([section, item.get(key) or "", name, *(item[f] for f in FIGURE_NAMES)])
    total = document["total"]
    rows.append(["total", "", "合计", *(total[f] for f in FIGURE_NAMES)])
    return rows


def to_json(document: dict[str, Any]) -> bytes:
    return json.dumps(document, ensure_ascii=False, indent=2).encode()


def to_csv(document: dict[str, Any]) -> bytes:
    """Rates as exact fractions (like the JSON); Excel opens the BOM'd UTF-8 as Chinese."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    period = document["period"]
    writer.writerow(["period", period["from"], period["to"], "as_of", period["as_of"]])
    writer.writerow(["summary", document["summary"]])
    writer.writerows(_rows(document))
    return ("\ufeff" + buffer.getvalue()).encode()


def to_xlsx(document: dict[str, Any], decimals: int = 1) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "figures"
    bold = Font(bold=True)
    period = document["period"]
    sheet.append(["期间 Period", period["from"], period["to"], "截至 As of", period["as_of"]])
    sheet.append(["摘要 Summary", document["summary"]])
    sheet.append([])
    header, *rows = _rows(document)
    sheet.append(header)
    header_row = sheet.max_row
    for cell in sheet[header_row]:
        cell.font = bold
        cell.fill = PatternFill("solid", fgColor="DDEBF7")
        cell.alignment = Alignment(wrap_text=True)
    rate_format = "0." + "0" * decimals + "%" if decimals else "0%"
    for row in rows:
        sheet.append(row)
        for index, name in enumerate(FIGURE_NAMES, start=4):
            if name in RATE_NAMES:
                sheet.cell(sheet.max_row, index).number_format = rate_format
        if row[0] == "total":
            for cell in sheet[sheet.max_row]:
                cell.font = bold
    sheet.freeze_panes = f"D{header_row + 1}"
    for index in range(1, len(header) + 1):
        sheet.column_dimensions[get_column_letter(index)].width = 14 if index > 3 else 18

    form = book.create_sheet("网站年度报表")
    form.append(["留言办理", "数值"])
    for key, value in document["website_yearly_form"].items():
        form.append([key, value])
    form.column_dimensions["A"].width = 22

    definitions = book.create_sheet("definitions")
    definitions.append(["figure", "指标", "定义", "definition"])
    for cell in definitions[1]:
        cell.font = bold
    for name in FIGURE_NAMES:
        zh, en = DEFINITIONS[name]
        definitions.append([name, zh[0], zh[1], en[1]])
    for column, width in (("A", 20), ("B", 22), ("C", 60), ("D", 60)):
        definitions.column_dimensions[column].width = width
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def to_text(document: dict[str, Any], decimals: int = 1) -> str:
    """For the terminal: the summary, then the main figures per channel and in total."""
    shown = ("received", "accepted", "rejected", "replied", "reply_rate", "on_time_rate")
    lines = [document["summary"], ""]
    width = max(len(item["name"]) for item in document["channels"] + [{"name": "合计"}]) + 2
    lines.append("".ljust(width) + "".join(name.rjust(14) for name in shown))
    for item in [*document["channels"], {"name": "合计", **document["total"]}]:
        cells = [
            percent(item[name], decimals) if name in RATE_NAMES else str(item[name])
            for name in shown
        ]
        lines.append(item["name"].ljust(width) + "".join(cell.rjust(14) for cell in cells))
    return "\n".join(lines) + "\n"
