"""The letter form's rules (DESIGN §8 field names); messages come back translated."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from mailbox.i18n import _

TITLE_MIN, TITLE_MAX = 4, 50
BODY_MIN, BODY_MAX = 10, 5000
NAME_MAX = 30
ADDRESS_MAX = 100
EMAIL_MAX = 254
FIELDS = ("title", "body", "name", "phone", "email", "address", "publish_consent")

_MOBILE = re.compile(r"^1[3-9]\d{9}$")
_LANDLINE = re.compile(r"^0\d{2,3}-?\d{7,8}(-\d{1,6})?$")
_DROP_ALLOWED = str.maketrans("", "", "\n\t")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s.]+(\.[^@\s.]+)+$")


@dataclass(frozen=True)
class LetterInput:
    """A letter that passed validation, normalised."""

    title: str
    body: str
    name: str
    phone: str
    email: str
    address: str
    publish_consent: bool


def clean_text(raw: str, *, multiline: bool = False) -> str:
    """NFC, no control characters (newlines kept where allowed), trimmed."""
    text = unicodedata.normalize("NFC", raw.replace("\r\n", "\n").replace("\r", "\n"))
    allowed = "\n\t" if multiline else ""
    # Fast path: almost every letter is printable text, and the check runs in C.
    if not (text.translate(_DROP_ALLOWED) if multiline else text).isprintable():
        text = "".join(
            ch for ch in text if ch in allowed or unicodedata.category(ch) not in ("Cc", "Cf", "Cs")
        )
    return text.strip()


def normalise_phone(raw: str) -> str:
    phone = re.sub(r"[\s()（）]", "", raw).replace("—", "-").replace("－", "-")
    for prefix in ("+86", "0086"):
        if phone.startswith(prefix):
            phone = phone[len(prefix) :].lstrip("-")
    # 138-1234-5678 is a mobile number written in groups; landlines keep the area-code dash.
    return phone.replace("-", "") if _MOBILE.match(phone.replace("-", "")) else phone


def validate_letter(form: dict[str, str]) -> tuple[LetterInput | None, dict[str, str]]:
    """The clean letter, or None and a message per field in the current language."""
    errors: dict[str, str] = {}
    title = clean_text(form.get("title", ""))
    body = clean_text(form.get("body", ""), multiline=True)
    name = clean_text(form.get("name", ""))
    phone = normalise_phone(clean_text(form.get("phone", "")))
    email = clean_text(form.get("email", "")).lower()
    address = clean_text(form.get("address", ""))

    if not title:
        errors["title"] = _("Please enter a title.")
    elif not TITLE_MIN <= len(title) <= TITLE_MAX:
        errors["title"] = _(
            "The title must be %(min)d to %(max)d characters long; it is %(len)d.",
            min=TITLE_MIN,
            max=TITLE_MAX,
            len=len(title),
        )
    if not body:
        errors["body"] = _("Please write your letter.")
    elif not BODY_MIN <= len(body) <= BODY_MAX:
        errors["body"] = _(
            "The letter must be %(min)d to %(max)d characters long; it is %(len)d.",
            min=BODY_MIN,
            max=BODY_MAX,
            len=len(body),
        )
    if not name:
        errors["name"] = _("Please enter your name.")
    elif len(name) > NAME_MAX:
        errors["name"] = _("The name can be at most %(max)d characters long.", max=NAME_MAX)
    if not phone:
        errors["phone"] = _("Please enter a phone number so that we can reach you.")
    elif not (_MOBILE.match(phone) or _LANDLINE.match(phone)):
        errors["phone"] = _(
            "Please enter a mainland mobile number (11 digits, such as 13812345678) "
            "or a landline with its area code (such as 010-12345678)."
        )
    if email and (len(email) > EMAIL_MAX or not _EMAIL.match(email)):
        errors["email"] = _("Please check the email address, such as name@example.com.")
    if len(address) > ADDRESS_MAX:
        errors["address"] = _(
            "The address can be at most %(max)d characters long.", max=ADDRESS_MAX
        )
    if errors:
        return None, errors
    consent = form.get("publish_consent", "") in ("1", "on", "yes", "true")
    return LetterInput(title, body, name, phone, email, address, consent), {}
