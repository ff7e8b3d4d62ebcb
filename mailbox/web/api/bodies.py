"""JSON request bodies checked against their own OpenAPI schema: one description for the
documentation and the check, so that the two cannot disagree.

Only the schema words used here are understood: an object of `string` (minLength, maxLength)
and `integer` (minimum, maximum) fields, `required`, and no other fields.
"""

from __future__ import annotations

from typing import Any

from mailbox.i18n import N_, _
from mailbox.web.api.errors import ApiError, default_message

MAX_PROBLEMS = 20  # a body of a thousand unknown fields gets a short answer
FILL_IN = N_("Please fill this in: it cannot be empty.")


def text(max_length: int, description: str, min_length: int = 1) -> dict[str, Any]:
    return {
        "type": "string",
        "minLength": min_length,
        "maxLength": max_length,
        "description": description,
    }


def whole_number(minimum: int, maximum: int, description: str) -> dict[str, Any]:
    return {"type": "integer", "minimum": minimum, "maximum": maximum, "description": description}


def object_schema(fields: dict[str, dict[str, Any]], required: tuple[str, ...]) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "object", "additionalProperties": False, "properties": fields}
    if required:
        schema["required"] = list(required)
    return schema


def storable(value: str) -> bool:
    """No NUL and no lone surrogate: neither database stores them."""
    if "\x00" in value:
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _problem(value: Any, rule: dict[str, Any]) -> str:
    if rule["type"] == "integer":
        # JSON has one number type: 5.0 is the whole number 5.
        whole = isinstance(value, int) or (isinstance(value, float) and value.is_integer())
        if isinstance(value, bool) or not whole:
            return _("Send a whole number.")
        if not rule["minimum"] <= value <= rule["maximum"]:
            return _(
                "Send a number from %(min)d to %(max)d.", min=rule["minimum"], max=rule["maximum"]
            )
        return ""
    if not isinstance(value, str):
        return _("Send text.")
    if not storable(value):
        return _("This text contains characters that cannot be stored.")
    if len(value) < rule["minLength"]:
        if rule["minLength"] == 1:
            return _(FILL_IN)
        return _("Use at least %(min)d characters.", min=rule["minLength"])
    if len(value) > rule["maxLength"]:
        return _("Use at most %(max)d characters.", max=rule["maxLength"])
    return ""


def read_values(data: dict[str, Any], schema: dict[str, Any]) -> dict[str, str]:
    """The body's fields as strings (as a web form sends them); 422 naming each field that
    breaks the schema: a wrong type, a length or a number out of range, missing, unknown."""
    fields: dict[str, dict[str, Any]] = schema["properties"]
    problems: dict[str, str] = {}
    values: dict[str, str] = {}
    for name, value in data.items():
        rule = fields.get(name)
        problem = _problem(value, rule) if rule else _("There is no such field here.")
        if problem:
            # A name is shown back: one that JSON can carry but UTF-8 cannot is mended.
            problems[name.encode("utf-8", "replace").decode()[:100]] = problem
        elif rule and rule["type"] == "integer":
            values[name] = str(int(value))
        else:
            values[name] = str(value)
    for name in schema.get("required", ()):
        if name not in data:
            problems[name] = _("This field is required.")
    if problems:
        shown = dict(list(problems.items())[:MAX_PROBLEMS])
        raise ApiError(422, default_message(422), fields=shown)
    return values
