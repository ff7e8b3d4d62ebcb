"""The API's errors: `{"error": {"code", "message", "fields"}}` with the right status."""

from __future__ import annotations

from starlette.responses import JSONResponse

from mailbox.i18n import _

# Stable codes a client can branch on; the message is for people, in their language.
CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
    422: "invalid",
    429: "rate_limited",
    500: "server_error",
    503: "unavailable",
}


class ApiError(Exception):
    def __init__(
        self,
        status: int,
        message: str,
        *,
        code: str = "",
        fields: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code or CODES.get(status, "error")
        self.message = message
        self.fields = fields or {}
        self.headers = headers or {}


def default_message(status: int) -> str:
    messages = {
        400: _("The request could not be read."),
        401: _("An API token is needed: send it as `Authorization: Bearer <token>`."),
        403: _("This token may not do this."),
        404: _("Not found."),
        405: _("This address does not accept this method."),
        409: _("This step is not possible now: the letter has changed."),
        413: _("The request is too large."),
        415: _("Send the body as JSON (Content-Type: application/json)."),
        422: _("Some fields are missing or not valid."),
        429: _("Too many requests. Please wait and try again."),
        500: _("Something went wrong; the error has been recorded."),
        503: _("The service is busy. Nothing was changed; please try again in a minute."),
    }
    return messages.get(status, messages[400])


def error_response(error: ApiError) -> JSONResponse:
    body = {"error": {"code": error.code, "message": error.message, "fields": error.fields}}
    headers = {"cache-control": "no-store", **error.headers}
    if error.status == 503:
        headers.setdefault("retry-after", "30")
    return JSONResponse(body, status_code=error.status, headers=headers)


def status_response(status: int) -> JSONResponse:
    """An error known only by its status (raised by the router or the body limit)."""
    headers = {"www-authenticate": 'Bearer realm="mailbox"'} if status == 401 else None
    return error_response(ApiError(status, default_message(status), headers=headers))
