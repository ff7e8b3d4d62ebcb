"""Settings: defaults, validation that names the setting, the generated secret key."""

from __future__ import annotations

import re
import stat
from pathlib import Path

import pytest

from mailbox.settings import SettingsError, documented_settings, load_settings

ROOT = Path(__file__).resolve().parents[2]


def test_defaults(tmp_path: Path) -> None:
    settings = load_settings({"MAILBOX_DATA_DIR": str(tmp_path)}, env_file=None)
    assert settings.database_url == "sqlite+aiosqlite:///var/mailbox.sqlite3"
    assert settings.timezone == "Asia/Shanghai" and settings.challenge_on
    assert not settings.smtp_configured


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("MAILBOX_SMTP_PORT", "seventy"),
        ("MAILBOX_SMTP_PORT", "70000"),
        ("MAILBOX_SMTP_TLS", "ssl"),
        ("MAILBOX_SPAM_CHALLENGE", "maybe"),
        ("MAILBOX_TIMEZONE", "Mars/Olympus"),
        ("MAILBOX_DATABASE_URL", "mysql://localhost/x"),
        ("MAILBOX_BASE_URL", "example.org"),
        ("MAILBOX_TRUSTED_PROXIES", "10.0.0.1,not-an-address"),
        ("MAILBOX_SUBMIT_LIMIT", "-1"),
        ("MAILBOX_SMTP_HOTS", "mail.example.org"),
    ],
)
def test_bad_values_stop_with_the_setting_named(name: str, value: str, tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match=name):
        load_settings({name: value, "MAILBOX_DATA_DIR": str(tmp_path)}, env_file=None)


def test_env_file_is_read_and_the_environment_wins(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("# comment\nMAILBOX_ORG_NAME='某某厅'\nMAILBOX_SMTP_PORT=2525\n")
    settings = load_settings(
        {"MAILBOX_SMTP_PORT": "587", "MAILBOX_DATA_DIR": str(tmp_path)}, env_file=env_file
    )
    assert settings.org_name == "某某厅" and settings.smtp_port == 587


def test_the_secret_key_is_generated_once_and_kept_private(tmp_path: Path) -> None:
    first = load_settings({"MAILBOX_DATA_DIR": str(tmp_path)}, env_file=None)
    second = load_settings({"MAILBOX_DATA_DIR": str(tmp_path)}, env_file=None)
    assert len(first.secret_key) >= 32 and first.secret_key == second.secret_key
    mode = stat.S_IMODE((tmp_path / "secret_key").stat().st_mode)
    assert mode == 0o600


def test_settings_are_frozen(tmp_path: Path) -> None:
    settings = load_settings({"MAILBOX_DATA_DIR": str(tmp_path)}, env_file=None)
    with pytest.raises(AttributeError):
        settings.org_name = "x"  # type: ignore[misc]


def test_every_setting_is_documented_in_the_readme() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"`(MAILBOX_[A-Z_]+)`", readme))
    assert set(documented_settings()) <= documented


def test_a_short_secret_key_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="MAILBOX_SECRET_KEY"):
        load_settings(
            {"MAILBOX_SECRET_KEY": "short", "MAILBOX_DATA_DIR": str(tmp_path)}, env_file=None
        )
