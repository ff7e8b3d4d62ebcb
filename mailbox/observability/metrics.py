"""Prometheus metrics at /metrics: requests and latency by route, letters by state, the outbox.

Request metrics live in the process (or, under `serve --workers N`, in files shared by the
workers); the figures from the database are read at scrape time and kept for a few seconds,
so that several Prometheus servers scraping do not each count the letters table.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from ipaddress import ip_address, ip_network

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from mailbox.db.queries import operations
from mailbox.db.queries.outbox import Medium
from mailbox.domain.states import LetterState
from mailbox.observability.multiprocess import ENV
from mailbox.web.common import client_ip, db_of, settings_of

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
FIGURES_LIFETIME = 10.0  # seconds a scrape reuses the database figures
METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}

REQUESTS = Counter(
    "mailbox_http_requests",
    "HTTP requests answered, by route template and status class.",
    ["method", "route", "status"],
)
LATENCY = Histogram(
    "mailbox_http_request_duration_seconds",
    "Time to answer a request, by route template.",
    ["route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.5, 1.0, 2.5, 5.0, 10.0),
)


def observe_request(method: str, route: str, status: int, seconds: float) -> None:
    REQUESTS.labels(method if method in METHODS else "other", route, f"{status // 100}xx").inc()
    LATENCY.labels(route).observe(seconds)


@dataclass(frozen=True)
class Figures:
    letters: dict[str, int]
    outbox: operations.OutboxCounts
    read_at: float


class FiguresCollector(Collector):
    def __init__(self, figures: Figures) -> None:
        self.figures = figures

    def collect(self) -> Iterator[Metric]:
        letters = GaugeMetricFamily("mailbox_letters", "Letters by state.", labels=["state"])
        for state in LetterState:
            letters.add_metric([state.value], self.figures.letters.get(state.value, 0))
        yield letters
        waiting = GaugeMetricFamily(
            "mailbox_outbox_backlog", "Outbox rows waiting to be sent.", labels=["medium"]
        )
        given_up = GaugeMetricFamily(
            "mailbox_outbox_given_up",
            "Outbox rows the worker stopped retrying (they need an operator).",
            labels=["medium"],
        )
        for medium in Medium:
            waiting.add_metric([medium.value], self.figures.outbox.waiting.get(medium.value, 0))
            given_up.add_metric([medium.value], self.figures.outbox.given_up.get(medium.value, 0))
        yield waiting
        yield given_up


async def _figures(request: Request) -> Figures:
    state = request.app.state
    cached: Figures | None = getattr(state, "metrics_figures", None)
    if cached and time.monotonic() - cached.read_at < FIGURES_LIFETIME:
        return cached
    db = db_of(request)
    figures = Figures(
        letters=await operations.letters_by_state(db),
        outbox=await operations.outbox_counts(db),
        read_at=time.monotonic(),
    )
    state.metrics_figures = figures
    return figures


def allowed(request: Request) -> bool:
    try:
        address = ip_address(client_ip(request))
    except ValueError:
        return False
    return any(
        address in ip_network(net, strict=False) for net in settings_of(request).metrics_allow
    )


def _process_registry() -> CollectorRegistry:
    if ENV not in os.environ:
        return REGISTRY  # this process's metrics, with the standard process_* and python_*
    # Every worker's request metrics, from the shared files (process_* are per process there).
    registry = CollectorRegistry()
    MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    return registry


async def metrics(request: Request) -> Response:
    if not allowed(request):
        raise HTTPException(404)  # not advertised to anyone else
    figures = CollectorRegistry()
    figures.register(FiguresCollector(await _figures(request)))
    body = generate_latest(_process_registry()) + generate_latest(figures)
    return Response(body, media_type=CONTENT_TYPE, headers={"cache-control": "no-store"})


routes = [Route("/metrics", metrics, methods=["GET"])]
