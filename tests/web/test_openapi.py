"""The OpenAPI document of /api/v1 and the /api/docs page that shows it.

Neither reads the database, so the app is built without starting it (no lifespan).
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from openapi_spec_validator import validate
from starlette.applications import Starlette
from starlette.routing import Route

from mailbox.app import create_app
from mailbox.settings import ROOT, Settings
from mailbox.web.api.docs import METHODS
from tests.conftest import SECRET


@pytest.fixture
def app(tmp_path: Path) -> Starlette:
    settings = Settings(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'unused.sqlite3'}",
        secret_key=SECRET,
        data_dir=str(tmp_path / "var"),
        org_name="测试厅",
    )
    return create_app(settings, run_mail_worker=False)


@pytest.fixture
async def client(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


async def fetch_document(client: httpx.AsyncClient) -> dict[str, Any]:
    response = await client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    document: dict[str, Any] = response.json()
    return document


def operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    """(METHOD, /api/v1 path, operation) for every operation of the document."""
    return [
        (method.upper(), "/api/v1" + path, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method in METHODS
    ]


async def test_the_document_is_valid_openapi_3_1(client: httpx.AsyncClient) -> None:
    document = await fetch_document(client)
    validate(document)  # raises, naming the first problem
    assert document["openapi"] == "3.1.0"
    assert document["servers"] == [{"url": "/api/v1"}]


async def test_the_document_is_built_once_and_served_as_it_was_built(
    app: Starlette, client: httpx.AsyncClient
) -> None:
    first = await client.get("/api/v1/openapi.json")
    second = await client.get("/api/v1/openapi.json")
    assert first.content == second.content
    assert app.state.openapi[1] == first.content


async def test_every_api_route_is_described_and_every_described_operation_is_served(
    app: Starlette, client: httpx.AsyncClient
) -> None:
    """A route may serve several documented paths (`/staff/letters/{tracking_no}/{action}`
    serves `.../accept`, `.../reject`, ...): each documented path, read literally, must
    match a route with its method, and each route must serve some documented path."""
    routes = [
        route
        for route in app.routes
        if isinstance(route, Route) and route.path.startswith("/api/v1/")
    ]
    described = [(method, path) for method, path, _op in operations(await fetch_document(client))]

    def serves(route: Route, method: str, path: str) -> bool:
        return method in (route.methods or set()) and bool(route.path_regex.match(path))

    unserved = [
        (method, path)
        for method, path in described
        if not any(serves(route, method, path) for route in routes)
    ]
    undescribed = [
        (method, route.path)
        for route in routes
        for method in sorted((route.methods or set()) - {"HEAD"})
        if not any(serves(route, method, path) for other, path in described if other == method)
    ]
    assert unserved == [], "operations the app does not serve"
    assert undescribed == [], "routes missing from the document"


async def test_every_operation_is_named_summarised_and_answers_its_errors_in_json(
    client: httpx.AsyncClient,
) -> None:
    document = await fetch_document(client)
    ids = [operation["operationId"] for _method, _path, operation in operations(document)]
    assert len(ids) == len(set(ids)), "operationIds must be unique"
    for method, path, operation in operations(document):
        where = f"{method} {path}"
        assert operation.get("summary"), where
        responses = operation["responses"]
        if operation.get("security"):
            assert "401" in responses, f"{where} needs a token but does not document 401"
        if "requestBody" in operation:
            for status in ("400", "415", "422"):
                assert status in responses, f"{where} takes a body but does not document {status}"
        for status, response in responses.items():
            if status.startswith(("4", "5")) and "$ref" not in response:
                schema = response["content"]["application/json"]["schema"]
                assert schema == {"$ref": "#/components/schemas/Error"}, where


async def test_the_guide_tells_how_to_get_a_token_call_page_and_verify_webhooks(
    client: httpx.AsyncClient,
) -> None:
    guide = (await fetch_document(client))["info"]["description"]
    for needed in (
        "python -m mailbox token create",
        "--scope submit",
        "/staff/admin/tokens",
        "Authorization: Bearer",
        "Accept-Language: en",
        "+08:00",
        "cursor",
        "429",
        "Retry-After",
        "curl -s -X POST $BASE/letters",
        "/open311/v2/discovery.json",
        "X-Mailbox-Signature: sha256=",
        "hmac.compare_digest",
    ):
        assert needed in guide, needed


async def test_webhook_deliveries_are_described_for_every_event(
    client: httpx.AsyncClient,
) -> None:
    document = await fetch_document(client)
    assert set(document["webhooks"]) == {
        "letter.submitted",
        "letter.accepted",
        "letter.replied",
        "letter.rated",
        "letter.overdue",
        "ping",
    }
    schemas = document["components"]["schemas"]
    assert "WebhookDelivery" in schemas and "WebhookLetter" in schemas


@pytest.mark.parametrize(
    ("language", "heading"), [("zh-CN", "接口文档"), ("en", "API documentation")]
)
async def test_the_docs_page_lists_every_operation_in_the_readers_language(
    client: httpx.AsyncClient, language: str, heading: str
) -> None:
    document = await fetch_document(client)
    page = await client.get("/api/docs", headers={"accept-language": language})
    assert page.status_code == 200
    assert f"<h1>{heading}</h1>" in page.text
    assert 'href="/api/v1/openapi.json"' in page.text
    for method, path, operation in operations(document):
        assert f"<code>{method}</code></td><td><code>{path}</code>" in page.text
        assert operation["summary"].replace("'", "&#39;") in page.text
    assert "X-Mailbox-Signature" in page.text  # the guide, readable without JavaScript


async def test_the_docs_page_loads_only_this_sites_files_and_no_inline_script(
    client: httpx.AsyncClient,
) -> None:
    page = await client.get("/api/docs")
    assert "script-src 'self'" in page.headers["content-security-policy"]
    scripts = re.findall(r"<script([^>]*)>", page.text)
    assert scripts and all(' src="/static/' in attributes for attributes in scripts)
    assert not re.search(r"<script[^>]*>[^<]+</script>", page.text)
    assets = re.findall(r'(?:src|href)="(/static/[^"]+)"', page.text)
    assert "/static/vendor/swagger-ui/swagger-ui-bundle.js" in assets
    assert "/static/vendor/swagger-ui/swagger-ui.css" in assets
    assert "/static/js/api-docs.js" in assets
    for asset in assets:
        assert (ROOT / asset.removeprefix("/")).is_file(), asset
        served = await client.get(asset)
        assert served.status_code == 200, asset
    assert not re.search(r'(?:src|href)="(?:https?:)?//', page.text), "nothing from elsewhere"
    for link in ("/api/v1/openapi.json", "/open311/v2/discovery.json"):
        assert f'href="{link}"' in page.text
        assert (await client.get(link)).status_code == 200, link


def test_the_vendored_viewer_carries_its_licence_and_version() -> None:
    folder = ROOT / "static" / "vendor" / "swagger-ui"
    readme = (folder / "README.txt").read_text(encoding="utf-8")
    assert "swagger-ui-dist" in readme and "Apache-2.0" in readme
    assert "Apache License" in (folder / "LICENSE").read_text(encoding="utf-8")
    version = re.search(r"version (\d+\.\d+\.\d+)", readme)
    assert version is not None
    bundle = (folder / "swagger-ui-bundle.js").read_text(encoding="utf-8")
    assert f'PACKAGE_VERSION:"{version.group(1)}"' in bundle, "README.txt names another version"


async def test_the_document_is_english_whoever_asks_first_and_the_page_keeps_its_language(
    client: httpx.AsyncClient,
) -> None:
    page = await client.get("/api/docs")  # a Chinese browser builds the document
    assert "<h1>接口文档</h1>" in page.text
    document = await fetch_document(client)
    example = document["components"]["responses"]["Invalid"]["content"]["application/json"]
    assert example["example"]["error"]["message"] == "Some fields are missing or not valid."
    assert "<h1>接口文档</h1>" in (await client.get("/api/docs")).text


async def test_a_method_an_address_does_not_take_gets_405_with_allow(
    client: httpx.AsyncClient,
) -> None:
    document = await fetch_document(client)
    for path, item in document["paths"].items():
        taken = {method.upper() for method in item if method in METHODS}
        response = await client.request("TRACE", "/api/v1" + path)
        assert response.status_code == 405, path
        assert response.json()["error"]["code"] == "method_not_allowed"
        assert taken <= set(response.headers["allow"].split(", ")), path
