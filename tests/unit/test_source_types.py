"""How a source's column types become SQLite (shared/sources/type_map.yaml) and how an answer is
transpiled for a source, without a server: PostgreSQL's and MySQL's SQLAlchemy types, DuckDB's type
names, and a MySQL table as `SHOW CREATE TABLE` prints it - recorded here as text in MySQL 8's form
(no MySQL server runs on this machine), parsed by SQLAlchemy's own MySQL reflection parser."""

from __future__ import annotations

import warnings
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from sqlalchemy import types
from sqlalchemy.dialects import mysql, postgresql

from shared.sources.on_source import Refused, transpile
from shared.sources.types import comparable, map_type

MYSQL_ORDERS = """CREATE TABLE `orders` (
  `id` int NOT NULL AUTO_INCREMENT,
  `customer_id` int DEFAULT NULL COMMENT 'who ordered',
  `status` enum('new','paid','shipped') NOT NULL,
  `total` decimal(12,2) DEFAULT NULL,
  `placed` datetime DEFAULT NULL,
  `paid` tinyint(1) DEFAULT NULL,
  `meta` json DEFAULT NULL,
  `note` mediumtext,
  `drop_point` point DEFAULT NULL,
  PRIMARY KEY (`id`),
  KEY `customer_id` (`customer_id`),
  CONSTRAINT `orders_ibfk_1` FOREIGN KEY (`customer_id`) REFERENCES `customers` (`id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COMMENT='orders placed'"""


@pytest.mark.parametrize(
    ("source_type", "sqlite", "approximated"),
    [
        (postgresql.INTEGER(), "INTEGER", ""),
        (postgresql.BOOLEAN(), "INTEGER", "true/false as 1/0"),
        (postgresql.NUMERIC(12, 2), "REAL", "decimal as a double"),
        (postgresql.DOUBLE_PRECISION(), "REAL", ""),
        (postgresql.TIMESTAMP(timezone=True), "TEXT", "timestamp with time zone, converted to UTC"),
        (postgresql.TIMESTAMP(), "TEXT", ""),
        (postgresql.JSONB(), "TEXT", "JSON as text"),
        (postgresql.ARRAY(types.Text()), "TEXT", "array as JSON text"),
        (postgresql.ENUM("a", "b", name="t"), "TEXT", "enum as its label"),
        (postgresql.UUID(), "TEXT", ""),
        (postgresql.BYTEA(), "BLOB", ""),
        (postgresql.INTERVAL(), "TEXT", "interval as text"),
        (types.NullType(), "TEXT", "type the reflection does not know"),
        ("DECIMAL(10,2)", "REAL", "decimal as a double"),
        (postgresql.NUMERIC(20, 0), "INTEGER", ""),  # whole numbers (ids): not rounded into doubles
        ("DECIMAL(20,0)", "INTEGER", ""),
        ("NUMERIC(18)", "INTEGER", ""),
        ("INTEGER[]", "TEXT", "array as JSON text"),
        ("STRUCT(x INTEGER, y VARCHAR)", "TEXT", "nested value as JSON text"),
        ("TIMESTAMP WITH TIME ZONE", "TEXT", "timestamp with time zone, converted to UTC"),
        ("HUGEINT", "INTEGER", "integers past 64 bits"),
        ("VARCHAR", "TEXT", ""),
        ("GEOMETRY", "TEXT", "unmapped type GEOMETRY"),
    ],
    ids=str,
)
def test_each_source_type_has_a_sqlite_type_and_says_what_it_approximates(source_type, sqlite, approximated):
    mapped = map_type(source_type)
    assert mapped.sqlite == sqlite
    assert mapped.note.startswith(approximated) if approximated else mapped.note == ""


def test_values_convert_as_the_snapshot_keeps_them():
    assert map_type(postgresql.BOOLEAN()).convert(True) == 1
    assert map_type(postgresql.NUMERIC(12, 2)).convert(Decimal("2.50")) == 2.5
    zoned = datetime(2026, 1, 1, 12, 0, tzinfo=timezone(timedelta(hours=2)))
    assert map_type(postgresql.TIMESTAMP(timezone=True)).convert(zoned) == "2026-01-01 10:00:00"
    assert map_type(postgresql.JSONB()).convert({"n": 1}) == '{"n": 1}'
    assert map_type(postgresql.ARRAY(types.Text())).convert(["a", "b"]) == '["a", "b"]'
    assert map_type("HUGEINT").convert(2**70) == str(2**70) and map_type("HUGEINT").convert(5) == 5
    assert map_type(postgresql.DATE()).convert(date(2026, 2, 1)) == "2026-02-01"
    # ids past a double's 15 digits stay apart; an unsigned 64-bit one past SQLite's range is its digits
    ids = map_type(postgresql.NUMERIC(20, 0))
    assert ids.convert(Decimal("12345678901234567891")) != ids.convert(Decimal("12345678901234567892"))
    assert ids.convert(Decimal("123")) == 123
    # a SQLite source holds a column to no type: what is not whole is kept as it is, never cut or failed
    assert (ids.convert(9.99), ids.convert("n/a"), ids.convert("12")) == (9.99, "n/a", 12)
    assert map_type(mysql.BIGINT(unsigned=True)).convert(2**64 - 1) == str(2**64 - 1)
    assert map_type(postgresql.INTEGER()).convert(None) is None
    assert (
        comparable(Decimal("1.5")) == 1.5
        and comparable(datetime(2026, 1, 1, tzinfo=UTC)) == "2026-01-01 00:00:00"
    )


def test_a_recorded_mysql_table_maps_through_sqlalchemys_mysql_reflection():
    from sqlalchemy.dialects.mysql.reflection import MySQLTableDefinitionParser

    dialect = mysql.dialect()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "Did not recognize type 'point'": what this test is about
        parsed = MySQLTableDefinitionParser(dialect, dialect.identifier_preparer).parse(
            MYSQL_ORDERS, "utf8mb4"
        )
    mapped = {c["name"]: map_type(c["type"]) for c in parsed.columns}
    assert {name: m.sqlite for name, m in mapped.items()} == {
        "id": "INTEGER",
        "customer_id": "INTEGER",
        "status": "TEXT",
        "total": "REAL",
        "placed": "TEXT",
        "paid": "INTEGER",
        "meta": "TEXT",
        "note": "TEXT",
        "drop_point": "TEXT",
    }
    assert mapped["status"].note.startswith("enum") and mapped["drop_point"].note.startswith(
        "type the reflection"
    )
    assert [c["comment"] for c in parsed.columns if c["name"] == "customer_id"] == ["who ordered"]
    assert (
        parsed.fk_constraints[0]["table"] == ["customers"]
        and parsed.table_options["mysql_comment"] == "orders placed"
    )


@pytest.mark.parametrize(
    ("sqlite", "dialect", "expected"),
    [
        ("SELECT name || ' ' || city FROM t", "mysql", "SELECT CONCAT(name, ' ', city) FROM t"),
        (
            "SELECT strftime('%Y', placed), count(*) FROM o GROUP BY 1",
            "mysql",
            "SELECT DATE_FORMAT(placed, '%Y'), COUNT(*) FROM o GROUP BY 1",
        ),
        ("SELECT ifnull(a, 0) FROM t", "postgres", "SELECT COALESCE(a, 0) FROM t"),
        (
            "SELECT * FROM t ORDER BY x DESC LIMIT 3",
            "postgres",
            "SELECT * FROM t ORDER BY x DESC NULLS LAST LIMIT 3",
        ),
        ("SELECT strftime('%Y', d) FROM t", "duckdb", "SELECT STRFTIME(CAST(d AS TIMESTAMP), '%Y') FROM t"),
        # SQLite shows a column a grouped query does not group by; the strict engines need an aggregate
        (
            "SELECT T2.name, count(*) FROM e AS T1 JOIN d AS T2 ON T1.d_id = T2.id GROUP BY T1.d_id",
            "postgres",
            "SELECT MIN(T2.name), COUNT(*) FROM e AS T1 JOIN d AS T2 ON T1.d_id = T2.id GROUP BY T1.d_id",
        ),
        (
            "SELECT city, count(*) AS n FROM t GROUP BY city HAVING n > 2",
            "postgres",
            "SELECT city, COUNT(*) AS n FROM t GROUP BY city HAVING COUNT(*) > 2",
        ),
        ("SELECT name, count(*) FROM t GROUP BY 1", "mysql", "SELECT name, COUNT(*) FROM t GROUP BY 1"),
        (  # an aggregate without GROUP BY is one group
            "SELECT min(y), max(y) FROM m ORDER BY y LIMIT 1",
            "postgres",
            "SELECT MIN(y), MAX(y) FROM m ORDER BY MIN(y) NULLS FIRST LIMIT 1",
        ),
        ("SELECT name FROM t ORDER BY age", "postgres", "SELECT name FROM t ORDER BY age NULLS FIRST"),
        (  # SQLite shows the row holding the one MAX(): the oldest singer's name, not MIN(name)
            "SELECT name, max(age) FROM singer WHERE country = 'x'",
            "postgres",
            "SELECT name, age FROM singer WHERE country = 'x' AND NOT age IS NULL ORDER BY age DESC NULLS LAST LIMIT 1",
        ),
        ("SELECT count(*), min(age) FROM singer", "duckdb", "SELECT COUNT(*), MIN(age) FROM singer"),
        (
            "SELECT name, min(DISTINCT age) FROM singer",
            "duckdb",
            "SELECT name, age FROM singer WHERE NOT age IS NULL ORDER BY age ASC LIMIT 1",
        ),
        (
            "SELECT name FROM t WHERE id IN (SELECT tid FROM u GROUP BY tid HAVING count(*) > 1)",
            "duckdb",
            "SELECT name FROM t WHERE id IN (SELECT tid FROM u GROUP BY tid HAVING COUNT(*) > 1)",
        ),
    ],
)
def test_answers_are_transpiled_to_the_source_dialect(sqlite, dialect, expected):
    assert transpile(sqlite, dialect) == expected


@pytest.mark.parametrize(
    "sql",
    [
        "DELETE FROM t",
        "SELECT 1; SELECT 2",
        "SELECT sleep(5)",
        "INSERT INTO t SELECT * FROM u",
        "ATTACH 'x' AS y",
        "SELECT * FROM t FOR UPDATE",  # row locks
        "SELECT * FROM read_csv('/etc/passwd')",  # DuckDB reads files from SELECT
        'SELECT * FROM "/var/data/x.parquet"',
        "SELECT country, name, max(age) FROM singer GROUP BY country",  # SQLite's row: no portable form
        "SELECT name, max(age) FROM singer LIMIT 1 OFFSET 1",
    ],
)
def test_anything_but_one_plain_read_is_refused(sql):
    with pytest.raises(Refused):
        transpile(sql, "mysql")
