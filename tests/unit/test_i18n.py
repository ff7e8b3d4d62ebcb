"""Languages: negotiation, and a Chinese translation for every string in code and templates."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from mailbox import i18n

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("header", "locale"),
    [
        ("", "zh_CN"),
        ("en-US,en;q=0.9", "en"),
        ("fr-FR, en;q=0.5", "en"),
        ("de", "zh_CN"),
        ("en;q=0.4, zh-TW;q=0.8", "zh_CN"),
        ("en;q=abc", "en"),
    ],
)
def test_negotiation(header: str, locale: str) -> None:
    assert i18n.negotiate(header) == locale


def _extracted() -> set[str]:
    method_map = [
        ("mailbox/**.py", "python"),
        ("templates/**.html", "jinja2"),
        ("templates/**.txt", "jinja2"),
    ]
    options = {
        "templates/**.html": {"extensions": "jinja2.ext.i18n"},
        "templates/**.txt": {"extensions": "jinja2.ext.i18n"},
    }
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(ROOT),
        method_map,
        options,
        keywords={"_": None, "gettext": None, "ngettext": (1, 2), "N_": None},
    ):
        found.add(message if isinstance(message, str) else message[0])
    return found


def test_every_string_has_a_chinese_translation() -> None:
    with (i18n.LOCALE_DIR / "zh_CN" / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        catalog = read_po(handle, locale="zh_CN")
    translated = {m.id if isinstance(m.id, str) else m.id[0]: m.string for m in catalog if m.id}
    missing = sorted(m for m in _extracted() if not translated.get(m))
    assert not missing, f"run `make messages` and translate: {missing}"
    fuzzy = [m.id for m in catalog if m.id and m.fuzzy]
    assert not fuzzy


def test_placeholders_survive_translation() -> None:
    with (i18n.LOCALE_DIR / "zh_CN" / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        catalog = read_po(handle, locale="zh_CN")
    for message in catalog:
        if message.id and isinstance(message.id, str):
            pattern = r"%\((\w+)\)[sd]"
            assert sorted(re.findall(pattern, message.id)) == sorted(
                re.findall(pattern, message.string)
            ), message.id


def test_gettext_follows_the_current_locale() -> None:
    i18n.set_locale("en")
    assert i18n.gettext("Check a letter") == "Check a letter"
    i18n.set_locale("zh_CN")
    assert i18n.gettext("Check a letter") != "Check a letter"
    i18n.set_locale("xx")
    assert i18n.get_locale() == "zh_CN"
