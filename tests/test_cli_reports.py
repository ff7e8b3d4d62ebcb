"""`python -m mailbox import` and `report`, run as a report author runs them."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import openpyxl

from mailbox.figures.counts import FIGURE_NAMES
from tests.live import run_cli, server_environment

SEED = Path(__file__).parent / "data" / "seed-2018.csv"
SENTENCE = (
    "全年收到厅长信箱46件、网上咨询24件、在线投诉6件、意见建议1件,全年共受理信件77封,回复率100%。"
)
DEPARTMENTS = [
    ("office", "办公室"),
    ("radio", "无线电管理处"),
    ("electronics", "电子信息处"),
    ("planning", "规划投资处"),
    ("policy", "产业政策处"),
    ("sme", "中小企业处"),
]


async def test_import_the_seed_year_and_report_it_in_every_format(
    database_url: str, tmp_path: Path
) -> None:
    env = server_environment(database_url, tmp_path) | {"LANG": "zh_CN.UTF-8"}
    for code, name in DEPARTMENTS:
        assert run_cli(env, "department", "add", code, name).returncode == 0
    imported = run_cli(env, "import", str(SEED))
    assert imported.returncode == 0, imported.stderr
    assert "77" in imported.stdout

    text = run_cli(env, "report", "--year", "2018", "--as-of", "2019-03-25")
    assert text.returncode == 0, text.stderr
    assert text.stdout.splitlines()[0] == SENTENCE

    as_json = run_cli(env, "report", "--year", "2018", "--as-of", "2019-03-25", "--format", "json")
    document = json.loads(as_json.stdout)
    assert document["summary"] == SENTENCE
    assert document["period"] == {
        "from": "2018-01-01",
        "to": "2018-12-31",
        "as_of": "2019-03-25T23:59:59.999999+08:00",
    }
    for part in ("channels", "departments", "months"):
        for item in document[part]:
            assert set(FIGURE_NAMES) <= set(item), part
    assert set(FIGURE_NAMES) <= set(document["total"])

    out = tmp_path / "report.csv"
    assert (
        run_cli(env, "report", "--year", "2018", "--format", "csv", "--output", str(out)).returncode
        == 0
    )
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # the BOM: Excel opens the Chinese correctly
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    total = next(row for row in rows if row and row[0] == "total")
    header = next(row for row in rows if row and row[0] == "section")
    assert int(total[header.index("received")]) == 77

    book_path = tmp_path / "report.xlsx"
    made = run_cli(env, "report", "--year", "2018", "--format", "xlsx", "--output", str(book_path))
    assert made.returncode == 0, made.stderr
    book = openpyxl.load_workbook(book_path)
    sheet = book["figures"]
    table = [list(row) for row in sheet.iter_rows(values_only=True)]
    header_row = next(row for row in table if row and row[0] == "section")
    for row in table:
        if row and row[0] == "channels":
            item = next(c for c in document["channels"] if c["code"] == row[1])
            for name in FIGURE_NAMES:
                assert row[header_row.index(name)] == item[name], (row[1], name)
    assert {"definitions", "网站年度报表"} <= set(book.sheetnames)

    xlsx_to_terminal = run_cli(env, "report", "--year", "2018", "--format", "xlsx")
    assert xlsx_to_terminal.returncode == 2 and "--output" in xlsx_to_terminal.stderr
    bad = run_cli(env, "report", "--from", "2018-05-01", "--to", "2018-04-01")
    assert bad.returncode == 2 and "before" in bad.stderr


async def test_a_file_with_one_bad_row_imports_nothing(database_url: str, tmp_path: Path) -> None:
    env = server_environment(database_url, tmp_path) | {"LANG": "en_US.UTF-8"}
    lines = SEED.read_text(encoding="utf-8-sig").splitlines()
    broken = lines[:10] + [lines[10].replace(",closed,", ",answered,")] + lines[11:]
    path = tmp_path / "letters.csv"
    path.write_text("\n".join(broken) + "\n", encoding="utf-8")
    refused = run_cli(env, "import", str(path))
    assert refused.returncode == 1
    assert "line 11, column status: must be one of" in refused.stderr
    assert "Nothing was imported" in refused.stderr
    report = run_cli(env, "report", "--year", "2018", "--format", "json")
    assert json.loads(report.stdout)["total"]["received"] == 0
