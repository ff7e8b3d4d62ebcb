"""The administrator's attention list: words that flag letters and replies for a second look."""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from mailbox.auth.permissions import Page
from mailbox.db.queries import attention as queries
from mailbox.services import attention as service
from mailbox.web.admin_settings import Form, actor_of, admin_page, handle_post
from mailbox.web.common import clock_of, db_of, whole_number
from mailbox.web.staff import staff_page

SHOWN = 500  # words a page lists; the filter finds the others


async def _add(request: Request, form: Form) -> str:
    added = await service.add_words(
        db_of(request),
        clock=clock_of(request),
        actor=actor_of(request),
        raw=form.get("words", ""),  # the body limit bounds it
    )
    return f"{request.url.path}?added={len(added.added)}&skipped={added.skipped}"


async def _delete(request: Request, form: Form) -> None:
    word_id = whole_number(form.get("id", ""))
    if word_id is None:
        raise HTTPException(400)
    await service.delete_word(
        db_of(request), clock=clock_of(request), actor=actor_of(request), word_id=word_id
    )


def _count(request: Request, name: str) -> int | None:
    return whole_number(request.query_params.get(name, ""), longest=5)


async def _page(
    request: Request, errors: dict[str, str] | None = None, posted: Form | None = None
) -> Response:
    db = db_of(request)
    containing = request.query_params.get("q", "").strip()[: service.WORD_LENGTH]
    context = {
        "total": await queries.count_words(db),
        "rows": await queries.list_words(db, containing=containing, limit=SHOWN + 1),
        "shown": SHOWN,
        "containing": containing,
        "added": _count(request, "added"),
        "skipped": _count(request, "skipped"),
    }
    return await admin_page(request, "admin/attention.html", "attention", context, errors, posted)


@staff_page(Page.ADMIN)
async def attention_page(request: Request) -> Response:
    if request.method == "POST":
        return await handle_post(request, {"add": _add, "delete": _delete}, _page)
    return await _page(request)


routes = [Route("/staff/admin/attention-words", attention_page, methods=["GET", "POST"])]
