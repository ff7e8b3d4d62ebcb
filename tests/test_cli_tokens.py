"""`python -m mailbox token create|list|revoke`, run as an administrator runs it, against a
real server: the printed token works, the list never shows it, revoking ends it at once, and
the database holds only its SHA-256 hash."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import httpx

from mailbox.db.database import open_database
from tests.helpers import GOOD_LETTER
from tests.live import migrate, run_cli, running_server, server_environment

LETTER = {"channel": "consult", **GOOD_LETTER}


async def stored_tokens(database_url: str) -> list[dict[str, object]]:
    db = open_database(database_url)
    await db.connect()
    try:
        return [dict(row) for row in await db.fetch_all("SELECT * FROM api_tokens ORDER BY id")]
    finally:
        await db.close()


async def test_a_printed_token_works_is_never_listed_and_stops_working_when_revoked(
    database_url: str, tmp_path: Path
) -> None:
    env = {**server_environment(database_url, tmp_path / "var"), "LANG": "C.UTF-8"}
    migrate(env)
    made = run_cli(
        env,
        "create-user",
        "office",
        "--role",
        "dispatcher",
        "--password-stdin",
        stdin="a long password 123\n",
    )
    assert made.returncode == 0, made.stderr

    created = run_cli(env, "token", "create", "office", "--scope", "submit", "--label", "门户网站")
    assert created.returncode == 0, created.stderr
    token = created.stdout.strip()  # alone on stdout, for scripts: TOKEN=$(... token create ...)
    assert re.fullmatch(r"mbx_[A-Za-z0-9_-]{43}", token), created.stdout
    assert "shown only now" in created.stderr and "Authorization: Bearer" in created.stderr

    rows = await stored_tokens(database_url)
    assert len(rows) == 1
    assert rows[0]["token_hash"] == hashlib.sha256(token.encode()).hexdigest()
    assert (rows[0]["scope"], rows[0]["label"]) == ("submit", "门户网站")
    assert not any(token in str(value) for value in rows[0].values()), "the token is stored"

    listed = run_cli(env, "token", "list")
    assert listed.returncode == 0, listed.stderr
    assert token not in listed.stdout + listed.stderr
    fields = listed.stdout.strip().split("\t")
    assert fields[0] == str(rows[0]["id"]) and fields[1] == f"{token[:12]}…"
    assert fields[2:5] == ["office", "submit", "active"] and fields[-1] == "门户网站"

    with running_server(env, "--no-worker", log=tmp_path / "server.log") as url:
        headers = {"authorization": f"Bearer {token}"}
        sent = httpx.post(f"{url}/api/v1/letters", json=LETTER, headers=headers)
        assert sent.status_code == 201, sent.text

        revoked = run_cli(env, "token", "revoke", str(rows[0]["id"]))
        assert revoked.returncode == 0, revoked.stderr
        refused = httpx.post(f"{url}/api/v1/letters", json=LETTER, headers=headers)
        assert refused.status_code == 401
        assert refused.headers["www-authenticate"].startswith("Bearer")

    assert run_cli(env, "token", "list").stdout.split("\t")[4] == "revoked"
    again = run_cli(env, "token", "revoke", str(rows[0]["id"]))
    assert again.returncode == 2 and "already revoked" in again.stderr


async def test_a_token_is_refused_for_an_unknown_user_or_scope_and_nothing_is_stored(
    database_url: str, tmp_path: Path
) -> None:
    env = {**server_environment(database_url, tmp_path / "var"), "LANG": "C.UTF-8"}
    migrate(env)
    nobody = run_cli(env, "token", "create", "nobody")
    assert nobody.returncode == 2 and "nobody" in nobody.stderr and nobody.stdout == ""
    wrong_scope = run_cli(env, "token", "create", "nobody", "--scope", "everything")
    assert wrong_scope.returncode == 2 and "--scope" in wrong_scope.stderr
    assert run_cli(env, "token", "revoke", "7").returncode == 2
    assert await stored_tokens(database_url) == []
