"""`serve --workers 2`: JSON access lines on stderr and metrics that count every worker."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.live import migrate, running_server, server_environment

pytestmark = pytest.mark.slow


def home_requests(metrics_text: str) -> float:
    for family in text_string_to_metric_families(metrics_text):
        for sample in family.samples:
            if sample.name == "mailbox_http_requests_total" and sample.labels == {
                "method": "GET",
                "route": "/",
                "status": "2xx",
            }:
                return sample.value
    return 0


def test_two_workers_log_json_lines_and_share_their_metrics(tmp_path: Path) -> None:
    env = server_environment(f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite3'}", tmp_path / "var")
    migrate(env)
    log = tmp_path / "serve.log"
    with running_server(env, "--workers", "2", log=log) as url:
        # New connections each time: uvicorn's workers take turns accepting them.
        for _ in range(20):
            assert httpx.get(f"{url}/?query_code=SECRETCODE").status_code == 200
        scrapes = [home_requests(httpx.get(f"{url}/metrics").text) for _ in range(6)]
        tagged = httpx.get(f"{url}/healthz", headers={"x-request-id": "nginx-0123456789"})
        assert tagged.headers["x-request-id"] == "nginx-0123456789"
    assert scrapes == [20] * 6  # any worker answers for both
    assert any(path.name.endswith(".db") for path in (tmp_path / "var" / "metrics").iterdir())
    lines = [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]
    homes = [line for line in lines if line.get("route") == "/"]
    assert len(homes) == 20
    assert {line["status"] for line in homes} == {200}
    assert any(line.get("request_id") == "nginx-0123456789" for line in lines)
    assert "SECRETCODE" not in log.read_text()
