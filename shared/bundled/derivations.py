"""Column values computed from the row drawn so far (the `derived` generator of the database files
under data/databases/): code, because each is a small computation, named so the data can say which.
Each draws from rng in a fixed order, so builds stay identical."""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

from shared.bundled.tables import CITIES, WORDS

Row = dict[str, Any]
AIRPORT_CODES = [a[0] for a in WORDS["airports"]]
SEATS = {"A320": 180, "A321": 220, "B737": 189, "B787": 296, "E190": 100}
COURSE_LEVELS = ["I", "II", "III", "Lab", "Seminar"]
TEAM_NAMES = ["Falcons", "Wolves", "Tigers", "Sharks", "Comets", "Bears"]
DEPARTMENTS = ["Engineering", "Sales", "Marketing", "Finance", "Support", "Legal", "Research", "Operations"]


def seats_for_model(rng: random.Random, row: Row) -> int:
    return SEATS[row["model"]]


def flight_number(rng: random.Random, row: Row) -> str:
    return f"SD{100 + row['flight_id']}"


def other_airport(rng: random.Random, row: Row) -> str:
    return rng.choice([code for code in AIRPORT_CODES if code != row["origin"]])


def customer_email(rng: random.Random, row: Row) -> str:
    return f"{row['name'].lower().replace(' ', '.')}{row['customer_id']}@mail.test"


def course_name(rng: random.Random, row: Row) -> str:
    return f"{rng.choice(WORDS['school_subjects'])} {rng.choice(COURSE_LEVELS)}"


def room_code(rng: random.Random, row: Row) -> str:
    return f"R{rng.randint(1, 4)}{rng.randint(0, 2)}{rng.randint(1, 9)}"


def team_name(rng: random.Random, row: Row) -> str:
    return f"{CITIES[row['team_id'] - 1]} {TEAM_NAMES[row['team_id'] % 6]}"


def team_city(rng: random.Random, row: Row) -> str:
    return CITIES[row["team_id"] - 1]


def warehouse_name(rng: random.Random, row: Row) -> str:
    return f"{CITIES[row['warehouse_id'] - 1]} Hub"


def warehouse_city(rng: random.Random, row: Row) -> str:
    return CITIES[row["warehouse_id"] - 1]


def department_name(rng: random.Random, row: Row) -> str:
    return DEPARTMENTS[row["department_id"] - 1]


def manager_id(rng: random.Random, row: Row) -> int | None:
    """The first ten employees manage; the others report to one of them."""
    return None if row["employee_id"] <= 10 else rng.randint(1, 10)


DERIVATIONS: dict[str, Callable[[random.Random, Row], Any]] = {
    f.__name__: f
    for f in (
        seats_for_model,
        flight_number,
        other_airport,
        customer_email,
        course_name,
        room_code,
        team_name,
        team_city,
        warehouse_name,
        warehouse_city,
        department_name,
        manager_id,
    )
}
