"""Random tokens and their hashes; CSRF tokens bound to the secret key."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from itsdangerous import BadSignature, URLSafeSerializer, URLSafeTimedSerializer


def new_token() -> str:
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_csrf_token(secret_key: str) -> str:
    """`random.signature`: a cookie planted by someone without the key is refused."""
    nonce = secrets.token_urlsafe(18)
    return f"{nonce}.{_sign(secret_key, nonce)}"


def csrf_token_valid(secret_key: str, token: str) -> bool:
    nonce, _sep, signature = token.partition(".")
    # A cookie may carry any Latin-1 text: compare_digest refuses non-ASCII str, not bytes.
    expected = _sign(secret_key, nonce).encode()
    return bool(nonce) and hmac.compare_digest(signature.encode("utf-8", "surrogatepass"), expected)


def _sign(secret_key: str, value: str) -> str:
    return hmac.new(
        secret_key.encode(), b"csrf:" + value.encode("utf-8", "surrogatepass"), hashlib.sha256
    ).hexdigest()[:32]


def rating_token(secret_key: str, tracking_no: str, reply_id: int) -> str:
    """The link in the reply mail: lets its holder read that reply and rate it, nothing else."""
    return URLSafeSerializer(secret_key, salt="rating").dumps([tracking_no, reply_id])


def read_rating_token(secret_key: str, token: str) -> tuple[str, int] | None:
    try:
        tracking_no, reply_id = URLSafeSerializer(secret_key, salt="rating").loads(token)
    except (BadSignature, ValueError, TypeError):
        return None
    return str(tracking_no), int(reply_id)


FILE_LINK_LIFETIME = 3600  # a look-up's download links last an hour; then look up again


def file_token(secret_key: str, letter_id: int, attachment_id: int) -> str:
    """A download link shown to the writer after /track: that one file, for an hour."""
    return URLSafeTimedSerializer(secret_key, salt="file").dumps([letter_id, attachment_id])


def read_file_token(secret_key: str, token: str) -> tuple[int, int] | None:
    try:
        letter_id, attachment_id = URLSafeTimedSerializer(secret_key, salt="file").loads(
            token, max_age=FILE_LINK_LIFETIME
        )
        return int(letter_id), int(attachment_id)
    except (BadSignature, ValueError, TypeError):  # SignatureExpired is a BadSignature
        return None
