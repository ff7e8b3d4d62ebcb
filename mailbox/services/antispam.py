"""Anti-spam without image puzzles: ALTCHA proof of work, a no-script fallback, a honeypot."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from altcha import create_challenge, verify_solution
from itsdangerous import BadSignature, TimestampSigner

from mailbox.clock import Clock
from mailbox.db.database import Database
from mailbox.i18n import _
from mailbox.services.errors import RateLimited
from mailbox.services.limits import address_bucket, count_hit
from mailbox.settings import Settings

HONEYPOT = "website"  # hidden from people by CSS; bots fill it in
ALGORITHM = "PBKDF2/SHA-256"
COST = 5_000  # about half a second in a phone's browser, a millisecond to verify
CHALLENGE_LIFETIME = timedelta(minutes=30)
FALLBACK_MIN_SECONDS = 3  # a person without scripts takes longer than this to write a letter
FALLBACK_PER_HOUR = 3  # per address: the fallback proves less, so it gets less


@dataclass(frozen=True)
class SpamCheck:
    kind: str  # "pow" or "fallback"
    error: str | None
    spent: str = ""  # the solved challenge's signature, to be spent once
    expires_at: datetime | None = None


def _altcha_key(settings: Settings) -> str:
    return hmac.new(settings.secret_key.encode(), b"altcha", hashlib.sha256).hexdigest()


def challenge_dict(settings: Settings) -> dict[str, Any]:
    # The library checks expiry against the real time, so the real time sets it too.
    challenge = create_challenge(
        ALGORITHM,
        COST,
        hmac_secret=_altcha_key(settings),
        expires_at=int(time.time() + CHALLENGE_LIFETIME.total_seconds()),
    )
    data: dict[str, Any] = challenge.to_dict()
    return data


def form_stamp(secret_key: str) -> str:
    return TimestampSigner(secret_key, salt="form-stamp").sign(b"form").decode()


def check(settings: Settings, form: dict[str, str]) -> SpamCheck:
    payload = form.get("altcha", "")
    if payload:
        result = verify_solution(payload, _altcha_key(settings))
        challenge = _signed_challenge(payload) if result.verified else None
        if challenge is None:
            return SpamCheck("pow", _("The automatic check did not pass. Please send again."))
        # Spent by the challenge's signature, not the payload's text, which can be re-encoded.
        return SpamCheck("pow", None, spent=challenge[0], expires_at=challenge[1])
    age = _stamp_age(settings, form.get("form_stamp", ""))
    if age is None or age < FALLBACK_MIN_SECONDS:
        return SpamCheck(
            "fallback", _("Please take a few seconds to check your letter, then send it again.")
        )
    return SpamCheck("fallback", None)


def _signed_challenge(payload: str) -> tuple[str, datetime] | None:
    """The verified payload's challenge signature and expiry."""
    try:
        challenge = json.loads(base64.b64decode(payload))["challenge"]
        expires = int(challenge["parameters"]["expiresAt"])
        return str(challenge["signature"]), datetime.fromtimestamp(expires, UTC)
    except (ValueError, KeyError, TypeError):
        return None


def _stamp_age(settings: Settings, stamp: str) -> float | None:
    """Seconds since the form was shown, or None for a stamp we did not sign."""
    try:
        _value, signed_at = TimestampSigner(settings.secret_key, salt="form-stamp").unsign(
            stamp, return_timestamp=True
        )
    except BadSignature:
        return None
    return time.time() - signed_at.timestamp()


async def spend(
    db: Database, settings: Settings, clock: Clock, client_ip: str, result: SpamCheck
) -> None:
    """A solution works once; fallback letters have their own, smaller allowance.
    Raises RateLimited when either is used up."""
    async with db.transaction() as conn:
        if result.kind == "pow":
            first_use = await conn.fetch_value(
                "INSERT INTO spent_challenges (signature, expires_at) VALUES (:signature, :until)"
                " ON CONFLICT (signature) DO NOTHING RETURNING signature",
                {"signature": result.spent, "until": result.expires_at},
            )
            if first_use is None:
                raise RateLimited("this solution was used before")
        else:
            await count_hit(
                conn,
                bucket=f"submit-fallback:{address_bucket(client_ip)}",
                limit=FALLBACK_PER_HOUR,
                now=clock.now(),
            )
