"""Staff accounts, their roles, departments and one-time setup tokens."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from mailbox.db.database import Connection


@dataclass(frozen=True)
class UserRow:
    id: int
    username: str
    display_name: str
    password_hash: str
    department_id: int | None
    is_active: bool
    roles: frozenset[str]


async def count_users(conn: Connection) -> int:
    count: int = await conn.fetch_value("SELECT COUNT(*) FROM users")
    return count


async def create_user(
    conn: Connection,
    *,
    username: str,
    display_name: str,
    password_hash: str,
    roles: list[str],
    department_id: int | None,
    now: datetime,
    email: str = "",
) -> int:
    user_id: int = await conn.fetch_value(
        "INSERT INTO users (username, display_name, password_hash, department_id, email,"
        " created_at) VALUES (:username, :display_name, :password_hash, :department_id, :email,"
        " :now) RETURNING id",
        {
            "username": username,
            "display_name": display_name,
            "password_hash": password_hash,
            "department_id": department_id,
            "email": email,
            "now": now,
        },
    )
    for role in sorted(set(roles)):
        await conn.execute(
            "INSERT INTO user_roles (user_id, role) VALUES (:user_id, :role)",
            {"user_id": user_id, "role": role},
        )
    return user_id


async def _with_roles(conn: Connection, where: str, params: dict[str, object]) -> UserRow | None:
    row = await conn.fetch_one(
        "SELECT id, username, display_name, password_hash, department_id, is_active"
        f" FROM users WHERE {where}",
        params,
    )
    if row is None:
        return None
    roles = await conn.fetch_all(
        "SELECT role FROM user_roles WHERE user_id = :id", {"id": row["id"]}
    )
    return UserRow(
        **{**row, "is_active": bool(row["is_active"])},
        roles=frozenset(role["role"] for role in roles),
    )


async def get_user_by_username(conn: Connection, *, username: str) -> UserRow | None:
    return await _with_roles(conn, "username = :username", {"username": username})


async def get_user(conn: Connection, *, user_id: int) -> UserRow | None:
    return await _with_roles(conn, "id = :id", {"id": user_id})


async def set_password_hash(conn: Connection, *, user_id: int, password_hash: str) -> None:
    await conn.execute(
        "UPDATE users SET password_hash = :hash WHERE id = :id",
        {"hash": password_hash, "id": user_id},
    )


async def record_login(conn: Connection, *, user_id: int, now: datetime) -> None:
    await conn.execute(
        "UPDATE users SET last_login_at = :now WHERE id = :id", {"now": now, "id": user_id}
    )


async def department_id_by_code(conn: Connection, *, code: str) -> int | None:
    department_id: int | None = await conn.fetch_value(
        "SELECT id FROM departments WHERE code = :code", {"code": code}
    )
    return department_id


async def add_department(conn: Connection, *, code: str, name: str, now: datetime) -> int | None:
    """The new department's id, or None when the code is taken."""
    department_id: int | None = await conn.fetch_value(
        "INSERT INTO departments (code, name, created_at) VALUES (:code, :name, :now)"
        " ON CONFLICT (code) DO NOTHING RETURNING id",
        {"code": code, "name": name, "now": now},
    )
    return department_id


async def add_setup_token(
    conn: Connection, *, token_hash: str, now: datetime, expires_at: datetime
) -> None:
    await conn.execute(
        "INSERT INTO setup_tokens (token_hash, created_at, expires_at)"
        " VALUES (:hash, :now, :expires_at)",
        {"hash": token_hash, "now": now, "expires_at": expires_at},
    )


async def use_setup_token(conn: Connection, *, token_hash: str, now: datetime) -> bool:
    """Spend a valid token; False when it is unknown, used or expired."""
    count = await conn.execute(
        "UPDATE setup_tokens SET used_at = :now WHERE token_hash = :hash"
        " AND used_at IS NULL AND expires_at > :now",
        {"hash": token_hash, "now": now},
    )
    return count == 1


async def setup_token_valid(conn: Connection, *, token_hash: str, now: datetime) -> bool:
    valid = await conn.fetch_value(
        "SELECT 1 FROM setup_tokens WHERE token_hash = :hash AND used_at IS NULL"
        " AND expires_at > :now",
        {"hash": token_hash, "now": now},
    )
    return valid is not None


async def audit(
    conn: Connection,
    *,
    action: str,
    now: datetime,
    actor_user_id: int | None = None,
    target: str = "",
    client_ip: str = "",
    data: str = "{}",
) -> None:
    await conn.execute(
        "INSERT INTO audit_log (actor_user_id, action, target, data, client_ip, created_at)"
        " VALUES (:actor, :action, :target, :data, :ip, :now)",
        {
            "actor": actor_user_id,
            "action": action,
            "target": target,
            "data": data,
            "ip": client_ip,
            "now": now,
        },
    )
