"""Every staff form posted as what no browser sends: odd content types, broken multipart, JSON,
raw bytes, invalid UTF-8, bodies over the limit. Never a 500, and nothing stored."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AsyncExitStack

from hypothesis import example, given
from hypothesis import strategies as st
from starlette.applications import Starlette

from mailbox.db.database import Database
from tests.fuzz.conftest import FUZZ, explore, on_this_loop
from tests.fuzz.staff import Pairs, changed_tables, everything, sign_in
from tests.fuzz.strategies import (
    BOUNDARY,
    body_sizes,
    content_types,
    files,
    multipart,
    urlencoded,
)
from tests.web.test_workspace import office

__all__ = ["office"]  # a fixture, used by name

# Each form with an action that needs more fields than the body will carry: whatever the
# body, nothing may be stored.
FORMS = {
    "/staff/letters/{letter}": "note",
    "/staff/admin/users": "create",
    "/staff/admin/departments": "add",
    "/staff/admin/channels": "save",
    "/staff/admin/reasons": "add",
    "/staff/admin/templates": "add",
    "/staff/admin/holidays": "add",
    "/staff/admin/outbox": "retry",
    "/staff/admin/attention-words": "delete",
    "/staff/admin/tokens": "create",
    "/staff/admin/webhooks": "create",
    "/staff/enter": "",
    "/staff/reports/summary": "",
    "/staff/login": "",
}
SHAPES = ["form", "multipart", "json", "bytes", "oversized", "empty"]


async def test_odd_bodies_to_staff_forms_never_fail_nor_store(
    app: Starlette, db: Database, office: dict[str, str]
) -> None:
    run = on_this_loop()
    async with AsyncExitStack() as stack:
        admin = await sign_in(stack, app, db, "admin")

        async def send(
            path: str,
            shape: str,
            kind: str | None,
            attachments: list[tuple[str, bytes, str]],
            noise: bytes,
            size: int,
        ) -> None:
            # The token first: the noise lands on the action, or on no field at all.
            action = FORMS[path]
            good: Pairs = [("csrf_token", admin.token), *([("action", action)] if action else [])]
            bodies: dict[str, Callable[[], bytes]] = {
                "form": lambda: urlencoded(good) + noise,
                "multipart": lambda: multipart(good, attachments) + noise,
                "json": lambda: (
                    b'{"csrf_token": "%s", "action": %s}' % (admin.token.encode(), noise)
                ),
                "bytes": lambda: noise,
                "oversized": lambda: urlencoded([*good, ("body", "字" * (size // 9))]),
                "empty": lambda: b"",
            }
            before = await everything(db)
            headers = {"content-type": kind} if kind is not None else {}
            address = path.format(letter=office["pending"])
            response = await admin.client.post(address, content=bodies[shape](), headers=headers)
            assert response.status_code < 500, (path, shape, kind, response.text[:500])
            assert changed_tables(before, await everything(db)) == [], (path, shape, kind)

        @FUZZ
        @given(
            path=st.sampled_from(sorted(FORMS)),
            shape=st.sampled_from(SHAPES),
            kind=content_types,
            attachments=files,
            noise=st.binary(max_size=300),
            size=body_sizes,
        )
        @example(
            path="/staff/letters/{letter}",
            shape="multipart",
            kind=f"multipart/form-data; boundary={BOUNDARY}",
            attachments=[("a.txt", b"\xff\xfe", "text/plain")] * 3,
            noise=b"",
            size=0,
        )
        @example(
            path="/staff/admin/users",
            shape="oversized",
            kind="application/x-www-form-urlencoded",
            attachments=[],
            noise=b"",
            size=2 * 1024 * 1024,
        )
        def check(
            path: str,
            shape: str,
            kind: str | None,
            attachments: list[tuple[str, bytes, str]],
            noise: bytes,
            size: int,
        ) -> None:
            run(send(path, shape, kind, attachments, noise, size))

        await explore(check)
        # Nothing posted ended the session either.
        assert (await admin.client.get("/staff/admin")).status_code == 200
