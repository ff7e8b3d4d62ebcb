"""GeoReport documents: XML (the format the specification requires) and JSON (its Spark mapping
of the XML). Both are rendered from one tree of values, so the two formats always agree."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, TypeAlias
from xml.etree import ElementTree

from starlette.requests import Request
from starlette.responses import Response

from mailbox.web.api.errors import default_message

Format = Literal["xml", "json"]
# A path without a suffix answers in XML: the one format every GeoReport client reads.
DEFAULT_FORMAT: Format = "xml"
MEDIA_TYPES: dict[Format, str] = {
    "xml": "text/xml; charset=utf-8",
    "json": "application/json; charset=utf-8",
}
NO_STORE = {"cache-control": "no-store"}
XML_DECLARATION = b'<?xml version="1.0" encoding="UTF-8"?>\n'
# Characters XML 1.0 cannot carry; letters are cleaned on the way in, names typed by staff not.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


@dataclass(frozen=True)
class Many:
    """A list: in XML one `item` element per value inside its parent, in JSON an array (the
    Spark convention, which keeps a list a list even with one or no values)."""

    item: str
    values: Sequence[Value]


Value: TypeAlias = "str | int | bool | None | Mapping[str, Value] | Many"


class Open311Error(Exception):
    """An answer in the specification's `errors` list: 400, 403 or 404 with descriptions."""

    def __init__(self, status: int, *descriptions: str) -> None:
        super().__init__(status, *descriptions)
        self.status = status
        self.descriptions = descriptions or (default_message(status),)


def split_format(name: str) -> tuple[str, Format | None]:
    """`consult.json` → (`consult`, json); `consult` → (`consult`, xml); `x.html` → (`x`, None)."""
    stem, dot, suffix = name.rpartition(".")
    if not dot:
        return name, DEFAULT_FORMAT
    suffix = suffix.lower()
    if suffix == "json":
        return stem, "json"
    if suffix == "xml":
        return stem, "xml"
    return stem, None


def format_of(request: Request) -> Format | None:
    """The format the path asks for, from the suffix of its last segment."""
    return split_format(request.url.path.rstrip("/").rpartition("/")[2])[1]


def _fill(element: ElementTree.Element, value: Value) -> None:
    if isinstance(value, Many):
        for item in value.values:
            _fill(ElementTree.SubElement(element, value.item), item)
    elif isinstance(value, Mapping):
        for name, child in value.items():
            _fill(ElementTree.SubElement(element, name), child)
    elif isinstance(value, bool):
        element.text = "true" if value else "false"
    elif value is not None:
        element.text = _NOT_XML.sub("", str(value))


def xml_bytes(root: str, value: Value) -> bytes:
    element = ElementTree.Element(root)
    _fill(element, value)
    return XML_DECLARATION + ElementTree.tostring(element, encoding="unicode").encode()


def json_value(value: Value) -> Any:
    """The Spark mapping: the root element dropped, an empty element null."""
    # Strings first: they are most values, and the Mapping check (an ABC) is slow.
    if isinstance(value, str):
        return value or None
    if isinstance(value, Many):
        return [json_value(item) for item in value.values]
    if isinstance(value, Mapping):
        return {name: json_value(child) for name, child in value.items()}
    return value


def document(
    fmt: Format,
    root: str,
    value: Value,
    *,
    status: int = 200,
    headers: Mapping[str, str] | None = None,
) -> Response:
    if fmt == "xml":
        body = xml_bytes(root, value)
    else:
        body = json.dumps(json_value(value), ensure_ascii=False).encode()
    return Response(
        body, status_code=status, media_type=MEDIA_TYPES[fmt], headers=dict(headers or NO_STORE)
    )


def errors_document(fmt: Format, error: Open311Error) -> Response:
    listed = Many(
        "error",
        [{"code": error.status, "description": text} for text in error.descriptions],
    )
    headers = dict(NO_STORE)
    if error.status in (429, 503):
        headers["retry-after"] = "3600" if error.status == 429 else "30"
    return document(fmt, "errors", listed, status=error.status, headers=headers)


def status_error(request: Request, status: int) -> Response:
    """An error known only by its status (the router, the body limit, a rate limit, a crash),
    in the format the path asked for."""
    return errors_document(format_of(request) or DEFAULT_FORMAT, Open311Error(status))
