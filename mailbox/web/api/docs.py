"""/api/docs: the API's reference, readable with or without JavaScript."""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from mailbox.web.api.openapi import PREFIX, document_of
from mailbox.web.common import render

METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    summary: str


async def docs_page(request: Request) -> Response:
    """Swagger UI (vendored) renders the document; the server-rendered list of operations and
    the guide's text are there for browsers without JavaScript."""
    document, _json = document_of(request.app)
    operations = [
        Operation(method.upper(), PREFIX + path, operation.get("summary", ""))
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method in METHODS
    ]
    return render(
        request,
        "api/docs.html",
        {
            "operations": operations,
            "document_url": f"{PREFIX}/openapi.json",
            "guide": document["info"]["description"],
            "version": document["info"]["version"],
        },
    )


routes = [Route("/api/docs", docs_page, methods=["GET"])]
