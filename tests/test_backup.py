"""`python -m mailbox backup`: a consistent copy while the server takes letters, and a restore."""

from __future__ import annotations

import asyncio
import re
import shutil
import sqlite3
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests import files
from tests.helpers import GOOD_LETTER, csrf_from
from tests.live import ROOT, migrate, run_cli, running_server, server_environment

SUBMITTERS = 6
BACKUPS = 3


@dataclass(frozen=True)
class Acknowledged:
    at: float  # time.monotonic() when the 303 arrived
    tracking_no: str
    query_code: str


def sqlite_env(path: Path, tmp_path: Path) -> dict[str, str]:
    return server_environment(
        f"sqlite+aiosqlite:///{path}", tmp_path / "var", submit_limit="0", track_limit="0"
    )


async def submit_until(url: str, stop: asyncio.Event, acknowledged: list[Acknowledged]) -> None:
    """One citizen's browser writing letter after letter until told to stop."""
    async with httpx.AsyncClient(base_url=url, timeout=30) as client:
        token = csrf_from((await client.get("/write/consult")).text)
        while not stop.is_set():
            response = await client.post(
                "/write/consult", data={**GOOD_LETTER, "csrf_token": token}
            )
            assert response.status_code == 303, response.text
            at = time.monotonic()
            receipt = (await client.get("/receipt")).text
            number = re.search(r'id="tracking-no" class="code">(\d+)<', receipt)
            code = re.search(r'id="query-code" class="code">([A-Z0-9-]+)<', receipt)
            assert number and code, receipt
            acknowledged.append(Acknowledged(at, number.group(1), code.group(1)))


async def more_letters(acknowledged: list[Acknowledged], count: int) -> None:
    """Wait until `count` letters are acknowledged (a loaded machine may be slow)."""
    deadline = time.monotonic() + 30
    while len(acknowledged) < count:
        assert time.monotonic() < deadline, "the server takes no letters"
        await asyncio.sleep(0.05)
    await asyncio.sleep(0.3)  # and backups start while letters are being written


async def back_up(env: dict[str, str], dest: Path) -> tuple[float, str]:
    """Run `python -m mailbox backup DEST` as an operator would; when it started, its output."""
    started = time.monotonic()
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        *("-m", "mailbox", "backup", str(dest)),
        cwd=ROOT,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await process.communicate()
    assert process.returncode == 0, output.decode()
    return started, output.decode()


def stored_letters(backup: Path) -> set[str]:
    """Tracking numbers of letters in a backup that have their `submitted` event."""
    with sqlite3.connect(backup) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        rows = conn.execute(
            "SELECT l.tracking_no FROM letters l JOIN letter_events e ON e.letter_id = l.id"
            " WHERE e.kind = 'submitted'"
        ).fetchall()
    conn.close()
    return {number for (number,) in rows}


async def track(url: str, letter: Acknowledged) -> httpx.Response:
    async with httpx.AsyncClient(base_url=url, timeout=30) as client:
        token = csrf_from((await client.get("/track")).text)
        return await client.post(
            "/track",
            data={
                "tracking_no": letter.tracking_no,
                "query_code": letter.query_code,
                "csrf_token": token,
            },
        )


@pytest.mark.slow
async def test_a_backup_under_load_holds_every_acknowledged_letter_and_restores(
    sqlite_template: Path, tmp_path: Path
) -> None:
    live = tmp_path / "live.sqlite3"
    shutil.copy(sqlite_template, live)
    env = sqlite_env(live, tmp_path)
    acknowledged: list[Acknowledged] = []
    taken: list[tuple[float, Path]] = []
    with running_server(env, log=tmp_path / "server.log") as url:
        stop = asyncio.Event()
        submitters = [
            asyncio.create_task(submit_until(url, stop, acknowledged)) for _ in range(SUBMITTERS)
        ]
        try:
            for n in range(BACKUPS):
                await more_letters(acknowledged, 10 * (n + 1))
                dest = tmp_path / f"backup{n}.sqlite3"
                started, output = await back_up(env, dest)
                assert f"wrote {dest}" in output and "integrity check ok" in output
                taken.append((started, dest))
            await asyncio.sleep(0.5)  # letters keep coming after the last backup
        finally:
            stop.set()
            await asyncio.gather(*submitters)

    for started, backup in taken:
        before = {a.tracking_no for a in acknowledged if a.at < started}
        assert len(before) >= 10, "the load did not run before the backup"
        missing = before - stored_letters(backup)
        assert not missing, f"{len(missing)} acknowledged letters missing from {backup.name}"
    assert any(a.at > taken[-1][0] for a in acknowledged), "the load stopped too early"

    # Restore: the backup copied into place of the database, a fresh server started on it.
    restored = tmp_path / "restored.sqlite3"
    last_started, last_backup = taken[-1]
    shutil.copy(last_backup, restored)
    in_backup = [a for a in acknowledged if a.at < last_started]
    with running_server(sqlite_env(restored, tmp_path), log=tmp_path / "restored.log") as url:
        for letter in (in_backup[0], in_backup[len(in_backup) // 2], in_backup[-1]):
            response = await track(url, letter)
            assert response.status_code == 200
            assert 'id="letter-state"' in response.text


@pytest.fixture
def env(sqlite_template: Path, tmp_path: Path) -> dict[str, str]:
    live = tmp_path / "live.sqlite3"
    shutil.copy(sqlite_template, live)
    return sqlite_env(live, tmp_path)


def test_a_backup_never_overwrites_a_file(env: dict[str, str], tmp_path: Path) -> None:
    dest = tmp_path / "backup.sqlite3"
    dest.write_bytes(b"yesterday's backup")
    done = run_cli(env, "backup", str(dest))
    assert done.returncode == 2
    assert "exists" in done.stderr
    assert dest.read_bytes() == b"yesterday's backup"
    assert [p.name for p in tmp_path.iterdir() if "partial" in p.name] == []


def test_a_backup_into_a_directory_is_named_by_time_and_keep_prunes(
    env: dict[str, str], tmp_path: Path
) -> None:
    folder = tmp_path / "backups"
    folder.mkdir()
    old = [folder / f"mailbox-2020010{n}-020000.sqlite3" for n in range(1, 4)]
    for path in old:
        path.write_bytes(b"old")
    (folder / "notes.txt").write_text("not a backup")
    done = run_cli(env, "backup", str(folder), "--keep", "2")
    assert done.returncode == 0, done.stderr
    made = [p for p in folder.glob("mailbox-*.sqlite3") if p not in old]
    assert len(made) == 1
    assert re.fullmatch(r"mailbox-\d{8}-\d{6}\.sqlite3", made[0].name)
    assert f"wrote {made[0]}" in done.stdout
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        [old[2].name, made[0].name, "notes.txt"]
    )
    with sqlite3.connect(made[0]) as conn:
        assert conn.execute("SELECT COUNT(*) FROM channels").fetchone()[0] > 0
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    conn.close()


def test_a_backup_of_a_missing_database_says_so(tmp_path: Path) -> None:
    env = sqlite_env(tmp_path / "nothing-here.sqlite3", tmp_path)
    done = run_cli(env, "backup", str(tmp_path / "b.sqlite3"))
    assert done.returncode == 2
    assert "no database at" in done.stderr
    assert not (tmp_path / "nothing-here.sqlite3").exists()


def test_postgresql_is_pointed_to_pg_dump(tmp_path: Path) -> None:
    env = server_environment(
        "postgresql+asyncpg://mailbox:s3cret@db.example:5432/mailbox", tmp_path / "var"
    )
    done = run_cli(env, "backup", str(tmp_path / "mailbox.dump"))
    assert done.returncode == 2
    assert "pg_dump --format=custom" in done.stderr
    assert "postgresql://mailbox@db.example:5432/mailbox" in done.stderr
    assert "s3cret" not in done.stderr + done.stdout
    assert not (tmp_path / "mailbox.dump").exists()


async def _letter_with_photo(url: str) -> tuple[str, str, bytes]:
    """A letter with a photo through the live form; its numbers and the stored photo."""
    async with httpx.AsyncClient(base_url=url, timeout=30) as client:
        token = csrf_from((await client.get("/write/consult")).text)
        response = await client.post(
            "/write/consult",
            data={**GOOD_LETTER, "csrf_token": token},
            files=[("attachments", ("现场照片.jpg", files.jpeg_with_gps(), "image/jpeg"))],
        )
        assert response.status_code == 303, response.text
        receipt = (await client.get("/receipt")).text
    number = re.search(r'id="tracking-no" class="code">(\d+)<', receipt)
    code = re.search(r'id="query-code" class="code">([A-Z0-9-]+)<', receipt)
    assert number and code
    found = await track(url, Acknowledged(0, number.group(1), code.group(1)))
    link = re.search(r'href="(/track/files/[^"]+)"', found.text)
    assert link
    async with httpx.AsyncClient(base_url=url, timeout=30) as client:
        photo = (await client.get(link.group(1))).content
    return number.group(1), code.group(1), photo


async def test_a_backup_holds_the_attachment_files_and_they_restore(tmp_path: Path) -> None:
    live, folder = tmp_path / "live.sqlite3", tmp_path / "backups"
    folder.mkdir()
    env = sqlite_env(live, tmp_path)
    migrate(env)
    with running_server(env, log=tmp_path / "server.log") as url:
        first = await _letter_with_photo(url)
        assert run_cli(env, "backup", str(folder), "--keep", "1").returncode == 0
        time.sleep(1.1)  # backups are named by the second
        second = await _letter_with_photo(url)
        done = run_cli(env, "backup", str(folder), "--keep", "1")
        assert done.returncode == 0, done.stderr
        assert "copied 2 attachment file(s)" in done.stdout
    (backup,) = folder.glob("mailbox-*.sqlite3")
    # --keep removed the older backup and its files together.
    assert sorted(p.name for p in folder.iterdir()) == [backup.name, backup.name + ".attachments"]

    # Restore on a new machine: the database file, then the files into the new data folder.
    restored, data = tmp_path / "restored.sqlite3", tmp_path / "restored-var"
    shutil.copy(backup, restored)
    shutil.copytree(backup.with_name(backup.name + ".attachments"), data / "attachments")
    restored_env = server_environment(f"sqlite+aiosqlite:///{restored}", data)
    with running_server(restored_env, log=tmp_path / "restored.log") as url:
        for number, code, photo in (first, second):
            found = await track(url, Acknowledged(0, number, code))
            link = re.search(r'href="(/track/files/[^"]+)"', found.text)
            assert link, found.text
            async with httpx.AsyncClient(base_url=url, timeout=30) as client:
                assert (await client.get(link.group(1))).content == photo
