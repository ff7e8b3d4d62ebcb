"""The integration API under load: submitting letters through it, the staff list and Open311
with a million letters, and webhook deliveries per second.

    .venv/bin/python bench/api.py            # ~9 min: 1,000,000 letters in both databases
    .venv/bin/python bench/api.py --quick    # ~3 min: 100,000 letters, 3 s per load
    .venv/bin/python bench/api.py --reuse --keep --no-postgres   # iterate on one database
    .venv/bin/python bench/api.py --only submit --profile          # + py-spy of the server

For each database (SQLite, and PostgreSQL when --postgres-url answers), on loopback only:

1. reads, over --letters letters made by bench/generate.py (SQLite in --sqlite-dir; PostgreSQL
   in its own database --pg-database, dropped at the end unless --keep). A dispatcher with a
   staff token (`python -m mailbox token create NAME --scope staff`); `python -m mailbox serve
   --no-worker`; wrk at --connections (4) on

     staff list p1        GET /api/v1/staff/letters                  (target p50 < 50, p99 < 200)
     staff list deep      the same after following next_cursor --depth times; the cursor is
                          checked against the keyset a direct query gives       (same target)
     staff list 90 %      the cursor of a row 90 % down the list                (same target)
     Open311 list         GET /open311/v2/requests.json: the last 90 days, at most 1,000
                                                                            (target p50 < 100)
     Open311 one          GET /open311/v2/requests/{id}.json, 1,000 letters in turn

   with the plans of their queries (recorded from the app's own query functions, explained as
   bench/queues.py does);
2. submissions, on a fresh database as in bench/run.py (SQLite in a temporary folder;
   PostgreSQL in mailbox_api_fresh_bench): `python -m mailbox serve` (with its worker), and
   wrk at --submit-connections (64) on the bare ceiling (bench/ceiling.py, once), the web form
   (POST /write/consult, bench/submit.lua) and the API (POST /api/v1/letters with a submit
   token, bench/api-submit.lua: the same letter as JSON). Target: the API reaches at least 60 %
   of the ceiling's requests/s (on PostgreSQL, whose ceiling that SQLite one is not: of the
   form's on PostgreSQL). Checked afterwards: letters, their events and their outbox rows grew
   by the 201s wrk counted, plus at most the requests in flight when wrk stopped;
3. webhooks, on the same fresh database: a webhook subscribed to letter.submitted, pointing at
   bench/receiver.py (answers 204 at once), registered with mailbox.services.webhooks.register;
   --deliveries events queued with mailbox.webhooks.events.submitted (as a submission queues
   them); then `python -m mailbox worker` is started and timed until the receiver has them all.
   Checked: each delivery arrived once, with a valid signature, and the outbox marks all sent.

Output: Markdown tables on stdout and bench/results/api-latest.json.
"""

from __future__ import annotations

import argparse
import asyncio
import hmac
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import options  # bench/options.py: the options the benchmarks share
import queues  # bench/queues.py: databases, server, wrk, plans (puts the app on sys.path)

from mailbox.clock import SystemClock
from mailbox.db.database import open_database
from mailbox.db.queries import open311
from mailbox.db.queries import queues as list_queries
from mailbox.db.queries.users import get_user_by_username
from mailbox.services import webhooks as webhook_service
from mailbox.services.admin import Admin
from mailbox.web.api.staff import LIMIT_DEFAULT, decode_cursor, encode_cursor
from mailbox.web.open311 import filters as open311_filters
from mailbox.web.open311 import mapping as open311_mapping
from mailbox.webhooks import events as webhook_events
from mailbox.webhooks.payload import Event, signature

bench_run = queues.bench_run
BENCH, APP, PYTHON, HOST = queues.BENCH, queues.APP, queues.PYTHON, queues.HOST
RESULTS = BENCH / "results"
PG_DATABASE = "mailbox_api_bench"  # --pg-database's default: the million letters
PG_FRESH = "mailbox_api_fresh_bench"  # submissions and webhooks
DISPATCHER, PORTAL, ADMIN = "bench-api-dispatcher", "bench-api-portal", "bench-api-admin"
TARGET_SUBMIT_SHARE = 0.60  # of the ceiling's requests/s (PostgreSQL: of the form's)
TARGET_LIST_P50_MS, TARGET_LIST_P99_MS = 50.0, 200.0
TARGET_OPEN311_P50_MS = 100.0
OPEN311_NUMBERS = 1000  # letters GET /open311/v2/requests/{id}.json asks for in turn
PARTS = ("reads", "submit", "webhooks")
QUICK = {
    "letters": 100_000,
    "duration": 3,
    "warmup": 1,
    "single": 5,
    "depth": 10,
    "deliveries": 500,
    "quiet_wait": 5,
}
log = queues.log


# --- set-up: databases, users, tokens -----------------------------------------------------------


def app_env(target: queues.Target, data_dir: Path, base: str) -> dict[str, str]:
    """bench/queues.py's server environment, with bench/run.py's limits off: all load comes
    from 127.0.0.1, and the per-address limits would refuse it."""
    env = queues.app_env(target, data_dir)
    env.update(MAILBOX_BASE_URL=base, MAILBOX_SUBMIT_LIMIT="0", MAILBOX_TRACK_LIMIT="0")
    return env


def access_log(args: argparse.Namespace) -> list[str]:
    """`serve` logs a JSON line per request by default; as in bench/run.py, the servers
    measured log one each only with --access-log (the ceiling too)."""
    return ["--access-log" if args.access_log else "--no-access-log"]


def mailbox_command(env: dict[str, str], *argv: str) -> str:
    """`python -m mailbox ARGV` in the measured checkout; its standard output."""
    done = subprocess.run(
        [PYTHON, "-m", "mailbox", *argv], cwd=APP, env=env, capture_output=True, text=True,
        timeout=120, check=False,
    )  # fmt: skip
    if done.returncode != 0:
        raise RuntimeError(f"mailbox {' '.join(argv)} failed: {done.stdout}\n{done.stderr}")
    return done.stdout


def new_token(env: dict[str, str], username: str, scope: str) -> str:
    """A token made as an administrator makes one: `python -m mailbox token create`."""
    output = mailbox_command(env, "token", "create", username, "--scope", scope, "--label", "bench")
    return output.split()[0]


def scalar(target: queues.Target, sql: str, params: dict[str, Any] | None = None) -> Any:
    return queues.fetch_rows(target, sql, params or {})[0][0]


def fresh_target(name: str, args: argparse.Namespace, tmp: Path) -> queues.Target:
    """An empty, migrated database for the submissions (as bench/run.py's)."""
    if name == "sqlite":
        target = queues.Target("sqlite", f"sqlite+aiosqlite:///{tmp / 'fresh.sqlite3'}")
    else:
        asyncio.run(queues.pg_database(args, drop=True, create=True, name=PG_FRESH))
        target = queues.Target("postgresql", queues.pg_url(args, PG_FRESH))
    mailbox_command(queues.app_env(target, tmp / "data-migrate"), "migrate")
    return target


# --- results -----------------------------------------------------------------------------------


@dataclass
class Row:
    """One line of the summary table."""

    database: str
    scenario: str
    connections: str
    rps: float
    p50_ms: float | None = None
    p99_ms: float | None = None
    target: str = "–"
    met: str = "–"  # yes / NO / – (no target)
    note: str = ""


def row_of_page(page: queues.PageResult, connections: int, target: str, ok: bool | None) -> Row:
    return Row(
        page.database,
        page.page,
        str(connections),
        page.rps,
        page.p50_ms,
        page.p99_ms,
        target,
        "–" if ok is None else ("yes" if ok else "NO"),
        f"{page.rows} rows, {page.bytes:,} bytes; alone {page.single_ms:.1f} ms; server CPU"
        f" {page.server_cpu_ms_per_request:.1f} ms/request",
    )


def summary_table(rows: list[Row]) -> str:
    lines = [
        "| database | scenario | connections | requests/s | p50 ms | p99 ms | target | met "
        "| notes |",
        "|---|---|---:|---:|---:|---:|---|---|---|",
    ]
    for r in rows:
        p50 = f"{r.p50_ms:.1f}" if r.p50_ms is not None else "–"
        p99 = f"{r.p99_ms:.1f}" if r.p99_ms is not None else "–"
        lines.append(
            f"| {r.database} | {r.scenario} | {r.connections} | {r.rps:,.0f} | {p50} | {p99} "
            f"| {r.target} | {r.met} | {r.note} |"
        )
    return "\n".join(lines)


# --- 1. reads over the million letters -----------------------------------------------------------


@dataclass
class Keys:
    deep: tuple[datetime, int]  # the last row of page --depth of the unfiltered list
    far: tuple[datetime, int]  # a row 90 % down it
    far_offset: int
    numbers: list[str] = field(default_factory=list)  # for Open311's one-request endpoint


def keys_of(target: queues.Target, args: argparse.Namespace) -> Keys:
    """The keysets by direct queries, in the list's order (newest first, all letters)."""
    order = "ORDER BY submitted_at DESC, id DESC"
    sql = f"SELECT submitted_at, id FROM letters {order} LIMIT 1 OFFSET :o"
    deep = queues.fetch_rows(target, sql, {"o": args.depth * LIMIT_DEFAULT - 1})[0]
    total = int(scalar(target, "SELECT count(*) FROM letters"))
    far_offset = int(total * 0.9)
    far = queues.fetch_rows(target, sql, {"o": far_offset})[0]
    step = max(1, total // OPEN311_NUMBERS)
    numbers = queues.fetch_rows(
        target,
        "SELECT tracking_no FROM letters WHERE id % :step = 0 ORDER BY id LIMIT :n",
        {"step": step, "n": OPEN311_NUMBERS},
    )
    as_dt = queues._as_datetime
    return Keys(
        deep=(as_dt(deep[0]), int(deep[1])),
        far=(as_dt(far[0]), int(far[1])),
        far_offset=far_offset,
        numbers=[str(row[0]) for row in numbers],
    )


async def record_reads(dialect: str, keys: Keys) -> list[tuple[str, str, dict[str, Any]]]:
    """(label, sql, params) of the list statements, from the app's own query functions called
    as the endpoints call them (bench/queues.py's Recorder)."""
    out: list[tuple[str, str, dict[str, Any]]] = []
    recorder = queues.Recorder(dialect)
    conn: Any = recorder
    for label, after in (("staff list p1", None), ("staff list deep", keys.deep)):
        await list_queries.search(
            conn,
            filters=list_queries.Filters(),
            from_moment=None,
            to_moment=None,
            after=after,
            limit=LIMIT_DEFAULT + 1,
        )
        out.append((label, *recorder.statements.pop()))
    await list_queries.search(
        conn,
        filters=list_queries.Filters(),
        from_moment=None,
        to_moment=None,
        after=keys.far,
        limit=LIMIT_DEFAULT + 1,
    )
    out.append(("staff list 90 %", *recorder.statements.pop()))
    now = datetime.now(UTC)
    await open311.requests_between(
        conn,
        starts=now - open311_filters.MAX_SPAN,
        ends=now,
        states=open311_mapping.listed_states(set(open311_mapping.STATUSES)),
        channels=None,
        limit=open311_filters.MAX_RESULTS,
    )
    out.append(("Open311 list (90 days)", *recorder.statements.pop()))
    await open311.requests_numbered(conn, tracking_nos=keys.numbers[:1])
    out.append(("Open311 one request", *recorder.statements.pop()))
    return out


def explain(
    target: queues.Target, statements: list[tuple[str, str, dict[str, Any]]]
) -> list[queues.Plan]:
    if target.name == "sqlite":
        plans = [queues.explain_sqlite(target, *statement) for statement in statements]
    else:
        plans = asyncio.run(queues.explain_postgres_all(target, statements))
    for plan in plans:
        if " WHERE " not in plan.sql and all("whole index" in f for f in plan.full_scans):
            # The unfiltered first page: the index read in the list's order stops at the LIMIT.
            plan.full_scans = []
            plan.verdict = "index in the list's order, no filter: stops at the LIMIT"
        log(f"[{target.name}] plan {plan.label:<26} {plan.query_ms:8.2f} ms  {plan.verdict}")
    return plans


def follow_cursor(base: str, headers: dict[str, str], depth: int) -> tuple[str, float]:
    """The path of page depth + 1, reached by following next_cursor as a client does."""
    path = "/api/v1/staff/letters"
    started = time.monotonic()
    for _ in range(depth):
        answer = queues.get(base, path, headers)
        answer.raise_for_status()
        cursor = answer.json()["next_cursor"]
        if not cursor:
            raise RuntimeError("the staff list ran out of pages before --depth")
        path = f"/api/v1/staff/letters?cursor={cursor}"
    return path, time.monotonic() - started


def bench_reads(
    target: queues.Target, args: argparse.Namespace, tmp: Path
) -> tuple[list[Row], list[queues.PageResult], list[queues.Plan], dict[str, Any]]:
    queues.prepare(target, args)
    info: dict[str, Any] = {"generation": target.generation}
    info["extra_sql"] = queues.apply_sql(target, args)
    port = bench_run.free_port()
    base = f"http://{HOST}:{port}"
    env = app_env(target, tmp / f"data-reads-{target.name}", base)
    queues.create_user(env, DISPATCHER, ["dispatcher"])
    staff = {"Authorization": f"Bearer {new_token(env, DISPATCHER, 'staff')}"}
    keys = keys_of(target, args)
    info["keys"] = {
        "deep_page": args.depth + 1,
        "deep": [keys.deep[0].isoformat(), keys.deep[1]],
        "far_offset": keys.far_offset,
        "far": [keys.far[0].isoformat(), keys.far[1]],
    }
    info["quiet_wait_s"] = queues.wait_until_quiet(args.quiet_wait)
    plans = explain(target, asyncio.run(record_reads(target.name, keys)))
    paths_file = tmp / f"open311-{target.name}.txt"
    paths_file.write_text("".join(f"/open311/v2/requests/{n}.json\n" for n in keys.numbers))

    argv = [PYTHON, "-m", "mailbox", "serve", "--no-worker", "--host", HOST, "--port", str(port)]
    argv += access_log(args)
    pages: list[queues.PageResult] = []
    rows: list[Row] = []
    with queues.app_server(f"reads-{target.name}", argv, env, port, tmp) as process:
        deep_path, seconds = follow_cursor(base, staff, args.depth)
        landed = decode_cursor(deep_path.rpartition("cursor=")[2])
        info["cursor_followed"] = {
            "pages": args.depth,
            "seconds": round(seconds, 1),
            "matches_sql_keyset": landed == keys.deep,
        }
        if landed != keys.deep:
            raise RuntimeError(f"next_cursor led to {landed}, the SQL keyset is {keys.deep}")
        far_path = f"/api/v1/staff/letters?cursor={encode_cursor(*keys.far)}"

        def listed(answer: httpx.Response) -> int:
            return len(answer.json()["letters"])

        def requests_listed(answer: httpx.Response) -> int:
            return len(answer.json())

        list_target = f"p50 < {TARGET_LIST_P50_MS:g}, p99 < {TARGET_LIST_P99_MS:g}"
        scenarios: list[tuple[str, str, dict[str, str], Callable[..., int], str, Any]] = [
            ("staff list p1", "/api/v1/staff/letters", staff, listed, list_target, None),
            (f"staff list p{args.depth + 1}", deep_path, staff, listed, list_target, None),
            ("staff list 90 % down", far_path, staff, listed, list_target, None),
            (
                "Open311 list (90 days, ≤ 1,000)",
                "/open311/v2/requests.json",
                {},
                requests_listed,
                f"p50 < {TARGET_OPEN311_P50_MS:g}",
                None,
            ),
            (
                f"Open311 one request ({len(keys.numbers):,} in turn)",
                f"/open311/v2/requests/{keys.numbers[0]}.json",
                {},
                requests_listed,
                "–",
                paths_file,
            ),
        ]
        for page, path, headers, counter, target_text, paths in scenarios:
            result = queues.measure_page(
                args, target.name, page, base, path, "dispatcher" if headers else "anyone",
                headers, process.pid, paths_file=paths, rows=counter,
            )  # fmt: skip
            if page.startswith("staff list"):
                ok: bool | None = (
                    result.p50_ms < TARGET_LIST_P50_MS and result.p99_ms < TARGET_LIST_P99_MS
                )
            elif page.startswith("Open311 list"):
                ok = result.p50_ms < TARGET_OPEN311_P50_MS
            else:
                ok = None
            bad = sum(n for s, n in result.statuses.items() if s != "200")
            ok = None if ok is None else ok and bad == 0
            result.target = "" if ok is None else ("met" if ok else "NOT met")
            pages.append(result)
            rows.append(row_of_page(result, args.connections, target_text, ok))
        info["rss_kib_after"] = bench_run.memory_kib(process.pid)["VmRSS"]
        if args.profile:  # the page that misses its target most often
            info["profile_open311_list"] = bench_run.profile(
                args,
                process.pid,
                f"{base}/open311/v2/requests.json",
                "get.lua",
                {"BENCH_HEADERS": "", "BENCH_PATHS_FILE": ""},
                tmp / f"profile-open311-{target.name}.txt",
            )
            log(info["profile_open311_list"])
    info["server_log_errors"] = server_errors(tmp / f"reads-{target.name}.log")
    close_clients()
    return rows, pages, plans, info


def close_clients() -> None:
    for client in queues._CLIENTS.values():
        client.close()
    queues._CLIENTS.clear()


def server_errors(path: Path) -> int:
    text = path.read_text(errors="replace")
    return text.count("Traceback") + text.count("ERROR")


# --- 2. submissions ------------------------------------------------------------------------------


def counts(target: queues.Target) -> dict[str, int]:
    row = queues.fetch_rows(
        target,
        "SELECT (SELECT count(*) FROM letters), (SELECT count(*) FROM letter_events),"
        " (SELECT count(*) FROM outbox), (SELECT count(*) FROM letters WHERE source = 'api')",
        {},
    )[0]
    names = ("letters", "letter_events", "outbox", "api_letters")
    return dict(zip(names, map(int, row), strict=True))


def submit_check(
    result: bench_run.WrkResult, added: dict[str, int], connections: int, accepted: int
) -> dict[str, Any]:
    """Every acknowledged letter is in the database with its event and receipt mail: the rows
    grew by the answers wrk counted, plus those in flight when it stopped (the server finished
    them, wrk did not wait for them): at most one per connection."""
    in_flight = connections + sum(result.socket_errors.values())
    extra = added["letters"] - accepted
    return {
        **added,
        "acknowledged_by_wrk": accepted,
        "rows_beyond_wrk_count": extra,
        "consistent": added["letters"] == added["letter_events"] == added["outbox"]
        and 0 <= extra <= in_flight,
    }


def bench_submit(
    fresh: queues.Target, args: argparse.Namespace, tmp: Path, ceiling: list[Any]
) -> tuple[list[Row], dict[str, Any]]:
    """The ceiling (once: `ceiling` holds its result for the next database), the web form and
    the API on one server, one after another."""
    port = bench_run.free_port()
    base = f"http://{HOST}:{port}"
    env = app_env(fresh, tmp / f"data-submit-{fresh.name}", base)
    queues.create_user(env, PORTAL, ["reporter"])  # a submit token needs no role of its own
    token = new_token(env, PORTAL, "submit")
    load = argparse.Namespace(**{**vars(args), "connections": args.submit_connections})
    argv = [PYTHON, "-m", "mailbox", "serve", "--host", HOST, "--port", str(port)]
    argv += access_log(args)
    info: dict[str, Any] = {}
    rows: list[Row] = []
    with ExitStack() as stack:
        app = stack.enter_context(queues.app_server(f"submit-{fresh.name}", argv, env, port, tmp))
        csrf, stamp = bench_run.form_tokens(base)
        form_env = {"BENCH_CSRF": csrf, "BENCH_FORM_STAMP": stamp}
        if not ceiling:
            ceiling_port = bench_run.free_port()
            ceiling_db = tmp / "ceiling.sqlite3"
            ceiling_argv = [PYTHON, str(BENCH / "ceiling.py"), "--host", HOST]
            ceiling_argv += ["--port", str(ceiling_port), "--db", str(ceiling_db)]
            ceiling_argv += [] if args.access_log else ["--no-access-log"]
            process = stack.enter_context(
                bench_run.server("ceiling", ceiling_argv, env, ceiling_port, tmp)
            )
            info["quiet_wait_s"] = queues.wait_until_quiet(args.quiet_wait)
            result, added = bench_run.measure(
                load,
                "ceiling: bare POST + INSERT (SQLite)",
                process,
                f"http://{HOST}:{ceiling_port}/write/consult",
                "submit.lua",
                form_env,
                count=lambda: bench_run.count_rows(ceiling_db, "letters"),
            )
            ceiling.append(result)
            info["ceiling"] = {"rows_added": added["letters"], "wrk_ok": result.ok}
            rows.append(submit_row("sqlite", result, load.connections, "–", None))
        ceiling_rps = ceiling[0].rps

        info["quiet_wait_s"] = info.get("quiet_wait_s", 0) + queues.wait_until_quiet(
            args.quiet_wait
        )
        form, added = bench_run.measure(
            load,
            "web form: POST /write/consult",
            app,
            f"{base}/write/consult",
            "submit.lua",
            form_env,
            count=lambda: counts(fresh),
        )
        info["form"] = submit_check(form, added, load.connections, form.ok)
        rows.append(submit_row(fresh.name, form, load.connections, "–", None, ceiling_rps))

        info["quiet_wait_s"] += queues.wait_until_quiet(args.quiet_wait)
        api, added = bench_run.measure(
            load,
            "API: POST /api/v1/letters",
            app,
            f"{base}/api/v1/letters",
            "api-submit.lua",
            {"BENCH_TOKEN": token},
            count=lambda: counts(fresh),
        )
        created = int(api.statuses.get("201", 0))
        check = submit_check(api, added, load.connections, created)
        check["all_from_the_api"] = added["api_letters"] == added["letters"]
        check["statuses"] = api.statuses
        check["consistent"] = check["consistent"] and check["all_from_the_api"]
        info["api"] = check
        info["api_share_of_ceiling"] = round(api.rps / ceiling_rps, 3)
        info["api_share_of_form"] = round(api.rps / form.rps, 3)
        # The ceiling is SQLite's: on PostgreSQL the API is held to the form on PostgreSQL.
        basis = "ceiling" if fresh.name == "sqlite" else "form"
        share = info[f"api_share_of_{basis}"]
        ok = share >= TARGET_SUBMIT_SHARE and created == api.requests and check["consistent"]
        wanted = f"≥ {TARGET_SUBMIT_SHARE:.0%} of the {basis}"
        rows.append(submit_row(fresh.name, api, load.connections, wanted, ok, ceiling_rps))
        rows[-1].note += f"; {api.rps / form.rps:.0%} of the form"
        info["results"] = [
            {k: v for k, v in asdict(r).items() if k != "output"}
            for r in ([ceiling[0]] if "ceiling" in info else []) + [form, api]
        ]
        info["wrk_output"] = {r.scenario: r.output for r in (form, api)}
        info["rss_kib_after"] = bench_run.memory_kib(app.pid)["VmRSS"]
        if args.profile:
            info["profile_api"] = bench_run.profile(
                load,
                app.pid,
                f"{base}/api/v1/letters",
                "api-submit.lua",
                {"BENCH_TOKEN": token},
                tmp / f"profile-api-{fresh.name}.txt",
            )
            log(info["profile_api"])
    info["server_log_errors"] = server_errors(tmp / f"submit-{fresh.name}.log")
    log(
        f"[{fresh.name}] form {form.rps:,.0f}/s, API {api.rps:,.0f}/s = {share:.0%} of the "
        f"{basis} (ceiling {ceiling_rps:,.0f}/s); rows: {json.dumps(info['api'])}"
    )
    return rows, info


def submit_row(
    database: str,
    result: bench_run.WrkResult,
    connections: int,
    target: str,
    ok: bool | None,
    ceiling_rps: float | None = None,
) -> Row:
    cpu_ms = result.server_cpu_percent * 10 / max(result.rps, 1e-9)
    note = f"server CPU {cpu_ms:.2f} ms/request"
    if ceiling_rps:
        note = f"{result.rps / ceiling_rps:.0%} of the ceiling; " + note
    bad = result.requests - result.ok + sum(result.socket_errors.values())
    if bad:
        note += f"; {bad} non-2xx/3xx or socket errors"
    return Row(
        database,
        result.scenario,
        str(connections),
        result.rps,
        result.p50_ms,
        result.p99_ms,
        target,
        "–" if ok is None else ("yes" if ok else "NO"),
        note,
    )


# --- 3. webhooks ---------------------------------------------------------------------------------


def letters_for_webhooks(fresh: queues.Target, args: argparse.Namespace) -> None:
    """Letters to queue the events of, when no submissions made them: bench/generate.py."""
    done = subprocess.run(
        [PYTHON, str(BENCH / "generate.py"), "--database-url", fresh.url]
        + ["--letters", str(args.deliveries), "--days", "30", "--end", args.end],
        cwd=APP, capture_output=True, text=True, timeout=args.generate_timeout, check=False,
    )  # fmt: skip
    if done.returncode != 0:
        raise RuntimeError(f"generate.py failed:\n{done.stdout}\n{done.stderr}")


@contextmanager
def worker(env: dict[str, str], logs: Path, name: str) -> Iterator[subprocess.Popen[bytes]]:
    """`python -m mailbox worker`, stopped as systemd stops it (SIGTERM)."""
    with open(logs / f"{name}.log", "wb") as output:
        process = subprocess.Popen(
            [PYTHON, "-m", "mailbox", "worker"], cwd=APP, env=env, stdout=output, stderr=output
        )
        try:
            yield process
        finally:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


async def queue_deliveries(url: str, receiver: str, count: int) -> tuple[str, int]:
    """A webhook for letter.submitted, and `count` events queued for it in one transaction, as
    submissions queue them; the webhook's secret and the deliveries queued."""
    db = open_database(url)
    await db.connect()
    try:
        admin = await get_user_by_username(db, username=ADMIN)
        assert admin is not None
        _id, secret = await webhook_service.register(
            db,
            clock=SystemClock(),
            actor=Admin(user_id=admin.id, client_ip=HOST),
            url=receiver,
            description="bench/api.py",
            events=[Event.SUBMITTED],
        )
        letters = await db.fetch_all(
            "SELECT id, tracking_no, channel FROM letters ORDER BY id LIMIT :n", {"n": count}
        )
        if len(letters) < count:
            raise RuntimeError(f"only {len(letters)} letters to queue events for, not {count}")
        now = SystemClock().now()
        async with db.transaction() as conn:
            for letter in letters:
                await webhook_events.submitted(
                    conn,
                    letter_id=letter["id"],
                    tracking_no=letter["tracking_no"],
                    channel=letter["channel"],
                    now=now,
                )
        queued: int = await db.fetch_value(
            "SELECT count(*) FROM outbox WHERE medium = 'webhook' AND sent_at IS NULL"
        )
        return secret, queued
    finally:
        await db.close()


def bench_webhooks(
    fresh: queues.Target, args: argparse.Namespace, tmp: Path
) -> tuple[Row, dict[str, Any]]:
    env = app_env(fresh, tmp / f"data-webhooks-{fresh.name}", "http://127.0.0.1")
    queues.create_user(env, ADMIN, ["admin"])
    port = bench_run.free_port()
    received = tmp / f"received-{fresh.name}.jsonl"
    receiver_argv = [PYTHON, str(BENCH / "receiver.py"), "--host", HOST, "--port", str(port)]
    receiver_argv += ["--log", str(received)]
    info: dict[str, Any] = {"deliveries": args.deliveries}
    with bench_run.server(f"receiver-{fresh.name}", receiver_argv, env, port, tmp) as receiver:
        secret, queued = asyncio.run(
            queue_deliveries(fresh.url, f"http://{HOST}:{port}/hooks/mailbox", args.deliveries)
        )
        info["queued"] = queued
        info["quiet_wait_s"] = queues.wait_until_quiet(args.quiet_wait)
        deadline = time.monotonic() + 60 + args.deliveries / 10
        started = time.monotonic()
        with worker(env, tmp, f"worker-{fresh.name}") as process:
            lines = 0
            while lines < queued and time.monotonic() < deadline:
                if process.poll() is not None:
                    raise RuntimeError(f"the worker exited with {process.returncode}")
                time.sleep(0.1)
                lines = received.read_text().count("\n") if received.exists() else 0
            waited = time.monotonic() - started
            worker_cpu = bench_run.cpu_seconds(process.pid)
            time.sleep(0.5)  # let the last mark_sent commit
        receiver_cpu = bench_run.cpu_seconds(receiver.pid)
    records = [json.loads(line) for line in received.read_text().splitlines()]
    ids = [int(r["x-mailbox-delivery"]) for r in records]
    valid = sum(
        hmac.compare_digest(r["x-mailbox-signature"], signature(secret, r["body"].encode()))
        for r in records
    )
    first, last = (records[0]["at"], records[-1]["at"]) if records else (started, started)
    rate = (len(records) - 1) / (last - first) if len(records) > 1 else 0.0
    hooks = "SELECT count(*) FROM outbox WHERE medium = 'webhook'"
    sent = int(scalar(fresh, f"{hooks} AND sent_at IS NOT NULL"))
    retried = int(scalar(fresh, f"{hooks} AND attempts > 1"))
    info.update(
        received=len(records),
        distinct=len(set(ids)),
        valid_signatures=valid,
        marked_sent=sent,
        retried=retried,
        seconds_from_worker_start=round(waited, 2),
        seconds_first_to_last=round(last - first, 2),
        worker_start_to_first_s=round(first - started, 2),
        deliveries_per_s=round(rate, 1),
        worker_cpu_ms_per_delivery=round(1000 * worker_cpu / max(1, len(records)), 2),
        worker_cpu_s_total=round(worker_cpu, 2),
        receiver_cpu_s=round(receiver_cpu, 2),
        worker_log_errors=server_errors(tmp / f"worker-{fresh.name}.log"),
    )
    ok = len(records) == len(set(ids)) == valid == sent == queued
    info["consistent"] = ok
    log(f"[{fresh.name}] webhooks: {json.dumps(info)}")
    note = (
        f"{len(records):,} of {queued:,} received once each, {valid:,} signatures valid;"
        f" {waited:.1f} s from the worker's start; worker CPU"
        f" {info['worker_cpu_ms_per_delivery']:.1f} ms/delivery"
    )
    row = Row(fresh.name, "webhook deliveries (deliveries/s)", "1 worker", rate, note=note)
    row.met = "–" if ok else "NO (see checks)"
    return row, info


# --- main ----------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_common(
        parser, pg_database=PG_DATABASE, output=RESULTS / "api-latest.json", quiet_wait=8
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="a smaller run: "
        + ", ".join(f"--{name.replace('_', '-')} {value}" for name, value in QUICK.items()),
    )
    parser.add_argument("--submit-connections", type=int, default=64)
    parser.add_argument(
        "--access-log",
        action="store_true",
        help="the servers log a line per request (`serve`'s default); default: none does",
    )
    parser.add_argument("--depth", type=int, default=50, help="next_cursor links to follow")
    parser.add_argument("--deliveries", type=int, default=2000, help="webhook deliveries")
    parser.add_argument(
        "--profile",
        action="store_true",
        help="afterwards, py-spy the server under the API submissions and the Open311 list"
        " (.venv/bin/pip install py-spy)",
    )
    parser.add_argument("--profile-seconds", type=int, default=8)
    parser.add_argument(
        "--only",
        nargs="+",
        choices=PARTS,
        default=list(PARTS),
        help="measure only these parts (webhooks alone generate their letters)",
    )
    parsed = queues.parse_checked(parser, QUICK)
    if parsed is None:
        return 2
    args = parsed
    started = time.monotonic()
    targets, skipped = queues.targets_of(args, "api")

    rows: list[Row] = []
    pages: list[queues.PageResult] = []
    plans: list[queues.Plan] = []
    infos: dict[str, dict[str, Any]] = {}
    ceiling: list[bench_run.WrkResult] = []
    load_before = Path("/proc/loadavg").read_text().split()[:3]
    try:
        for target in targets:
            info = infos[target.name] = {}
            tmp = Path(tempfile.mkdtemp(prefix=f"mailbox-api-{target.name}-"))
            try:
                if "reads" in args.only:
                    read_rows, its_pages, its_plans, info["reads"] = bench_reads(target, args, tmp)
                    rows += read_rows
                    pages += its_pages
                    plans += its_plans
                if {"submit", "webhooks"} & set(args.only):
                    fresh = fresh_target(target.name, args, tmp)
                if "submit" in args.only:
                    submit_rows, info["submissions"] = bench_submit(fresh, args, tmp, ceiling)
                    rows[:0] = submit_rows  # first: the README's order
                elif "webhooks" in args.only:
                    letters_for_webhooks(fresh, args)
                if "webhooks" in args.only:
                    hook_row, info["webhooks"] = bench_webhooks(fresh, args, tmp)
                    rows.append(hook_row)
            finally:
                close_clients()
                shutil.rmtree(tmp, ignore_errors=True)
                if target.name == "postgresql":
                    asyncio.run(queues.pg_database(args, drop=True, create=False, name=PG_FRESH))
                if not args.keep:
                    drop(target, args)
    except Exception:
        close_clients()
        raise
    order = {target.name: number for number, target in enumerate(targets)}
    rows.sort(key=lambda row: order.get(row.database, -1))  # stable: the parts' order

    report = {
        "when": time.strftime("%Y-%m-%d %H:%M:%S %z"),
        "settings": {
            k: v if isinstance(v, int | float | str | bool | list) else str(v)
            for k, v in vars(args).items()
        },
        "machine": {
            "cpus": os.cpu_count(),
            "load_average_before": load_before,
            "load_average_after": Path("/proc/loadavg").read_text().split()[:3],
            "python": sys.version.split()[0],
        },
        "skipped": skipped,
        "summary": [asdict(r) for r in rows],
        "databases": infos,
        "pages": [asdict(p) for p in pages],
        "plans": [asdict(p) for p in plans],
        "total_seconds": round(time.monotonic() - started, 1),
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(report, ensure_ascii=False, indent=2, default=str) + "\n")

    print(
        f"\n{', '.join(args.only)}: {args.letters:,} letters for the reads (wrk"
        f" {args.connections} connections), {args.submit_connections} connections for"
        f" submissions, {args.threads} wrk threads, {args.duration:g} s after {args.warmup:g} s;"
        f" {args.deliveries:,} webhook deliveries; {os.cpu_count()} CPUs, load average before"
        f" {' '.join(load_before)}, after {' '.join(report['machine']['load_average_after'])}\n"
    )
    print(summary_table(rows))
    print()
    print(queues.plan_table(plans))
    for name, info in infos.items():
        for part in ("reads", "submissions"):
            for key, text in info.get(part, {}).items():
                if key.startswith("profile"):
                    print(f"\n{name}, py-spy --gil, {key.removeprefix('profile_')}:\n{text}")
        if "submissions" in info:
            print(f"\n{name} submissions: {json.dumps(info['submissions']['api'])}")
        if "webhooks" in info:
            print(f"{name} webhooks: {json.dumps(info['webhooks'])}")
        if "reads" in info:
            reads = {
                k: v
                for k, v in info["reads"].items()
                if k != "generation" and not k.startswith("profile")
            }
            print(f"{name} reads: {json.dumps(reads, ensure_ascii=False)}")
    if skipped:
        print(f"\nskipped: {skipped}")
    print(f"\nwritten {args.output} in {report['total_seconds']} s")
    consistent = all(
        info.get("submissions", {}).get(part, {}).get("consistent", True)
        for info in infos.values()
        for part in ("form", "api")
    ) and all(info.get("webhooks", {}).get("consistent", True) for info in infos.values())
    return 0 if consistent else 1


def drop(target: queues.Target, args: argparse.Namespace) -> None:
    if target.name == "sqlite":
        file = Path(target.url.removeprefix("sqlite+aiosqlite:///"))
        for suffix in ("", "-wal", "-shm"):
            Path(f"{file}{suffix}").unlink(missing_ok=True)
    else:
        asyncio.run(queues.pg_database(args, drop=True, create=False))


if __name__ == "__main__":
    raise SystemExit(main())
