"""schemathesis against a live `python -m mailbox serve`: every operation of /api/v1's OpenAPI
document, with a staff token and a year of demo letters in every state, gives no server error
and no answer the document does not describe (status, media type, headers, body).

Runs on SQLite, and on PostgreSQL when MAILBOX_TEST_POSTGRES_URL is set. schemathesis runs as
its command line in a subprocess (as a developer runs it), with a fixed seed so that CI is
repeatable; set MAILBOX_SCHEMATHESIS_SEED to another number to explore further.
"""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from mailbox.db.database import open_database
from tests.live import run_cli, running_server, server_environment

pytestmark = pytest.mark.slow

CHECKS = [
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_headers_conformance",
    "response_schema_conformance",
    "missing_required_header",
    "unsupported_method",
    "allow_header_conformance",
    "ignored_auth",
    "use_after_free",
]
# Left out: positive_data_acceptance and negative_data_rejection: the server cleans text
# before it counts it (control characters, spaces) and checks e-mail addresses and channel
# rules a JSON schema cannot state, so schema-valid letters may rightly get 422; and it
# takes numbers where text is expected (a phone number sent as a number). And
# ensure_resource_availability: a letter just created is "not found" (404) by design when
# asked for with a wrong query code, which is what that check sends to the rating.
MAX_EXAMPLES = 20  # per operation and phase: about half a minute for the whole document
SEED = int(os.environ.get("MAILBOX_SCHEMATHESIS_SEED", "6"))  # another seed explores further
PER_STATE = 3  # tracking numbers of each state that the generated requests draw from
# Every staff role (handler and reviewer of one department), so that every workflow step is
# tried: the permission matrix itself is tested elsewhere.
ROLES = ["admin", "dispatcher", "handler", "reviewer"]
DEPARTMENT = "radio"  # one of the demo's


async def known_values(database_url: str) -> dict[str, list[str]]:
    """A few letters of each state, every department and every reject reason, so that the
    generated requests reach real letters (random numbers only ever find 404) and real
    decisions (random department codes only ever get 422)."""
    db = open_database(database_url)
    await db.connect()
    try:
        letters = await db.fetch_all("SELECT state, tracking_no FROM letters ORDER BY id")
        departments = await db.fetch_all("SELECT code FROM departments ORDER BY id")
        reasons = await db.fetch_all("SELECT code FROM reject_reasons ORDER BY code")
    finally:
        await db.close()
    by_state: dict[str, list[str]] = {}
    for row in letters:
        numbers = by_state.setdefault(row["state"], [])
        if len(numbers) < PER_STATE:
            numbers.append(row["tracking_no"])
    return {
        "letters": [number for numbers in by_state.values() for number in numbers],
        "departments": [row["code"] for row in departments],
        "reasons": [row["code"] for row in reasons],
    }


BINDINGS = {
    "path.tracking_no": ("letters", 0.8),
    "body.department": ("departments", 0.7),
    "body.reason": ("reasons", 0.5),
}


def write_config(folder: Path, values: dict[str, list[str]]) -> Path:
    config = folder / "schemathesis.toml"
    lines = []
    for name, listed in values.items():
        quoted = ", ".join(f'"{value}"' for value in listed)
        lines += [f"[dictionaries.{name}]", f"values = [{quoted}]", ""]
    lines.append("[parameters]")
    for key, (name, probability) in BINDINGS.items():
        lines.append(f'"{key}" = {{ dictionary = "{name}", probability = {probability} }}')
    config.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return config


def findings(output: str) -> str:
    """The part of schemathesis's report that says what broke and how to reproduce it."""
    start = re.search(r"^=+ FAILURES =+$", output, re.MULTILINE)
    return output[start.start() :] if start else output[-8000:]


def test_schemathesis_finds_no_server_error_and_no_answer_that_breaks_the_schema(
    database_url: str, tmp_path: Path
) -> None:
    env = server_environment(database_url, tmp_path / "var", track_limit="0")
    demo = run_cli(env, "demo", "--letters", "60", "--seed", "6")
    assert demo.returncode == 0, demo.stderr
    made = run_cli(
        env,
        "create-user",
        "integration",
        *[option for role in ROLES for option in ("--role", role)],
        "--department",
        DEPARTMENT,
        "--password-stdin",
        stdin="a long password 123\n",
    )
    assert made.returncode == 0, made.stderr
    token = run_cli(env, "token", "create", "integration", "--label", "schemathesis")
    assert token.returncode == 0, token.stderr
    config = write_config(tmp_path, asyncio.run(known_values(database_url)))

    log = tmp_path / "server.log"
    with running_server(env, "--no-worker", log=log) as url:
        command = [
            sys.executable,
            "-m",
            "schemathesis.cli",
            "--config-file",
            str(config),
            "run",
            f"{url}/api/v1/openapi.json",
            "--url",
            f"{url}/api/v1",
            "--header",
            f"Authorization: Bearer {token.stdout.strip()}",
            "--checks",
            ",".join(CHECKS),
            "--max-examples",
            str(MAX_EXAMPLES),
            "--seed",
            str(SEED),
            "--workers",
            "1",
        ]
        started = time.monotonic()
        result = subprocess.run(
            command,
            cwd=tmp_path,  # its .hypothesis folder stays out of the checkout
            env={**env, "NO_COLOR": "1", "COLUMNS": "120"},
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        took = time.monotonic() - started
    server_errors = [
        line for line in log.read_text(encoding="utf-8").splitlines() if "Traceback" in line
    ]
    assert result.returncode == 0, (
        f"schemathesis found problems (in {took:.0f} s; server log {log}):\n"
        + findings(result.stdout + result.stderr)
    )
    assert "Test cases:" in result.stdout and " passed" in result.stdout, result.stdout
    assert not server_errors, log.read_text(encoding="utf-8")[-8000:]
