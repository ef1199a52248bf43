"""Fresh databases for the tests: each test case gets a database of its own
with the extension installed, owned by a login role that is granted only
chronicle_writer (CHRONICLE_ADMIN_DSN: a superuser's connection string
without dbname)."""

from __future__ import annotations

import os
import uuid

import psycopg
from psycopg import sql

ADMIN_DSN = os.environ["CHRONICLE_ADMIN_DSN"]
APP_ROLE = "chronicle_py_app"
READER_ROLE = "chronicle_py_reader"


def _admin(dbname: str = "postgres") -> psycopg.Connection:
    return psycopg.connect(f"{ADMIN_DSN} dbname={dbname}", autocommit=True)


def fresh_database() -> str:
    """Creates a database with the extension; returns its name."""
    name = f"chronicle_py_{uuid.uuid4().hex[:12]}"
    with _admin() as conn:
        for role in (APP_ROLE, READER_ROLE):
            if not conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role]).fetchone():
                conn.execute(sql.SQL("CREATE ROLE {} LOGIN").format(sql.Identifier(role)))
        conn.execute(sql.SQL("CREATE DATABASE {} OWNER {}").format(sql.Identifier(name), sql.Identifier(APP_ROLE)))
    with _admin(name) as conn:
        conn.execute("SET client_min_messages = warning")
        conn.execute("CREATE EXTENSION chronicle")
        conn.execute(sql.SQL("GRANT chronicle_writer TO {}").format(sql.Identifier(APP_ROLE)))
        conn.execute(sql.SQL("GRANT chronicle_reader TO {}").format(sql.Identifier(READER_ROLE)))
    return name


def dsn(dbname: str, role: str = APP_ROLE) -> str:
    return f"{ADMIN_DSN} dbname={dbname} user={role}"


def admin_dsn(dbname: str) -> str:
    return f"{ADMIN_DSN} dbname={dbname}"


def drop_database(name: str) -> None:
    with _admin() as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
