"""Your own databases as sources, against real engines: PostgreSQL (the session's pgserver) and
DuckDB (a real file) - registered, snapshotted into the dataset folder (types, row caps with every
referenced parent, comments in the prompt's schema), refreshed, removed; and what must not happen:
a password stored, a write on the source, a failed refresh replacing the snapshot that serves."""

from __future__ import annotations

import hashlib
import json
import re
import sqlite3
import warnings

import pytest
import sqlalchemy as sa

from offline.sources import add_source, list_sources, refresh_all, refresh_source, remove_source
from shared.catalogue import Catalogue
from shared.sources import snapshot
from shared.sources.connection import SourceError
from shared.sources.snapshot import snapshot_path
from tests.support.postgres import new_postgres_database

SHOP = """
CREATE TYPE tier AS ENUM ('basic', 'gold');
CREATE TABLE customers (
  id integer PRIMARY KEY, name text NOT NULL, level tier, meta jsonb, tags text[],
  joined timestamptz, balance numeric(12, 2)
);
COMMENT ON TABLE customers IS 'People who bought something';
COMMENT ON COLUMN customers.level IS 'loyalty tier';
CREATE TABLE orders (id integer PRIMARY KEY, customer_id integer REFERENCES customers(id), placed date);
CREATE TABLE items (id integer PRIMARY KEY, order_id integer REFERENCES orders(id), sku text);
INSERT INTO customers
  SELECT i, 'customer ' || i, CASE WHEN mod(i, 2) = 0 THEN 'gold' ELSE 'basic' END::tier,
         jsonb_build_object('n', i), ARRAY['a', 'b' || i], '2026-01-01 12:00:00+02'::timestamptz, i * 1.25
  FROM generate_series(1, 50) AS i;
-- the first orders and items by id point at rows past the first ones: a cap must add parents
INSERT INTO orders SELECT i, 51 - (mod(i, 50) + 1), DATE '2026-02-01' + i FROM generate_series(1, 200) AS i;
INSERT INTO items SELECT i, 201 - i, 'sku-' || i FROM generate_series(1, 400) AS i WHERE i <= 200;
"""


@pytest.fixture
def shop(postgres) -> str:
    url = new_postgres_database(postgres)
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        connection.exec_driver_sql(SHOP)
    engine.dispose()
    return url


def _contents(url: str) -> str:
    """A digest of every row of the source: a snapshot must leave it as it was."""
    engine = sa.create_engine(url)
    with engine.connect() as connection:
        rows = [
            connection.exec_driver_sql(f"SELECT * FROM {t} ORDER BY id").all()
            for t in ("customers", "orders", "items")
        ]
    engine.dispose()
    return hashlib.sha256(repr(rows).encode()).hexdigest()


def _dangling(path) -> int:
    """Foreign-key values in the snapshot whose parent row is not there."""
    with sqlite3.connect(path) as connection:
        return connection.execute(
            "SELECT (SELECT count(*) FROM orders o LEFT JOIN customers c ON c.id = o.customer_id WHERE c.id IS NULL)"
            " + (SELECT count(*) FROM items i LEFT JOIN orders o ON o.id = i.order_id WHERE o.id IS NULL)"
        ).fetchone()[0]


def test_a_postgres_source_is_snapshotted_with_its_types_capped_rows_parents_and_comments(
    shop, tmp_path, monkeypatch
):
    store = f"sqlite:///{tmp_path / 'store.db'}"
    dataset = tmp_path / "dataset"
    (dataset / "database").mkdir(parents=True)
    before = _contents(shop)
    monkeypatch.setenv("SHOP_PASSWORD", "hunter2-not-stored")
    manifest = add_source(store, dataset, "shop", shop, password_env="SHOP_PASSWORD", snapshot_rows=20)
    path = snapshot_path(dataset, "shop")
    tables = manifest["tables"]
    assert {t: tables[t]["rows_present"] for t in tables} == {"customers": 50, "orders": 200, "items": 200}
    assert tables["items"]["rows_copied"] == 20  # the cap
    assert tables["orders"]["rows_copied"] > 20 and tables["orders"]["parents_added"] > 0  # items' orders
    assert tables["customers"]["parents_added"] > 0 and _dangling(path) == 0  # ... and their customers
    columns = tables["customers"]["columns"]
    assert (
        columns["level"]["approximated"].startswith("enum")
        and columns["meta"]["approximated"] == "JSON as text"
    )
    assert columns["joined"]["approximated"] == "timestamp with time zone, converted to UTC"
    with sqlite3.connect(path) as connection:
        row = connection.execute(
            "SELECT name, level, meta, tags, joined, balance FROM customers WHERE id = 2"
        ).fetchone()
    assert row == ("customer 2", "gold", '{"n": 2}', '["a", "b2"]', "2026-01-01 10:00:00", 2.5)

    schema_text = Catalogue.load(dataset).schema("shop").schema_text()
    assert "-- People who bought something\nCREATE TABLE customers" in schema_text
    assert "level TEXT, -- loyalty tier; e.g." in schema_text
    assert "customer_id INTEGER REFERENCES customers(id)" in schema_text

    assert _contents(shop) == before  # read, never written
    assert b"hunter2" not in (tmp_path / "store.db").read_bytes()  # no password stored
    (listed,) = list_sources(store)
    assert listed.name == "shop" and listed.figures["tables"] == 3 and "hunter2" not in listed.url

    # The source changes; a refresh sees it. A failing refresh keeps the last snapshot serving.
    engine = sa.create_engine(shop)
    with engine.begin() as connection:
        connection.exec_driver_sql("UPDATE customers SET name = 'renamed' WHERE id = 2")
    engine.dispose()
    refresh_source(store, dataset, "shop")
    with sqlite3.connect(path) as connection:
        assert connection.execute("SELECT name FROM customers WHERE id = 2").fetchone() == ("renamed",)
    serving = path.read_bytes()
    monkeypatch.delenv("SHOP_PASSWORD")
    with pytest.raises(SourceError, match="SHOP_PASSWORD is not set"):
        refresh_source(store, dataset, "shop")
    assert "SHOP_PASSWORD is not set" in refresh_all(store, dataset)["shop"]
    monkeypatch.setenv("SHOP_PASSWORD", "x")
    # The source goes away mid-copy (its server ends the snapshot's session after a few batches).
    monkeypatch.setattr(snapshot, "BATCH_ROWS", 10)
    write, batches = snapshot._Copier._write, []

    def write_then_lose_the_source(self, table, rows):
        batches.append(table.name)
        if len(batches) == 3:
            admin = sa.create_engine(shop)
            with admin.begin() as connection:
                connection.exec_driver_sql(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
            admin.dispose()
        return write(self, table, rows)

    monkeypatch.setattr(snapshot._Copier, "_write", write_then_lose_the_source)
    with pytest.raises(SourceError, match="the previous snapshot still serves"):
        refresh_source(store, dataset, "shop")
    assert len(batches) == 3  # it failed mid-way, not before or after
    assert path.read_bytes() == serving and not list(path.parent.glob(".*partial"))
    assert "still serves" in list_sources(store)[0].last_error

    remove_source(store, dataset, "shop")
    assert not path.parent.exists() and list_sources(store) == []


def test_a_role_that_cannot_read_a_table_gets_the_rest_and_says_which(shop, postgres, tmp_path):
    engine = sa.create_engine(shop)
    with engine.begin() as connection:
        connection.exec_driver_sql("DROP ROLE IF EXISTS reader")
        connection.exec_driver_sql("CREATE ROLE reader LOGIN")
        connection.exec_driver_sql("GRANT SELECT ON customers, orders TO reader")
    engine.dispose()
    reader = sa.engine.make_url(shop).set(username="reader").render_as_string(hide_password=False)
    dataset = tmp_path / "dataset"
    (dataset / "database").mkdir(parents=True)
    manifest = add_source(f"sqlite:///{tmp_path / 'store.db'}", dataset, "shop", reader, snapshot_rows=0)
    assert set(manifest["tables"]) == {"customers", "orders"}
    assert "permission denied" in manifest["unreadable"]["items"]
    assert manifest["tables"]["orders"]["rows_copied"] == 200  # no cap: every row


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("postgresql+psycopg://someone:secret@127.0.0.1:5/shop", "holds a password"),
        ("postgresql+psycopg://someone@127.0.0.1:1/shop", "cannot connect to source shop"),
        ("oracle://someone@host/db", "unsupported engine 'oracle'"),
        ("not a url", "not a database URL"),
        ("mysql://someone@host/shop", "no driver for 'mysql'.*mysql\\+pymysql://"),  # MySQLdb: not here
        ("postgresql+nosuch://someone@host/shop", "no driver for 'postgresql\\+nosuch'"),
    ],
)
def test_bad_sources_are_refused_with_the_reason_and_nothing_registered(tmp_path, url, message):
    store = f"sqlite:///{tmp_path / 'store.db'}"
    dataset = tmp_path / "dataset"
    (dataset / "database").mkdir(parents=True)
    with pytest.raises(SourceError, match=message):
        add_source(store, dataset, "shop", url)
    assert list_sources(store) == [] and not (dataset / "database" / "shop").exists()


def test_a_duckdb_source_keeps_nested_and_wide_values_and_its_keys(tmp_path):
    import duckdb

    source = tmp_path / "warehouse.duckdb"
    connection = duckdb.connect(str(source))
    connection.execute(
        "CREATE TABLE regions (id INTEGER PRIMARY KEY, name VARCHAR, info STRUCT(code VARCHAR, size INTEGER))"
    )
    connection.execute("COMMENT ON TABLE regions IS 'sales regions'")
    connection.execute(
        "CREATE TABLE sales (id INTEGER PRIMARY KEY, region_id INTEGER REFERENCES regions(id), amount DECIMAL(10, 2), days INTEGER[], total HUGEINT)"
    )
    connection.execute(
        "INSERT INTO regions VALUES (1, 'north', {'code': 'N', 'size': 3}), (2, 'south', {'code': 'S', 'size': 5})"
    )
    connection.execute("INSERT INTO sales SELECT i, 2 - i % 2, i * 1.5, [i, i + 1], i FROM range(1, 11) t(i)")
    connection.close()
    dataset = tmp_path / "dataset"
    (dataset / "database").mkdir(parents=True)
    manifest = add_source(
        f"sqlite:///{tmp_path / 'store.db'}", dataset, "warehouse", f"duckdb:///{source}", snapshot_rows=3
    )
    assert manifest["tables"]["regions"]["comment"] == "sales regions"
    with sqlite3.connect(snapshot_path(dataset, "warehouse")) as snap:
        assert snap.execute("SELECT info FROM regions WHERE id = 1").fetchone() == (
            '{"code": "N", "size": 3}',
        )
        assert snap.execute("SELECT id, amount, days, total FROM sales ORDER BY id").fetchall() == [
            (1, 1.5, "[1, 2]", 1),
            (2, 3.0, "[2, 3]", 2),
            (3, 4.5, "[3, 4]", 3),
        ]
        assert snap.execute("SELECT count(*) FROM regions").fetchone() == (2,)  # both referenced
    catalogue = Catalogue.load(dataset)
    assert "warehouse" in catalogue.db_ids
    assert [fk.ref_table for fk in catalogue.schema("warehouse").table("sales").foreign_keys] == ["regions"]
    assert json.loads((snapshot_path(dataset, "warehouse").with_name("snapshot.json")).read_text())[
        "source"
    ].startswith("duckdb:///")


@pytest.mark.parametrize(
    ("sql", "reason"),
    [
        ("DROP TABLE customers", "only a SELECT runs on a source, not DROP"),
        ("SELECT 1; DELETE FROM customers", "holds 2 statements"),
        ("SELECT pg_sleep(10)", "function pg_sleep() does not run on a source"),
        ("WITH gone AS (DELETE FROM customers RETURNING id) SELECT * FROM gone", "only reads run"),
        ("SELECT * INTO copied FROM customers", "only reads run"),
        ("SELECT (1", "does not parse"),
        ("SELEC nothing", "only a SELECT runs on a source"),
    ],
)
def test_an_answer_that_is_not_one_read_never_reaches_the_source(shop, sql, reason):
    from shared.sources.connection import SourceRef
    from shared.sources.on_source import Refused, run_on_source

    engine = sa.create_engine(shop)
    received: list[str] = []
    sa.event.listen(engine, "before_cursor_execute", lambda *args: received.append(args[2]))
    before = _contents(shop)
    with pytest.raises(Refused, match=re.escape(reason)):
        run_on_source(SourceRef("shop", shop), sql, 10, engine=engine)
    assert received == [] and _contents(shop) == before
    engine.dispose()


def test_an_answer_runs_on_postgres_in_its_dialect_read_only_with_a_deadline(shop):
    from shared.sources.connection import SourceError, SourceRef
    from shared.sources.on_source import run_on_source

    engine = sa.create_engine(shop)
    received: list[str] = []
    sa.event.listen(engine, "before_cursor_execute", lambda *args: received.append(args[2]))
    ref = SourceRef("shop", shop)
    ran = run_on_source(
        ref, "SELECT ifnull(name, 'none'), level FROM customers WHERE id <= 3 ORDER BY id", 2, engine=engine
    )
    assert (
        ran.sql == "SELECT COALESCE(name, 'none'), level FROM customers WHERE id <= 3 ORDER BY id NULLS FIRST"
    )
    assert ran.rows == [("customer 1", "basic"), ("customer 2", "gold")] and ran.truncated
    assert any("statement_timeout" in s for s in received) and received[-1] == ran.sql
    like = run_on_source(ref, "SELECT count(*) FROM customers WHERE name LIKE '%r 1%'", 5, engine=engine)
    assert like.rows == [(11,)]  # customer 1, 10-19: a % is SQL, not a parameter marker
    with pytest.raises(SourceError, match="statement timeout"):  # a query past the deadline is stopped
        run_on_source(
            ref,
            "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c",
            1,
            timeout_ms=300,
            engine=engine,
        )
    engine.dispose()


def test_a_source_that_changes_during_the_snapshot_is_copied_as_of_one_moment(shop, tmp_path, monkeypatch):
    """Rows written to the source while the snapshot runs are not in it: one repeatable-read
    transaction, so no child row arrives without its parent either."""
    monkeypatch.setattr(snapshot, "BATCH_ROWS", 10)
    write, batches = snapshot._Copier._write, []

    def write_while_the_source_changes(self, table, rows):
        batches.append(table.name)
        if len(batches) == 1:
            engine = sa.create_engine(shop)
            with engine.begin() as connection:
                connection.exec_driver_sql("INSERT INTO customers (id, name) VALUES (999, 'late')")
                connection.exec_driver_sql("INSERT INTO orders VALUES (999, 999, DATE '2026-03-01')")
                connection.exec_driver_sql("INSERT INTO items VALUES (999, 999, 'late')")
            engine.dispose()
        return write(self, table, rows)

    monkeypatch.setattr(snapshot._Copier, "_write", write_while_the_source_changes)
    dataset = tmp_path / "dataset"
    (dataset / "database").mkdir(parents=True)
    manifest = add_source(f"sqlite:///{tmp_path / 'store.db'}", dataset, "shop", shop, snapshot_rows=0)
    assert {t: manifest["tables"][t]["rows_present"] for t in manifest["tables"]} == {
        "customers": 50,
        "orders": 200,
        "items": 200,
    }
    with sqlite3.connect(snapshot_path(dataset, "shop")) as connection:
        assert connection.execute("SELECT count(*) FROM items WHERE id = 999").fetchone() == (0,)
        assert connection.execute("SELECT count(*) FROM customers").fetchone() == (50,)


def test_a_type_the_reflection_does_not_know_is_kept_as_its_text(shop, tmp_path):
    engine = sa.create_engine(shop)
    with engine.begin() as connection:
        connection.exec_driver_sql("CREATE TYPE pair AS (a integer, b text)")
        connection.exec_driver_sql("CREATE TABLE shelves (id integer PRIMARY KEY, spot pair)")
        connection.exec_driver_sql("INSERT INTO shelves VALUES (1, ROW(3, 'left'))")
    engine.dispose()
    dataset = tmp_path / "dataset"
    (dataset / "database").mkdir(parents=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # SQLAlchemy: "Did not recognize type 'pair'" - the case here
        manifest = add_source(f"sqlite:///{tmp_path / 'store.db'}", dataset, "shop", shop)
    spot = manifest["tables"]["shelves"]["columns"]["spot"]
    assert spot["sqlite_type"] == "TEXT" and spot["approximated"].startswith(
        "type the reflection does not know"
    )
    with sqlite3.connect(snapshot_path(dataset, "shop")) as connection:
        assert connection.execute("SELECT spot FROM shelves").fetchone() == ("(3,left)",)


def test_an_answer_past_its_deadline_on_duckdb_is_interrupted(tmp_path):
    """DuckDB has no statement timeout: a timer interrupts the query."""
    import duckdb

    from shared.sources.connection import SourceError, SourceRef
    from shared.sources.on_source import run_on_source

    source = tmp_path / "slow.duckdb"
    duckdb.connect(str(source)).close()
    endless = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c"
    with pytest.raises(SourceError, match="Interrupted"):  # an endless query: only the timer ends it
        run_on_source(SourceRef("slow", f"duckdb:///{source}"), endless, 5, timeout_ms=300)


def test_a_sqlite_source_is_kept_by_its_absolute_path_read_only_and_a_missing_one_is_refused(
    tmp_path, monkeypatch
):
    from shared.sources.connection import SourceRef, engine_for

    source = tmp_path / "shop.db"
    with sqlite3.connect(source) as connection:
        connection.execute("CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT)")
        connection.execute("INSERT INTO items VALUES (1, 'pen')")
    store, dataset = f"sqlite:///{tmp_path / 'store.db'}", tmp_path / "dataset"
    (dataset / "database").mkdir(parents=True)
    monkeypatch.chdir(tmp_path)  # a relative path, as a user types it
    with pytest.raises(SourceError, match="no database file"):
        add_source(store, dataset, "typo", "sqlite:///shpo.db")
    assert not (tmp_path / "shpo.db").exists()  # a typo creates no empty database
    manifest = add_source(store, dataset, "shop", "sqlite:///shop.db")
    assert manifest["tables"]["items"]["rows_copied"] == 1
    (registered,) = list_sources(store)
    assert registered.url == f"sqlite:///{source}"  # any process, from any directory, finds it
    before = hashlib.sha256(source.read_bytes()).hexdigest()
    engine = engine_for(SourceRef(registered.name, registered.url))
    try:
        with pytest.raises(sa.exc.OperationalError, match="readonly"), engine.begin() as connection:
            connection.execute(sa.text("INSERT INTO items VALUES (2, 'ink')"))
    finally:
        engine.dispose()
    assert hashlib.sha256(source.read_bytes()).hexdigest() == before


def test_rows_are_said_to_match_the_source_only_when_both_sides_were_read_whole(tmp_path):
    import duckdb

    from services.controller.source_answers import answer_on_source
    from shared.pb import controller_pb2, critic_pb2
    from shared.pbconvert import to_result_set
    from shared.sources.connection import SourceRef
    from shared.sources.on_source import not_compared

    source = tmp_path / "warehouse.duckdb"
    connection = duckdb.connect(str(source))
    connection.execute("CREATE TABLE regions (id INTEGER PRIMARY KEY, name VARCHAR)")
    connection.execute("INSERT INTO regions VALUES (1, 'north'), (2, 'south'), (3, 'east')")
    connection.close()
    ref = SourceRef("warehouse", f"duckdb:///{source}")

    def asked(
        status, rows, truncated=False, max_rows=2, sql="SELECT id FROM regions"
    ) -> controller_pb2.Answer:
        answer = controller_pb2.Answer(sql=sql, status=status)
        answer.result.CopyFrom(to_result_set(["id"], rows, truncated))
        answer_on_source(ref, answer, max_rows=max_rows)
        return answer

    ok = critic_pb2.EXECUTION_STATUS_OK
    cut = asked(ok, [(1,), (9,)], truncated=True)  # both sides cut at 2 rows, different rows kept
    assert not cut.source_differs and cut.source_result.truncated
    assert "row cap" in not_compared(True, cut.result.truncated, cut.source_result.truncated)
    # the snapshot gave nothing to compare; the source's 3 rows all fit under the cap
    failed = asked(critic_pb2.EXECUTION_STATUS_TIMEOUT, [], max_rows=10)
    assert not failed.source_result.truncated and not failed.source_differs
    assert asked(ok, [(1,), (2,)], max_rows=10).source_differs  # both whole, and different: said so
    # SQLite's MAX() beside a column over no rows is one row of NULLs; the source's rewrite gives none
    nothing = "SELECT name, max(id) FROM regions WHERE id > 99"
    assert not asked(ok, [(None, None)], max_rows=10, sql=nothing).source_differs
    assert not_compared(False, False, False) == "the answer did not run on the snapshot"
    assert not_compared(True, False, False) == ""  # both read whole: compared


def test_tables_a_sqlite_snapshot_cannot_hold_are_left_out_with_why_and_the_rest_copied(postgres, tmp_path):
    url = new_postgres_database(postgres)
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        connection.exec_driver_sql('CREATE TABLE "Users" (id INTEGER PRIMARY KEY, name TEXT)')
        connection.exec_driver_sql("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT)")
        connection.exec_driver_sql('CREATE TABLE readings ("ID" INTEGER, id INTEGER)')
        connection.exec_driver_sql("CREATE TABLE nothing ()")
        connection.exec_driver_sql("CREATE TABLE sqlite_stats (n INTEGER)")
        connection.exec_driver_sql(
            "CREATE TABLE orders (id INTEGER PRIMARY KEY, user_id INTEGER REFERENCES users(id))"
        )
        connection.exec_driver_sql("INSERT INTO users VALUES (1, 'ana'); INSERT INTO orders VALUES (7, 1)")
    engine.dispose()
    dataset = tmp_path / "dataset"
    (dataset / "database").mkdir(parents=True)
    manifest = add_source(f"sqlite:///{tmp_path / 'store.db'}", dataset, "app", url, snapshot_rows=0)
    assert set(manifest["tables"]) == {"Users", "orders"}  # "Users" sorts first and is kept
    left = manifest["unreadable"]
    assert "differs only in case" in left["users"] and "'ID' and 'id' differ only in case" in left["readings"]
    assert "no columns" in left["nothing"] and "sqlite_" in left["sqlite_stats"]
    with sqlite3.connect(snapshot_path(dataset, "app")) as snap:
        assert snap.execute("SELECT id, user_id FROM orders").fetchall() == [(7, 1)]
        # the key to the table left out is not in the snapshot
        assert snap.execute("PRAGMA foreign_key_list(orders)").fetchall() == []
