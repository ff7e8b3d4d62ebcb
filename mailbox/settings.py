"""Settings: read once from MAILBOX_* environment variables or `.env`, validated, frozen."""

from __future__ import annotations

import os
import secrets
import zoneinfo
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields, replace
from ipaddress import ip_network
from pathlib import Path
from typing import Any

PREFIX = "MAILBOX_"
ROOT = Path(__file__).resolve().parent.parent


class SettingsError(ValueError):
    """A setting is unknown or invalid; the message names it."""


def _setting(default: Any, help: str) -> Any:
    return field(default=default, metadata={"help": help})


@dataclass(frozen=True)
class Settings:
    database_url: str = _setting(
        "sqlite+aiosqlite:///var/mailbox.sqlite3",
        "Database: sqlite+aiosqlite:///PATH (relative to the repository root) or "
        "postgresql+asyncpg://user@host/db.",
    )
    secret_key: str = _setting(
        "", "Key for signing and for hashing query codes; generated into var/ when unset."
    )
    base_url: str = _setting("http://127.0.0.1:8000", "Public address, used in mail links.")
    timezone: str = _setting("Asia/Shanghai", "The office's time zone.")
    org_name: str = _setting("示例厅", "The department's name, shown in pages and mail.")
    smtp_host: str = _setting("", "SMTP server; mail waits in the outbox while unset.")
    smtp_port: int = _setting(25, "SMTP port.")
    smtp_username: str = _setting("", "SMTP user name (optional).")
    smtp_password: str = _setting("", "SMTP password (optional).")
    smtp_tls: str = _setting("none", "none, starttls or tls.")
    mail_from: str = _setting("mailbox@localhost", "Sender address of outgoing mail.")
    spam_challenge: str = _setting("on", "on or off: the ALTCHA proof-of-work on forms.")
    trusted_proxies: tuple[str, ...] = _setting(
        (), "Comma-separated proxy addresses whose X-Forwarded-For is believed."
    )
    submit_limit: int = _setting(10, "Letters per client address per hour (0 = no limit).")
    track_limit: int = _setting(30, "Tracking lookups per client address per hour (0 = no limit).")
    login_limit: int = _setting(10, "Failed staff logins per address per 15 minutes (0 = off).")
    rating_days: int = _setting(15, "Days after a reply during which the writer may rate it.")
    rate_decimals: int = _setting(1, "Decimals shown in report rates, 0 to 3 (JSON: exact).")
    retention_years: int = _setting(
        0,
        "Years after closing before `python -m mailbox purge` anonymises a letter's personal "
        "fields, 1 to 100 (0 = never).",
    )
    metrics_allow: tuple[str, ...] = _setting(
        ("127.0.0.1", "::1"),
        "Comma-separated addresses or networks allowed to read /metrics (others get 404).",
    )
    data_dir: str = _setting(
        "var",
        "Folder for files the app keeps (the secret key, attachments under attachments/), "
        "relative to the repository root; shared by all app servers.",
    )
    attachment_files: int = _setting(
        5, "Files a writer may attach to a letter, 0 to 20 (0 = no attachments)."
    )
    attachment_mb: int = _setting(10, "Largest attachment in MB, 1 to 100.")
    attachment_total_mb: int = _setting(
        30, "All attachments of one letter, or of one reply, together in MB, 1 to 500."
    )

    @property
    def tz(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.timezone)

    @property
    def challenge_on(self) -> bool:
        return self.spam_challenge == "on"

    @property
    def smtp_configured(self) -> bool:
        return bool(self.smtp_host)

    @property
    def upload_limit(self) -> int:
        """The largest body a form with files may send. Every file of an allowed size fits,
        so a file too large, or too many megabytes in all, gets a message naming it and the
        form back with the text, not a bare 413."""
        most = max(self.attachment_files * self.attachment_mb, self.attachment_total_mb)
        return (most + 1) * 1024 * 1024


def _int(name: str, raw: str) -> int:
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a whole number, not {raw!r}") from None
    if value < 0:
        raise SettingsError(f"{name} must not be negative")
    return value


def _choice(*allowed: str) -> Callable[[str, str], str]:
    def check(name: str, raw: str) -> str:
        if raw not in allowed:
            raise SettingsError(f"{name} must be one of {', '.join(allowed)}, not {raw!r}")
        return raw

    return check


def _database_url(name: str, raw: str) -> str:
    if not raw.startswith(("sqlite+aiosqlite:///", "postgresql+asyncpg://", "postgresql://")):
        raise SettingsError(
            f"{name} must start with sqlite+aiosqlite:/// or postgresql+asyncpg://, not {raw!r}"
        )
    return raw


def _timezone(name: str, raw: str) -> str:
    try:
        zoneinfo.ZoneInfo(raw)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise SettingsError(f"{name}: unknown time zone {raw!r}") from None
    return raw


def _base_url(name: str, raw: str) -> str:
    if not raw.startswith(("http://", "https://")):
        raise SettingsError(f"{name} must start with http:// or https://, not {raw!r}")
    return raw.rstrip("/")


def _proxies(name: str, raw: str) -> tuple[str, ...]:
    items = tuple(part.strip() for part in raw.split(",") if part.strip())
    for item in items:
        try:
            ip_network(item, strict=False)
        except ValueError:
            raise SettingsError(f"{name}: {item!r} is not an IP address or network") from None
    return items


def _port(name: str, raw: str) -> int:
    value = _int(name, raw)
    if not 0 < value < 65536:
        raise SettingsError(f"{name} must be a port number between 1 and 65535")
    return value


def _range(low: int, high: int) -> Callable[[str, str], int]:
    def parse(name: str, raw: str) -> int:
        value = _int(name, raw)
        if not low <= value <= high:
            raise SettingsError(f"{name} must be between {low} and {high}")
        return value

    return parse


def _text(name: str, raw: str) -> str:
    return raw


_PARSERS: dict[str, Callable[[str, str], Any]] = {
    "database_url": _database_url,
    "timezone": _timezone,
    "base_url": _base_url,
    "smtp_port": _port,
    "smtp_tls": _choice("none", "starttls", "tls"),
    "spam_challenge": _choice("on", "off"),
    "trusted_proxies": _proxies,
    "metrics_allow": _proxies,
    "submit_limit": _int,
    "track_limit": _int,
    "login_limit": _int,
    "rating_days": _int,
    "rate_decimals": _range(0, 3),
    "retention_years": _range(0, 100),
    "attachment_files": _range(0, 20),
    "attachment_mb": _range(1, 100),
    "attachment_total_mb": _range(1, 500),
}


def documented_settings() -> dict[str, str]:
    """Environment name → help text, for the README and `--help`."""
    return {PREFIX + f.name.upper(): f.metadata["help"] for f in fields(Settings)}


def read_env_file(path: Path) -> dict[str, str]:
    values: dict[str, str] = {}
    if not path.exists():
        return values
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if "=" not in line:
            raise SettingsError(f"{path}:{number}: expected NAME=value")
        key, value = line.split("=", 1)
        values[key.strip().removeprefix("export ")] = value.strip().strip("'\"")
    return values


def load_settings(
    environ: Mapping[str, str] | None = None, env_file: Path | None = ROOT / ".env"
) -> Settings:
    """Settings from `.env` overlaid by the environment; unknown MAILBOX_* names are errors."""
    source = read_env_file(env_file) if env_file else {}
    source.update(os.environ if environ is None else environ)
    known = {f.name: f for f in fields(Settings)}
    values: dict[str, Any] = {}
    for key, raw in source.items():
        if not key.startswith(PREFIX):
            continue
        name = key[len(PREFIX) :].lower()
        if name not in known:
            raise SettingsError(f"unknown setting {key}; see README for the list")
        values[name] = _PARSERS.get(name, _text)(key, raw.strip())
    settings = Settings(**values)
    if settings.secret_key and len(settings.secret_key) < 32:
        # It keys the query-code hashes: a short one leaves a copied database open to guessing.
        raise SettingsError(f"{PREFIX}SECRET_KEY must be at least 32 characters long")
    if not settings.secret_key:
        settings = _with_generated_secret(settings)
    return settings


def _with_generated_secret(settings: Settings) -> Settings:
    # The key hashes query codes, so it must survive restarts: keep it in the data folder.
    folder = data_path(settings)
    folder.mkdir(parents=True, exist_ok=True)
    key_file = folder / "secret_key"
    if not key_file.exists():
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(48))
    key = key_file.read_text().strip()
    if len(key) < 32:
        raise SettingsError(f"{key_file} holds a key shorter than 32 characters")
    return replace(settings, secret_key=key)


def data_path(settings: Settings) -> Path:
    path = Path(settings.data_dir)
    return path if path.is_absolute() else ROOT / path
