"""The command-line options the million-letter benchmarks share (queues.py, figures.py, api.py):
the data set, the databases, wrk's load, and where the results go."""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent


def add_common(
    parser: argparse.ArgumentParser,
    *,
    pg_database: str,
    output: Path,
    generate_timeout: float = 900,
    quiet_wait: float = 15,
) -> None:
    """Each script's own defaults: its PostgreSQL database (created and dropped by it), its
    results file, how long generation may take and how long to wait for an idle machine."""
    data = parser.add_argument_group("data")
    data.add_argument("--letters", type=int, default=1_000_000)
    data.add_argument("--seed", type=int, default=1)
    data.add_argument(
        "--reuse", action="store_true", help="use databases that hold the letters already"
    )
    data.add_argument("--keep", action="store_true", help="keep the databases (for --reuse)")
    data.add_argument("--generate-timeout", type=float, default=generate_timeout)
    data.add_argument("--sql", default="", help="extra SQL to run on the benchmark databases")

    databases = parser.add_argument_group("databases")
    databases.add_argument("--no-sqlite", action="store_true")
    databases.add_argument("--no-postgres", action="store_true")
    databases.add_argument(
        "--postgres-url",
        default="postgresql://postgres@127.0.0.1:5432/postgres",
        help="an administrative connection; the benchmark creates and drops its own database",
    )
    databases.add_argument(
        "--pg-database",
        default=pg_database,
        help="the benchmark's own PostgreSQL database (dropped and made again)",
    )
    databases.add_argument(
        "--sqlite-dir",
        default=str(Path(tempfile.gettempdir()) / "mailbox-bench"),
        help="where the SQLite database is made (outside the checkout: `git clean` spares it)",
    )

    load = parser.add_argument_group("load (wrk)")
    load.add_argument("--duration", type=float, default=10, help="seconds of wrk per page")
    load.add_argument("--warmup", type=float, default=2, help="seconds before each page")
    load.add_argument("--connections", type=int, default=4)
    load.add_argument("--threads", type=int, default=2, help="wrk threads")
    load.add_argument("--single", type=int, default=20, help="sequential requests per page")
    load.add_argument(
        "--quiet-wait",
        type=float,
        default=quiet_wait,
        help="seconds to wait for an idle machine before each measurement",
    )

    parser.add_argument(
        "--app-dir", default=str(ROOT), help="run the server and queries of this checkout"
    )
    parser.add_argument("--output", type=Path, default=output)
