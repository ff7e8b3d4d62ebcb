"""Mail as a .txt and .html pair from templates/email/, in the writer's language."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from jinja2 import Environment

from mailbox import i18n
from mailbox.i18n import N_
from mailbox.settings import Settings

# The subject of each kind of mail; formatted with the mail's context.
SUBJECTS = {
    "receipt": N_("Your letter %(tracking_no)s has been received"),
    "accepted": N_("Your letter %(tracking_no)s has been accepted"),
    "rejected": N_("Your letter %(tracking_no)s could not be accepted"),
    "merged": N_("Your letter %(tracking_no)s is handled with an earlier one"),
    "replied": N_("We have replied to your letter %(tracking_no)s"),
    "reopened": N_("Your letter %(tracking_no)s is being handled again"),
    "follow_up_closed": N_("Your letter %(tracking_no)s: the office's answer to your rating"),
    # To staff, about their work.
    "assigned": N_("New letter %(tracking_no)s for your department"),
    "review_requested": N_("The reply to letter %(tracking_no)s is waiting for review"),
    "sent_back": N_("The reply to letter %(tracking_no)s was sent back for changes"),
    "extension_decided": N_("The extension request for letter %(tracking_no)s has been decided"),
    "due_soon": N_("Reminder: letter %(tracking_no)s is due on the next working day"),
    "overdue": N_("Overdue: letter %(tracking_no)s has not been answered in time"),
}


@dataclass(frozen=True)
class RenderedMail:
    subject: str
    body_text: str
    body_html: str


def render_mail(
    env: Environment, settings: Settings, *, kind: str, locale: str, context: dict[str, Any]
) -> RenderedMail:
    """Render `email/{kind}.txt` and `.html` in the given language."""
    previous = i18n.get_locale()
    i18n.set_locale(locale)
    try:
        subject = i18n.gettext(SUBJECTS[kind]) % context
        values = {**context, "subject": subject, "settings": settings}
        return RenderedMail(
            subject=subject,
            body_text=env.get_template(f"email/{kind}.txt").render(values),
            body_html=env.get_template(f"email/{kind}.html").render(values),
        )
    finally:
        i18n.set_locale(previous)
