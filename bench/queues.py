"""The staff lists with a million letters: latency of the pages and the plans of their queries.

    .venv/bin/python bench/queues.py [--letters 1000000] [--reuse] [--keep]
                                     [--duration 10] [--connections 4] [--depth 50]
                                     [--no-sqlite] [--no-postgres] [--postgres-url URL]
                                     [--sql FILE] [--app-dir DIR] [--only WORD ...]

For each database (SQLite, and PostgreSQL when --postgres-url answers), on loopback only:

1. generates the letters with bench/generate.py (SQLite: $TMPDIR/mailbox-bench/queues-N.sqlite3;
   PostgreSQL: the database mailbox_bench_test), or with --reuse uses one that already
   holds N letters; both are removed at the end unless --keep;
2. creates a dispatcher and a handler (+ reviewer) of the department with the most open
   letters (`python -m mailbox create-user`), starts `python -m mailbox serve --no-worker`
   on a free port and logs both in through /staff/login (CSRF token + mb_csrf cookie);
3. follows the queue search's "Next page" link --depth times (state=closed), checks that
   it lands on the keyset (after_at, after_id) a direct query gives, and builds the keyset
   of a row 90 % down the same list;
4. loads each page with wrk (after waiting up to --quiet-wait s for an idle machine, and a
   warm-up), the mb_session cookie in a header:

     queue                 GET /staff/queue                        (dispatcher)
     search closed p1      GET /staff/queue?state=closed
     search closed deep    the same, after following "Next page" 50 times (page 51)
     search closed 90 %    the same, after_at/after_id of a row 90 % down the list
     inbox                 GET /staff/inbox                        (handler)
     review                GET /staff/review                       (handler, reviewer)
     dashboard (office)    GET /staff/dashboard                    (dispatcher)
     dashboard (dept.)     GET /staff/dashboard                    (handler)

   and reports wrk's p50/p90/p99, the median of sequential requests (no queueing), and the
   server's CPU time per request (independent of other load on the machine);
5. records the SQL each page runs (the app's own query functions, called with a recording
   connection, so the statements are never copied here), plus a few other searches, and
   prints its plan: EXPLAIN QUERY PLAN on SQLite (not ANALYZEd, as the app never runs
   ANALYZE), EXPLAIN (ANALYZE, BUFFERS) EXECUTE on PostgreSQL after the statement has run
   6 times as a prepared statement (the plan asyncpg's statement cache settles on, generic
   or custom), with the query's own time and a verdict: does it read all of `letters` or
   `letter_events`, or only an index range?

Target (the issue): queue and inbox under 50 ms at the median and 200 ms at p99, at any
page depth. Output: a Markdown table on stdout and bench/results/queues-latest.json.

To try a change without touching this checkout: `--sql FILE` runs FILE.sqlite.sql /
FILE.postgresql.sql (or FILE for both) on the benchmark databases first (an index), and
`--app-dir DIR` serves and records the queries of another checkout (a patched copy; its
migrations must be the same).
"""

from __future__ import annotations

import argparse
import asyncio
import html
import json
import os
import re
import resource
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from datetime import time as dtime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import httpx

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent


def _app_dir() -> Path:
    """--app-dir, read before `mailbox` is imported: the checkout whose server and queries
    are measured (default: this one). A copy with a patch tries a change without editing
    this checkout; its schema must stay the same (indexes go through --sql)."""
    for number, arg in enumerate(sys.argv):
        if arg == "--app-dir" and number + 1 < len(sys.argv):
            return Path(sys.argv[number + 1]).resolve()
        if arg.startswith("--app-dir="):
            return Path(arg.split("=", 1)[1]).resolve()
    return ROOT


APP = _app_dir()
sys.path.insert(0, str(APP))  # `mailbox` from the checkout (a stdlib module has that name)
sys.path.insert(0, str(BENCH))

import options  # noqa: E402  (bench/options.py: the options the benchmarks share)
import run as bench_run  # noqa: E402  (bench/run.py: servers, ports, wrk output, CPU counters)

from mailbox.db import sqlite as _sqlite_adapters  # noqa: E402, F401  (datetime adapters)
from mailbox.db.postgres import dsn, rewrite  # noqa: E402
from mailbox.db.queries import dashboard, queues, reminders  # noqa: E402

RESULTS = BENCH / "results"
PYTHON = sys.executable
HOST = bench_run.HOST
SECRET = bench_run.SECRET
PASSWORD = "bench-password-0123456789"
DISPATCHER, HANDLER = "bench-dispatcher", "bench-handler"
PG_DATABASE = "mailbox_bench_test"  # --pg-database's default
TARGET_P50_MS, TARGET_P99_MS = 50.0, 200.0
TARGET_PAGES = ("queue", "search closed p1", "search closed deep", "search closed 90 %", "inbox")
BIG_TABLES = ("letters", "letter_events")
ZONE = ZoneInfo("Asia/Shanghai")  # MAILBOX_TIMEZONE's default, as the server runs here

GET_SCRIPT = BENCH / "get.lua"  # GET with the caller's headers, statuses counted


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# --- databases ---------------------------------------------------------------------------------


@dataclass
class Target:
    name: str  # sqlite | postgresql
    url: str  # MAILBOX_DATABASE_URL
    generation: dict[str, Any] = field(default_factory=dict)


def pg_admin_url(args: argparse.Namespace) -> str:
    return dsn(args.postgres_url)


def pg_url(args: argparse.Namespace, name: str = "") -> str:
    """The benchmark's database (--pg-database, or `name`) on the --postgres-url server."""
    parts = urlsplit(pg_admin_url(args))
    return parts._replace(path=f"/{name or args.pg_database}").geturl()


async def pg_reachable(args: argparse.Namespace) -> str:
    import asyncpg

    try:
        conn = await asyncio.wait_for(asyncpg.connect(pg_admin_url(args)), timeout=5)
    except (TimeoutError, OSError, asyncpg.PostgresError) as error:
        return f"{type(error).__name__}: {error}"
    await conn.close()
    return ""


def parse_checked(
    parser: argparse.ArgumentParser, quick: dict[str, Any]
) -> argparse.Namespace | None:
    """The options, with --quick's defaults; None (after saying why) when wrk is missing or
    the PostgreSQL database is not one a benchmark may drop."""
    if "--quick" in sys.argv[1:]:
        parser.set_defaults(**quick)  # options given explicitly still win
    args = parser.parse_args()
    if not shutil.which("wrk"):
        log("wrk is missing: apt-get install -y wrk")
        return None
    if not args.pg_database.endswith("_bench"):
        log("--pg-database must end in _bench: it is dropped and made again")
        return None
    args.end = datetime.now(UTC).replace(microsecond=0).isoformat()
    return args


def targets_of(args: argparse.Namespace, prefix: str) -> tuple[list[Target], dict[str, str]]:
    """The databases to measure (SQLite's file named `prefix`-LETTERS), and those skipped."""
    targets: list[Target] = []
    skipped: dict[str, str] = {}
    if not args.no_sqlite:
        path = Path(args.sqlite_dir).resolve() / f"{prefix}-{args.letters}.sqlite3"
        targets.append(Target("sqlite", f"sqlite+aiosqlite:///{path}"))
    if not args.no_postgres:
        problem = asyncio.run(pg_reachable(args))
        if problem:
            skipped["postgresql"] = problem
            log(f"PostgreSQL skipped: {problem}")
        else:
            targets.append(Target("postgresql", pg_url(args)))
    return targets, skipped


async def pg_database(
    args: argparse.Namespace, *, drop: bool, create: bool, name: str = ""
) -> None:
    """Drop and/or create the benchmark's own database (--pg-database, or `name`)."""
    import asyncpg

    name = name or args.pg_database
    conn = await asyncpg.connect(pg_admin_url(args))
    try:
        if drop:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if create:
            await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()


def count_letters(target: Target) -> int:
    """Letters in the database; -1 when it is missing or not migrated."""
    try:
        if target.name == "sqlite":
            path = Path(target.url.removeprefix("sqlite+aiosqlite:///"))
            if not path.exists():
                return -1
            with closing(sqlite3.connect(path)) as conn:  # (mode=ro fails on WAL without -shm)
                return int(conn.execute("SELECT count(*) FROM letters").fetchone()[0])

        async def pg() -> int:
            import asyncpg

            conn = await asyncpg.connect(dsn(target.url))
            try:
                return int(await conn.fetchval("SELECT count(*) FROM letters"))
            finally:
                await conn.close()

        return asyncio.run(pg())
    except Exception:  # noqa: BLE001 (missing file, database or table: generate it)
        return -1


def prepare(target: Target, args: argparse.Namespace) -> None:
    if args.reuse and count_letters(target) == args.letters:
        log(f"[{target.name}] reusing {args.letters:,} letters")
        target.generation = {"reused": True}
        return
    log(f"[{target.name}] generating {args.letters:,} letters ...")
    if target.name == "sqlite":
        path = Path(target.url.removeprefix("sqlite+aiosqlite:///"))
        path.parent.mkdir(parents=True, exist_ok=True)
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    else:
        asyncio.run(pg_database(args, drop=True, create=True))
    done = subprocess.run(
        [PYTHON, str(BENCH / "generate.py"), "--database-url", target.url]
        + ["--letters", str(args.letters), "--seed", str(args.seed), "--end", args.end],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=args.generate_timeout,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"generate.py failed:\n{done.stdout}\n{done.stderr}")
    target.generation = json.loads(done.stdout.strip().splitlines()[-1])
    log(f"[{target.name}] generated in {target.generation['total_seconds']} s")


def apply_sql(target: Target, args: argparse.Namespace) -> list[str]:
    """--sql: extra statements (an index to try) on the benchmark database."""
    if not args.sql:
        return []
    base = Path(args.sql)
    own = base.with_name(f"{base.stem}.{target.name}.sql")
    path = own if own.exists() else base
    statements = [s.strip() for s in path.read_text().split(";") if s.strip()]
    statements = [
        s for s in statements if not all(line.strip().startswith("--") for line in s.splitlines())
    ]
    if target.name == "sqlite":
        file = Path(target.url.removeprefix("sqlite+aiosqlite:///"))
        with closing(sqlite3.connect(file)) as conn:
            for statement in statements:
                conn.execute(statement)
            conn.commit()
    else:

        async def pg() -> None:
            import asyncpg

            conn = await asyncpg.connect(dsn(target.url))
            try:
                for statement in statements:
                    await conn.execute(statement)
            finally:
                await conn.close()

        asyncio.run(pg())
    log(f"[{target.name}] applied {len(statements)} statement(s) from {path}")
    return statements


# --- the app: users, server, logins, pages ---------------------------------------------------


def app_env(target: Target, data_dir: Path) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("MAILBOX_")}
    env.update(
        PYTHONDONTWRITEBYTECODE="1",
        PYTHONUNBUFFERED="1",
        MAILBOX_DATABASE_URL=target.url,
        MAILBOX_SECRET_KEY=SECRET,
        MAILBOX_DATA_DIR=str(data_dir),
        MAILBOX_SPAM_CHALLENGE="off",
        MAILBOX_LOGIN_LIMIT="0",
    )
    return env


@contextmanager
def app_server(
    name: str, argv: list[str], env: dict[str, str], port: int, logs: Path
) -> Iterator[subprocess.Popen[bytes]]:
    """bench/run.py's server(), run from --app-dir."""
    log_file = logs / f"{name}.log"
    with open(log_file, "wb") as output:
        process = subprocess.Popen(argv, cwd=APP, env=env, stdout=output, stderr=output)
        try:
            bench_run.wait_for_port(process, port, log_file)
            yield process
        finally:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def busiest_department(target: Target) -> tuple[str, int, int]:
    """(code, id, open letters) of the department with the most open letters."""
    sql = (
        "SELECT d.code, d.id, count(*) AS n FROM letters l JOIN departments d"
        " ON d.id = l.department_id WHERE l.state IN ('assigned', 'review', 'returned')"
        " GROUP BY d.code, d.id ORDER BY n DESC LIMIT 1"
    )
    row = fetch_rows(target, sql, {})[0]
    return str(row[0]), int(row[1]), int(row[2])


def create_user(env: dict[str, str], name: str, roles: list[str], department: str = "") -> None:
    argv = [PYTHON, "-m", "mailbox", "create-user", name, "--password-stdin"]
    for role in roles:
        argv += ["--role", role]
    if department:
        argv += ["--department", department]
    done = subprocess.run(
        argv, cwd=APP, env=env, input=PASSWORD + "\n", capture_output=True, text=True,
        timeout=60, check=False,
    )  # fmt: skip
    if done.returncode != 0 and "taken" not in done.stdout + done.stderr:  # kept by --reuse
        raise RuntimeError(f"create-user {name} failed: {done.stdout} {done.stderr}")


def log_in(base: str, username: str) -> str:
    """The mb_session cookie's value after a real login through the form."""
    with httpx.Client(base_url=base, timeout=30, follow_redirects=False) as client:
        page = client.get("/staff/login")
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        if page.status_code != 200 or not token or client.cookies.get("mb_csrf") != token.group(1):
            raise RuntimeError("the login form has no csrf_token matching the mb_csrf cookie")
        answer = client.post(
            "/staff/login",
            data={
                "csrf_token": token.group(1),
                "next": "/staff",
                "username": username,
                "password": PASSWORD,
            },
        )
        session = answer.cookies.get("mb_session")
        if answer.status_code != 303 or not session:
            raise RuntimeError(f"login of {username} failed: {answer.status_code}")
        return session


_CLIENTS: dict[str, httpx.Client] = {}


def session_headers(session: str) -> dict[str, str]:
    """A logged-in person's requests: the mb_session cookie."""
    return {"Cookie": f"mb_session={session}"}


def get(base: str, path: str, headers: dict[str, str]) -> httpx.Response:
    """One kept-alive client per caller (a new httpx client costs milliseconds itself)."""
    key = "\n".join(f"{name}: {value}" for name, value in sorted(headers.items()))
    client = _CLIENTS.get(key)
    if client is None:
        client = _CLIENTS[key] = httpx.Client(
            base_url=base,
            headers={"Accept-Language": "zh-CN,zh;q=0.9", **headers},
            timeout=60,
            follow_redirects=False,
        )
    return client.get(path)


def next_link(page: str) -> str:
    found = re.search(r'<a href="(\?[^"]*after_id=[^"]*)">', page)
    return "/staff/queue" + html.unescape(found.group(1)) if found else ""


def rows_shown(page: str) -> int:
    return page.count('href="/staff/letters/')


# --- wrk ------------------------------------------------------------------------------------


@dataclass
class PageResult:
    database: str
    page: str
    path: str
    user: str
    rows: int = 0  # letters listed on the page
    bytes: int = 0
    single_ms: float = 0.0  # median of sequential requests, one at a time (no queueing)
    rps: float = 0.0
    requests: int = 0
    p50_ms: float = 0.0
    p90_ms: float = 0.0
    p99_ms: float = 0.0
    max_ms: float = 0.0
    statuses: dict[str, int] = field(default_factory=dict)
    socket_errors: dict[str, int] = field(default_factory=dict)
    server_cpu_ms_per_request: float = 0.0  # the server's CPU time / requests: no queueing
    server_cpu_percent: float = 0.0
    database_cpu_percent: float = 0.0  # PostgreSQL's processes (0 for SQLite: in the server)
    wrk_cpu_percent: float = 0.0
    machine_busy_percent: float = 0.0
    others_cpu_percent: float = 0.0  # busy CPUs not used by the server or wrk (100 = one CPU)
    quiet_wait_s: float = 0.0  # waited for the machine to be quiet before the run
    target: str = ""  # met / NOT met / "" (not a target page)
    wrk_output: str = ""


def run_wrk(
    args: argparse.Namespace,
    url: str,
    headers: dict[str, str],
    seconds: float,
    paths_file: Path | None = None,
) -> str:
    """bench/get.lua against `url` (or the paths of `paths_file` in turn) with `headers`."""
    argv = ["wrk", f"-t{args.threads}", f"-c{args.connections}", f"-d{seconds:g}s", "--latency"]
    argv += ["--timeout", "10s", "-s", str(GET_SCRIPT), url]
    done = subprocess.run(
        argv,
        env={
            **os.environ,
            "BENCH_HEADERS": "\n".join(f"{name}: {value}" for name, value in headers.items()),
            "BENCH_PATHS_FILE": str(paths_file or ""),
            "BENCH_THREADS": str(args.threads),
        },
        capture_output=True,
        text=True,
        timeout=seconds + 30,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"wrk failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    return done.stdout


def postgres_cpu() -> dict[int, float]:
    """CPU seconds of each `postgres` process on the machine (the benchmark's backends)."""
    found = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        name, _sep, rest = text.partition(") ")
        if name.endswith("(postgres"):
            fields = rest.split()
            found[int(stat.parent.name)] = (int(fields[11]) + int(fields[12])) / bench_run.CLK_TCK
    return found


def postgres_cpu_since(before: dict[int, float]) -> float:
    """CPU seconds PostgreSQL's processes used since `before` (processes that started and
    ended in between, such as parallel workers, are missed: they show as other load)."""
    return sum(cpu - before.get(pid, 0.0) for pid, cpu in postgres_cpu().items())


def wait_until_quiet(limit: float) -> float:
    """Wait (at most `limit` seconds) until the CPUs are idle for a second: other work on
    the machine (tests, builds) would queue behind the server. Returns the seconds waited."""
    started = time.monotonic()
    while time.monotonic() - started < limit:
        before = bench_run.machine_ticks()
        time.sleep(1.0)
        after = bench_run.machine_ticks()
        idle = (after[1] - before[1]) / max(1, after[0] - before[0])
        if idle > 0.9:
            break
    return round(time.monotonic() - started, 1)


def measure_page(
    args: argparse.Namespace,
    database: str,
    page: str,
    base: str,
    path: str,
    user: str,
    headers: dict[str, str],
    pid: int,
    *,
    paths_file: Path | None = None,
    rows: Callable[[httpx.Response], int] = lambda page: rows_shown(page.text),
) -> PageResult:
    """wrk on one page (or on the paths of `paths_file` in turn; `path` is the first of them,
    timed alone); `rows` counts what the page lists."""
    result = PageResult(database, page, path, user)
    first = get(base, path, headers)
    if first.status_code != 200:
        raise RuntimeError(f"{page}: GET {path} answered {first.status_code}")
    result.rows, result.bytes = rows(first), len(first.content)
    times = []
    for _ in range(args.single):
        started = time.perf_counter()
        get(base, path, headers).raise_for_status()
        times.append((time.perf_counter() - started) * 1000)
    result.single_ms = statistics.median(times)
    result.quiet_wait_s = wait_until_quiet(args.quiet_wait)
    if args.warmup > 0:
        run_wrk(args, base + path, headers, args.warmup, paths_file)
    cpu, ticks, clock = bench_run.cpu_seconds(pid), bench_run.machine_ticks(), time.monotonic()
    database_before = postgres_cpu()
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    text = run_wrk(args, base + path, headers, args.duration, paths_file)
    elapsed = time.monotonic() - clock
    after = bench_run.machine_ticks()
    spent = resource.getrusage(resource.RUSAGE_CHILDREN)
    wrk_cpu = spent.ru_utime + spent.ru_stime - children.ru_utime - children.ru_stime
    idle = (after[1] - ticks[1]) / max(1, after[0] - ticks[0])
    server_cpu = bench_run.cpu_seconds(pid) - cpu
    result.server_cpu_percent = 100 * server_cpu / elapsed
    result.database_cpu_percent = 100 * postgres_cpu_since(database_before) / elapsed
    result.wrk_cpu_percent = 100 * wrk_cpu / elapsed
    result.machine_busy_percent = 100 * (1 - idle)
    result.others_cpu_percent = max(
        0.0,
        result.machine_busy_percent * (os.cpu_count() or 1)
        - result.server_cpu_percent
        - result.database_cpu_percent
        - result.wrk_cpu_percent,
    )
    parsed = bench_run.parse_wrk(page, base + path, text)
    result.server_cpu_ms_per_request = 1000 * server_cpu / max(1, parsed.requests)
    for name in ("rps", "requests", "p50_ms", "p90_ms", "p99_ms", "max_ms", "statuses"):
        setattr(result, name, getattr(parsed, name))
    result.socket_errors = parsed.socket_errors
    result.wrk_output = text
    if page in TARGET_PAGES or page.startswith("search closed"):
        ok = result.p50_ms < TARGET_P50_MS and result.p99_ms < TARGET_P99_MS
        result.target = "met" if ok else "NOT met"
    log(
        f"[{database}] {page:<22} p50 {result.p50_ms:7.1f} ms  p99 {result.p99_ms:7.1f} ms  "
        f"{result.rps:6.0f}/s  one at a time {result.single_ms:6.1f} ms  "
        f"CPU {result.server_cpu_ms_per_request:5.1f} ms/request  "
        f"others {result.others_cpu_percent:.0f}%"
        f"  statuses {result.statuses}"
    )
    return result


# --- the queries each page runs, recorded from the app's own functions ----------------------


class Recorder:
    """A Connection that remembers each statement and answers with nothing."""

    def __init__(self, dialect: str) -> None:
        self.dialect = dialect
        self.statements: list[tuple[str, dict[str, Any]]] = []

    async def execute(self, sql: str, params: Any = None) -> int:
        raise TypeError("the lists only read")

    async def fetch_all(self, sql: str, params: Any = None) -> list[Any]:
        self.statements.append((sql, dict(params or {})))
        return []

    async def fetch_one(self, sql: str, params: Any = None) -> Any:
        self.statements.append((sql, dict(params or {})))
        return {"over_30": 0, "over_60": 0}

    async def fetch_value(self, sql: str, params: Any = None) -> Any:
        self.statements.append((sql, dict(params or {})))
        return 0


WARM_WITH: dict[str, dict[str, Any]] = {}  # label: parameters to execute it with first


@dataclass
class Keysets:
    now: datetime
    department_id: int
    deep_page: int
    deep: tuple[datetime, int]  # the last row of page `deep_page` of state=closed
    far: tuple[datetime, int]  # a row 90 % down the same list
    far_offset: int
    inbox_after: tuple[datetime, int] | None  # the last row of the inbox's first page
    tracking_no: str  # of a letter in the middle of the list


async def record_queries(dialect: str, keys: Keysets) -> list[tuple[str, str, dict[str, Any]]]:
    """(label, sql, params) of every list and count the measured pages run."""
    out: list[tuple[str, str, dict[str, Any]]] = []

    async def take(label: str, coroutine: Any, recorder: Recorder) -> None:
        await coroutine
        many = len(recorder.statements) > 1
        for number, (sql, params) in enumerate(recorder.statements, 1):
            out.append((f"{label} #{number}" if many else label, sql, params))
        recorder.statements.clear()

    r = Recorder(dialect)
    now = keys.now
    closed = queues.Filters(state="closed")
    await take("queue: new (pending)", queues.by_state(r, state="pending"), r)  # type: ignore[arg-type]
    await take("queue: returned", queues.by_state(r, state="returned"), r)  # type: ignore[arg-type]
    await take("queue: follow-up", queues.needing_follow_up(r), r)  # type: ignore[arg-type]
    await take("queue: overdue", queues.overdue(r, now=now), r)  # type: ignore[arg-type]
    await take("queue: extensions", queues.pending_extensions(r), r)  # type: ignore[arg-type]
    for label, after in (
        ("search closed p1", None),
        (f"search closed p{keys.deep_page + 1}", keys.deep),
        ("search closed 90 %", keys.far),
    ):
        await take(
            label,
            queues.search(r, filters=closed, from_moment=None, to_moment=None, after=after),  # type: ignore[arg-type]
            r,
        )
    # the same statement with a rare state, after the plan cache has seen 'closed' (PostgreSQL
    # may then keep a generic plan, chosen without knowing the state)
    label = "search returned p1 (statement warmed with 'closed')"
    returned = queues.Filters(state="returned")
    await take(
        label,
        queues.search(r, filters=returned, from_moment=None, to_moment=None),  # type: ignore[arg-type]
        r,
    )
    WARM_WITH[label] = next(p for lbl, _sql, p in out if lbl == "search closed p1")
    inbox_states = ("assigned", "review", "returned")
    dept = keys.department_id
    # other searches the queue offers (plans only; not loaded with wrk)
    month_ago = now - timedelta(days=30)
    for label, filters, moments in (
        ("search by department p1", queues.Filters(department_id=dept), (None, None)),
        ("search channel=complaint p1", queues.Filters(channel="complaint"), (None, None)),
        (
            "search last 30 days p1",
            queues.Filters(submitted_from=month_ago.date()),
            (month_ago, None),
        ),
        ("search tracking number", queues.Filters(words=keys.tracking_no), (None, None)),
        ("search words, no match", queues.Filters(words="不存在的词"), (None, None)),
    ):
        await take(
            label,
            queues.search(r, filters=filters, from_moment=moments[0], to_moment=moments[1]),  # type: ignore[arg-type]
            r,
        )
    await take(
        "inbox p1",
        queues.department_inbox(r, department_id=dept, states=inbox_states),
        r,  # type: ignore[arg-type]
    )
    if keys.inbox_after:
        await take(
            "inbox p2 (not linked by the page)",
            queues.department_inbox(
                r,
                department_id=dept,
                states=inbox_states,
                after=keys.inbox_after,  # type: ignore[arg-type]
            ),
            r,
        )
    await take("review", queues.department_inbox(r, department_id=dept, states=("review",)), r)  # type: ignore[arg-type]
    tz = ZONE
    today = now.astimezone(tz).date()
    week_ends = datetime.combine(today + timedelta(days=7 - today.weekday()), dtime(0), tz)
    month_starts = datetime.combine(today.replace(day=1), dtime(0), tz)
    for scope_label, scope in (("office", None), ("dept.", dept)):
        await take(
            f"dashboard ({scope_label}): open by state",
            dashboard.open_by_state(r, department_id=scope),  # type: ignore[arg-type]
            r,
        )
        await take(
            f"dashboard ({scope_label}): deadlines",
            dashboard.deadlines(
                r,
                now=now,
                week_ends=week_ends,
                month_starts=month_starts,
                department_id=scope,  # type: ignore[arg-type]
            ),
            r,
        )
    await take("dashboard (office): age flags", reminders.unanswered_age_flags(r, now=now), r)  # type: ignore[arg-type]
    return out


@dataclass
class Plan:
    database: str
    label: str
    sql: str
    params: dict[str, Any]
    plan: str
    query_ms: float  # median of repeated runs of the statement alone
    indexes: list[str]
    full_scans: list[str]  # big tables read whole (a table scan, or an unbounded index walk)
    rows_removed: int  # PostgreSQL: rows read and dropped by a filter
    verdict: str


def _sqlite_file(target: Target) -> Path:
    return Path(target.url.removeprefix("sqlite+aiosqlite:///"))


def fetch_rows(target: Target, sql: str, params: dict[str, Any]) -> list[tuple[Any, ...]]:
    if target.name == "sqlite":
        uri = f"file:{_sqlite_file(target)}?mode=ro"
        with closing(sqlite3.connect(uri, uri=True, detect_types=sqlite3.PARSE_DECLTYPES)) as c:
            return [tuple(row) for row in c.execute(sql, params).fetchall()]

    async def pg() -> list[tuple[Any, ...]]:
        import asyncpg

        conn = await asyncpg.connect(dsn(target.url))
        try:
            text, names = rewrite(sql)
            return [tuple(r) for r in await conn.fetch(text, *[params[n] for n in names])]
        finally:
            await conn.close()

    return asyncio.run(pg())


def keysets(target: Target, department_id: int, depth: int) -> Keysets:
    """The keyset of a deep page as the page itself would build it, by a direct query."""
    order = "ORDER BY submitted_at DESC, id DESC"
    deep = fetch_rows(
        target,
        f"SELECT submitted_at, id FROM letters WHERE state = :s {order} LIMIT 1 OFFSET :o",
        {"s": "closed", "o": depth * queues.PAGE_SIZE - 1},
    )[0]
    total = fetch_rows(target, "SELECT count(*) FROM letters WHERE state = :s", {"s": "closed"})
    far_offset = int(total[0][0] * 0.9)
    far = fetch_rows(
        target,
        f"SELECT submitted_at, id FROM letters WHERE state = :s {order} LIMIT 1 OFFSET :o",
        {"s": "closed", "o": far_offset},
    )[0]
    inbox = fetch_rows(
        target,
        "SELECT due_at, id FROM letters WHERE department_id = :d AND state IN"
        " ('assigned', 'review', 'returned') ORDER BY due_at, id LIMIT 1 OFFSET :o",
        {"d": department_id, "o": queues.PAGE_SIZE - 1},
    )
    as_dt = _as_datetime
    tracking = fetch_rows(target, "SELECT tracking_no FROM letters WHERE id = :id", {"id": far[1]})
    return Keysets(
        now=datetime.now(UTC),
        department_id=department_id,
        deep_page=depth,
        deep=(as_dt(deep[0]), int(deep[1])),
        far=(as_dt(far[0]), int(far[1])),
        far_offset=far_offset,
        inbox_after=(as_dt(inbox[0][0]), int(inbox[0][1])) if inbox else None,
        tracking_no=str(tracking[0][0]),
    )


def _as_datetime(value: Any) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))


SQLITE_FULL = re.compile(r"^SCAN (\w+)(?: USING (?:COVERING )?INDEX (\w+))?")


def explain_sqlite(target: Target, label: str, sql: str, params: dict[str, Any]) -> Plan:
    uri = f"file:{_sqlite_file(target)}?mode=ro"
    with closing(sqlite3.connect(uri, uri=True, detect_types=sqlite3.PARSE_DECLTYPES)) as conn:
        rows = conn.execute(f"EXPLAIN QUERY PLAN {sql}", params).fetchall()
        details = [row[3] for row in rows]
        aliases = _aliases(sql)
        partial_indexes = {
            name
            for name, index_sql in conn.execute(
                "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"
            )
            if " WHERE " in index_sql.upper()
        }
        full, used = [], []
        for detail in details:
            scan = SQLITE_FULL.match(detail)
            table = aliases.get(scan.group(1), scan.group(1)) if scan else ""
            partial = bool(scan and scan.group(2) and scan.group(2) in partial_indexes)
            if scan and table in BIG_TABLES and not partial:
                # SCAN t: the whole table; SCAN t USING INDEX i: the whole index, in its
                # order (it stops early only when the LIMIT is filled by rows near its start).
                # A partial index holds only the rows its WHERE keeps: reading it whole is fine.
                full.append(
                    f"{table}" + (f" (whole index {scan.group(2)})" if scan.group(2) else "")
                )
            found = re.search(r"USING (?:COVERING )?INDEX (\w+)", detail)
            if found:
                used.append(found.group(1))
            elif "INTEGER PRIMARY KEY" in detail:
                used.append("PRIMARY KEY")
        times = []
        for _ in range(5):
            started = time.perf_counter()
            conn.execute(sql, params).fetchall()
            times.append((time.perf_counter() - started) * 1000)
            if sum(times) > 5000:
                break
    query_ms = statistics.median(times)
    return Plan(
        target.name, label, sql, _printable(params), "\n".join(details), round(query_ms, 2),
        used, full, 0, _verdict(full, query_ms),
    )  # fmt: skip


def _aliases(sql: str) -> dict[str, str]:
    return {
        alias: table
        for table, alias in re.findall(
            r"(?:FROM|JOIN)\s+(\w+)(?:\s+(?!WHERE|JOIN|ON|ORDER|GROUP)(\w+))?", sql
        )
        if alias
    } | {table: table for table in BIG_TABLES}


def _literal(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, datetime):
        return f"'{value.isoformat()}'"
    if isinstance(value, list | tuple):  # an array parameter (`= ANY(:values)`)
        return f"ARRAY[{', '.join(map(_literal, value))}]" if value else "'{}'"
    return "'" + str(value).replace("'", "''") + "'"


def _printable(params: dict[str, Any]) -> dict[str, Any]:
    return {k: v.isoformat() if isinstance(v, datetime) else v for k, v in params.items()}


def _verdict(full: list[str], query_ms: float) -> str:
    if full:
        return "FULL SCAN of " + ", ".join(full)
    if query_ms > 20:
        return f"index range, but slow ({query_ms:.0f} ms)"
    return "index range"


async def explain_postgres_all(
    target: Target, statements: list[tuple[str, str, dict[str, Any]]]
) -> list[Plan]:
    import asyncpg

    conn = await asyncpg.connect(dsn(target.url))
    plans = []
    try:
        for number, (label, sql, params) in enumerate(statements):
            text, names = rewrite(sql)
            values = ", ".join(_literal(params[name]) for name in names)
            name = f"bench_q{number}"
            await conn.execute(f"PREPARE {name} AS {text}")
            execute = f"EXECUTE {name}" + (f"({values})" if names else "")
            warm = WARM_WITH.get(label)
            first = ", ".join(_literal(warm[name]) for name in names) if warm else values
            for _ in range(6):  # generic or custom is decided after 5 runs
                await conn.execute(f"EXECUTE {name}" + (f"({first})" if names else ""))
            rows = await conn.fetch(f"EXPLAIN (ANALYZE, BUFFERS) {execute}")
            times = []
            for _ in range(3):  # the plan it settled on, timed
                started = time.perf_counter()
                await conn.execute(execute)
                times.append((time.perf_counter() - started) * 1000)
            await conn.execute(f"DEALLOCATE {name}")
            plan = "\n".join(row[0] for row in rows)
            full = sorted({t for t in re.findall(r"Seq Scan on (\w+)", plan) if t in BIG_TABLES})
            used = list(
                dict.fromkeys(
                    re.findall(r"Index (?:Only )?Scan (?:Backward )?using (\w+)", plan)
                    + re.findall(r"Bitmap Index Scan on (\w+)", plan)
                )
            )
            removed = sum(
                int(n) for n in re.findall(r"Rows Removed by (?:Filter|Index Recheck): (\d+)", plan)
            )
            query_ms = statistics.median(times)
            verdict = _verdict(full, query_ms)
            if not full and removed > 10_000:
                verdict = f"index, but {removed:,} rows read and dropped" + (
                    f" ({query_ms:.0f} ms)" if query_ms > 20 else ""
                )
            plans.append(
                Plan(
                    target.name,
                    label,
                    sql,
                    _printable(params),
                    plan,
                    round(query_ms, 2),
                    used,
                    full,
                    removed,
                    verdict,
                )  # fmt: skip
            )
    finally:
        await conn.close()
    return plans


# --- one database -----------------------------------------------------------------------------


def bench_database(
    target: Target, args: argparse.Namespace, tmp: Path
) -> tuple[list[PageResult], list[Plan], dict[str, Any]]:
    info: dict[str, Any] = {"generation": target.generation}
    info["extra_sql"] = apply_sql(target, args)
    env = app_env(target, tmp / f"data-{target.name}")
    code, department_id, open_letters = busiest_department(target)
    info["handler_department"] = {"code": code, "id": department_id, "open_letters": open_letters}
    create_user(env, DISPATCHER, ["dispatcher"])
    create_user(env, HANDLER, ["handler", "reviewer"], department=code)
    keys = keysets(target, department_id, args.depth)
    info["keysets"] = {
        "deep_page": args.depth + 1,
        "deep_after": [keys.deep[0].isoformat(), keys.deep[1]],
        "far_offset": keys.far_offset,
        "far_after": [keys.far[0].isoformat(), keys.far[1]],
    }

    # the plans first, on a quiet machine (the server is not running yet)
    statements = asyncio.run(record_queries(target.name, keys))
    if target.name == "sqlite":
        plans = [explain_sqlite(target, label, sql, params) for label, sql, params in statements]
    else:
        plans = asyncio.run(explain_postgres_all(target, statements))
    for plan in plans:
        log(f"[{target.name}] plan {plan.label:<40} {plan.query_ms:8.2f} ms  {plan.verdict}")

    port = bench_run.free_port()
    base = f"http://{HOST}:{port}"
    env["MAILBOX_BASE_URL"] = base
    argv = [PYTHON, "-m", "mailbox", "serve", "--no-worker", "--host", HOST, "--port", str(port)]
    results: list[PageResult] = []
    with app_server(f"app-{target.name}", argv, env, port, tmp) as process:
        info["idle_rss_kib"] = bench_run.memory_kib(process.pid)["VmRSS"]
        dispatcher = session_headers(log_in(base, DISPATCHER))
        handler = session_headers(log_in(base, HANDLER))
        # follow "Next page" as a person would, and check that it lands where SQL says
        path = "/staff/queue?state=closed"
        followed = time.monotonic()
        for _ in range(args.depth):
            path = next_link(get(base, path, dispatcher).text)
            if not path:
                raise RuntimeError("the search ran out of pages before --depth")
        query = parse_qs(urlsplit(path).query)
        info["next_page_followed"] = {
            "pages": args.depth,
            "seconds": round(time.monotonic() - followed, 1),
            "url": path,
            "matches_sql_keyset": int(query["after_id"][0]) == keys.deep[1]
            and datetime.fromisoformat(query["after_at"][0]) == keys.deep[0],
        }
        far_path = (
            "/staff/queue?"
            + httpx.QueryParams(
                {"state": "closed", "after_at": keys.far[0].isoformat(), "after_id": keys.far[1]}
            ).__str__()
        )
        pages = [
            ("queue", "/staff/queue", DISPATCHER, dispatcher),
            ("search closed p1", "/staff/queue?state=closed", DISPATCHER, dispatcher),
            ("search closed deep", path, DISPATCHER, dispatcher),
            ("search closed 90 %", far_path, DISPATCHER, dispatcher),
            ("inbox", "/staff/inbox", HANDLER, handler),
            ("review", "/staff/review", HANDLER, handler),
            ("dashboard (office)", "/staff/dashboard", DISPATCHER, dispatcher),
            ("dashboard (dept.)", "/staff/dashboard", HANDLER, handler),
        ]
        for page, page_path, user, headers in pages:
            if args.only and not any(word in page for word in args.only):
                continue
            results.append(
                measure_page(args, target.name, page, base, page_path, user, headers, process.pid)
            )
        info["rss_kib_after"] = bench_run.memory_kib(process.pid)["VmRSS"]
    for client in _CLIENTS.values():
        client.close()
    _CLIENTS.clear()
    server_log = (tmp / f"app-{target.name}.log").read_text(errors="replace")
    info["server_log_errors"] = server_log.count("Traceback") + server_log.count("ERROR")
    return results, plans, info


# --- report -----------------------------------------------------------------------------------


def page_table(results: list[PageResult]) -> str:
    lines = [
        "| database | page | rows | one at a time ms | p50 ms | p90 ms | p99 ms | max ms "
        "| requests/s | non-200 | server CPU ms/request | PostgreSQL CPU | other load "
        "| target (p50 < 50, p99 < 200) |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in results:
        bad = sum(n for s, n in r.statuses.items() if s != "200") + sum(r.socket_errors.values())
        lines.append(
            f"| {r.database} | {r.page} | {r.rows} | {r.single_ms:.1f} | {r.p50_ms:.1f} "
            f"| {r.p90_ms:.1f} | {r.p99_ms:.1f} | {r.max_ms:.0f} | {r.rps:,.0f} | {bad} "
            f"| {r.server_cpu_ms_per_request:.1f} | {r.database_cpu_percent:.0f}% "
            f"| {r.others_cpu_percent:.0f}% "
            f"| {r.target or '–'} |"
        )
    return "\n".join(lines)


def plan_table(plans: list[Plan]) -> str:
    lines = [
        "| database | query | query ms | indexes used | verdict |",
        "|---|---|---:|---|---|",
    ]
    for p in plans:
        used = ", ".join(dict.fromkeys(p.indexes)) or "–"
        lines.append(f"| {p.database} | {p.label} | {p.query_ms:.2f} | {used} | {p.verdict} |")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_common(
        parser, pg_database=PG_DATABASE, output=RESULTS / "queues-latest.json", quiet_wait=15
    )
    parser.add_argument("--depth", type=int, default=50, help="'Next page' links to follow")
    parser.add_argument("--only", nargs="*", default=[], help="pages whose name contains a word")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        log("wrk is missing: apt-get install -y wrk")
        return 2

    started = time.monotonic()
    # one end moment for both databases, so that they hold the same letters
    args.end = datetime.now(UTC).replace(microsecond=0).isoformat()
    targets, skipped = targets_of(args, "queues")

    results: list[PageResult] = []
    plans: list[Plan] = []
    infos: dict[str, Any] = {}
    tmp = Path(tempfile.mkdtemp(prefix="mailbox-queues-"))
    load_before = Path("/proc/loadavg").read_text().split()[:3]
    try:
        for target in targets:
            prepare(target, args)
            page_results, page_plans, info = bench_database(target, args, tmp)
            results += page_results
            plans += page_plans
            infos[target.name] = info
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        if not args.keep:
            for target in targets:
                if target.name == "sqlite":
                    file = _sqlite_file(target)
                    for suffix in ("", "-wal", "-shm"):
                        Path(f"{file}{suffix}").unlink(missing_ok=True)
                else:
                    asyncio.run(pg_database(args, drop=True, create=False))

    met = {r.database + ": " + r.page: r.target for r in results if r.target}
    report = {
        "when": time.strftime("%Y-%m-%d %H:%M:%S %z"),
        "settings": {
            "letters": args.letters,
            "duration_s": args.duration,
            "warmup_s": args.warmup,
            "connections": args.connections,
            "wrk_threads": args.threads,
            "depth": args.depth,
            "extra_sql": args.sql,
            "server": "python -m mailbox serve --no-worker (one process)",
            "app_dir": str(APP),
        },
        "machine": {
            "cpus": os.cpu_count(),
            "load_average_before": load_before,
            "load_average_after": Path("/proc/loadavg").read_text().split()[:3],
            "python": sys.version.split()[0],
            "sqlite": sqlite3.sqlite_version,
        },
        "skipped": skipped,
        "databases": infos,
        "target": {"p50_ms": TARGET_P50_MS, "p99_ms": TARGET_P99_MS, "pages": met},
        "pages": [asdict(r) for r in results],
        "plans": [asdict(p) for p in plans],
        "total_seconds": round(time.monotonic() - started, 1),
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(report, ensure_ascii=False, indent=2, default=str) + "\n")

    print(
        f"\n{args.letters:,} letters; wrk {args.connections} connections, {args.threads} threads, "
        f"{args.duration:g} s per page after {args.warmup:g} s warm-up; {os.cpu_count()} CPUs, "
        f"load average before {' '.join(load_before)}\n"
    )
    print(page_table(results))
    print()
    print(plan_table(plans))
    for name, info in infos.items():
        details = {k: v for k, v in info.items() if k != "generation"}
        print(f"\n{name}: {json.dumps(details, ensure_ascii=False)}")
        print(f"{name} generation: {json.dumps(info['generation'], ensure_ascii=False)}")
    if skipped:
        print(f"\nskipped: {skipped}")
    print(f"\nwritten {args.output} in {report['total_seconds']} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
