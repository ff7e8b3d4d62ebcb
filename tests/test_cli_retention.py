"""`python -m mailbox purge`, run as an administrator runs it (by hand or from a timer)."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from mailbox.db.database import open_database
from tests.live import run_cli, server_environment

HEADER = (
    "channel,title,body,name,phone,email,submitted_at,status,department,accepted_at,due_at,"
    "replied_at,reply,reject_reason,rating,published"
)


def letters() -> str:
    """One letter closed in 2015, one closed a month ago (the real clock runs the command)."""
    recent = datetime.now(ZoneInfo("Asia/Shanghai")) - timedelta(days=30)
    day = recent.strftime("%Y-%m-%d")
    return "\n".join(
        [
            HEADER,
            "consult,旧的咨询,欧阳明远的咨询。,欧阳明远,13912345678,ouyang@example.org,"
            "2015-03-02 10:00,closed,radio,2015-03-02 11:00,,2015-03-04 10:00,已答复。,,,0",
            "consult,新的咨询,诸葛孔明的咨询。,诸葛孔明,13100006666,zhuge@example.org,"
            f"{day} 09:00,closed,radio,{day} 10:00,,{day} 11:00,已答复。,,,0",
        ]
    )


async def writers(database_url: str) -> dict[str, str]:
    db = open_database(database_url)
    await db.connect()
    try:
        rows = await db.fetch_all("SELECT writer_phone, writer_name FROM letters ORDER BY id")
    finally:
        await db.close()
    return {row["writer_phone"] or "-": row["writer_name"] for row in rows}


async def test_purge_off_dry_run_and_run(database_url: str, tmp_path: Path) -> None:
    env = server_environment(database_url, tmp_path) | {"LANG": "en_US.UTF-8"}
    assert run_cli(env, "department", "add", "radio", "无线电管理处").returncode == 0
    path = tmp_path / "letters.csv"
    path.write_text(letters() + "\n", encoding="utf-8")
    imported = run_cli(env, "import", str(path))
    assert imported.returncode == 0, imported.stderr

    off = run_cli(env, "purge")
    assert off.returncode == 2
    assert "MAILBOX_RETENTION_YEARS is 0" in off.stderr
    assert "MAILBOX_RETENTION_YEARS=5" in off.stderr  # how to set it
    bad = run_cli(env | {"MAILBOX_RETENTION_YEARS": "five"}, "purge")
    assert bad.returncode == 2 and "MAILBOX_RETENTION_YEARS" in bad.stderr

    five = env | {"MAILBOX_RETENTION_YEARS": "5"}
    dry = run_cli(five | {"LANG": "zh_CN.UTF-8"}, "purge", "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "试运行" in dry.stdout
    assert "2015\t已办结\t1" in dry.stdout
    assert await writers(database_url) == {"13912345678": "欧阳明远", "13100006666": "诸葛孔明"}

    done = run_cli(five, "purge")
    assert done.returncode == 0, done.stderr
    assert "2015\tFinished\t1" in done.stdout
    assert "Letters anonymised: 1." in done.stdout
    assert await writers(database_url) == {"-": "", "13100006666": "诸葛孔明"}

    again = run_cli(five, "purge")
    assert again.returncode == 0
    assert "No letter is due for anonymising." in again.stdout
