"""Errors that services raise and the web layer turns into pages."""

from __future__ import annotations


class ServiceError(Exception):
    """A request that cannot be done as asked; nothing was changed."""


class RateLimited(ServiceError):
    """Too many attempts from this address (or for this letter) in the current window."""


class NotFound(ServiceError):
    pass
