"""Submissions and look-ups per second of the real app against a bare aiosqlite ceiling.

    .venv/bin/python bench/run.py [--duration 20] [--connections 64] [--threads 2]
                                  [--access-log] [--profile] [--keep]

In one run, on loopback only: migrates a fresh SQLite database in a temporary folder, starts
the real server (`python -m mailbox serve`) and the ceiling (bench/ceiling.py), both with or
both without uvicorn's access log (--access-log), makes letters for /track
through the web form, then loads, one after another and each after a short warm-up:

  ceiling  POST /write/consult  bench/ceiling.py: parse the form, INSERT one row, COMMIT
  submit   POST /write/consult  the real path: CSRF, validation, letter + event + outbox
  track    POST /track          the real look-up (a rate-limit write, reads, the page)

and prints a Markdown table (also bench/results/latest.json): requests/s, latency p50/p99,
non-2xx/3xx answers, socket errors, the server's CPU use and resident memory. Afterwards it
checks that the letters in each database match the successful submissions wrk counted.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, closing, contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
RESULTS = BENCH / "results"
PYTHON = sys.executable
HOST = "127.0.0.1"  # loopback only
SECRET = "bench-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz"
CHANNEL = "consult"
TRACK_PER_LETTER = 20  # mailbox/services/limits.py: look-ups per tracking number per hour
CLK_TCK = os.sysconf("SC_CLK_TCK")

LETTER = {  # the same letter as bench/submit.lua (a few lines shorter)
    "title": "关于老旧小区加装电梯补贴政策的咨询",
    "body": "您好！我是本市幸福街道某某小区的居民。小区建成于1995年，共六层，没有电梯。\r\n"
    "想请教：老旧小区加装电梯有哪些补贴政策？申请需要哪些材料，向哪个部门提交？\r\n盼复，谢谢！",
    "name": "李明",
    "phone": "13812345678",
    "email": "liming@example.com",
    "address": "某某市某某区幸福路88号3栋2单元",
    "publish_consent": "1",
    "website": "",
}


# --- processes ------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        port: int = probe.getsockname()[1]
        return port


def wait_for_port(process: subprocess.Popen[bytes], port: int, log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}:\n{log.read_text()}")
        try:
            with socket.create_connection((HOST, port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing listens on {HOST}:{port} after 30 s; see {log}")


@contextmanager
def server(
    name: str, argv: list[str], env: dict[str, str], port: int, logs: Path
) -> Iterator[subprocess.Popen[bytes]]:
    """Start a server process (its output to a file, as to the journal) and stop it after."""
    log = logs / f"{name}.log"
    with open(log, "wb") as output:
        process = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=output, stderr=output)
        try:
            wait_for_port(process, port, log)
            yield process
        finally:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def memory_kib(pid: int) -> dict[str, int]:
    """VmRSS (now) and VmHWM (peak resident) of a process, in KiB."""
    values = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _sep, rest = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            values[key] = int(rest.split()[0])
    return values


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of the process (all its threads)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def main_thread_cpu_seconds(pid: int) -> float:
    """CPU time of the main thread alone: the event loop (aiosqlite runs in other threads)."""
    fields = Path(f"/proc/{pid}/task/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def machine_ticks() -> tuple[int, int]:
    """(all, idle + iowait) jiffies of all CPUs, from /proc/stat."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return sum(values), values[3] + values[4]


# --- wrk ------------------------------------------------------------------------------------

_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3}


def _ms(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()  # type: ignore[union-attr]
    return float(number) * _UNITS[unit]


@dataclass
class WrkResult:
    scenario: str
    url: str
    requests: int = 0
    seconds: float = 0.0
    rps: float = 0.0
    p50_ms: float = 0.0
    p75_ms: float = 0.0
    p90_ms: float = 0.0
    p99_ms: float = 0.0
    max_ms: float = 0.0
    non_2xx_3xx: int = 0
    socket_errors: dict[str, int] = field(default_factory=dict)
    statuses: dict[str, int] = field(default_factory=dict)
    detail: dict[str, Any] = field(default_factory=dict)  # BENCH_JSON from report.lua
    server_cpu_percent: float = 0.0  # the whole process, 100% = one CPU
    loop_cpu_percent: float = 0.0  # its main thread (the event loop)
    machine_busy_percent: float = 0.0  # all CPUs together (wrk included), 100% = all busy
    rss_kib: int = 0  # VmRSS right after the run
    peak_rss_kib: int = 0  # the highest VmRSS sampled (every 0.25 s) during the run
    output: str = ""

    @property
    def ok(self) -> int:
        return self.requests - self.non_2xx_3xx


def parse_wrk(scenario: str, url: str, text: str) -> WrkResult:
    """wrk's own summary (with --latency), plus the BENCH_JSON line of bench/report.lua."""
    result = WrkResult(scenario, url, output=text)
    match = re.search(r"(\d+) requests in ([\d.]+\w+),", text)
    if not match:
        raise RuntimeError(f"unexpected wrk output:\n{text}")
    result.requests = int(match.group(1))
    result.seconds = _ms(match.group(2)) / 1000
    result.rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))  # type: ignore[union-attr]
    for percent in ("50", "75", "90", "99"):
        found = re.search(rf"^\s+{percent}%\s+([\d.]+\w+)", text, re.M)
        setattr(result, f"p{percent}_ms", _ms(found.group(1)) if found else float("nan"))
    latency = re.search(r"Latency\s+\S+\s+\S+\s+([\d.]+\w+)", text)
    result.max_ms = _ms(latency.group(1)) if latency else float("nan")
    non = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    result.non_2xx_3xx = int(non.group(1)) if non else 0
    errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text
    )
    names = ("connect", "read", "write", "timeout")
    result.socket_errors = (
        dict(zip(names, map(int, errors.groups()), strict=True)) if errors else {}
    )
    line = re.search(r"^BENCH_JSON (.*)$", text, re.M)
    if line:
        result.detail = json.loads(line.group(1))
        result.statuses = result.detail.get("statuses", {})
    return result


def run_wrk(
    args: argparse.Namespace, url: str, script: str, env: dict[str, str], duration: float
) -> str:
    argv = [
        "wrk",
        f"-t{args.threads}",
        f"-c{args.connections}",
        f"-d{duration:g}s",
        "--latency",
        "--timeout",
        "10s",
        "-s",
        str(BENCH / script),
        url,
    ]
    done = subprocess.run(
        argv,
        env={**os.environ, **env, "BENCH_THREADS": str(args.threads)},
        capture_output=True,
        text=True,
        timeout=duration + 30,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"wrk failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    return done.stdout


def measure(
    args: argparse.Namespace,
    scenario: str,
    process: subprocess.Popen[bytes],
    url: str,
    script: str,
    env: dict[str, str],
    warmup_env: dict[str, str] | None = None,
    count: Callable[[], dict[str, int]] | None = None,
) -> tuple[WrkResult, dict[str, int]]:
    """Warm up, then the measured run; `count` (rows in the database) is taken just before
    and one second after it: the growth, so that warm-up rows are left out."""
    if args.warmup > 0:
        run_wrk(args, url, script, warmup_env or env, args.warmup)
        time.sleep(1.0)
    before = count() if count else {}
    samples: list[int] = []
    stop = threading.Event()

    def sample_rss() -> None:  # VmHWM would show the start-up peak, not the one under load
        while not stop.wait(0.25):
            samples.append(memory_kib(process.pid)["VmRSS"])

    sampler = threading.Thread(target=sample_rss, daemon=True)
    sampler.start()
    cpu_before, loop_before = cpu_seconds(process.pid), main_thread_cpu_seconds(process.pid)
    ticks_before, clock_before = machine_ticks(), time.monotonic()
    try:
        text = run_wrk(args, url, script, env, args.duration)
    finally:
        stop.set()
        sampler.join()
    cpu = cpu_seconds(process.pid) - cpu_before
    loop = main_thread_cpu_seconds(process.pid) - loop_before
    ticks_after, elapsed = machine_ticks(), time.monotonic() - clock_before
    result = parse_wrk(scenario, url, text)
    result.server_cpu_percent = 100 * cpu / elapsed
    result.loop_cpu_percent = 100 * loop / elapsed
    idle = (ticks_after[1] - ticks_before[1]) / max(1, ticks_after[0] - ticks_before[0])
    result.machine_busy_percent = 100 * (1 - idle)
    result.rss_kib = memory_kib(process.pid)["VmRSS"]
    result.peak_rss_kib = max([result.rss_kib, *samples])
    time.sleep(1.0)  # let requests wrk left in flight finish before rows are counted
    after = count() if count else {}
    return result, {key: after[key] - before[key] for key in after}


# --- the app: tokens, letters for /track, counts ----------------------------------------------


def form_tokens(base: str) -> tuple[str, str]:
    """The CSRF token (cookie and hidden field agree) and form stamp of a fresh form."""
    page = httpx.get(f"{base}/write/{CHANNEL}", timeout=10)
    page.raise_for_status()
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    stamp = re.search(r'name="form_stamp" value="([^"]*)"', page.text)
    if not token or page.cookies.get("mb_csrf") != token.group(1):
        raise RuntimeError("the form has no csrf_token matching the mb_csrf cookie")
    return token.group(1), stamp.group(1) if stamp else ""


async def make_letters(base: str, token: str, count: int, concurrency: int = 16) -> list[str]:
    """Letters sent through the form; each writer follows the redirect to /receipt (with its
    own cookie jar) and reads #tracking-no and #query-code, as a person would copy them."""
    made: list[str] = []
    todo = iter(range(count))

    async def writer() -> None:
        async with httpx.AsyncClient(base_url=base, follow_redirects=True, timeout=30) as client:
            client.cookies.set("mb_csrf", token, domain=HOST)
            for number in todo:
                data = {**LETTER, "csrf_token": token, "title": f"{LETTER['title']}（{number}）"}
                page = await client.post(f"/write/{CHANNEL}", data=data)
                found = (
                    re.search(r'id="tracking-no"[^>]*>([^<]+)<', page.text),
                    re.search(r'id="query-code"[^>]*>([^<]+)<', page.text),
                )
                if page.status_code != 200 or not all(found):
                    raise RuntimeError(f"no receipt for letter {number}: {page.status_code}")
                made.append(f"{found[0].group(1).strip()} {found[1].group(1).strip()}")  # type: ignore[union-attr]

    await asyncio.gather(*(writer() for _ in range(concurrency)))
    return made


def count_rows(path: Path, *tables: str) -> dict[str, int]:
    with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as conn:
        return {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in tables}  # noqa: S608


def track_hits(path: Path) -> dict[str, int]:
    """Look-ups the app counted per tracking number: allowed (≤ 20) and refused (429)."""
    with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as conn:
        allowed, refused = conn.execute(
            "SELECT coalesce(sum(min(hits, ?)), 0), coalesce(sum(max(hits - ?, 0)), 0)"
            " FROM rate_limits WHERE bucket LIKE 'track-no:%'",
            (TRACK_PER_LETTER, TRACK_PER_LETTER),
        ).fetchone()
    return {"allowed": allowed, "refused": refused}


# --- py-spy -----------------------------------------------------------------------------------


PROFILE_RATE = 200  # samples per second


def profile(
    args: argparse.Namespace, pid: int, url: str, script: str, env: dict[str, str], raw: Path
) -> str:
    """py-spy the server under a load: only samples that hold the GIL (--gil), so the shares
    are of the Python CPU time, and their count shows how busy the event loop was."""
    spy = shutil.which("py-spy") or str(Path(PYTHON).parent / "py-spy")
    seconds = args.profile_seconds
    spy_run = subprocess.Popen(
        [spy, "record", "-p", str(pid), "-d", str(seconds), "-r", str(PROFILE_RATE), "--gil"]
        + ["--format", "raw", "-o", str(raw), "--threads"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    time.sleep(0.5)
    text = run_wrk(args, url, script, env, seconds + 1)
    try:
        spy_run.wait(timeout=30)
    except subprocess.TimeoutExpired:
        spy_run.kill()
        spy_run.wait()
    if not raw.exists():
        error = spy_run.stderr.read().decode() if spy_run.stderr else ""
        return f"py-spy produced nothing: {error}"
    rps = parse_wrk("profile", url, text).rps
    head = f"{url} at {rps:,.0f} requests/s while sampled\n"
    return head + summarise_profile(raw.read_text(), PROFILE_RATE * seconds)


_FRAME = re.compile(r"^(?P<name>.*) \((?P<path>.*?)(:(?P<line>\d+))?\)$")


def _frame(frame: str) -> str:
    """`function (file.py)`, with the path cut to the package: mailbox/..., starlette/..."""
    match = _FRAME.match(frame)
    if not match:
        return frame
    path = match["path"]
    for marker in ("site-packages/", "python3.11/", str(ROOT) + "/"):
        path = path.split(marker, 1)[-1]
    return f"{match['name']} ({path})"


# Library frames worth naming next to the app's own (inclusive time).
_LIBRARY_FRAMES = (
    "Request._get_form (starlette/requests.py)",
    "Template.render (jinja2/environment.py)",
    "Connection._execute (aiosqlite/core.py)",
    "H11Protocol.data_received (uvicorn/protocols/http/h11_impl.py)",
    "RequestResponseCycle.send (uvicorn/protocols/http/h11_impl.py)",
    "BaseSelectorEventLoop._read_from_self (asyncio/selector_events.py)",
)
_FRAMEWORK = ("mailbox/__main__.py", "mailbox/cli.py", "mailbox/web/middleware.py")


def summarise_profile(raw: str, possible: int, top: int = 15) -> str:
    """From py-spy's collapsed stacks: how much of the time each thread held the GIL, the
    event loop's frames with the most own time, and inclusive time of the app's functions."""
    own: dict[str, int] = {}
    inclusive: dict[str, int] = {}
    per_thread: dict[str, int] = {}
    main = 0
    for line in raw.splitlines():
        stack, _sep, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        thread, *frames = stack.split(";")
        thread = re.sub(r"^thread \((0x)?[0-9A-Fa-f]+\): ", "", thread)
        per_thread[thread] = per_thread.get(thread, 0) + count
        if thread != "MainThread":
            continue
        main += count
        names = [_frame(frame) for frame in frames]
        if names:
            own[names[-1]] = own.get(names[-1], 0) + count
        for name in set(names):
            inclusive[name] = inclusive.get(name, 0) + count
    if not main:
        return "no samples of the main thread"
    lines = ["GIL samples per thread, as a share of the samples possible (approximate):"]
    lines += [
        f"  {n / possible:6.1%}  {t}"
        for t, n in sorted(per_thread.items(), key=lambda i: -i[1])
        if n / possible >= 0.005
    ]
    lines.append(f"event loop, own time, top {top} frames (of {main} GIL samples):")
    lines += [f"  {n / main:6.1%}  {f}" for f, n in sorted(own.items(), key=lambda i: -i[1])[:top]]
    named = [
        (f, n)
        for f, n in inclusive.items()
        if (
            f.split("(")[-1].startswith("mailbox/")
            and not f.endswith(tuple(p + ")" for p in _FRAMEWORK))
        )
        or f in _LIBRARY_FRAMES
    ]
    lines.append("event loop, inclusive time of the app's functions and a few library ones:")
    lines += [
        f"  {n / main:6.1%}  {f}" for f, n in sorted(named, key=lambda i: -i[1]) if n / main >= 0.01
    ]
    return "\n".join(lines)


# --- the report -------------------------------------------------------------------------------


def table(results: list[WrkResult]) -> str:
    head = (
        "| scenario | requests/s | p50 ms | p90 ms | p99 ms | max ms | requests | non-2xx/3xx "
        "| socket errors | server CPU (loop thread) | machine busy | RSS MiB after (max during) |\n"
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    )
    rows = []
    for r in results:
        errors = sum(r.socket_errors.values())
        rss, peak = r.rss_kib / 1024, r.peak_rss_kib / 1024
        rows.append(
            f"| {r.scenario} | {r.rps:,.0f} | {r.p50_ms:.1f} | {r.p90_ms:.1f} | {r.p99_ms:.1f} "
            f"| {r.max_ms:.0f} | {r.requests:,} | {r.non_2xx_3xx:,} | {errors} "
            f"| {r.server_cpu_percent:.0f}% ({r.loop_cpu_percent:.0f}%) "
            f"| {r.machine_busy_percent:.0f}% | {rss:.1f} ({peak:.1f}) |"
        )
    return "\n".join([head, *rows])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=20, help="seconds per scenario")
    parser.add_argument("--warmup", type=float, default=3, help="seconds before each scenario")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument(
        "--track-letters",
        type=int,
        default=0,
        help="letters made for /track (default: enough for 20 look-ups each at the ceiling's rate)",
    )
    parser.add_argument(
        "--access-log",
        action="store_true",
        help="both servers log every request (`serve --access-log`); default: neither does",
    )
    parser.add_argument(
        "--profile", action="store_true", help="afterwards, py-spy the real submit and /track"
    )
    parser.add_argument("--profile-seconds", type=int, default=8)
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    parser.add_argument("--output", type=Path, default=RESULTS / "latest.json")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        print("wrk is missing: apt-get install -y wrk", file=sys.stderr)
        return 2

    started = time.monotonic()
    tmp = Path(tempfile.mkdtemp(prefix="mailbox-bench-"))
    app_db, ceiling_db = tmp / "mailbox.sqlite3", tmp / "ceiling.sqlite3"
    app_port, ceiling_port = free_port(), free_port()
    app_url, ceiling_url = f"http://{HOST}:{app_port}", f"http://{HOST}:{ceiling_port}"
    env = {key: value for key, value in os.environ.items() if not key.startswith("MAILBOX_")}
    env.update(
        PYTHONDONTWRITEBYTECODE="1",
        PYTHONUNBUFFERED="1",
        MAILBOX_DATABASE_URL=f"sqlite+aiosqlite:///{app_db}",
        MAILBOX_SECRET_KEY=SECRET,
        MAILBOX_DATA_DIR=str(tmp / "data"),
        MAILBOX_BASE_URL=app_url,
        MAILBOX_SPAM_CHALLENGE="off",
        MAILBOX_SUBMIT_LIMIT="0",
        MAILBOX_TRACK_LIMIT="0",
    )
    subprocess.run(
        [PYTHON, "-m", "mailbox", "migrate"], cwd=ROOT, env=env, check=True, capture_output=True
    )
    # Both servers log a line per request, or neither (`serve` logs one by default).
    app_argv = [PYTHON, "-m", "mailbox", "serve", "--host", HOST, "--port", str(app_port)]
    app_argv += ["--access-log" if args.access_log else "--no-access-log"]
    ceiling_argv = [PYTHON, str(BENCH / "ceiling.py"), "--host", HOST, "--port", str(ceiling_port)]
    ceiling_argv += ["--db", str(ceiling_db)] + ([] if args.access_log else ["--no-access-log"])

    results: list[WrkResult] = []
    checks: dict[str, Any] = {}
    profile_text = ""
    try:
        with ExitStack() as stack:
            app = stack.enter_context(server("app", app_argv, env, app_port, tmp))
            ceiling = stack.enter_context(server("ceiling", ceiling_argv, env, ceiling_port, tmp))
            idle = {"app": memory_kib(app.pid), "ceiling": memory_kib(ceiling.pid)}
            token, stamp = form_tokens(app_url)
            submit_env = {"BENCH_CSRF": token, "BENCH_FORM_STAMP": stamp}

            # 1. the ceiling
            result, added = measure(
                args,
                "ceiling: bare POST + INSERT",
                ceiling,
                f"{ceiling_url}/write/{CHANNEL}",
                "submit.lua",
                submit_env,
                count=lambda: count_rows(ceiling_db, "letters"),
            )
            results.append(result)
            checks["ceiling"] = {"rows_added": added["letters"], "wrk_ok": result.ok}

            # 2. letters for /track, through the form (this also warms the app's submit path):
            # 20 look-ups each at the ceiling's rate, which /track does not reach
            wanted = args.track_letters or int(result.rps * args.duration / TRACK_PER_LETTER)
            made_at = time.monotonic()
            letters = asyncio.run(make_letters(app_url, token, wanted))
            (tmp / "letters.txt").write_text("\n".join(letters) + "\n")
            checks["track_letters"] = {
                "made": len(letters),
                "seconds": round(time.monotonic() - made_at, 1),
            }

            # 3. the real submission path
            result, added = measure(
                args,
                "real: POST /write/consult",
                app,
                f"{app_url}/write/{CHANNEL}",
                "submit.lua",
                submit_env,
                count=lambda: count_rows(app_db, "letters", "letter_events", "outbox"),
            )
            results.append(result)
            checks["submit"] = {f"{t}_added": n for t, n in added.items()} | {"wrk_ok": result.ok}

            # 4. /track; the warm-up asks for unknown numbers (the same work, answered 404)
            fake = tmp / "unknown.txt"
            fake.write_text("".join(f"19990101{n:06d} AAAA-AAAA\n" for n in range(400)))
            result, added = measure(
                args,
                "real: POST /track",
                app,
                f"{app_url}/track",
                "track.lua",
                {**submit_env, "BENCH_TRACK_FILE": str(tmp / "letters.txt")},
                warmup_env={**submit_env, "BENCH_TRACK_FILE": str(fake)},
                count=lambda: track_hits(app_db),
            )
            results.append(result)
            checks["track"] = {
                "allowed_counted_by_app": added["allowed"],
                "refused_counted_by_app": added["refused"],
                "statuses_seen_by_wrk": result.statuses,
            }
            if args.profile:
                profile_text = profile(
                    args,
                    app.pid,
                    f"{app_url}/write/{CHANNEL}",
                    "submit.lua",
                    submit_env,
                    tmp / "profile-submit.txt",
                )
                # more letters, so that the profiled look-ups are not refused (429)
                more = asyncio.run(
                    make_letters(
                        app_url,
                        token,
                        int(result.rps * (args.profile_seconds + 2) / TRACK_PER_LETTER) + 50,
                    )
                )
                (tmp / "letters-2.txt").write_text("\n".join(more) + "\n")
                profile_text += "\n\n" + profile(
                    args,
                    app.pid,
                    f"{app_url}/track",
                    "track.lua",
                    {**submit_env, "BENCH_TRACK_FILE": str(tmp / "letters-2.txt")},
                    tmp / "profile-track.txt",
                )
            app_log = (tmp / "app.log").read_text(errors="replace")
            lines = app_log.splitlines()
            checks[
                "app_log"
            ] = {  # errors the runs caused (wrk drops in-flight requests at its end)
                "unhandled_error_logs": sum(line.endswith("unhandled error") for line in lines),
                "asgi_exception_logs": lines.count("ERROR:    Exception in ASGI application"),
                "tracebacks_ending_in_client_disconnect": lines.count(
                    "starlette.requests.ClientDisconnect"
                ),
                "access_lines": app_log.count('"logger": "mailbox.access"')
                + app_log.count('HTTP/1.1" '),  # JSON lines (now), uvicorn's (before)
            }
            checks["app_log"]["access_log_as_asked"] = args.access_log == (
                checks["app_log"]["access_lines"] > 0
            )
    finally:
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)

    ceiling_result, submit_result, track_result = results
    ratio = submit_result.rps / ceiling_result.rps
    in_flight = args.connections + sum(submit_result.socket_errors.values())  # at wrk's end
    extra = checks["submit"]["letters_added"] - submit_result.ok
    checks["submit"]["consistent"] = (
        checks["submit"]["letters_added"]
        == checks["submit"]["letter_events_added"]
        == checks["submit"]["outbox_added"]
        and 0 <= extra <= in_flight
    )
    checks["submit"]["rows_beyond_wrk_count"] = extra
    extra_ceiling = checks["ceiling"]["rows_added"] - ceiling_result.ok
    checks["ceiling"]["rows_beyond_wrk_count"] = extra_ceiling
    checks["ceiling"]["consistent"] = (
        0 <= extra_ceiling <= args.connections + sum(ceiling_result.socket_errors.values())
    )
    target = {
        "real_over_ceiling": round(ratio, 3),
        "ratio_met": ratio >= 0.5,
        "p99_submit_ms": submit_result.p99_ms,
        "p99_met": submit_result.p99_ms < 100,
    }
    machine = {
        "cpus": os.cpu_count(),
        "cpu_model": next(
            (
                line.split(":", 1)[1].strip()
                for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")
            ),
            "?",
        ),
        "python": sys.version.split()[0],
        "kernel": os.uname().release,
        "wrk_on_same_machine": True,
    }
    report = {
        "when": time.strftime("%Y-%m-%d %H:%M:%S %z"),
        "settings": {
            "duration_s": args.duration,
            "warmup_s": args.warmup,
            "connections": args.connections,
            "wrk_threads": args.threads,
            "access_log": args.access_log,
            "real_server": " ".join(["python", *app_argv[1:]]),
            "ceiling_server": " ".join(["python", "bench/ceiling.py", *ceiling_argv[2:]]),
        },
        "machine": machine,
        "idle_rss_kib": {name: mem["VmRSS"] for name, mem in idle.items()},
        "startup_peak_rss_kib": {name: mem["VmHWM"] for name, mem in idle.items()},
        "target": target,
        "checks": checks,
        "results": [
            {k: v for k, v in asdict(r).items() if k != "output"} | {"ok": r.ok} for r in results
        ],
        "wrk_output": {r.scenario: r.output for r in results},
        "profile": profile_text,
        "total_seconds": round(time.monotonic() - started, 1),
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n")

    log_state = "on" if args.access_log else "off"
    print(
        f"\n{args.connections} connections, {args.threads} wrk threads, {args.duration:g} s "
        f"per scenario, access log {log_state} for both servers, {machine['cpus']} CPUs\n"
    )
    print(table(results))
    print(
        f"\nreal submit / ceiling: {ratio:.0%} (target ≥ 50%: "
        f"{'met' if target['ratio_met'] else 'NOT met'}); submit p99 {submit_result.p99_ms:.1f} ms"
        f" (target < 100 ms: {'met' if target['p99_met'] else 'NOT met'})"
    )
    print(
        f"idle RSS: app {idle['app']['VmRSS'] / 1024:.1f} MiB, ceiling "
        f"{idle['ceiling']['VmRSS'] / 1024:.1f} MiB (start-up peak, VmHWM: app "
        f"{idle['app']['VmHWM'] / 1024:.1f} MiB, ceiling {idle['ceiling']['VmHWM'] / 1024:.1f} MiB)"
    )
    print(f"checks: {json.dumps(checks, ensure_ascii=False)}")
    if profile_text:
        print(f"\npy-spy --gil on the real server under load:\n{profile_text}")
    print(f"\nwritten {args.output} in {report['total_seconds']} s")
    ok = checks["submit"]["consistent"] and checks["ceiling"]["consistent"]
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
