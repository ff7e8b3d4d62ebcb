"""Tracking numbers and query codes."""

from __future__ import annotations

from datetime import date

from mailbox.domain.codes import (
    QUERY_ALPHABET,
    hash_query_code,
    new_query_code,
    new_tracking_no,
    normalise_query_code,
    normalise_tracking_no,
    query_code_matches,
)


def test_tracking_numbers_are_the_date_and_six_random_digits() -> None:
    numbers = {new_tracking_no(date(2018, 12, 31)) for _ in range(200)}
    assert all(len(n) == 14 and n.startswith("20181231") and n.isdigit() for n in numbers)
    assert len(numbers) > 190


def test_query_codes_avoid_look_alike_characters() -> None:
    codes = [new_query_code() for _ in range(500)]
    assert all(len(code) == 8 and set(code) <= set(QUERY_ALPHABET) for code in codes)
    assert not set("01OIL") & set("".join(codes))


def test_normalising_what_people_type() -> None:
    assert normalise_query_code(" abcd-23 45 ") == "ABCD2345"
    assert normalise_tracking_no("20260930 123 456") == "20260930123456"


def test_the_hash_is_keyed() -> None:
    stored = hash_query_code("key-one", "ABCD2345")
    assert query_code_matches("key-one", "ABCD2345", stored)
    assert not query_code_matches("key-two", "ABCD2345", stored)
    assert not query_code_matches("key-one", "ABCD2346", stored)
