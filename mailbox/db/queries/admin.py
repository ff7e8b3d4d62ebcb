"""What the administration pages read and change: users, departments, channels, reasons,
reply templates, holidays, the outbox's troubles and the audit log."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from mailbox.db.database import Connection, Row

AUDIT_PAGE_SIZE = 50
OUTBOX_LIST_SIZE = 200


@dataclass(frozen=True)
class UserListing:
    id: int
    username: str
    display_name: str
    email: str
    department_id: int | None
    is_active: bool
    roles: frozenset[str]
    last_login_at: datetime | None


_USER_COLUMNS = "id, username, display_name, email, department_id, is_active, last_login_at"


async def list_users(conn: Connection) -> list[UserListing]:
    rows = await conn.fetch_all(f"SELECT {_USER_COLUMNS} FROM users ORDER BY username")
    roles: dict[int, set[str]] = {}
    for row in await conn.fetch_all("SELECT user_id, role FROM user_roles"):
        roles.setdefault(row["user_id"], set()).add(row["role"])
    return [
        UserListing(
            **{**row, "is_active": bool(row["is_active"])},
            roles=frozenset(roles.get(row["id"], ())),
        )
        for row in rows
    ]


async def get_user(conn: Connection, *, user_id: int) -> UserListing | None:
    row = await conn.fetch_one(f"SELECT {_USER_COLUMNS} FROM users WHERE id = :id", {"id": user_id})
    if row is None:
        return None
    roles = await conn.fetch_all("SELECT role FROM user_roles WHERE user_id = :id", {"id": user_id})
    return UserListing(
        **{**row, "is_active": bool(row["is_active"])},
        roles=frozenset(role["role"] for role in roles),
    )


async def update_user(
    conn: Connection,
    *,
    user_id: int,
    display_name: str,
    email: str,
    department_id: int | None,
    roles: list[str],
) -> None:
    await conn.execute(
        "UPDATE users SET display_name = :display_name, email = :email,"
        " department_id = :department_id WHERE id = :id",
        {
            "display_name": display_name,
            "email": email,
            "department_id": department_id,
            "id": user_id,
        },
    )
    await conn.execute("DELETE FROM user_roles WHERE user_id = :id", {"id": user_id})
    for role in sorted(set(roles)):
        await conn.execute(
            "INSERT INTO user_roles (user_id, role) VALUES (:id, :role)",
            {"id": user_id, "role": role},
        )


async def set_email(conn: Connection, *, user_id: int, email: str) -> None:
    await conn.execute(
        "UPDATE users SET email = :email WHERE id = :id", {"email": email, "id": user_id}
    )


async def set_user_active(conn: Connection, *, user_id: int, active: bool) -> None:
    await conn.execute(
        "UPDATE users SET is_active = :active WHERE id = :id", {"active": active, "id": user_id}
    )


async def end_sessions(conn: Connection, *, user_id: int) -> int:
    return await conn.execute("DELETE FROM sessions WHERE user_id = :id", {"id": user_id})


@dataclass(frozen=True)
class DepartmentRow:
    id: int
    code: str
    name: str
    enabled: bool


async def list_departments(conn: Connection) -> list[DepartmentRow]:
    rows = await conn.fetch_all("SELECT id, code, name, enabled FROM departments ORDER BY code")
    return [DepartmentRow(**{**row, "enabled": bool(row["enabled"])}) for row in rows]


async def get_department(conn: Connection, *, department_id: int) -> DepartmentRow | None:
    row = await conn.fetch_one(
        "SELECT id, code, name, enabled FROM departments WHERE id = :id", {"id": department_id}
    )
    return DepartmentRow(**{**row, "enabled": bool(row["enabled"])}) if row else None


async def update_department(
    conn: Connection, *, department_id: int, name: str, enabled: bool
) -> None:
    await conn.execute(
        "UPDATE departments SET name = :name, enabled = :enabled WHERE id = :id",
        {"name": name, "enabled": enabled, "id": department_id},
    )


@dataclass(frozen=True)
class OutboxEntry:
    """A mail as the admin pages show it: never its context, which may hold a query code."""

    id: int
    kind: str
    recipient: str
    created_at: datetime
    send_after: datetime
    attempts: int
    last_error: str
    failed_at: datetime | None
    content_dropped: bool  # given up and emptied: a retry could not render it


_OUTBOX_COLUMNS = (
    "id, kind, recipient, created_at, send_after, attempts, last_error, failed_at,"
    " context = '{}' AS content_dropped"
)


def _entry(row: Row) -> OutboxEntry:
    return OutboxEntry(**{**row, "content_dropped": bool(row["content_dropped"])})


async def failed_mail(conn: Connection, *, limit: int = OUTBOX_LIST_SIZE) -> list[OutboxEntry]:
    rows = await conn.fetch_all(
        f"SELECT {_OUTBOX_COLUMNS} FROM outbox WHERE medium = 'mail' AND failed_at IS NOT NULL"
        " AND sent_at IS NULL ORDER BY failed_at DESC, id DESC LIMIT :limit",
        {"limit": limit},
    )
    return [_entry(row) for row in rows]


async def waiting_mail(conn: Connection, *, limit: int = OUTBOX_LIST_SIZE) -> list[OutboxEntry]:
    rows = await conn.fetch_all(
        f"SELECT {_OUTBOX_COLUMNS} FROM outbox WHERE medium = 'mail' AND failed_at IS NULL"
        " AND sent_at IS NULL ORDER BY send_after, id LIMIT :limit",
        {"limit": limit},
    )
    return [_entry(row) for row in rows]


async def get_failed_mail(conn: Connection, *, outbox_id: int) -> OutboxEntry | None:
    row = await conn.fetch_one(
        f"SELECT {_OUTBOX_COLUMNS} FROM outbox WHERE id = :id AND medium = 'mail'"
        " AND failed_at IS NOT NULL AND sent_at IS NULL",
        {"id": outbox_id},
    )
    return _entry(row) if row else None


async def retry_mail(conn: Connection, *, outbox_id: int, now: datetime) -> bool:
    """Queue a given-up mail (or webhook delivery) again; its attempts are kept."""
    changed = await conn.execute(
        "UPDATE outbox SET failed_at = NULL, send_after = :now, claimed_until = NULL"
        " WHERE id = :id AND failed_at IS NOT NULL AND sent_at IS NULL",
        {"now": now, "id": outbox_id},
    )
    return changed == 1


async def count_failed_mail(conn: Connection) -> int:
    count: int = await conn.fetch_value(
        "SELECT COUNT(*) FROM outbox WHERE medium = 'mail' AND failed_at IS NOT NULL"
        " AND sent_at IS NULL"
    )
    return count


@dataclass(frozen=True)
class Counts:
    users: int
    active_users: int
    departments: int
    enabled_departments: int
    active_dispatchers: int


async def counts(conn: Connection) -> Counts:
    row = await conn.fetch_one(
        "SELECT (SELECT COUNT(*) FROM users) AS users,"
        " (SELECT COUNT(*) FROM users WHERE is_active = :yes) AS active_users,"
        " (SELECT COUNT(*) FROM departments) AS departments,"
        " (SELECT COUNT(*) FROM departments WHERE enabled = :yes) AS enabled_departments,"
        " (SELECT COUNT(*) FROM users u JOIN user_roles r ON r.user_id = u.id"
        "  WHERE r.role = 'dispatcher' AND u.is_active = :yes) AS active_dispatchers",
        {"yes": True},
    )
    assert row is not None
    return Counts(**row)


@dataclass(frozen=True)
class AuditEntry:
    id: int
    actor: str
    action: str
    target: str
    data: str
    client_ip: str
    created_at: datetime


async def audit_page(
    conn: Connection, *, before_id: int | None, limit: int = AUDIT_PAGE_SIZE
) -> list[AuditEntry]:
    """Newest first, from just before `before_id` (keyset: a deep page costs what the first
    does)."""
    where = "WHERE a.id < :before" if before_id is not None else ""
    rows = await conn.fetch_all(
        "SELECT a.id, COALESCE(u.username, '') AS actor, a.action, a.target, a.data,"
        " a.client_ip, a.created_at FROM audit_log a LEFT JOIN users u ON u.id = a.actor_user_id"
        f" {where} ORDER BY a.id DESC LIMIT :limit",
        {"before": before_id, "limit": limit},
    )
    return [AuditEntry(**row) for row in rows]
