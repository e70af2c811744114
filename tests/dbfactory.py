"""Small, seeded SQLite databases and Spider-format folders for tests (real files, real keys)."""

from __future__ import annotations

import json
import random
import sqlite3
from pathlib import Path

CONCERT_SCHEMA = """
CREATE TABLE stadium (
  stadium_id INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  location TEXT,
  capacity INTEGER,
  average REAL
);
CREATE TABLE singer (
  singer_id INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  country TEXT,
  age INTEGER,
  is_male INTEGER
);
CREATE TABLE concert (
  concert_id INTEGER PRIMARY KEY,
  concert_name TEXT,
  theme TEXT,
  stadium_id INTEGER REFERENCES stadium(stadium_id),
  year INTEGER
);
CREATE TABLE singer_in_concert (
  concert_id INTEGER REFERENCES concert(concert_id),
  singer_id INTEGER REFERENCES singer(singer_id),
  PRIMARY KEY (concert_id, singer_id)
);
"""

COUNTRIES = ["France", "Netherlands", "United States", "Japan", "Brazil"]
THEMES = ["Rock", "Jazz", "Pop", "Folk", "Classical"]
CITIES = ["Raith Rovers", "Ayr United", "East Fife", "Queen's Park", "Stirling Albion", "Arbroath"]


def make_concert_db(path: Path, seed: int = 0) -> Path:
    rng = random.Random(seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():
        path.unlink()
    connection = sqlite3.connect(path)
    connection.executescript(CONCERT_SCHEMA)
    stadiums = [
        (
            i,
            f"{CITIES[i % len(CITIES)]} Park {i}",
            CITIES[i % len(CITIES)],
            rng.randint(1000, 50000),
            round(rng.uniform(500, 5000), 1),
        )
        for i in range(1, 11)
    ]
    singers = [
        (i, f"Singer {i}", rng.choice(COUNTRIES), rng.randint(18, 70), rng.randint(0, 1))
        for i in range(1, 31)
    ]
    concerts = [
        (i, f"Concert {i}", rng.choice(THEMES), rng.randint(1, 10), rng.randint(2010, 2020))
        for i in range(1, 41)
    ]
    links = sorted({(rng.randint(1, 40), rng.randint(1, 30)) for _ in range(90)})
    connection.executemany("INSERT INTO stadium VALUES (?,?,?,?,?)", stadiums)
    connection.executemany("INSERT INTO singer VALUES (?,?,?,?,?)", singers)
    connection.executemany("INSERT INTO concert VALUES (?,?,?,?,?)", concerts)
    connection.executemany("INSERT INTO singer_in_concert VALUES (?,?)", links)
    connection.commit()
    connection.close()
    return path


def make_pets_db(path: Path, seed: int = 1) -> Path:
    rng = random.Random(seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():
        path.unlink()
    connection = sqlite3.connect(path)
    connection.executescript(
        """
        CREATE TABLE owner (owner_id INTEGER PRIMARY KEY, name TEXT, city TEXT);
        CREATE TABLE pet (pet_id INTEGER PRIMARY KEY, owner_id INTEGER REFERENCES owner(owner_id),
                          kind TEXT, weight REAL, age INTEGER);
        """
    )
    connection.executemany(
        "INSERT INTO owner VALUES (?,?,?)",
        [(i, f"Owner {i}", rng.choice(["Oslo", "Lima", "Pune"])) for i in range(1, 16)],
    )
    connection.executemany(
        "INSERT INTO pet VALUES (?,?,?,?,?)",
        [
            (
                i,
                rng.randint(1, 15),
                rng.choice(["dog", "cat", "bird"]),
                round(rng.uniform(0.5, 40), 2),
                rng.randint(1, 15),
            )
            for i in range(1, 51)
        ],
    )
    connection.commit()
    connection.close()
    return path


DEV_EXAMPLES = [
    ("concert", "How many singers are there?", "SELECT count(*) FROM singer"),
    (
        "concert",
        "List singers' names and ages from oldest to youngest.",
        "SELECT name, age FROM singer ORDER BY age DESC",
    ),
    (
        "concert",
        "Which stadiums have no concerts?",
        "SELECT name FROM stadium WHERE stadium_id NOT IN (SELECT stadium_id FROM concert)",
    ),
    ("pets", "How many dogs are there?", "SELECT count(*) FROM pet WHERE kind = 'dog'"),
]


def make_spider_dir(root: Path) -> Path:
    """A Spider-format folder: database/<db_id>/<db_id>.sqlite, tables.json, dev.json, train_spider.json."""
    make_concert_db(root / "database" / "concert" / "concert.sqlite")
    make_pets_db(root / "database" / "pets" / "pets.sqlite")
    (root / "tables.json").write_text(json.dumps([{"db_id": "concert"}, {"db_id": "pets"}]))
    dev = [{"db_id": d, "question": q, "query": s} for d, q, s in DEV_EXAMPLES]
    (root / "dev.json").write_text(json.dumps(dev))
    (root / "train_spider.json").write_text(json.dumps(dev[:2]))
    return root
