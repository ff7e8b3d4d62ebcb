"""Tracking numbers and query codes: random, easy to read aloud, never stored in clear."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import date

# No 0/O, 1/I/L: the writer copies the code from paper or reads it over the phone.
QUERY_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
QUERY_CODE_LENGTH = 8
TRACKING_RANDOM_DIGITS = 6
TRACKING_NO_LENGTH = len("YYYYMMDD") + TRACKING_RANDOM_DIGITS


def new_tracking_no(day: date) -> str:
    """`YYYYMMDD` and six random digits: digits only, easy to type on a phone keypad.
    Random rather than sequential so that numbers cannot be guessed; a clash is retried."""
    suffix = secrets.randbelow(10**TRACKING_RANDOM_DIGITS)
    return f"{day:%Y%m%d}{suffix:0{TRACKING_RANDOM_DIGITS}d}"


def new_query_code() -> str:
    return "".join(secrets.choice(QUERY_ALPHABET) for _ in range(QUERY_CODE_LENGTH))


def normalise_query_code(raw: str) -> str:
    """What the writer typed, forgiving case, spaces and dashes."""
    return "".join(ch for ch in raw.upper() if ch.isalnum())


def normalise_tracking_no(raw: str) -> str:
    return "".join(ch for ch in raw if ch.isdigit())


def hash_query_code(secret_key: str, code: str) -> str:
    return hmac.new(secret_key.encode(), code.encode(), hashlib.sha256).hexdigest()


def query_code_matches(secret_key: str, code: str, stored_hash: str) -> bool:
    return hmac.compare_digest(hash_query_code(secret_key, code), stored_hash)
