"""Real server processes (`python -m mailbox serve`) on loopback, for browser and load tests."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
SECRET = "live-test-secret-key-0123456789-abcdefghijkl"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def server_environment(database_url: str, data_dir: Path, **settings: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("MAILBOX_")}
    env.update(
        MAILBOX_DATABASE_URL=database_url,
        MAILBOX_SECRET_KEY=SECRET,
        MAILBOX_DATA_DIR=str(data_dir),
        MAILBOX_SPAM_CHALLENGE="off",
    )
    env.update({f"MAILBOX_{key.upper()}": value for key, value in settings.items()})
    return env


def stop(process: subprocess.Popen[Any]) -> None:
    """Ask a process to end, and kill it if it has not within 10 s."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def run_cli(
    env: dict[str, str], *args: str, stdin: str = "", timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """`python -m mailbox ARGS` from the checkout, its output captured, whatever it returns."""
    return subprocess.run(
        [sys.executable, "-m", "mailbox", *args],
        cwd=ROOT,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def cli(env: dict[str, str], *args: str, stdin: str = "") -> str:
    """A command that must succeed; what it printed."""
    done = run_cli(env, *args, stdin=stdin)
    assert done.returncode == 0, f"mailbox {' '.join(args)}: {done.stderr}"
    return done.stdout


def migrate(env: dict[str, str]) -> None:
    cli(env, "migrate")


@contextmanager
def running_server(
    env: dict[str, str], *args: str, port: int | None = None, log: Path | None = None
) -> Iterator[str]:
    """Start `serve` and wait until it answers; yields its base URL; stops it afterwards."""
    port = port or free_port()
    output = open(log, "wb") if log else subprocess.DEVNULL  # noqa: SIM115
    process = subprocess.Popen(
        [sys.executable, "-m", "mailbox", "serve", "--port", str(port), *args],
        cwd=ROOT,
        env={**env, "MAILBOX_BASE_URL": f"http://127.0.0.1:{port}"},
        stdout=output,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"server exited with {process.returncode}; see {log}")
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("server did not start within 30 s")
            time.sleep(0.1)
        yield url
    finally:
        stop(process)
        if log:
            output.close()  # type: ignore[union-attr]
