"""Staff roles."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    ADMIN = "admin"
    DISPATCHER = "dispatcher"
    HANDLER = "handler"
    REVIEWER = "reviewer"
    REPORTER = "reporter"


# Roles that work inside one department and need one.
DEPARTMENT_ROLES = frozenset({Role.HANDLER, Role.REVIEWER})
