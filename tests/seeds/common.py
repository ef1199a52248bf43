"""What every seed scenario shares: connections to a fresh database, exact
decimals in JSON both ways, and the checks (tests/support/checks.py)."""

import decimal
import json
import pathlib
import re
import sys

import psycopg
from psycopg.types.json import Jsonb, set_json_loads

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "support"))
from checks import check, counts, finish  # noqa: E402,F401

DB = "chronicle_seeds"
_DSN = None


def set_dsn(dsn):
    global _DSN
    _DSN = dsn


def dsn():
    return f"{_DSN} dbname={DB}"


def fresh_database():
    """Database chronicle_seeds, created again with the extension."""
    with psycopg.connect(f"{_DSN} dbname=postgres", autocommit=True) as c:
        c.execute(f"DROP DATABASE IF EXISTS {DB} WITH (FORCE)")
        c.execute(f"CREATE DATABASE {DB}")
    with connect() as c:
        c.execute("CREATE EXTENSION chronicle")


def exact_loads(text):
    """JSON as the documents' Decimal amounts need it: numbers with a point
    become Decimal, keeping their digits (1.50 stays 1.50)."""
    return json.loads(text, parse_float=decimal.Decimal)


def exact_dumps(value):
    """JSON text with Decimal written as a JSON number with its exact digits
    (the standard library's encoder refuses Decimal, and a float would lose
    the trailing zero of 1.50)."""
    marked = json.dumps(value, default=lambda o: f"\x00{o}\x00" if isinstance(o, decimal.Decimal) else str(o))
    return re.sub(r'"\\u0000(-?[0-9.Ee+-]+)\\u0000"', r"\1", marked)


def jsonb(value):
    return Jsonb(value, dumps=exact_dumps)


def connect():
    """A connection (autocommit) whose jsonb values come back with exact decimals."""
    conn = psycopg.connect(dsn(), autocommit=True)
    set_json_loads(exact_loads, conn)
    return conn


async def connect_async():
    conn = await psycopg.AsyncConnection.connect(dsn(), autocommit=True)
    set_json_loads(exact_loads, conn)
    return conn


def seal(conn):
    """Hands out feed positions now (the sealer does it within milliseconds)."""
    conn.execute("SELECT chronicle.seal()")
