"""Snapshot throughput from a real PostgreSQL (`make bench-snapshot`): a source of two tables - `events`
with N rows and `users` it references - on the pinned pgserver, snapshotted whole and with a row cap.
Prints rows copied per second and this process's peak memory (streamed in batches, it should not
grow with N); asserts nothing.

    python -m benchmarks.bench_snapshot [--rows 1000000] [--out .bench/snapshot.json]
"""

from __future__ import annotations

import argparse
import json
import resource
import tempfile
import time
from pathlib import Path

import sqlalchemy as sa

from offline.sources import add_source, refresh_source

SOURCE = """
CREATE TABLE users (id integer PRIMARY KEY, name text, joined timestamptz);
CREATE TABLE events (
  id bigint PRIMARY KEY, user_id integer REFERENCES users(id), kind text, amount numeric(12, 2),
  at timestamptz, payload jsonb
);
INSERT INTO users SELECT i, 'user ' || i, now() - make_interval(days => i) FROM generate_series(1, {users}) AS i;
INSERT INTO events
  SELECT i, 1 + mod(i::bigint * 7919, {users})::integer, (ARRAY['view', 'click', 'buy'])[1 + mod(i, 3)], mod(i, 1000) / 7.0,
         now() - make_interval(secs => i), jsonb_build_object('i', i)
  FROM generate_series(1, {rows}) AS i;
"""


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows of the events table")
    parser.add_argument("--users", type=int, default=50_000)
    parser.add_argument("--cap", type=int, default=10_000, help="the capped snapshot's snapshot_rows")
    parser.add_argument("--out", type=Path, default=Path(".bench/snapshot.json"))
    args = parser.parse_args()
    import pgserver

    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        server = pgserver.get_server(root / "pg", cleanup_mode="stop")
        try:
            url = server.get_uri().replace("postgresql://", "postgresql+psycopg://", 1)
            engine = sa.create_engine(url)
            started = time.monotonic()
            with engine.begin() as connection:
                connection.exec_driver_sql(SOURCE.format(rows=args.rows, users=args.users))
            engine.dispose()
            print(
                f"source: {args.rows} events, {args.users} users, filled in {time.monotonic() - started:.0f} s"
            )
            dataset, store = root / "dataset", f"sqlite:///{root / 'store.db'}"
            (dataset / "database").mkdir(parents=True)
            results = {}
            for name, cap in (("capped", args.cap), ("whole", 0)):
                before = _peak_mb()
                started = time.monotonic()
                if name == "capped":
                    manifest = add_source(store, dataset, "source", url, snapshot_rows=cap)
                else:
                    manifest = refresh_source(store, dataset, "source", snapshot_rows=0)
                seconds = time.monotonic() - started
                copied = sum(t["rows_copied"] for t in manifest["tables"].values())
                size = (dataset / "database" / "source" / "source.sqlite").stat().st_size
                results[name] = {
                    "snapshot_rows": cap,
                    "rows_copied": copied,
                    "parents_added": sum(t["parents_added"] for t in manifest["tables"].values()),
                    "seconds": round(seconds, 1),
                    "rows_per_second": round(copied / seconds),
                    "file_mb": round(size / 2**20, 1),
                    "peak_rss_mb_before": round(before),
                    "peak_rss_mb_after": round(_peak_mb()),
                }
                print(f"{name}: {json.dumps(results[name])}", flush=True)
        finally:
            server.cleanup()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"rows": args.rows, "users": args.users, "results": results}, indent=2))
    print(f"figures: {args.out}")


if __name__ == "__main__":
    main()
