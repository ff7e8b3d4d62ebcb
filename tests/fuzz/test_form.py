"""The citizen's letter form under random input: every answer is a receipt with a complete
letter (its row, its submitted event, its receipt mail when an email was given) or a 4xx that
stored nothing; never a 500."""

from __future__ import annotations

from collections.abc import Callable

import httpx
from hypothesis import example, given
from hypothesis import strategies as st

from mailbox.db.database import Database
from mailbox.domain.validation import FIELDS
from tests.fuzz.conftest import FUZZ, explore, on_this_loop, snapshot
from tests.fuzz.strategies import (
    BOUNDARY,
    body_sizes,
    content_types,
    files,
    multipart,
    urlencoded,
    values,
)
from tests.helpers import GOOD_LETTER, csrf_token

FORM = "/write/consult"
Pairs = list[tuple[str | bytes, str | bytes]]

# Each field either as a careful writer fills it or anything at all.
letter_fields = st.fixed_dictionaries(
    {},
    optional={name: st.one_of(st.just(GOOD_LETTER.get(name, "1")), values) for name in FIELDS},
)
extra_pairs = st.lists(st.tuples(st.one_of(st.sampled_from(FIELDS), values), values), max_size=4)


async def _posted(
    client: httpx.AsyncClient, db: Database, body: bytes, content_type: str | None
) -> None:
    before = await snapshot(db)
    headers = {"content-type": content_type} if content_type is not None else {}
    response = await client.post(FORM, content=body, headers=headers)
    after = await snapshot(db)
    assert response.status_code < 500, response.text[:500]
    if response.status_code != 303:
        assert 400 <= response.status_code < 500, response.status_code
        assert after == before, "a refused letter left rows behind"
        return
    assert response.headers["location"] == "/receipt"
    assert after["letters"] == before["letters"] + 1
    letter = await db.fetch_one(
        "SELECT id, title, body, writer_name, writer_phone, writer_email FROM letters"
        " ORDER BY id DESC LIMIT 1"
    )
    assert letter is not None
    assert all(letter[name] for name in ("title", "body", "writer_name", "writer_phone"))
    events = await db.fetch_value(
        "SELECT COUNT(*) FROM letter_events WHERE letter_id = :id AND kind = 'submitted'",
        {"id": letter["id"]},
    )
    mails = await db.fetch_value(
        "SELECT COUNT(*) FROM outbox WHERE letter_id = :id AND kind = 'receipt'",
        {"id": letter["id"]},
    )
    assert events == 1
    assert mails == (1 if letter["writer_email"] else 0)
    # Nothing but this one letter, its event, its mail (and its webhook records) was added.
    assert after["letter_events"] == before["letter_events"] + 1
    assert after["outbox"] == before["outbox"] + mails
    for table in ("replies", "internal_notes", "ratings", "publications"):
        assert after[table] == before[table]


async def test_random_form_fields_give_a_receipt_or_a_4xx_and_no_partial_letter(
    client: httpx.AsyncClient, db: Database
) -> None:
    run = on_this_loop()
    token = await csrf_token(client, FORM)

    @FUZZ
    @given(
        fields=letter_fields,
        extra=extra_pairs,
        encoding=st.sampled_from(["quoted", "raw", "multipart"]),
        with_token=st.booleans(),
    )
    @example(fields=GOOD_LETTER, extra=[], encoding="quoted", with_token=True)
    @example(fields={**GOOD_LETTER, "email": ""}, extra=[], encoding="multipart", with_token=True)
    @example(  # a lone surrogate and invalid UTF-8 in otherwise good text
        fields={**GOOD_LETTER, "title": "关于\ud800基站", "body": b"\xff\xfe" * 20},
        extra=[],
        encoding="quoted",
        with_token=True,
    )
    def check(
        fields: dict[str, str | bytes], extra: Pairs, encoding: str, with_token: bool
    ) -> None:
        pairs: Pairs = [*fields.items(), *extra]
        if with_token:
            pairs.append(("csrf_token", token))
        if encoding == "multipart":
            body = multipart(pairs, [])
            content_type = f"multipart/form-data; boundary={BOUNDARY}"
        else:
            body = urlencoded(pairs, quoted=encoding == "quoted")
            content_type = "application/x-www-form-urlencoded"
        run(_posted(client, db, body, content_type))

    await explore(check)


async def test_odd_bodies_and_content_types_never_store_a_partial_letter(
    client: httpx.AsyncClient, db: Database
) -> None:
    run = on_this_loop()
    token = await csrf_token(client, FORM)
    good: Pairs = [*GOOD_LETTER.items(), ("csrf_token", token)]

    @FUZZ
    @given(
        content_type=content_types,
        shape=st.sampled_from(["form", "multipart", "json", "bytes", "oversized", "empty"]),
        attachments=files,
        noise=st.binary(max_size=300),
        size=body_sizes,
    )
    @example(  # a file among the fields: refused, not stored without it
        content_type=f"multipart/form-data; boundary={BOUNDARY}",
        shape="multipart",
        attachments=[("a.txt", b"hello", "text/plain")],
        noise=b"",
        size=0,
    )
    @example(  # non-ASCII after the CSRF token: compare_digest raised TypeError (was a 500)
        content_type="application/x-www-form-urlencoded",
        shape="form",
        attachments=[],
        noise=b"\xc3\xa9",
        size=0,
    )
    @example(
        content_type="application/x-www-form-urlencoded",
        shape="oversized",
        attachments=[],
        noise=b"",
        size=256 * 1024 + 1,
    )
    def check(
        content_type: str | None,
        shape: str,
        attachments: list[tuple[str, bytes, str]],
        noise: bytes,
        size: int,
    ) -> None:
        bodies: dict[str, Callable[[], bytes]] = {
            "form": lambda: urlencoded(good) + noise,
            "multipart": lambda: multipart(good, attachments) + noise,
            "json": lambda: b'{"title": %s}' % noise,
            "bytes": lambda: noise,
            # A good letter whose body field is padded to the size.
            "oversized": lambda: urlencoded([*good, ("body", "字" * (size // 9))]),
            "empty": lambda: b"",
        }
        run(_posted(client, db, bodies[shape](), content_type))

    await explore(check)
