"""The Jinja2 environment for pages and mail, with gettext in the current language."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from mailbox import i18n
from mailbox.settings import ROOT

TEMPLATES = ROOT / "templates"


def format_datetime(value: datetime | None, tz: ZoneInfo, with_time: bool = True) -> str:
    if value is None:
        return ""
    local = value.astimezone(tz)
    if i18n.get_locale() == "en":
        return local.strftime("%Y-%m-%d %H:%M" if with_time else "%Y-%m-%d")
    text = f"{local.year}年{local.month}月{local.day}日"
    return f"{text} {local:%H:%M}" if with_time else text


def format_deadline(value: datetime | str | None, tz: ZoneInfo) -> str:
    """A deadline is the end of a working day (midnight after it): show that day, not the next.
    Mail contexts carry it as ISO text."""
    if value is None:
        return ""
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return format_datetime(moment - timedelta(seconds=1), tz, with_time=False)


def format_size(size: int) -> str:
    """Bytes as people read them: 850 KB, 2.4 MB (the same in both languages)."""
    if size < 1024 * 1024:
        return f"{max(1, round(size / 1024)) if size else 0} KB"
    if size < 1024**3:
        return f"{size / 1024 / 1024:.1f} MB"
    return f"{size / 1024**3:.1f} GB"


def create_environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_callables(  # type: ignore[attr-defined]
        lambda message, **values: i18n.gettext(message, **values),
        lambda singular, plural, n, **values: i18n.ngettext(singular, plural, n, **values),
        newstyle=True,
    )
    env.filters["datetime"] = format_datetime
    env.filters["deadline"] = format_deadline
    env.filters["filesize"] = format_size
    env.globals["current_locale"] = i18n.get_locale
    env.globals["html_lang"] = lambda: i18n.HTML_LANG[i18n.get_locale()]
    return env
