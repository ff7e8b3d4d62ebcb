"""The command line, run as a user runs it: `python -m mailbox ...` from the checkout."""

from __future__ import annotations

from pathlib import Path

from mailbox.db.database import open_database
from tests.live import run_cli, server_environment


async def test_departments_users_and_channels(database_url: str, tmp_path: Path) -> None:
    env = server_environment(database_url, tmp_path)
    assert run_cli(env, "department", "add", "radio", "无线电管理处").returncode == 0
    again = run_cli(env, "department", "add", "radio", "重复")
    assert again.returncode == 2 and "radio" in again.stderr

    made = run_cli(
        env,
        "create-user",
        "li",
        "--role",
        "handler",
        "--role",
        "reviewer",
        "--department",
        "radio",
        "--password-stdin",
        stdin="a long password\n",
    )
    assert made.returncode == 0, made.stderr
    no_department = run_cli(
        env, "create-user", "wu", "--role", "handler", "--password-stdin", stdin="a long password\n"
    )
    assert no_department.returncode == 2 and "department" in no_department.stderr
    short = run_cli(
        env, "create-user", "zhao", "--role", "admin", "--password-stdin", stdin="short\n"
    )
    assert short.returncode == 2 and "10" in short.stderr

    changed = run_cli(
        env,
        "channel",
        "set",
        "consult",
        "--name",
        "政策咨询",
        "--reply-days",
        "7",
        "--no-review",
        "--disable",
    )
    assert changed.returncode == 0, changed.stderr
    assert run_cli(env, "channel", "set", "nothing").returncode == 2
    assert run_cli(env, "channel", "set", "consult", "--reply-days", "0").returncode == 2

    db = open_database(database_url)
    await db.connect()
    try:
        user = await db.fetch_one(
            "SELECT u.password_hash, d.code FROM users u JOIN departments d"
            " ON d.id = u.department_id WHERE u.username = 'li'"
        )
        assert user is not None and user["code"] == "radio"
        # The command runs with the real cost (RFC 9106's second recommendation), not the
        # cheap one the in-process tests use (tests/conftest.py).
        assert user["password_hash"].startswith("$argon2id$v=19$m=65536,t=3,p=4$")
        roles = await db.fetch_all("SELECT role FROM user_roles ORDER BY role")
        assert [r["role"] for r in roles] == ["handler", "reviewer"]
        channel = await db.fetch_one("SELECT * FROM channels WHERE code = 'consult'")
        assert channel is not None and channel["name"] == "政策咨询"
        assert channel["reply_days"] == 7 and not channel["review_required"]
        assert not channel["enabled"]
    finally:
        await db.close()


def test_a_bad_setting_stops_the_command_naming_it(tmp_path: Path) -> None:
    env = server_environment("sqlite+aiosqlite:///x.sqlite3", tmp_path, smtp_tls="sometimes")
    result = run_cli(env, "migrate")
    assert result.returncode == 2 and "MAILBOX_SMTP_TLS" in result.stderr
