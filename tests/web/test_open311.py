"""Open311 GeoReport v2: every endpoint in XML and JSON (the XML parsed and compared field by
field with the JSON), the specification's errors with 400/403/404, POST through the form's
rules with an API key, filters and limits, and no personal data in any GET."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any
from xml.etree import ElementTree

import httpx
import pytest
from starlette.applications import Starlette

from mailbox.clock import FixedClock
from mailbox.db.database import Database
from mailbox.db.queries import channels, letters
from mailbox.domain.states import LetterState, Source
from mailbox.services import api_tokens, intake, publication
from mailbox.services.tracking import look_up
from mailbox.web.open311.submit import title_from, writer_name
from tests.helpers import GOOD_LETTER
from tests.services.conftest import DISPATCHER, add_department, new_letter, staff_actor
from tests.web.test_publication import REPLY, assert_no_personal_data, replied_letter

V2 = "/open311/v2"
XML_START = b'<?xml version="1.0" encoding="UTF-8"?>\n'
# The Spark convention: these containers are lists, whatever the number of their children.
LISTS = {
    "services": "service",
    "attributes": "attribute",
    "values": "value",
    "endpoints": "endpoint",
    "formats": "format",
    "service_requests": "request",
    "errors": "error",
}
REQUEST_FIELDS = [
    "service_request_id",
    "status",
    "status_notes",
    "service_name",
    "service_code",
    "description",
    "agency_responsible",
    "service_notice",
    "requested_datetime",
    "updated_datetime",
    "expected_datetime",
    "address",
    "address_id",
    "zipcode",
    "lat",
    "long",
    "media_url",
]
# What the writers of the fixture letters told only the office.
PERSONAL = [
    GOOD_LETTER["name"],
    GOOD_LETTER["phone"],
    GOOD_LETTER["email"],
    GOOD_LETTER["address"],
    GOOD_LETTER["title"],  # no letter's own title is published, only an edited copy
    GOOD_LETTER["body"][:12],
    "203.0.113.1",  # the writers' address on the network
    "尚未公开",  # a public copy being edited
]


def spark(element: ElementTree.Element) -> Any:
    """The XML as the Spark convention maps it to JSON, every value as the XML's text."""
    if element.tag in LISTS:
        assert all(child.tag == LISTS[element.tag] for child in element), element.tag
        return [spark(child) for child in element]
    if len(element):
        names = [child.tag for child in element]
        assert len(names) == len(set(names)), names
        return {child.tag: spark(child) for child in element}
    return element.text


def as_xml_text(value: Any) -> Any:
    """The JSON with its numbers and booleans written as XML writes them."""
    if isinstance(value, list):
        return [as_xml_text(item) for item in value]
    if isinstance(value, dict):
        return {name: as_xml_text(item) for name, item in value.items()}
    if isinstance(value, bool):
        return "true" if value else "false"
    return None if value is None else str(value)


def parsed(response: httpx.Response, fmt: str) -> Any:
    if fmt == "json":
        assert response.headers["content-type"] == "application/json; charset=utf-8"
        return response.json()
    assert response.headers["content-type"] == "text/xml; charset=utf-8"
    assert response.content.startswith(XML_START)
    return ElementTree.fromstring(response.content)


async def both(
    client: httpx.AsyncClient, path: str, **params: str
) -> tuple[Any, ElementTree.Element]:
    """The JSON and the XML of a GET, checked to say the same thing field by field."""
    as_json = await client.get(f"{V2}/{path}.json", params=params)
    as_xml = await client.get(f"{V2}/{path}.xml", params=params)
    assert as_json.status_code == as_xml.status_code == 200, (as_json.text, as_xml.text)
    data, root = parsed(as_json, "json"), parsed(as_xml, "xml")
    assert spark(root) == as_xml_text(data)
    for response in (as_json, as_xml):
        assert_private(response.text)
    return data, root


async def errors(
    client: httpx.AsyncClient, method: str, path: str, status: int, **kwargs: Any
) -> list[str]:
    """An error in both formats: the specification's list of code and description."""
    answers = {}
    for fmt in ("json", "xml"):
        response = await client.request(method, f"{V2}/{path}.{fmt}", **kwargs)
        assert response.status_code == status, response.text
        assert response.headers["cache-control"] == "no-store"
        answers[fmt] = parsed(response, fmt)
    data, root = answers["json"], answers["xml"]
    assert root.tag == "errors"
    assert spark(root) == as_xml_text(data)
    assert data and all(set(error) == {"code", "description"} for error in data)
    assert all(error["code"] == status and error["description"] for error in data)
    return [error["description"] for error in data]


def assert_private(text: str) -> None:
    for secret in PERSONAL:
        assert secret not in text, secret
    assert_no_personal_data(text)


@pytest.fixture
async def keys(app: Starlette, db: Database) -> dict[str, str]:
    """A submit key, a staff key whose user may enter letters, one whose user may not."""
    made = {}
    for name, role, scope in (
        ("portal", "reporter", "submit"),
        ("office", "dispatcher", "staff"),
        ("figures", "reporter", "staff"),
    ):
        await staff_actor(db, name, role, None)
        _id, made[name] = await api_tokens.create_token(
            db, clock=app.state.clock, username=name, label=name, scope=scope
        )
    return made


FORM = {
    "jurisdiction_id": "example.gov.cn",
    "service_code": "consult",
    "description": "小区基站噪声扰民\n我家附近新建了一座通信基站，晚上一直嗡嗡作响，希望核查。",
    "first_name": "三丰",
    "last_name": "张",
    "phone": "138-1234-5678",
    "email": "Zhang@Example.com",
    "address_string": "乌鲁木齐市天山区某街道1号",
    "lat": "43.8",
    "long": "87.6",
    "device_id": "tt222111",
    "attribute[publish_consent]": "1",
}


async def post(client: httpx.AsyncClient, fmt: str, **fields: str) -> httpx.Response:
    return await client.post(f"{V2}/requests.{fmt}", data={**FORM, **fields})


# Discovery, services and definitions


async def test_discovery_names_the_endpoint_and_both_formats(client: httpx.AsyncClient) -> None:
    data, root = await both(client, "discovery")
    assert root.tag == "discovery"
    assert set(data) == {"changeset", "contact", "key_service", "endpoints"}
    assert data["contact"].startswith("测试厅")
    (endpoint,) = data["endpoints"]
    assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert endpoint["url"] == "http://127.0.0.1:8000/open311/v2"
    assert endpoint["type"] == "production"
    assert endpoint["formats"] == ["text/xml", "application/json"]


async def test_a_path_without_a_suffix_answers_in_xml(client: httpx.AsyncClient) -> None:
    roots = {
        "discovery": "discovery",
        "services": "services",
        "services/consult": "service_definition",
        "requests": "service_requests",
    }
    for path, root in roots.items():
        response = await client.get(f"{V2}/{path}")
        assert response.status_code == 200, path
        assert parsed(response, "xml").tag == root
        assert spark(parsed(response, "xml")) == spark(
            parsed(await client.get(f"{V2}/{path}.xml"), "xml")
        )


async def test_services_are_the_open_channels(
    app: Starlette, db: Database, client: httpx.AsyncClient
) -> None:
    data, root = await both(client, "services")
    assert root.tag == "services"
    assert [service["service_code"] for service in data] == [
        "director",
        "consult",
        "complaint",
        "suggestion",
    ]
    consult = data[1]
    assert consult["service_name"] == "网上咨询"
    assert consult["metadata"] is True and consult["type"] == "realtime"
    assert "5" in consult["description"] and consult["group"] == "测试厅"
    assert "Online Consultation" in consult["keywords"]
    english = (await client.get(f"{V2}/services.json", params={"lang": "en"})).json()
    assert english[1]["service_name"] == "Online Consultation"

    async with db.transaction() as conn:
        await channels.update_channel(conn, code="complaint", enabled=False)
    app.state.channels.forget()
    data, _root = await both(client, "services")
    assert "complaint" not in [service["service_code"] for service in data]
    await errors(client, "GET", "services/complaint", 404)


async def test_a_service_definition_lists_the_fields_open311_has_no_argument_for(
    client: httpx.AsyncClient,
) -> None:
    data, root = await both(client, "services/consult")
    assert root.tag == "service_definition"
    assert data["service_code"] == "consult"
    attributes = {attribute["code"]: attribute for attribute in data["attributes"]}
    assert list(attributes) == ["title", "publish_consent", "writer"]
    assert [attribute["order"] for attribute in data["attributes"]] == [1, 2, 3]
    consent = attributes["publish_consent"]
    assert consent["datatype"] == "singlevaluelist" and consent["required"] is False
    assert [value["key"] for value in consent["values"]] == ["1", "0"]
    assert attributes["title"]["variable"] is True and attributes["writer"]["variable"] is False
    assert attributes["title"]["datatype_description"] and consent["datatype_description"] is None
    xml_values = root.findall("./attributes/attribute/values/value/key")
    assert [key.text for key in xml_values] == ["1", "0"]
    assert "service_code" in (await errors(client, "GET", "services/nothing", 404))[0]


# POST requests


async def test_posting_with_a_key_stores_the_letter_through_the_form_rules(
    app: Starlette, db: Database, client: httpx.AsyncClient, keys: dict[str, str]
) -> None:
    numbers = {}
    for fmt in ("json", "xml"):
        response = await post(client, fmt, api_key=keys["portal"])
        assert response.status_code == 200, response.text
        assert response.headers["cache-control"] == "no-store"
        body = parsed(response, fmt)
        created = body[0] if fmt == "json" else spark(body)[0]
        assert list(created) == ["service_request_id", "service_notice", "account_id"]
        assert created["account_id"] is None
        numbers[fmt] = created["service_request_id"]
        assert numbers[fmt] in created["service_notice"]
        if fmt == "json":
            notice = created["service_notice"]

    row = await letters.get_letter_by_tracking_no(db, tracking_no=numbers["json"])
    assert row is not None
    assert row.source == Source.OPEN311 and row.state == LetterState.PENDING
    assert row.title == "小区基站噪声扰民"  # the description's first line
    assert row.body == FORM["description"]
    assert row.writer_name == "张三丰"  # family name first
    assert row.writer_phone == "13812345678" and row.writer_email == "zhang@example.com"
    assert row.writer_address == FORM["address_string"] and row.publish_consent
    challenge = await db.fetch_value("SELECT challenge FROM letters WHERE id = :id", {"id": row.id})
    assert challenge == "staff"
    receipts = await db.fetch_all(
        "SELECT recipient FROM outbox WHERE letter_id = :id AND kind = 'receipt'", {"id": row.id}
    )
    assert [receipt["recipient"] for receipt in receipts] == ["zhang@example.com"]

    # The notice carries the query code: with it the writer reads the letter on /track.
    shown = re.search(r"(?<![0-9A-Z])([2-9A-Z]{4}-[2-9A-Z]{4})(?![0-9A-Z])", notice)
    assert shown and "/track" in notice, notice
    code = shown.group(1)
    found = await look_up(
        db,
        settings=app.state.settings,
        clock=app.state.clock,
        tracking_no=numbers["json"],
        query_code=code,
        client_ip="192.0.2.1",
    )
    assert found is not None and found.title == "小区基站噪声扰民"
    # ... and it is never shown again.
    for fmt in ("json", "xml"):
        again = await client.get(f"{V2}/requests/{numbers['json']}.{fmt}")
        assert code not in again.text and code.replace("-", "") not in again.text


async def test_posting_needs_a_valid_key_that_may_submit(
    app: Starlette, client: httpx.AsyncClient, keys: dict[str, str]
) -> None:
    assert "api_key" in (await errors(client, "POST", "requests", 403, data=FORM))[0]
    await errors(client, "POST", "requests", 403, data={**FORM, "api_key": "mbx_wrong"})
    await errors(client, "POST", "requests", 403, data={**FORM, "api_key": keys["figures"]})
    # In the query string a key would end up in logs: only the form body is read.
    await errors(client, "POST", "requests", 403, data=FORM, params={"api_key": keys["portal"]})
    office = await post(client, "json", api_key=keys["office"])  # a dispatcher enters letters
    assert office.status_code == 200, office.text

    token_id = await app.state.db.fetch_value("SELECT id FROM api_tokens WHERE label = 'portal'")
    await api_tokens.revoke_token(app.state.db, clock=app.state.clock, token_id=token_id)
    await errors(client, "POST", "requests", 403, data={**FORM, "api_key": keys["portal"]})


async def test_posting_errors_name_the_open311_arguments(
    app: Starlette, db: Database, client: httpx.AsyncClient, keys: dict[str, str]
) -> None:
    key = {"api_key": keys["portal"]}
    missing = await errors(
        client, "POST", "requests", 400, data={**FORM, **key, "service_code": ""}
    )
    assert missing[0].startswith("service_code")
    await errors(client, "POST", "requests", 404, data={**FORM, **key, "service_code": "nothing"})

    wrong = {
        **FORM,
        **key,
        "description": "太短",
        "first_name": "",
        "last_name": "",
        "phone": "12345",
        "email": "not-an-email",
        "attribute[publish_consent]": "maybe",
    }
    described = await errors(client, "POST", "requests", 400, data=wrong)
    assert [text.split(":")[0] for text in described] == [
        "description",
        "first_name, last_name",
        "phone",
        "email",
        "attribute[publish_consent]",
    ]
    assert "请" in described[1]  # translated, Chinese by default
    english = await client.post(
        f"{V2}/requests.json", data=wrong, headers={"accept-language": "en"}
    )
    assert "Please enter your name." in english.json()[1]["description"]

    explicit = await errors(
        client, "POST", "requests", 400, data={**FORM, **key, "attribute[title]": "短"}
    )
    assert explicit[0].startswith("attribute[title]")
    assert await db.fetch_value("SELECT COUNT(*) FROM letters") == 0

    # An explicit title wins over the first line.
    titled = await post(client, "json", **key, **{"attribute[title]": "基站噪声问题的反映"})
    number = titled.json()[0]["service_request_id"]
    row = await letters.get_letter_by_tracking_no(db, tracking_no=number)
    assert row is not None and row.title == "基站噪声问题的反映"


async def test_junk_and_oversized_posts_are_answered_in_the_open311_format(
    client: httpx.AsyncClient, keys: dict[str, str]
) -> None:
    await errors(client, "POST", "requests", 413, data={**FORM, "description": "长" * 200_000})
    await errors(
        client,
        "POST",
        "requests",
        403,
        content=b"\xff\xfe not a form",
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    await errors(client, "POST", "requests", 403, json={"api_key": keys["portal"]})
    uploaded = await client.post(
        f"{V2}/requests.json", data={**FORM, "api_key": keys["portal"]}, files={"f": b"x"}
    )
    assert uploaded.status_code == 400 and uploaded.json()[0]["code"] == 400


def test_the_title_is_the_first_line_or_its_first_50_characters() -> None:
    assert title_from("噪音问题反映\n正文内容很长", "网上咨询") == "噪音问题反映"
    long_line = "关于" + "基站" * 40
    assert title_from(long_line, "网上咨询") == long_line[:50]
    # A first line too short for a title: the text's beginning, then the channel's name.
    assert title_from("噪音\n晚上十点以后一直有噪音", "网上咨询") == "噪音 晚上十点以后一直有噪音"
    assert title_from("  \n 噪 \n", "网上咨询") == "网上咨询"
    assert title_from("  Noise   at\tnight  \nbody", "x") == "Noise at night"


def test_names_are_joined_in_the_order_of_their_script() -> None:
    assert writer_name("三丰", "张") == "张三丰"
    assert writer_name("娜娜", "欧阳") == "欧阳娜娜"
    assert writer_name("John", "Smith") == "John Smith"
    assert writer_name("", " 张三 ") == "张三"
    assert writer_name("Li", "") == "Li"


# GET requests


PUBLIC_TITLE = "关于小区基站噪声的来信"
PUBLIC_BODY = "来信人反映小区旁的基站晚上嗡嗡作响，希望核查。"


@pytest.fixture
async def states(app: Starlette, db: Database, clock: FixedClock) -> dict[str, str]:
    """A letter in each state that matters, through the real services."""
    settings = app.state.settings
    radio = await add_department(db, "radio", "无线电管理处")
    made = {"published": await replied_letter(app, db, consent=True)}
    publisher = await staff_actor(db, "publisher", "dispatcher", None)
    await publication.save_copy(
        db,
        clock=clock,
        actor=publisher,
        tracking_no=made["published"],
        title=PUBLIC_TITLE,
        body=PUBLIC_BODY,
        reply=REPLY,
    )
    await publication.publish(db, clock=clock, actor=publisher, tracking_no=made["published"])
    made["replied"] = await replied_letter(app, db, consent=True)
    await publication.save_copy(  # edited for publication, not yet published
        db,
        clock=clock,
        actor=publisher,
        tracking_no=made["replied"],
        title="尚未公开的标题",
        body="尚未公开的正文。",
        reply="尚未公开的答复。",
    )
    clock.advance(hours=1)
    for name in ("pending", "assigned", "rejected", "spam", "duplicate"):
        made[name] = await new_letter(app, "complaint" if name == "assigned" else "consult")
    await intake.accept(
        db,
        settings=settings,
        clock=clock,
        actor=DISPATCHER,
        tracking_no=made["assigned"],
        department_id=radio,
    )
    await intake.reject(
        db, clock=clock, actor=DISPATCHER, tracking_no=made["rejected"], reason_code="unclear"
    )
    await intake.mark_spam(db, clock=clock, actor=DISPATCHER, tracking_no=made["spam"])
    await intake.merge(
        db,
        clock=clock,
        actor=DISPATCHER,
        tracking_no=made["duplicate"],
        original_tracking_no=made["pending"],
    )
    clock.advance(hours=1)
    return made


async def test_requests_map_states_and_show_only_what_is_public(
    client: httpx.AsyncClient, states: dict[str, str]
) -> None:
    data, root = await both(client, "requests")
    assert root.tag == "service_requests"
    for request in data:
        assert list(request) == REQUEST_FIELDS
    for element in root:
        assert [child.tag for child in element] == REQUEST_FIELDS
    listed = {request["service_request_id"]: request for request in data}
    by_state = {name: listed.get(number) for name, number in states.items()}
    assert by_state["spam"] is None and by_state["duplicate"] is None  # never listed
    assert len(data) == 5
    status = {name: request["status"] for name, request in by_state.items() if request}
    assert status == {
        "published": "closed",
        "replied": "closed",
        "pending": "open",
        "assigned": "open",
        "rejected": "closed",
    }

    published, replied = by_state["published"], by_state["replied"]
    assert published and replied
    assert published["status_notes"] == REPLY  # the published copy of the reply
    # The published copy, as edited by the office: its title on the first line.
    assert published["description"] == f"{PUBLIC_TITLE}\n\n{PUBLIC_BODY}"
    assert replied["status_notes"] is None and replied["description"] is None
    assert published["agency_responsible"] == "无线电管理处"
    assert published["expected_datetime"].endswith("+08:00")
    assert published["requested_datetime"] == "2026-09-30T10:00:00+08:00"

    assigned = by_state["assigned"]
    assert assigned and assigned["service_code"] == "complaint"
    assert (
        assigned["service_name"] == "在线投诉" and assigned["agency_responsible"] == "无线电管理处"
    )
    assert assigned["expected_datetime"] and "10" in (assigned["service_notice"] or "")
    pending = by_state["pending"]
    assert pending and pending["agency_responsible"] is None
    assert pending["expected_datetime"] is None and pending["description"] is None
    for field in ("address", "address_id", "zipcode", "lat", "long", "media_url"):
        assert all(request[field] is None for request in data)
    # Newest first.
    assert [request["requested_datetime"] for request in data] == sorted(
        (request["requested_datetime"] for request in data), reverse=True
    )


async def test_one_request_and_a_token_by_its_number(
    client: httpx.AsyncClient, states: dict[str, str]
) -> None:
    data, root = await both(client, f"requests/{states['published']}")
    assert len(data) == 1 and data[0]["service_request_id"] == states["published"]
    assert root.find("./request/status").text == "closed"  # type: ignore[union-attr]
    # Asked for by number, spam reads as open, as on /track: marking it is never told.
    spam, _root = await both(client, f"requests/{states['spam']}")
    assert spam[0]["status"] == "open" and spam[0]["agency_responsible"] is None
    assert spam[0]["updated_datetime"] == spam[0]["requested_datetime"]
    duplicate, _root = await both(client, f"requests/{states['duplicate']}")
    assert duplicate[0]["status"] == "closed"

    token, root = await both(client, f"tokens/{states['pending']}")
    assert token == [{"service_request_id": states["pending"], "token": states["pending"]}]
    assert root.tag == "service_requests"
    for path in ("requests/20260930999999", "tokens/20260930999999", "requests/abc"):
        await errors(client, "GET", path, 404)


async def test_filters_by_number_service_status_and_dates(
    client: httpx.AsyncClient, states: dict[str, str], clock: FixedClock
) -> None:
    def numbers(data: list[dict[str, Any]]) -> set[str]:
        return {request["service_request_id"] for request in data}

    opened, _root = await both(client, "requests", status="open")
    assert numbers(opened) == {states["pending"], states["assigned"]}
    closed, _root = await both(client, "requests", status="closed")
    assert numbers(closed) == {states["published"], states["replied"], states["rejected"]}
    both_ways, _root = await both(client, "requests", status="open,closed")
    assert len(both_ways) == 5
    complaint, _root = await both(client, "requests", service_code="complaint")
    assert numbers(complaint) == {states["assigned"]}
    several, _root = await both(client, "requests", service_code="complaint, consult")
    assert len(several) == 5

    # service_request_id overrides every other filter, and may name spam (read as open).
    chosen = f"{states['spam']},{states['rejected']}, ,20260930999999"
    picked, _root = await both(
        client, "requests", service_request_id=chosen, status="open", service_code="director"
    )
    assert numbers(picked) == {states["spam"], states["rejected"]}

    # Dates: the letters were submitted on 2026-09-30 10:00 and 11:00 in Beijing.
    early, _root = await both(
        client,
        "requests",
        start_date="2026-09-30T01:30:00Z",  # 09:30 Beijing
        end_date="2026-09-30T10:30:00+08:00",
    )
    assert numbers(early) == {states["published"], states["replied"]}
    naive, _root = await both(client, "requests", start_date="2026-09-30T10:30:00")
    assert len(naive) == 3  # office time without an offset: the letters of 11:00
    unencoded = await client.get(f"{V2}/requests.json?end_date=2026-09-30T10:30:00+08:00")
    assert unencoded.status_code == 200 and len(unencoded.json()) == 2  # '+' sent as a space
    ninety, _root = await both(client, "requests", end_date="2026-12-28T10:00:00+08:00")
    assert len(ninety) == 5  # the 90 days before it

    # By default the last 90 days.
    clock.advance(days=90, hours=-1, minutes=-30)
    assert len((await both(client, "requests"))[0]) == 3
    clock.advance(hours=1)
    assert (await both(client, "requests"))[0] == []
    assert len((await both(client, "requests", start_date="2026-09-30"))[0]) == 5


async def test_bad_filters_are_400(client: httpx.AsyncClient) -> None:
    cases = [
        {"status": "pending"},
        {"service_code": "nothing"},
        {"start_date": "yesterday"},
        {"end_date": "2026-02-30T00:00:00Z"},
        {"start_date": "0001-01-01T00:00:00+14:00"},
        {"start_date": "2026-09-30T00:00:00Z", "end_date": "2026-01-01T00:00:00Z"},
        {"start_date": "2026-01-01T00:00:00Z", "end_date": "2026-04-01T00:00:01Z"},
        {"service_request_id": ",".join(["1"] * 1001)},
    ]
    for params in cases:
        described = await errors(client, "GET", "requests", 400, params=params)
        assert described[0], params
    ninety_days = {"start_date": "2026-01-01T00:00:00Z", "end_date": "2026-04-01T00:00:00Z"}
    assert (await client.get(f"{V2}/requests.json", params=ninety_days)).status_code == 200
    # jurisdiction_id is accepted and ignored: one office.
    accepted = await client.get(f"{V2}/requests.json", params={"jurisdiction_id": "other.gov"})
    assert accepted.status_code == 200


async def test_a_listing_stops_at_1000_newest_first(
    app: Starlette, db: Database, client: httpx.AsyncClient, clock: FixedClock
) -> None:
    start = clock.now()
    async with db.transaction() as conn:
        for n in range(1003):
            await letters.insert_letter(
                conn,
                letter=letters.NewLetter(
                    tracking_no=f"20260930{n:06d}",
                    query_code_hash="-",
                    channel="consult",
                    state="pending",
                    source="web",
                    title=f"第{n}封信",
                    body="正文",
                    writer_name="",
                    writer_phone="",
                    writer_email="",
                    writer_address="",
                    publish_consent=False,
                    locale="zh_CN",
                    challenge="off",
                    client_ip="",
                    submitted_at=start - timedelta(minutes=n),
                ),
            )
    data, root = await both(client, "requests")
    stored = await db.fetch_value("SELECT COUNT(*) FROM letters")
    assert stored > 1000 and len(data) == len(root) == 1000
    newest = await db.fetch_value(
        "SELECT tracking_no FROM letters WHERE submitted_at = :at", {"at": start}
    )
    assert data[0]["service_request_id"] == newest


async def test_router_errors_come_in_the_asked_format(client: httpx.AsyncClient) -> None:
    await errors(client, "DELETE", "requests", 405)
    await errors(client, "PUT", "services", 405)
    await errors(client, "POST", "requests/20260930123456", 405)
    await errors(client, "GET", "nothing", 404)
    for response in (
        await client.get(f"{V2}/services.html"),
        await client.get(f"{V2}/requests/1.txt"),
    ):
        assert response.status_code == 404
        assert parsed(response, "xml").tag == "errors"
