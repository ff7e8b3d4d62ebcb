"""Metrics shared by `serve --workers N`: uvicorn's workers share one port, so a scrape lands
on any one of them; prometheus-client's multiprocess mode makes each answer for all."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

ENV = "PROMETHEUS_MULTIPROC_DIR"


def share_metrics(folder: Path) -> None:
    """Before the workers start (they read ENV when importing prometheus_client): the folder
    is emptied, since files left by an earlier run would be counted again."""
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    os.environ[ENV] = str(folder)
