"""The OpenAPI 3.1 document of /api/v1: shared parts here, each module's paths beside its code.

Each module that serves routes under /api/v1 holds `OPENAPI = {"paths": {...}, "schemas":
{...}}` for its own endpoints (paths relative to the server URL /api/v1; optionally "tags").
The document is put together from the modules of the routes the app really has, so a module
that is not mounted is not described, and a test checks that nothing is missing; what the
webhooks post is described in webhooks_openapi.
"""

from __future__ import annotations

import contextvars
import json
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from mailbox import __version__
from mailbox.i18n import _, set_locale
from mailbox.web.api import webhooks_openapi
from mailbox.web.api.errors import CODES, default_message

PREFIX = "/api/v1"
GUIDE = Path(__file__).with_name("guide.md")  # the integration guide: info.description

Fragment = dict[str, Any]

ERROR = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message", "fields"],
            "properties": {
                "code": {
                    "type": "string",
                    "description": "Stable: bad_request, unauthorized, forbidden, not_found,"
                    " method_not_allowed, conflict, too_large, unsupported_media_type, invalid,"
                    " rate_limited, unavailable",
                    "examples": ["invalid"],
                },
                "message": {"type": "string", "description": "For people, in their language"},
                "fields": {
                    "type": "object",
                    "additionalProperties": {"type": "string"},
                    "description": "A message per field that is missing or not valid",
                },
            },
        }
    },
}

_RETRY_AFTER = {
    "Retry-After": {
        "description": "Seconds to wait before trying again",
        "schema": {"type": "string", "pattern": "^[0-9]+$"},
    }
}


def _error_response(
    description: str, status: int, headers: dict[str, Any] | None = None
) -> dict[str, Any]:
    fields = {"phone": _("Please enter a phone number so that we can reach you.")}
    example = {
        "error": {
            "code": CODES[status],
            "message": default_message(status),
            "fields": fields if status == 422 else {},
        }
    }
    response: dict[str, Any] = {
        "description": description,
        "content": {
            "application/json": {
                "schema": {"$ref": "#/components/schemas/Error"},
                "example": example,
            }
        },
    }
    if headers:
        response["headers"] = headers
    return response


def responses() -> dict[str, Any]:
    """The shared error responses, with examples in the current language."""
    return {
        "BadRequest": _error_response("The body is not a JSON object, or not readable", 400),
        "Unauthorized": _error_response(
            "No token, or a token that is unknown or revoked",
            401,
            {
                "WWW-Authenticate": {
                    "description": '`Bearer realm="mailbox"`',
                    "required": True,
                    "schema": {"type": "string", "pattern": "^Bearer "},
                }
            },
        ),
        "Forbidden": _error_response(
            "The token's scope or its user's roles do not allow this", 403
        ),
        "NotFound": _error_response("No such letter, or not in the token's reach", 404),
        "Conflict": _error_response("Not possible in the letter's present state", 409),
        "TooLarge": _error_response("The body is over 256 KiB", 413),
        "UnsupportedMediaType": _error_response("The body must be application/json", 415),
        "Invalid": _error_response("Fields missing or not valid; `fields` says which", 422),
        "RateLimited": _error_response("Too many requests; try again later", 429, _RETRY_AFTER),
        "Unavailable": _error_response(
            "Busy; nothing was changed. Try again later", 503, _RETRY_AFTER
        ),
    }


def fragments(routes: Iterable[BaseRoute]) -> list[Fragment]:
    """The OPENAPI of each module serving a route under /api/v1, in the order of the routes."""
    modules: list[str] = []
    for route in routes:
        if isinstance(route, Route) and route.path.startswith(f"{PREFIX}/"):
            module = route.endpoint.__module__
            if module not in modules:
                modules.append(module)
    found = (getattr(sys.modules[name], "OPENAPI", None) for name in modules)
    return [fragment for fragment in found if fragment is not None]


def document(parts: list[Fragment]) -> dict[str, Any]:
    paths: dict[str, Any] = {}
    schemas: dict[str, Any] = {"Error": ERROR}
    tags: dict[str, Any] = {}
    webhooks: dict[str, Any] = {}
    for part in parts:
        paths.update(part.get("paths", {}))
        schemas.update(part.get("schemas", {}))
        webhooks.update(part.get("webhooks", {}))
        tags.update({tag["name"]: tag for tag in part.get("tags", [])})
    built: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {
            "title": "Public letter office API",
            "version": __version__,
            "description": GUIDE.read_text(encoding="utf-8"),
        },
        "servers": [{"url": PREFIX}],
        "tags": list(tags.values()),
        "paths": paths,
        "components": {
            "schemas": schemas,
            "responses": responses(),
            "securitySchemes": {
                "bearerAuth": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "An API token: `python -m mailbox token create NAME`, or"
                    " the administration page API tokens",
                }
            },
        },
    }
    if webhooks:
        built["webhooks"] = webhooks
    return built


def _in_english(parts: list[Fragment]) -> dict[str, Any]:
    """Run in a copied context: the document is in English whoever asks first, and the
    request's own language is left as it was."""
    set_locale("en")
    return document(parts)


def document_of(app: Starlette) -> tuple[dict[str, Any], bytes]:
    """The app's document and its JSON, built on first use and kept: routes do not change."""
    cached: tuple[dict[str, Any], bytes] | None = getattr(app.state, "openapi", None)
    if cached is None:
        parts = [*fragments(app.routes), webhooks_openapi.OPENAPI]
        built = contextvars.copy_context().run(_in_english, parts)
        cached = built, json.dumps(built, ensure_ascii=False, indent=1).encode()
        app.state.openapi = cached
    return cached


async def openapi_json(request: Request) -> Response:
    return Response(
        document_of(request.app)[1],
        media_type="application/json",
        headers={"cache-control": "no-cache"},
    )


OPENAPI: Fragment = {
    "tags": [{"name": "Documentation"}],
    "paths": {
        "/openapi.json": {
            "get": {
                "operationId": "getOpenApiDocument",
                "tags": ["Documentation"],
                "summary": "This document (OpenAPI 3.1)",
                "responses": {
                    "200": {
                        "description": "The OpenAPI document of /api/v1",
                        "content": {
                            "application/json": {
                                "schema": {"type": "object", "required": ["openapi", "paths"]}
                            }
                        },
                    }
                },
            }
        }
    },
}

routes = [Route(f"{PREFIX}/openapi.json", openapi_json, methods=["GET"])]
