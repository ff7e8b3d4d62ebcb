"""The figures with a million letters over three years: the yearly report and /stats.

    .venv/bin/python bench/figures.py [--letters 1000000] [--days 1095] [--reuse] [--keep]
                                      [--runs 5] [--duration 10] [--connections 4]
                                      [--no-sqlite] [--no-postgres] [--postgres-url URL]
                                      [--sql FILE] [--app-dir DIR] [--year Y]

For each database (SQLite, and PostgreSQL when --postgres-url answers), on loopback only:

1. generates the letters with bench/generate.py --days 1095 (SQLite:
   $TMPDIR/mailbox-bench/figures-N-D.sqlite3, kept for --reuse; PostgreSQL: the database
   mailbox_bench_figures_test, dropped at the end unless --keep), or with --reuse uses one
   that holds N letters with replies over that span;
2. prints the plans of the report's two aggregation queries (mailbox/db/queries/figures.py,
   recorded from the app's own functions): EXPLAIN QUERY PLAN on SQLite (not ANALYZEd, as
   the app never runs ANALYZE), EXPLAIN (ANALYZE, BUFFERS) EXECUTE on PostgreSQL after six
   runs as a prepared statement (the plan asyncpg's statement cache settles on);
3. times the yearly report of the last whole year (--year, default: the year before the
   end moment's) --runs times: `make_report` called directly on the app's Database (both
   queries, the channels and departments, the summary sentences), the two queries alone
   through the same connection, and `python -m mailbox report --year Y --format json` as a
   process (its totals checked against make_report's);
4. starts `python -m mailbox serve --no-worker` on a free port, times the first (uncached)
   /stats?year=Y and /stats, checks the page's totals against make_report's, and loads both
   with wrk (--connections 4, 2 threads, --duration 10 s after a 2 s warm-up; no cookies, so
   every answer also makes a new CSRF token, as for a first visit).

Targets: the report under 2 s on SQLite and under 1 s on PostgreSQL (median of --runs);
/stats at least 1,000 requests/s. Output: Markdown tables on stdout and
bench/results/figures-latest.json. `--sql FILE` runs FILE.sqlite.sql / FILE.postgresql.sql
(or FILE) on the benchmark databases first, to try an index; `--app-dir DIR` measures
another checkout (as in bench/queues.py).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import options  # bench/options.py: the options the benchmarks share
import queues  # bench/queues.py: databases, server, wrk, plans (puts the app on sys.path)

from mailbox.db.database import open_database
from mailbox.db.queries import figures as figure_queries
from mailbox.figures.period import Period
from mailbox.services.reports import make_report

BENCH = queues.BENCH
ROOT = queues.ROOT
APP = queues.APP
PYTHON = queues.PYTHON
HOST = queues.HOST
ZONE = queues.ZONE
PG_DATABASE = "mailbox_bench_figures_test"  # --pg-database's default
TARGET_REPORT_S = {"sqlite": 2.0, "postgresql": 1.0}
TARGET_RPS = 1000.0
log = queues.log


# --- databases ---------------------------------------------------------------------------------


def facts(target: queues.Target) -> dict[str, Any]:
    """What the database holds: letters, replies, ratings, the first and last submission."""
    try:
        row = queues.fetch_rows(
            target,
            "SELECT (SELECT count(*) FROM letters), (SELECT count(*) FROM replies),"
            " (SELECT count(*) FROM ratings), (SELECT min(submitted_at) FROM letters),"
            " (SELECT max(submitted_at) FROM letters),"
            " (SELECT count(*) FROM letters WHERE published_at IS NOT NULL)",
            {},
        )[0]
    except Exception:  # noqa: BLE001 (missing file, database or table: generate it)
        return {}
    if not row[0]:
        return {"letters": 0}
    first, last = (queues._as_datetime(value) for value in row[3:5])
    return {
        "letters": int(row[0]),
        "replies": int(row[1]),
        "ratings": int(row[2]),
        "published": int(row[5]),
        "first_submitted": first.isoformat(),
        "last_submitted": last.isoformat(),
        "span_days": round((last - first).total_seconds() / 86400, 1),
    }


def prepare(target: queues.Target, args: argparse.Namespace) -> dict[str, Any]:
    if args.reuse:
        found = facts(target)
        # the same letters, with the figures' columns (replies), over about that span
        if (
            found.get("letters") == args.letters
            and found.get("replies")
            and abs(found["span_days"] - args.days) < 2
        ):
            log(f"[{target.name}] reusing {args.letters:,} letters over {found['span_days']} days")
            target.generation = {"reused": True}
            return found
    log(f"[{target.name}] generating {args.letters:,} letters over {args.days} days ...")
    if target.name == "sqlite":
        path = Path(target.url.removeprefix("sqlite+aiosqlite:///"))
        path.parent.mkdir(parents=True, exist_ok=True)
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    else:
        asyncio.run(queues.pg_database(args, drop=True, create=True))
    argv = [PYTHON, str(BENCH / "generate.py"), "--database-url", target.url]
    argv += ["--letters", str(args.letters), "--days", str(args.days)]
    argv += ["--seed", str(args.seed), "--end", args.end]
    done = subprocess.run(
        argv,
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
    return facts(target)


# --- the report -------------------------------------------------------------------------------


def period_of(year: int) -> Period:
    return Period.of_year(year, as_of=datetime.now(UTC), tz=ZONE)


async def record_statements(dialect: str, year: int) -> list[tuple[str, str, dict[str, Any]]]:
    """The two aggregations as the report runs them, from the app's own query functions."""
    period = period_of(year)
    bounds = {
        "starts": period.starts,
        "ends": period.ends,
        "as_of": period.as_of,
        "month_starts": [month.starts for month in period.months],
    }
    out = []
    for name in ("letter_counts", "rating_counts"):
        recorder = queues.Recorder(dialect)
        await getattr(figure_queries, name)(recorder, **bounds)
        [(sql, params)] = recorder.statements
        out.append((f"{name} {year}", sql, params))
    return out


def summary_of(times: list[float]) -> dict[str, Any]:
    return {
        "runs_s": [round(t, 3) for t in times],
        "median_s": round(statistics.median(times), 3),
        "max_s": round(max(times), 3),
        "first_s": round(times[0], 3),
    }


async def time_report(url: str, year: int, runs: int) -> dict[str, Any]:
    """make_report on the app's Database, and its two queries alone on the same connection."""
    db = open_database(url)
    await db.connect()
    try:
        period = period_of(year)
        bounds = {
            "starts": period.starts,
            "ends": period.ends,
            "as_of": period.as_of,
            "month_starts": [month.starts for month in period.months],
        }
        reports, letter_rows, rating_rows = [], [], []
        full = None
        for _ in range(runs):
            started = time.perf_counter()
            full = await make_report(db, period)
            reports.append(time.perf_counter() - started)
        for _ in range(runs):
            started = time.perf_counter()
            rows = await figure_queries.letter_counts(db, **bounds)  # type: ignore[arg-type]
            letter_rows.append(time.perf_counter() - started)
            started = time.perf_counter()
            await figure_queries.rating_counts(db, **bounds)  # type: ignore[arg-type]
            rating_rows.append(time.perf_counter() - started)
        assert full is not None
        result = full.as_json()
        return {
            "make_report": summary_of(reports),
            "letter_counts": summary_of(letter_rows),
            "rating_counts": summary_of(rating_rows),
            "groups": len(rows),
            "total": result["total"],
            "website_yearly_form": result["website_yearly_form"],
            "summary": result["summary"],
        }
    finally:
        await db.close()


def time_command(env: dict[str, str], year: int, runs: int) -> dict[str, Any]:
    """`python -m mailbox report --year Y --format json` as a process, Python's start included."""
    probe = subprocess.run(
        [PYTHON, "-m", "mailbox", "report", "--help"],
        cwd=APP,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    if probe.returncode != 0:
        return {"skipped": "`python -m mailbox report` does not exist in this checkout"}
    startup = []
    for _ in range(3):
        started = time.perf_counter()
        subprocess.run(
            [PYTHON, "-m", "mailbox", "--version"], cwd=APP, env=env, capture_output=True,
            timeout=60, check=True,
        )  # fmt: skip
        startup.append(time.perf_counter() - started)
    times, output = [], ""
    for _ in range(runs):
        started = time.perf_counter()
        done = subprocess.run(
            [PYTHON, "-m", "mailbox", "report", "--year", str(year), "--format", "json"],
            cwd=APP,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        times.append(time.perf_counter() - started)
        if done.returncode != 0:
            raise RuntimeError(f"report failed: {done.stdout}\n{done.stderr}")
        output = done.stdout
    return {**summary_of(times), "python_start_s": round(min(startup), 3), "json": output}


# --- /stats -------------------------------------------------------------------------------------

TOTAL_ROW = re.compile(
    r"<tfoot>\s*<tr><th scope=\"row\">[^<]*</th><td class=\"num\">(\d+)</td>"
    r"<td class=\"num\">(\d+)</td><td class=\"num\">([^<]*)</td><td class=\"num\">(\d+)</td>"
)


def page_totals(page: str) -> list[str]:
    found = TOTAL_ROW.search(page)
    if not found:
        raise RuntimeError("no total row on /stats")
    return list(found.groups())


def expected_totals(total: dict[str, Any]) -> list[str]:
    avg = total["avg_days"]
    shown = "–" if avg is None else f"{avg:.1f}"
    return [str(total["received"]), str(total["replied"]), shown, str(total["published"])]


def bench_stats(
    target: queues.Target,
    args: argparse.Namespace,
    tmp: Path,
    year: int,
    report: dict[str, Any],
) -> tuple[list[queues.PageResult], dict[str, Any]]:
    env = queues.app_env(target, tmp / f"data-{target.name}")
    port = queues.bench_run.free_port()
    base = f"http://{HOST}:{port}"
    env["MAILBOX_BASE_URL"] = base
    argv = [PYTHON, "-m", "mailbox", "serve", "--no-worker", "--host", HOST, "--port", str(port)]
    info: dict[str, Any] = {}
    results = []
    with queues.app_server(f"app-{target.name}", argv, env, port, tmp) as process:
        info["idle_rss_kib"] = queues.bench_run.memory_kib(process.pid)["VmRSS"]
        pages = [("/stats year", f"/stats?year={year}"), ("/stats (this year)", "/stats")]
        for _page, path in pages:  # the first request of each makes its cache entry
            started = time.perf_counter()
            first = queues.get(base, path, {})
            info[f"first {path}"] = round(time.perf_counter() - started, 3)
            if first.status_code != 200:
                raise RuntimeError(f"GET {path} answered {first.status_code}")
        shown = page_totals(queues.get(base, f"/stats?year={year}", {}).text)
        info["page_totals"] = shown
        info["page_matches_report"] = shown == expected_totals(report["total"])
        if not info["page_matches_report"]:
            raise RuntimeError(f"/stats shows {shown}, make_report {report['total']}")
        for page, path in pages:
            result = queues.measure_page(
                args, target.name, page, base, path, "anyone", {}, process.pid
            )
            ok = result.rps >= TARGET_RPS and set(result.statuses) == {"200"}
            result.target = "met" if ok else "NOT met"
            results.append(result)
        info["rss_kib_after"] = queues.bench_run.memory_kib(process.pid)["VmRSS"]
    for client in queues._CLIENTS.values():
        client.close()
    queues._CLIENTS.clear()
    server_log = (tmp / f"app-{target.name}.log").read_text(errors="replace")
    info["server_log_errors"] = server_log.count("Traceback") + server_log.count("ERROR")
    return results, info


# --- one database -----------------------------------------------------------------------------


def bench_database(
    target: queues.Target, args: argparse.Namespace, tmp: Path, year: int
) -> tuple[dict[str, Any], list[queues.Plan], list[queues.PageResult]]:
    info: dict[str, Any] = {"generation": target.generation}
    info["extra_sql"] = queues.apply_sql(target, args)
    statements = asyncio.run(record_statements(target.name, year))
    info["quiet_wait_s"] = queues.wait_until_quiet(args.quiet_wait)
    if target.name == "sqlite":
        plans = [queues.explain_sqlite(target, label, sql, p) for label, sql, p in statements]
    else:
        plans = asyncio.run(queues.explain_postgres_all(target, statements))
    for plan in plans:
        log(f"[{target.name}] plan {plan.label:<22} {plan.query_ms:9.1f} ms")
        log("    " + plan.plan.replace("\n", "\n    "))

    info["quiet_wait_s"] += queues.wait_until_quiet(args.quiet_wait)
    report = asyncio.run(time_report(target.url, year, args.runs))
    info["report"] = report
    log(
        f"[{target.name}] make_report {year}: median {report['make_report']['median_s']} s,"
        f" max {report['make_report']['max_s']} s (letter_counts"
        f" {report['letter_counts']['median_s']} s, rating_counts"
        f" {report['rating_counts']['median_s']} s)"
    )
    env = queues.app_env(target, tmp / f"data-{target.name}")
    command = time_command(env, year, args.runs)
    if "json" in command:
        printed = json.loads(command.pop("json"))
        command["matches_make_report"] = all(
            printed["total"][name] == report["total"][name]
            for name in ("received", "accepted", "replied", "published", "rated", "avg_days")
        )
        log(
            f"[{target.name}] report --year {year} --format json: median {command['median_s']} s"
            f" (Python's start {command['python_start_s']} s), same totals:"
            f" {command['matches_make_report']}"
        )
    info["command"] = command
    pages, info["stats"] = bench_stats(target, args, tmp, year, report)
    return info, plans, pages


# --- output -----------------------------------------------------------------------------------


def report_table(infos: dict[str, dict[str, Any]], year: int) -> str:
    lines = [
        f"| database | what ({year}) | median s | max s | first s | target | met |",
        "|---|---|---:|---:|---:|---:|---|",
    ]
    for name, info in infos.items():
        limit = TARGET_REPORT_S[name]
        rows = [
            ("make_report", info["report"]["make_report"], True),
            ("letter_counts alone", info["report"]["letter_counts"], False),
            ("rating_counts alone", info["report"]["rating_counts"], False),
        ]
        command = info["command"]
        if "median_s" in command:
            rows.append(("`report --format json` (process)", command, True))
        for label, times, targeted in rows:
            met = ("yes" if times["median_s"] < limit else "NO") if targeted else "–"
            lines.append(
                f"| {name} | {label} | {times['median_s']:.3f} | {times['max_s']:.3f} "
                f"| {times['first_s']:.3f} | {f'< {limit:g} s' if targeted else '–'} | {met} |"
            )
        if "skipped" in command:
            lines.append(f"| {name} | `report` command | – | – | – | – | {command['skipped']} |")
    return "\n".join(lines)


def page_table(results: list[queues.PageResult]) -> str:
    lines = [
        "| database | page | requests/s | p50 ms | p99 ms | max ms | non-200 | server CPU "
        "ms/request | other load | target (≥ 1,000/s) |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in results:
        bad = sum(n for s, n in r.statuses.items() if s != "200") + sum(r.socket_errors.values())
        lines.append(
            f"| {r.database} | {r.page} | {r.rps:,.0f} | {r.p50_ms:.1f} | {r.p99_ms:.1f} "
            f"| {r.max_ms:.0f} | {bad} | {r.server_cpu_ms_per_request:.2f} "
            f"| {r.others_cpu_percent:.0f}% | {r.target} |"
        )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_common(
        parser,
        pg_database=PG_DATABASE,
        output=BENCH / "results" / "figures-latest.json",
        generate_timeout=1200,
        quiet_wait=30,
    )
    parser.add_argument("--days", type=int, default=1095, help="the span of the letters")
    parser.add_argument("--year", type=int, default=0, help="default: the last whole year")
    parser.add_argument("--runs", type=int, default=5, help="timed reports per database")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        log("wrk is missing: apt-get install -y wrk")
        return 2

    started = time.monotonic()
    args.end = datetime.now(UTC).replace(microsecond=0).isoformat()
    targets: list[queues.Target] = []
    skipped: dict[str, str] = {}
    if not args.no_sqlite:
        name = f"figures-{args.letters}-{args.days}.sqlite3"
        path = Path(args.sqlite_dir).resolve() / name
        targets.append(queues.Target("sqlite", f"sqlite+aiosqlite:///{path}"))
    if not args.no_postgres:
        problem = asyncio.run(queues.pg_reachable(args))
        if problem:
            skipped["postgresql"] = problem
            log(f"PostgreSQL skipped: {problem}")
        else:
            targets.append(queues.Target("postgresql", queues.pg_url(args)))

    infos: dict[str, dict[str, Any]] = {}
    plans: list[queues.Plan] = []
    pages: list[queues.PageResult] = []
    years: dict[str, int] = {}
    tmp = Path(tempfile.mkdtemp(prefix="mailbox-figures-"))
    load_before = Path("/proc/loadavg").read_text().split()[:3]
    try:
        for target in targets:
            held = prepare(target, args)
            last = datetime.fromisoformat(held["last_submitted"]).astimezone(ZONE)
            first = datetime.fromisoformat(held["first_submitted"]).astimezone(ZONE)
            year = args.year or last.year - 1
            if not first.year < year < last.year:
                log(f"[{target.name}] {year} is not a whole year of these letters")
            years[target.name] = year
            info, its_plans, its_pages = bench_database(target, args, tmp, year)
            infos[target.name] = {"data": held, **info}
            plans += its_plans
            pages += its_pages
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        if not args.keep and any(t.name == "postgresql" for t in targets):
            asyncio.run(queues.pg_database(args, drop=True, create=False))

    year = next(iter(years.values()), 0)
    result = {
        "when": time.strftime("%Y-%m-%d %H:%M:%S %z"),
        "settings": {
            "letters": args.letters,
            "days": args.days,
            "year": years,
            "runs": args.runs,
            "duration_s": args.duration,
            "warmup_s": args.warmup,
            "connections": args.connections,
            "wrk_threads": args.threads,
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
        "plans": [asdict(p) for p in plans],
        "pages": [asdict(r) for r in pages],
        "total_seconds": round(time.monotonic() - started, 1),
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, ensure_ascii=False, indent=2, default=str) + "\n")

    print(
        f"\n{args.letters:,} letters over {args.days} days; report of {year}, {args.runs} runs; "
        f"wrk {args.connections} connections, {args.threads} threads, {args.duration:g} s after "
        f"{args.warmup:g} s; {os.cpu_count()} CPUs, load average before {' '.join(load_before)}"
        f", after {' '.join(result['machine']['load_average_after'])}\n"
    )
    print(report_table(infos, year))
    print()
    print(page_table(pages))
    print()
    print(queues.plan_table(plans))
    for name, info in infos.items():
        print(f"\n{name}: data {json.dumps(info['data'])}")
        print(f"{name}: /stats {json.dumps(info['stats'], ensure_ascii=False)}")
        form = json.dumps(info["report"]["website_yearly_form"], ensure_ascii=False)
        print(f"{name}: 政府网站工作年度报表 {form}")
    if skipped:
        print(f"\nskipped: {skipped}")
    print(f"\nwritten {args.output} in {result['total_seconds']} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
