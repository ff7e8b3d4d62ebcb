"""Load: the citizens' and the staff's mixed workloads on 1, 2 and 4 server processes, on
SQLite and PostgreSQL, against the bare ceiling in the same run.

    .venv/bin/python bench/load.py              # ~14 min: 100,000 letters, both databases
    .venv/bin/python bench/load.py --quick      # ~4 min: 20,000 letters, 1 and 4 workers
    .venv/bin/python bench/load.py --no-postgres --workers 1 2 --keep    # a part; keep the data
    .venv/bin/python bench/load.py --reuse --mixes --pages home track    # only these pages
    .venv/bin/python bench/load.py --workers 1 --profile track          # + py-spy of a page

On loopback only, for each database (SQLite in --sqlite-dir; PostgreSQL in its own database
--pg-database, dropped at the end unless --keep):

1. --letters letters from bench/generate.py, and a public copy (`publications` and its search
   index) of each letter the generator marked published, so that the archive has content;
2. a dispatcher and a handler + reviewer of the busiest department (`python -m mailbox
   create-user`), logged in through /staff/login, and letters made through the web form to
   look up on /track (bench/run.py's make_letters reads the number and code from /receipt);
3. once, in the first database's first server: the ceiling (bench/ceiling.py, one process)
   with the mix's submit requests, the same bytes as bench/submit.lua;
4. for each --workers N: `python -m mailbox serve --workers N --no-access-log`, then wrk at
   --connections with bench/mix.lua, which sends weighted requests from a file written here:

     citizens  home 30, archive list 20, archive letter 25, form 10, track 10, submit 5
     staff     queue 20, search 20, inbox 25, letter 35

   each mix for --mix-duration s, then each page alone for --duration s (wrk gives one
   latency distribution per run, so the per-page p50/p99 come from the runs alone), each after
   a warm-up and a wait for a quiet machine. Every --reconnect-th request closes its
   connection (see mix.lua). Measured besides wrk's figures: each worker's CPU and resident
   memory (/proc), PostgreSQL's CPU, the machine's; and for the mixes, each page's share of
   answers over 200 ms and its p50/p99 as the app's own latency histogram (/metrics) saw them.

Target (issue 7): p99 under 200 ms at 64 connections for every page. Checks: every
submission answered 303 left a letter, its event and its receipt mail (plus at most one per
connection in flight when wrk stopped); no answer other than 200/303, no socket errors;
no error in the server log; all workers alive at the end. Exit status 1 when a check fails
(a missed target is reported, not a failure). Output: Markdown tables on stdout and
bench/results/load-latest.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import sqlite3
import sys
import tempfile
import threading
import time
from contextlib import closing
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import api  # bench/api.py: the server's environment, row counts, the submission check
import httpx
import options  # bench/options.py: the options the benchmarks share
import queues  # bench/queues.py: databases, users, logins, quiet machine (puts the app on sys.path)
from prometheus_client.parser import text_string_to_metric_families

from mailbox.db.postgres import dsn

bench_run = queues.bench_run
BENCH, PYTHON, HOST, log = queues.BENCH, queues.PYTHON, queues.HOST, queues.log
RESULTS = BENCH / "results"
PG_DATABASE = "mailbox_load_bench"
DISPATCHER, HANDLER = "bench-load-dispatcher", "bench-load-handler"
TARGET_P99_MS = 200.0
MIX_SCRIPT = "mix.lua"
TRACK_LETTERS = 400  # made through the form; look-ups with the right code are not limited
SAMPLE = 400  # archive letters, staff letters, tracking numbers searched: rotated over

# (kind, weight, what): the weights are requests out of 100 in the mix
CITIZEN = (
    ("home", 30, "GET /"),
    ("archive list", 20, "GET /letters: page 1, by channel, a word searched"),
    ("archive letter", 25, "GET /letters/{no}: published letters in turn"),
    ("form", 10, "GET /write/consult"),
    ("track", 10, "POST /track: letters made through the form, in turn"),
    ("submit", 5, "POST /write/consult: a valid letter (303)"),
)
STAFF = (
    ("queue", 20, "GET /staff/queue: the dispatcher's queue"),
    ("search", 20, "GET /staff/queue?...: by state, channel, a tracking number (dispatcher)"),
    ("inbox", 25, "GET /staff/inbox: the busiest department's handler"),
    ("letter", 35, "GET /staff/letters/{no}: the handler's letters in turn"),
)
WORKLOADS = {"citizens": CITIZEN, "staff": STAFF}
NAMES = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}
RECONNECT = 20  # --reconnect's default (bench/mix.lua's BENCH_RECONNECT)
QUICK = {
    "letters": 20_000,
    "workers": [1, 4],
    "duration": 2,
    "mix_duration": 4,
    "warmup": 1,
    "quiet_wait": 1,
}


# --- data ---------------------------------------------------------------------------------------


def execute(target: queues.Target, *statements: str) -> None:
    """Statements that write, in one transaction (queues.fetch_rows only reads)."""
    if target.name == "sqlite":
        with closing(sqlite3.connect(queues._sqlite_file(target))) as conn:
            for statement in statements:
                conn.execute(statement)
            conn.commit()
        return

    async def pg() -> None:
        import asyncpg

        conn = await asyncpg.connect(dsn(target.url))
        try:
            async with conn.transaction():
                for statement in statements:
                    await conn.execute(statement)
        finally:
            await conn.close()

    asyncio.run(pg())


def prepare(target: queues.Target, args: argparse.Namespace) -> dict[str, Any]:
    """Generated letters (or, with --reuse, a database from an earlier run: the letters
    submitted then stay), and the public copies of those generate.py marked published."""
    if args.reuse and queues.count_letters(target) >= args.letters:
        log(f"[{target.name}] reusing {queues.count_letters(target):,} letters")
        target.generation = {"reused": True}
    else:
        queues.prepare(target, argparse.Namespace(**{**vars(args), "reuse": False}))
    published = int(api.scalar(target, "SELECT count(*) FROM publications"))
    if not published:
        newline = "char(10)" if target.name == "sqlite" else "chr(10)"
        started = time.monotonic()
        # The original texts as the public copy (the publication service would mask personal
        # details; generated titles and bodies hold none) and the newest released reply.
        execute(
            target,
            "INSERT INTO publications (letter_id, title, body, reply, is_published,"
            " published_at, updated_at)"
            " SELECT l.id, l.title, l.body, r.body, TRUE, l.published_at, l.published_at"
            " FROM letters l JOIN replies r ON r.id = (SELECT max(id) FROM replies"
            " WHERE letter_id = l.id AND released_at IS NOT NULL)"
            " WHERE l.published_at IS NOT NULL",
            "INSERT INTO publications_search (rowid, search_text) SELECT letter_id,"
            f" title || {newline} || body || {newline} || reply FROM publications",
        )
        published = int(api.scalar(target, "SELECT count(*) FROM publications"))
        log(f"[{target.name}] {published:,} public copies in {time.monotonic() - started:.1f} s")
    if target.name == "postgresql":
        execute(target, "ANALYZE publications", "ANALYZE publications_search")
    return {
        "letters": queues.count_letters(target),
        "published": published,
        "generation": target.generation,
    }


@dataclass
class Samples:
    """What the mixes rotate over, drawn once per database."""

    published: list[str]  # tracking numbers of published letters
    handler_letters: list[str]  # letters of the handler's department: open first, then closed
    searched: list[str]  # tracking numbers a dispatcher types into the search
    department: tuple[str, int, int]  # the handler's (code, id, open letters)
    archive_word: str  # a word of the public copies' titles (three characters or more)


def samples(target: queues.Target, seed: int) -> Samples:
    rng = random.Random(seed)

    def numbers(sql: str, params: dict[str, Any] | None = None) -> list[str]:
        return [str(row[0]) for row in queues.fetch_rows(target, sql, params or {})]

    published = numbers(
        "SELECT l.tracking_no FROM publications p JOIN letters l ON l.id = p.letter_id"
        " WHERE p.is_published ORDER BY p.letter_id"
    )
    department = queues.busiest_department(target)
    handler = numbers(
        "SELECT tracking_no FROM letters WHERE department_id = :d"
        " AND state IN ('assigned', 'review', 'returned') ORDER BY due_at, id LIMIT :n",
        {"d": department[1], "n": SAMPLE // 2},
    )
    handler += numbers(
        "SELECT tracking_no FROM letters WHERE department_id = :d AND state = 'closed'"
        " ORDER BY id DESC LIMIT :n",
        {"d": department[1], "n": SAMPLE - len(handler)},
    )
    total = queues.count_letters(target)
    ids = rng.sample(range(1, total + 1), min(SAMPLE, total))
    searched = numbers(
        "SELECT tracking_no FROM letters WHERE id IN (" + ",".join(map(str, ids)) + ")"
    )
    if not published or not handler:
        raise RuntimeError("no published letters or no letters in the handler's department")
    return Samples(
        published=rng.sample(published, min(SAMPLE, len(published))),
        handler_letters=handler,
        searched=searched,
        department=department,
        archive_word="加装电梯",  # a topic of bench/generate.py
    )


# --- the requests -------------------------------------------------------------------------------


@dataclass
class Sessions:
    csrf: str  # the form's token (also the mb_csrf cookie)
    stamp: str  # the form's stamp
    dispatcher: str  # mb_session cookies
    handler: str
    track: list[str]  # "TRACKING_NO QUERY-CODE" of letters made through the form


def request_lines(kind: str, weight: int, s: Samples, sessions: Sessions) -> list[str]:
    """bench/mix.lua's lines for one kind: KIND WEIGHT METHOD PATH BODY HEADER..."""
    csrf_cookie = f"Cookie: mb_csrf={sessions.csrf}"
    dispatcher = f"Cookie: mb_session={sessions.dispatcher}"
    handler = f"Cookie: mb_session={sessions.handler}"
    form = "Content-Type: application/x-www-form-urlencoded"
    rows: list[tuple[str, str, str, list[str]]] = []  # method, path, body, headers
    if kind == "home":
        rows = [("GET", "/", "", [])]
    elif kind == "archive list":
        rows = [("GET", "/letters", "", [])] * 4  # page 1 most often
        rows += [("GET", "/letters?channel=consult", "", [])]
        rows += [("GET", "/letters?" + urlencode({"q": s.archive_word}), "", [])]
    elif kind == "archive letter":
        rows = [("GET", f"/letters/{number}", "", []) for number in s.published]
    elif kind == "form":
        rows = [("GET", "/write/consult", "", [])]
    elif kind == "track":
        for line in sessions.track:
            number, code = line.split()
            body = urlencode(
                {"tracking_no": number, "query_code": code, "csrf_token": sessions.csrf}
            )
            rows.append(("POST", "/track", body, [form, csrf_cookie]))
    elif kind == "submit":
        # {letter}: bench/mix.lua puts bench/letter.lua's fields there (submit.lua's letter)
        body = urlencode({"csrf_token": sessions.csrf, "form_stamp": sessions.stamp})
        body += "&{letter}&publish_consent=1&website="
        rows = [("POST", "/write/consult", body, [form, csrf_cookie])]
    elif kind == "queue":
        rows = [("GET", "/staff/queue", "", [dispatcher])]
    elif kind == "search":
        rows = [("GET", f"/staff/queue?q={number}", "", [dispatcher]) for number in s.searched[:50]]
        for query in ("state=closed", "state=assigned", "channel=complaint", "state=replied"):
            rows += [("GET", f"/staff/queue?{query}", "", [dispatcher])] * 12
        rows += [("GET", f"/staff/queue?department={s.department[1]}", "", [dispatcher])] * 12
        random.Random(1).shuffle(rows)
    elif kind == "inbox":
        rows = [("GET", "/staff/inbox", "", [handler])]
    elif kind == "letter":
        rows = [
            ("GET", f"/staff/letters/{quote(number)}", "", [handler])
            for number in s.handler_letters
        ]
    else:
        raise ValueError(kind)
    return [
        "\t".join([kind, str(weight), method, path, body, *headers])
        for method, path, body, headers in rows
    ]


def write_mix(
    path: Path, kinds: tuple[tuple[str, int, str], ...], s: Samples, sessions: Sessions
) -> Path:
    lines = [
        line for kind, weight, _what in kinds for line in request_lines(kind, weight, s, sessions)
    ]
    path.write_text("\n".join(lines) + "\n")
    return path


def write_files(tmp: Path, database: str, s: Samples, sessions: Sessions) -> dict[str, Path]:
    """The two mixes, and each kind alone."""
    files = {
        workload: write_mix(tmp / f"{workload}-{database}.tsv", kinds, s, sessions)
        for workload, kinds in WORKLOADS.items()
    }
    for kind, weight, _what in CITIZEN + STAFF:
        name = f"page-{kind.replace(' ', '-')}-{database}.tsv"
        files[kind] = write_mix(tmp / name, ((kind, weight, ""),), s, sessions)
    return files


# --- the server's processes --------------------------------------------------------------------


def children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rpartition(")")[2].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return sorted(found)


def server_workers(pid: int, expected: int) -> list[int]:
    """The processes that serve: uvicorn's own process with one worker, else the children
    it spawned (multiprocessing; its resource tracker, if any, is not one)."""
    if expected == 1:
        return [pid]
    workers = []
    for child in children(pid):
        try:
            command = Path(f"/proc/{child}/cmdline").read_bytes().replace(b"\0", b" ")
        except OSError:
            continue
        if b"spawn_main" in command or b"multiprocessing-fork" in command:
            workers.append(child)
    return workers


def wait_for_workers(pid: int, expected: int, base: str) -> list[int]:
    """Until `expected` workers run and the site answers (each worker opens the database
    and starts its loop; the first answers come before all are ready)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        workers = server_workers(pid, expected)
        if len(workers) == expected:
            try:
                if httpx.get(f"{base}/healthz", timeout=5).status_code == 200:
                    time.sleep(1.0 * expected)  # the others finish their start-up too
                    return workers
            except httpx.HTTPError:
                pass
        time.sleep(0.2)
    raise RuntimeError(f"{expected} workers did not start in 60 s")


def rss_kib(pid: int) -> int:
    try:
        return bench_run.memory_kib(pid)["VmRSS"]
    except (OSError, KeyError):
        return 0


def cpu_of(pids: list[int]) -> list[float]:
    out = []
    for pid in pids:
        try:
            out.append(bench_run.cpu_seconds(pid))
        except OSError:
            out.append(0.0)
    return out


# --- each page within a mix: the app's own latency histogram ------------------------------------

LATENCY = "mailbox_http_request_duration_seconds"  # mailbox/observability/metrics.py


def latency_buckets(base: str) -> dict[str, dict[float, float]]:
    """{route: {bucket bound: requests so far}} from /metrics (all workers: with --workers
    N the worker that answers reads the files they share)."""
    text = httpx.get(f"{base}/metrics", timeout=10).text
    out: dict[str, dict[float, float]] = {}
    for family in text_string_to_metric_families(text):
        if family.name == LATENCY:
            for sample in family.samples:
                if sample.name.endswith("_bucket"):
                    bound = float(sample.labels["le"])
                    out.setdefault(sample.labels["route"], {})[bound] = sample.value
    return out


def _quantile(counts: list[tuple[float, float]], share: float) -> float:
    """Linear within the bucket that holds the quantile (ms); inf past the last bound."""
    total, below, lower = counts[-1][1], 0.0, 0.0
    for bound, cumulative in counts:
        if cumulative >= share * total:
            if bound == float("inf"):
                return bound
            inside = (share * total - below) / max(cumulative - below, 1e-9)
            return 1000 * (lower + inside * (bound - lower))
        below, lower = cumulative, bound
    return float("inf")


def routes_between(
    before: dict[str, dict[float, float]], after: dict[str, dict[float, float]]
) -> dict[str, dict[str, float]]:
    """Each route's requests during the run as the app timed them (from the request's start
    in the app to its last byte handed to uvicorn): count, share over 200 ms (a bucket bound),
    p50 and p99 interpolated within the buckets (5, 10, 25, 50, 100, 200, 500 ms, 1 s, ...)."""
    out = {}
    for route, buckets in after.items():
        counts = sorted(
            (bound, value - before.get(route, {}).get(bound, 0.0))
            for bound, value in buckets.items()
        )
        total = counts[-1][1]
        if total <= 0 or route == "/metrics":
            continue
        within = dict(counts).get(TARGET_P99_MS / 1000, total)
        out[route] = {
            "requests": int(total),
            "over_200_ms_percent": round(100 * (total - within) / total, 2),
            "p50_ms": round(_quantile(counts, 0.5), 1),
            "p99_ms": round(_quantile(counts, 0.99), 1),
        }
    return out


# --- one load ------------------------------------------------------------------------------------


@dataclass
class Load:
    database: str
    workers: int
    name: str  # citizens / staff (the mixes), or a page alone
    mix: bool
    rps: float = 0.0
    requests: int = 0
    p50_ms: float = 0.0
    p90_ms: float = 0.0
    p99_ms: float = 0.0
    max_ms: float = 0.0
    statuses: dict[str, int] = field(default_factory=dict)
    socket_errors: dict[str, int] = field(default_factory=dict)
    server_cpu_percent: float = 0.0  # all server processes, 100 = one CPU
    worker_cpu_percent: list[float] = field(default_factory=list)  # each worker
    database_cpu_percent: float = 0.0  # PostgreSQL's processes (SQLite runs in the server)
    machine_busy_percent: float = 0.0  # both CPUs, wrk included; 100 = all busy
    server_cpu_ms_per_request: float = 0.0
    peak_rss_kib: list[int] = field(default_factory=list)  # each worker, sampled every 0.25 s
    quiet_wait_s: float = 0.0
    letters: dict[str, Any] = field(default_factory=dict)  # the submission check
    routes: dict[str, dict[str, float]] = field(default_factory=dict)  # in a mix: the app's view
    target_met: bool = True
    wrk_output: str = ""

    @property
    def bad_answers(self) -> int:
        return sum(n for s, n in self.statuses.items() if s not in ("200", "303")) + sum(
            self.socket_errors.values()
        )


def run_load(
    args: argparse.Namespace,
    database: str,
    workers: list[int],
    name: str,
    base: str,
    mix_file: Path,
    duration: float,
    count: Any,
) -> Load:
    """A warm-up, a wait for a quiet machine, then wrk; counts (letters, events, outbox)
    before and a second after, CPU and resident memory of each worker while it runs."""
    wrk_env = {"BENCH_MIX_FILE": str(mix_file), "BENCH_RECONNECT": str(args.reconnect)}
    result = Load(database, len(workers), name, name in WORKLOADS)
    if args.warmup > 0:
        bench_run.run_wrk(args, base, MIX_SCRIPT, wrk_env, args.warmup)
    result.quiet_wait_s = queues.wait_until_quiet(args.quiet_wait)
    before = count()
    histogram = latency_buckets(base) if result.mix else {}
    peaks = [rss_kib(pid) for pid in workers]
    stop = threading.Event()

    def sample() -> None:
        while not stop.wait(0.25):
            for number, pid in enumerate(workers):
                peaks[number] = max(peaks[number], rss_kib(pid))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    cpu_before, database_before = cpu_of(workers), queues.postgres_cpu()
    ticks, clock = bench_run.machine_ticks(), time.monotonic()
    try:
        text = bench_run.run_wrk(args, base, MIX_SCRIPT, wrk_env, duration)
    finally:
        stop.set()
        sampler.join()
    elapsed = time.monotonic() - clock
    spent = [after - was for after, was in zip(cpu_of(workers), cpu_before, strict=True)]
    after_ticks = bench_run.machine_ticks()
    database_cpu = queues.postgres_cpu_since(database_before)
    parsed = bench_run.parse_wrk(name, base, text)
    for key in ("rps", "requests", "p50_ms", "p90_ms", "p99_ms", "max_ms", "statuses"):
        setattr(result, key, getattr(parsed, key))
    result.socket_errors = parsed.socket_errors
    result.wrk_output = text
    result.server_cpu_percent = 100 * sum(spent) / elapsed
    result.worker_cpu_percent = [round(100 * s / elapsed, 1) for s in spent]
    result.database_cpu_percent = 100 * database_cpu / elapsed
    idle = (after_ticks[1] - ticks[1]) / max(1, after_ticks[0] - ticks[0])
    result.machine_busy_percent = 100 * (1 - idle)
    result.server_cpu_ms_per_request = 1000 * sum(spent) / max(1, parsed.requests)
    result.peak_rss_kib = peaks
    time.sleep(1.0)  # the requests wrk left in flight finish before the rows are counted
    if result.mix:
        result.routes = routes_between(histogram, latency_buckets(base))
    added = {key: value - before[key] for key, value in count().items()}
    accepted = int(result.statuses.get("303", 0))
    if "letter_events" in added:
        result.letters = api.submit_check(parsed, added, args.connections, accepted)
    else:  # the ceiling: one table
        extra = added["letters"] - accepted
        in_flight = args.connections + sum(parsed.socket_errors.values())
        result.letters = {**added, "consistent": 0 <= extra <= in_flight}
    result.target_met = result.p99_ms < TARGET_P99_MS
    log(
        f"[{database} ×{len(workers)}] {name:<15} {result.rps:7,.0f}/s  p50 {result.p50_ms:6.1f}"
        f"  p99 {result.p99_ms:6.1f} ms  server CPU {result.server_cpu_percent:4.0f}%"
        f" {result.worker_cpu_percent}  PostgreSQL {result.database_cpu_percent:3.0f}%"
        f"  machine {result.machine_busy_percent:3.0f}%  statuses {result.statuses}"
        + (f"  letters +{added['letters']}" if added["letters"] else "")
    )
    return result


def profile(args: argparse.Namespace, pid: int, base: str, mix_file: Path, raw: Path) -> str:
    """bench/run.py's py-spy summary of one server process under a page's load."""
    env = {"BENCH_MIX_FILE": str(mix_file), "BENCH_RECONNECT": str(args.reconnect)}
    text = bench_run.profile(args, pid, base, MIX_SCRIPT, env, raw)
    log(text)
    return text


# --- one database --------------------------------------------------------------------------------


def log_in_all(base: str, track_count: int) -> Sessions:
    """The form's token, the staff's sessions, and letters to look up on /track."""
    csrf, stamp = bench_run.form_tokens(base)
    track = asyncio.run(bench_run.make_letters(base, csrf, track_count))
    return Sessions(
        csrf=csrf,
        stamp=stamp,
        dispatcher=queues.log_in(base, DISPATCHER),
        handler=queues.log_in(base, HANDLER),
        track=track,
    )


def measure_ceiling(
    args: argparse.Namespace, tmp: Path, env: dict[str, str], submit_file: Path
) -> Load:
    """bench/ceiling.py (one process, as bench/run.py measures it) with the mix's submit
    requests: the same bytes as bench/submit.lua, the same reconnections as the app gets."""
    port = bench_run.free_port()
    db = tmp / "ceiling.sqlite3"
    argv = [PYTHON, str(BENCH / "ceiling.py"), "--host", HOST, "--port", str(port), "--db", str(db)]
    argv += [] if args.access_log else ["--no-access-log"]
    with bench_run.server("ceiling", argv, env, port, tmp) as process:
        return run_load(
            args,
            "sqlite",
            [process.pid],
            "ceiling",
            f"http://{HOST}:{port}",
            submit_file,
            args.mix_duration,
            lambda: bench_run.count_rows(db, "letters"),
        )


def bench_database(
    target: queues.Target, args: argparse.Namespace, tmp: Path, report: dict[str, Any]
) -> list[Load]:
    info = report["databases"][target.name] = prepare(target, args)
    env = api.app_env(target, tmp / f"data-{target.name}", "http://127.0.0.1")
    data = samples(target, args.seed)
    info["handler_department"] = dict(zip(("code", "id", "open"), data.department, strict=True))
    queues.create_user(env, DISPATCHER, ["dispatcher"])
    queues.create_user(env, HANDLER, ["handler", "reviewer"], department=data.department[0])
    count = lambda: api.counts(target)  # noqa: E731
    loads: list[Load] = []
    files: dict[str, Path] = {}
    info["servers"] = []
    for workers in args.workers:
        port = bench_run.free_port()
        base = f"http://{HOST}:{port}"
        env["MAILBOX_BASE_URL"] = base
        argv = [PYTHON, "-m", "mailbox", "serve", "--host", HOST, "--port", str(port)]
        argv += ["--workers", str(workers), *api.access_log(args)]
        name = f"serve-{target.name}-{workers}"
        with queues.app_server(name, argv, env, port, tmp) as process:
            pids = wait_for_workers(process.pid, workers, base)
            if not files:  # sessions, form tokens and letters stay valid for every server
                files = write_files(tmp, target.name, data, log_in_all(base, TRACK_LETTERS))
                if "ceiling" not in report:
                    report["ceiling"] = asdict(measure_ceiling(args, tmp, env, files["submit"]))
            server: dict[str, Any] = {
                "workers": workers,
                "idle_rss_kib": [rss_kib(p) for p in pids],
            }
            supervisor = process.pid if workers > 1 else None
            for workload in WORKLOADS:
                if workload in args.mixes:
                    loads.append(
                        run_load(
                            args,
                            target.name,
                            pids,
                            workload,
                            base,
                            files[workload],
                            args.mix_duration,
                            count,
                        )
                    )
            for kind, _weight, _what in CITIZEN + STAFF:
                if kind in args.pages:
                    loads.append(
                        run_load(
                            args, target.name, pids, kind, base, files[kind], args.duration, count
                        )
                    )
            if workers == args.workers[0]:
                for kind in args.profile:
                    info.setdefault("profiles", {})[f"{kind}, {workers} worker(s)"] = profile(
                        args, pids[0], base, files[kind], tmp / f"profile-{target.name}.txt"
                    )
            server["rss_kib_after"] = [rss_kib(p) for p in pids]
            server["supervisor_rss_kib"] = rss_kib(supervisor) if supervisor else 0
            server["processes_alive"] = len(server_workers(process.pid, workers)) == workers
        server["log_errors"] = api.server_errors(tmp / f"{name}.log")
        info["servers"].append(server)
        api.close_clients()
    return loads


# --- report --------------------------------------------------------------------------------------


def mib(kib: float) -> str:
    return f"{kib / 1024:.0f}"


def summary_table(loads: list[Load], report: dict[str, Any]) -> str:
    """One row per database and worker count: the mixes, the slowest page alone, memory."""
    ceiling = report.get("ceiling", {})
    lines = [
        "| database | workers | citizens req/s | p50 / p99 ms | staff req/s | p50 / p99 ms "
        "| slowest page alone, p99 ms | submit alone req/s (of the ceiling) "
        "| RSS per worker MiB | every p99 < 200 ms |",
        "|---|---:|---:|---:|---:|---:|---|---:|---:|---|",
    ]
    if ceiling:
        lines.append(
            f"| SQLite | ceiling (1 process) | – | – | – | – | – | {ceiling['rps']:,.0f}"
            f" (p50 {ceiling['p50_ms']:.0f}, p99 {ceiling['p99_ms']:.0f} ms) "
            f"| {mib(max(ceiling['peak_rss_kib']))} | – |"
        )
    by_server: dict[tuple[str, int], list[Load]] = {}
    for load in loads:
        by_server.setdefault((load.database, load.workers), []).append(load)
    for (database, workers), group in by_server.items():
        mixes = {load.name: load for load in group if load.mix}
        pages = [load for load in group if not load.mix]
        cells = []
        for workload in WORKLOADS:
            mix = mixes.get(workload)
            cells += (
                [f"{mix.rps:,.0f}", f"{mix.p50_ms:.0f} / {mix.p99_ms:.0f}"] if mix else ["–", "–"]
            )
        slowest = max(pages, key=lambda load: load.p99_ms, default=None)
        submit = next((load for load in pages if load.name == "submit"), None)
        share = (
            f"{submit.rps:,.0f} ({submit.rps / ceiling['rps']:.0%})"
            if submit and ceiling
            else (f"{submit.rps:,.0f}" if submit else "–")
        )
        server = next(
            s for s in report["databases"][database]["servers"] if s["workers"] == workers
        )
        peaks = [max(values) for values in zip(*(load.peak_rss_kib for load in group), strict=True)]
        rss = f"{mib(min(peaks))}–{mib(max(peaks))}" if len(peaks) > 1 else mib(peaks[0])
        if server["supervisor_rss_kib"]:
            rss += f" (+{mib(server['supervisor_rss_kib'])} supervisor)"
        met = all(load.target_met for load in group)
        misses = [load.name for load in group if not load.target_met]
        lines.append(
            f"| {NAMES[database]} | {workers} | {' | '.join(cells)} "
            f"| {f'{slowest.p99_ms:.0f} ({slowest.name})' if slowest else '–'} | {share} | {rss} "
            f"| {'yes' if met else 'no: ' + ', '.join(misses)} |"
        )
    return "\n".join(lines)


def load_table(loads: list[Load]) -> str:
    lines = [
        "| database | workers | load | req/s | p50 ms | p90 ms | p99 ms | max ms | not 200/303 "
        "| server CPU % (per worker) | PostgreSQL CPU % | machine busy % | server CPU ms/req "
        "| p99 < 200 |",
        "|---|---:|---|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|---|",
    ]
    for r in loads:
        per = "/".join(f"{c:.0f}" for c in r.worker_cpu_percent)
        lines.append(
            f"| {r.database} | {r.workers} | {'**' + r.name + '**' if r.mix else r.name} "
            f"| {r.rps:,.0f} | {r.p50_ms:.1f} | {r.p90_ms:.1f} | {r.p99_ms:.1f} | {r.max_ms:.0f} "
            f"| {r.bad_answers} | {r.server_cpu_percent:.0f} ({per}) "
            f"| {r.database_cpu_percent:.0f} "
            f"| {r.machine_busy_percent:.0f} | {r.server_cpu_ms_per_request:.2f} "
            f"| {'yes' if r.target_met else 'NO'} |"
        )
    return "\n".join(lines)


def routes_table(loads: list[Load]) -> str:
    """Each page within the mixes, as the app's histogram timed it."""
    lines = [
        "| database | workers | mix | route | requests | over 200 ms | ≈ p50 ms | ≈ p99 ms |",
        "|---|---:|---|---|---:|---:|---:|---:|",
    ]
    for load in loads:
        for route, r in sorted(load.routes.items(), key=lambda item: -item[1]["requests"]):
            lines.append(
                f"| {load.database} | {load.workers} | {load.name} | `{route}` | {r['requests']:,} "
                f"| {r['over_200_ms_percent']:.1f} % | {r['p50_ms']:.0f} | {r['p99_ms']:.0f} |"
            )
    return "\n".join(lines)


def checks_of(loads: list[Load], report: dict[str, Any]) -> dict[str, Any]:
    checks: dict[str, Any] = {
        "ceiling_rows_match": report.get("ceiling", {}).get("letters", {}).get("consistent", True),
        "letters_match_303s": all(load.letters["consistent"] for load in loads),
        "only_200_and_303": all(load.bad_answers == 0 for load in loads),
        "server_log_errors": sum(
            server["log_errors"]
            for info in report["databases"].values()
            for server in info.get("servers", [])
        ),
        "workers_stayed_up": all(
            server["processes_alive"]
            for info in report["databases"].values()
            for server in info.get("servers", [])
        ),
    }
    checks["passed"] = (
        checks["ceiling_rows_match"]
        and checks["letters_match_303s"]
        and checks["only_200_and_303"]
        and checks["server_log_errors"] == 0
        and checks["workers_stayed_up"]
    )
    return checks


# --- main ----------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_common(
        parser, pg_database=PG_DATABASE, output=RESULTS / "load-latest.json", quiet_wait=5
    )
    parser.set_defaults(letters=100_000, connections=64, duration=5, warmup=1)
    parser.add_argument(
        "--workers", type=int, nargs="+", default=[1, 2, 4], help="serve --workers N, in turn"
    )
    parser.add_argument(
        "--mix-duration", type=float, default=15, help="seconds of wrk per mix (and the ceiling)"
    )
    parser.add_argument("--mixes", nargs="*", choices=list(WORKLOADS), default=list(WORKLOADS))
    kinds = [kind for kind, _w, _what in CITIZEN + STAFF]
    parser.add_argument(
        "--pages", nargs="*", choices=kinds, default=kinds, help="pages loaded alone"
    )
    parser.add_argument(
        "--access-log",
        action="store_true",
        help="the servers log every request (serve's default); default: off",
    )
    parser.add_argument(
        "--profile",
        nargs="*",
        choices=kinds,
        default=[],
        help="afterwards, py-spy these pages on the first --workers (pip install py-spy)",
    )
    parser.add_argument("--profile-seconds", type=int, default=8)
    parser.add_argument(
        "--reconnect",
        type=int,
        default=RECONNECT,
        help="every Nth request of a wrk thread closes its connection (0: never)",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="a smaller run: "
        + ", ".join(f"--{k.replace('_', '-')} {v}" for k, v in QUICK.items()),
    )
    parsed = queues.parse_checked(parser, QUICK)
    if parsed is None:
        return 2
    args = parsed
    started = time.monotonic()
    targets, skipped = queues.targets_of(args, "load")

    load_before = Path("/proc/loadavg").read_text().split()[:3]
    report: dict[str, Any] = {"when": time.strftime("%Y-%m-%d %H:%M:%S %z"), "databases": {}}
    loads: list[Load] = []
    tmp = Path(tempfile.mkdtemp(prefix="mailbox-load-"))
    try:
        for target in targets:
            loads += bench_database(target, args, tmp, report)
    finally:
        api.close_clients()
        if args.keep:
            log(f"kept: {tmp} (server logs, mix files)")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
            for target in targets:
                api.drop(target, args)

    checks = checks_of(loads, report)
    report.update(
        settings={
            k: v if isinstance(v, int | float | str | bool | list) else str(v)
            for k, v in vars(args).items()
        },
        weights={name: [list(k) for k in kinds] for name, kinds in WORKLOADS.items()},
        machine={
            "cpus": os.cpu_count(),
            "load_average_before": load_before,
            "load_average_after": Path("/proc/loadavg").read_text().split()[:3],
            "python": sys.version.split()[0],
            "wrk_on_same_machine": True,
        },
        skipped=skipped,
        checks=checks,
        loads=[asdict(load) for load in loads],
        total_seconds=round(time.monotonic() - started, 1),
    )
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(report, ensure_ascii=False, indent=2, default=str) + "\n")

    print(
        f"\n{args.letters:,} letters; wrk {args.connections} connections, {args.threads} threads;"
        f" mixes {args.mix_duration:g} s, pages alone {args.duration:g} s, after {args.warmup:g} s"
        f" warm-up; {os.cpu_count()} CPUs, load average before {' '.join(load_before)}\n"
    )
    print(summary_table(loads, report))
    print()
    print(load_table(loads))
    print()
    print(routes_table(loads))
    print(f"\nchecks: {json.dumps(checks)}")
    if skipped:
        print(f"skipped: {skipped}")
    print(f"\nwritten {args.output} in {report['total_seconds']} s")
    return 0 if checks["passed"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
