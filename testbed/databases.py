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


# BIRD-format questions: (db_id, question, evidence, SQL, difficulty). The first two are written so
# that Spider's and BIRD's execution match disagree on the predictions in BIRD_DISAGREEMENTS.
BIRD_EXAMPLES = [
    (
        "concert",
        "Which countries do singers older than 30 come from?",
        "older than 30 refers to age > 30",
        "SELECT country FROM singer WHERE age > 30",
        "simple",
    ),
    ("concert", "List the names and ages of the singers.", "", "SELECT name, age FROM singer", "simple"),
    (
        "pets",
        "How many pets are heavier than 10 kilograms?",
        "heavier than 10 kilograms refers to weight > 10",
        "SELECT count(*) FROM pet WHERE weight > 10",
        "moderate",
    ),
    (
        "concert",
        "Which stadium hosted the most concerts?",
        "the most concerts refers to MAX(COUNT(concert_id))",
        "SELECT T2.name FROM concert AS T1 JOIN stadium AS T2 ON T1.stadium_id = T2.stadium_id "
        "GROUP BY T2.stadium_id ORDER BY count(*) DESC LIMIT 1",
        "challenging",
    ),
]
# Predictions for BIRD_EXAMPLES where the metrics part ways, with (Spider match, BIRD match).
BIRD_DISAGREEMENTS = [
    ("SELECT country FROM singer WHERE age > 30 GROUP BY country", (False, True)),  # duplicates dropped
    ("SELECT age, name FROM singer", (True, False)),  # columns swapped
]


def make_bird_dir(root: Path) -> Path:
    """A BIRD-format folder: dev.json (SQL, evidence, difficulty, question_id), dev_tables.json,
    dev_databases/<db_id>/<db_id>.sqlite; train.json in the same shape for training-side tests."""
    make_concert_db(root / "dev_databases" / "concert" / "concert.sqlite")
    make_pets_db(root / "dev_databases" / "pets" / "pets.sqlite")
    (root / "dev_tables.json").write_text(json.dumps([{"db_id": "concert"}, {"db_id": "pets"}]))
    entries = [
        {"question_id": i, "db_id": d, "question": q, "evidence": e, "SQL": s, "difficulty": level}
        for i, (d, q, e, s, level) in enumerate(BIRD_EXAMPLES)
    ]
    (root / "dev.json").write_text(json.dumps(entries, indent=2))
    (root / "train.json").write_text(json.dumps(entries[:3], indent=2))
    return root
