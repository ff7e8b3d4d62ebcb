"""A real Open311 client from PyPI (georeport) against a real `python -m mailbox serve`: it lists
the services, reads a definition, and reads back a request posted with an API key, one and many,
in JSON and in XML. georeport has no POST method, so the request is posted with requests (its
own dependency) exactly as the specification says: a form to requests.{format} with api_key."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import requests
import xmltodict
from georeport import GeoReport

from tests.live import cli, migrate, running_server, server_environment
from tests.web.test_open311 import LISTS, as_xml_text

pytestmark = pytest.mark.slow

FORMATS = ("json", "xml")
LETTER = {
    "jurisdiction_id": "example.gov.cn",
    "service_code": "complaint",
    "description": "夜间施工噪声扰民\n小区对面的工地每天夜里施工到凌晨两点，噪声很大，请尽快处理。",
    "first_name": "娜娜",
    "last_name": "欧阳",
    "phone": "13912345678",
    "email": "ouyang@example.com",
    "address_string": "乌鲁木齐市天山区幸福路和平小区3号楼",
    "lat": "43.8",
    "long": "87.6",
}
PERSONAL = ("欧阳娜娜", "13912345678", "ouyang@example.com", "和平小区", "夜间施工噪声扰民")


def spark(value: Any, name: str = "") -> Any:
    """What xmltodict made of the XML, as the Spark convention maps it (lists stay lists)."""
    if name in LISTS:
        items = (value or {}).get(LISTS[name], []) if isinstance(value, dict) else value
        items = items if isinstance(items, list) else [items]
        return [spark(item) for item in items]
    if isinstance(value, dict):
        return {key: spark(item, key) for key, item in value.items()}
    return value


def listed(value: Any) -> list[Any]:
    """georeport returns xmltodict's value: one request is a dict, several a list."""
    return [spark(item) for item in (value if isinstance(value, list) else [value])]


def post(root: str, fmt: str, key: str) -> dict[str, Any]:
    response = requests.post(f"{root}/requests.{fmt}", data={**LETTER, "api_key": key}, timeout=30)
    assert response.status_code == 200, response.text
    if fmt == "json":
        created: dict[str, Any] = response.json()[0]
        return created
    return listed(xmltodict.parse(response.content)["service_requests"]["request"])[0]


def test_the_georeport_client_lists_posts_and_reads_back(database_url: str, tmp_path: Path) -> None:
    env = server_environment(database_url, tmp_path / "var")
    migrate(env)
    cli(
        env,
        "create-user",
        "portal",
        "--role",
        "reporter",
        "--password-stdin",
        stdin="a long pass\n",
    )
    key = cli(env, "token", "create", "portal", "--scope", "submit", "--label", "12345").strip()
    with running_server(env, log=tmp_path / "server.log") as url:
        root = f"{url}/open311/v2"
        clients = {
            fmt: GeoReport(root, jurisdiction="example.gov.cn", output_format=fmt)
            for fmt in FORMATS
        }

        services = {fmt: client.get_service_list() for fmt, client in clients.items()}
        assert [service["service_code"] for service in services["json"]] == [
            "director",
            "consult",
            "complaint",
            "suggestion",
        ]
        assert listed(services["xml"]) == as_xml_text(services["json"])

        definitions = {fmt: c.get_service_definition("complaint") for fmt, c in clients.items()}
        assert definitions["json"]["service_code"] == "complaint"
        assert spark(definitions["xml"]) == as_xml_text(definitions["json"])
        with pytest.raises(requests.HTTPError):
            clients["json"].get_service_definition("nothing")

        created = {fmt: post(root, fmt, key) for fmt in FORMATS}
        numbers = [created[fmt]["service_request_id"] for fmt in FORMATS]
        assert all(number.isdigit() for number in numbers) and numbers[0] != numbers[1]
        assert created["xml"]["account_id"] is None
        assert as_xml_text(created["json"]).keys() == created["xml"].keys()
        refused = requests.post(f"{root}/requests.xml", data=LETTER, timeout=30)
        assert refused.status_code == 403
        assert xmltodict.parse(refused.content)["errors"]["error"]["code"] == "403"

        for number in numbers:
            one = {fmt: c.get_service_request(number) for fmt, c in clients.items()}
            assert one["json"]["service_request_id"] == number
            assert one["json"]["status"] == "open"
            assert one["json"]["service_code"] == "complaint"
            assert one["json"]["service_name"] == "在线投诉"
            assert one["json"]["description"] is None  # not published
            assert one["json"]["requested_datetime"].endswith("+08:00")
            assert spark(one["xml"]) == as_xml_text(one["json"])

        both = ",".join(numbers)
        many = {fmt: c.get_service_requests(service_request_id=both) for fmt, c in clients.items()}
        assert {request["service_request_id"] for request in many["json"]} == set(numbers)
        assert listed(many["xml"]) == as_xml_text(many["json"])
        recent = {
            fmt: c.get_service_requests(service_code="complaint", status="open")
            for fmt, c in clients.items()
        }
        assert len(recent["json"]) == 2
        assert listed(recent["xml"]) == as_xml_text(recent["json"])

        for path in ("requests.json", "requests.xml", f"requests/{numbers[0]}.xml"):
            text = requests.get(f"{root}/{path}", timeout=30).text
            for secret in PERSONAL:
                assert secret not in text, (path, secret)
