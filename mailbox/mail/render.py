"""Mail as a .txt and .html pair from templates/email/, in the writer's language."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from jinja2 import Environment

from mailbox import i18n


@dataclass(frozen=True)
class RenderedMail:
    subject: str
    body_text: str
    body_html: str


def render_mail(
    env: Environment, name: str, *, locale: str, subject: str, **context: Any
) -> RenderedMail:
    """Render `email/{name}.txt` and `.html`; `subject` is a msgid translated here."""
    previous = i18n.get_locale()
    i18n.set_locale(locale)
    try:
        values = {"subject": i18n.gettext(subject, **context.get("subject_values", {}))}
        values.update(context)
        return RenderedMail(
            subject=values["subject"],
            body_text=env.get_template(f"email/{name}.txt").render(values),
            body_html=env.get_template(f"email/{name}.html").render(values),
        )
    finally:
        i18n.set_locale(previous)
