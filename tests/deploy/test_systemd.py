"""The systemd units in deploy/: hardened, and accepted by systemd itself where it is installed."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.live import ROOT

DEPLOY = ROOT / "deploy"
SERVICES = sorted(DEPLOY.glob("*.service"))
TIMERS = sorted(DEPLOY.glob("*.timer"))
HARDENING = {
    "User": "mailbox",
    "NoNewPrivileges": "yes",
    "ProtectSystem": "strict",
    "ProtectHome": "yes",
    "PrivateTmp": "yes",
    "PrivateDevices": "yes",
    "ProtectKernelTunables": "yes",
    "ProtectKernelModules": "yes",
    "ProtectKernelLogs": "yes",
    "ProtectControlGroups": "yes",
    "RestrictAddressFamilies": "AF_UNIX AF_INET AF_INET6",
    "RestrictSUIDSGID": "yes",
    "CapabilityBoundingSet": "",
    "SystemCallFilter": "@system-service",
}
# What the services may write: the data folder, and the backup folder for backups.
WRITABLE = {"/opt/mailbox/var", "/var/backups/mailbox"}
needs_systemd = pytest.mark.skipif(
    shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed"
)


def directives(unit: Path) -> dict[str, list[str]]:
    """Each key of the [Service] section with all its values (systemd allows repeats)."""
    found: dict[str, list[str]] = {}
    section = ""
    for line in unit.read_text().splitlines():
        if line.startswith("["):
            section = line.strip("[]")
        elif section == "Service" and "=" in line and not line.startswith("#"):
            key, value = line.split("=", 1)
            found.setdefault(key.strip(), []).append(value.strip())
    return found


def test_every_service_is_hardened_and_writes_only_its_folders() -> None:
    assert {unit.name for unit in SERVICES} >= {
        "mailbox.service",
        "mailbox-worker.service",
        "mailbox-backup.service",
        "mailbox-purge.service",
    }
    for unit in SERVICES:
        found = directives(unit)
        for key, value in HARDENING.items():
            assert value in found.get(key, []), f"{unit.name}: {key}={value} is missing"
        writable = {path for line in found["ReadWritePaths"] for path in line.split()}
        assert writable <= WRITABLE, f"{unit.name} may write {writable - WRITABLE}"


def test_long_running_services_restart_on_failure() -> None:
    for name in ("mailbox.service", "mailbox-worker.service"):
        assert directives(DEPLOY / name)["Restart"] == ["on-failure"]


def test_each_timer_starts_its_service() -> None:
    assert {timer.stem for timer in TIMERS} == {"mailbox-backup", "mailbox-purge"}
    for timer in TIMERS:
        assert (DEPLOY / f"{timer.stem}.service").exists()
        assert "Persistent=true" in timer.read_text()


def _installed_copy(folder: Path) -> list[Path]:
    """The units with the venv's python in place of /opt/mailbox/.venv/bin/python, which
    systemd-analyze checks for."""
    copies = []
    for unit in [*SERVICES, *TIMERS]:
        copy = folder / unit.name
        copy.write_text(unit.read_text().replace("/opt/mailbox/.venv/bin/python", sys.executable))
        copies.append(copy)
    return copies


@needs_systemd
def test_systemd_accepts_every_unit_without_a_warning(tmp_path: Path) -> None:
    units = _installed_copy(tmp_path)
    done = subprocess.run(
        ["systemd-analyze", "verify", *map(str, units)], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == "", done.stderr  # unknown keys are only warned about


@needs_systemd
def test_systemd_rates_each_service_exposure_at_most_2_of_10(tmp_path: Path) -> None:
    for unit in _installed_copy(tmp_path):
        if unit.suffix != ".service":
            continue
        done = subprocess.run(
            ["systemd-analyze", "security", "--offline=yes", "--threshold=20", str(unit)],
            capture_output=True,
            text=True,
            check=False,
        )
        assert done.returncode == 0, f"{unit.name}: {done.stdout[-300:]}"
