"""The ten bundled databases: schemas and how their rows are drawn (seeded, so every build is identical)."""

from __future__ import annotations

from collections.abc import Callable

from shared.bundled.tables import (
    CITIES,
    COUNTRIES,
    WORDS,
    Column,
    Table,
    choice,
    date,
    derived,
    integer,
    maybe,
    person,
    real,
    words,
)

ADJ: list[str] = WORDS["adjectives"]
NOUN: list[str] = WORDS["nouns"]


def library() -> list[Table]:
    return [
        Table(
            "author",
            40,
            [
                Column("author_id", "INTEGER", primary_key=True),
                Column("name", "TEXT", person, not_null=True),
                Column("country", "TEXT", choice(COUNTRIES[:8])),
                Column("birth_year", "INTEGER", integer(1920, 1995)),
            ],
        ),
        Table(
            "book",
            150,
            [
                Column("book_id", "INTEGER", primary_key=True),
                Column("title", "TEXT", words(ADJ, NOUN), not_null=True),
                Column("author_id", "INTEGER", references=("author", "author_id")),
                Column(
                    "genre", "TEXT", choice(["Fiction", "Mystery", "Science", "History", "Poetry", "Fantasy"])
                ),
                Column("published_year", "INTEGER", integer(1950, 2023)),
                Column("pages", "INTEGER", integer(90, 900)),
            ],
        ),
        Table(
            "member",
            80,
            [
                Column("member_id", "INTEGER", primary_key=True),
                Column("name", "TEXT", person, not_null=True),
                Column("city", "TEXT", choice(CITIES[:6])),
                Column("join_year", "INTEGER", integer(2010, 2023)),
            ],
        ),
        Table(
            "loan",
            400,
            [
                Column("loan_id", "INTEGER", primary_key=True),
                Column("book_id", "INTEGER", references=("book", "book_id")),
                Column("member_id", "INTEGER", references=("member", "member_id")),
                Column("loan_date", "TEXT", date(2019, 2023)),
                Column("returned", "INTEGER", choice([0, 1], [0.2, 0.8])),
                Column("late_fee", "REAL", choice([0.0, 0.0, 0.0, 1.5, 3.0, 7.5])),
            ],
        ),
    ]


def clinic() -> list[Table]:
    return [
        Table(
            "doctor",
            25,
            [
                Column("doctor_id", "INTEGER", primary_key=True),
                Column("name", "TEXT", person, not_null=True),
                Column(
                    "specialty",
                    "TEXT",
                    choice(["Cardiology", "Dermatology", "Pediatrics", "Neurology", "General Practice"]),
                ),
                Column("years_experience", "INTEGER", integer(1, 40)),
            ],
        ),
        Table(
            "patient",
            200,
            [
                Column("patient_id", "INTEGER", primary_key=True),
                Column("name", "TEXT", person, not_null=True),
                Column("gender", "TEXT", choice(["F", "M"])),
                Column("birth_year", "INTEGER", integer(1935, 2020)),
                Column("city", "TEXT", choice(CITIES[:5])),
            ],
        ),
        Table(
            "appointment",
            600,
            [
                Column("appointment_id", "INTEGER", primary_key=True),
                Column("patient_id", "INTEGER", references=("patient", "patient_id")),
                Column("doctor_id", "INTEGER", references=("doctor", "doctor_id")),
                Column("visit_date", "TEXT", date(2021, 2023)),
                Column(
                    "reason", "TEXT", choice(["checkup", "follow-up", "pain", "rash", "fever", "vaccination"])
                ),
                Column("cost", "REAL", real(40, 400)),
            ],
        ),
        Table(
            "prescription",
            500,
            [
                Column("prescription_id", "INTEGER", primary_key=True),
                Column("appointment_id", "INTEGER", references=("appointment", "appointment_id")),
                Column(
                    "drug",
                    "TEXT",
                    choice(
                        ["Ibuprofen", "Amoxicillin", "Cetirizine", "Metformin", "Lisinopril", "Omeprazole"]
                    ),
                ),
                Column("dosage_mg", "INTEGER", choice([5, 10, 20, 250, 400, 500])),
                Column("days", "INTEGER", integer(3, 30)),
            ],
        ),
    ]


AIRPORTS: list[tuple[str, ...]] = [tuple(a) for a in WORDS["airports"]]


def airline() -> list[Table]:
    airport_iter = iter(AIRPORTS)
    airport_row: dict = {}

    def next_airport(field: int) -> Callable:
        def gen(rng, row):
            if field == 0:
                airport_row["current"] = next(airport_iter)
            return airport_row["current"][field]

        return gen

    return [
        Table(
            "airport",
            len(AIRPORTS),
            [
                Column("code", "TEXT", next_airport(0), primary_key=True),
                Column("name", "TEXT", next_airport(1)),
                Column("city", "TEXT", next_airport(2)),
                Column("country", "TEXT", next_airport(3)),
            ],
        ),
        Table(
            "aircraft",
            15,
            [
                Column("aircraft_id", "INTEGER", primary_key=True),
                Column("model", "TEXT", choice(["A320", "A321", "B737", "B787", "E190"])),
                Column(
                    "seats",
                    "INTEGER",
                    derived(
                        lambda rng, row: {"A320": 180, "A321": 220, "B737": 189, "B787": 296, "E190": 100}[
                            row["model"]
                        ]
                    ),
                ),
                Column("year_built", "INTEGER", integer(2000, 2022)),
            ],
        ),
        Table(
            "flight",
            200,
            [
                Column("flight_id", "INTEGER", primary_key=True),
                Column("flight_number", "TEXT", derived(lambda rng, row: f"SD{100 + row['flight_id']}")),
                Column("origin", "TEXT", references=("airport", "code")),
                Column(
                    "destination",
                    "TEXT",
                    derived(lambda rng, row: rng.choice([a[0] for a in AIRPORTS if a[0] != row["origin"]])),
                    references=("airport", "code"),
                ),
                Column("aircraft_id", "INTEGER", references=("aircraft", "aircraft_id")),
                Column("departure_date", "TEXT", date(2023, 2023)),
                Column("distance_km", "INTEGER", integer(400, 11000)),
                Column("base_price", "REAL", real(60, 1400)),
            ],
        ),
        Table(
            "passenger",
            300,
            [
                Column("passenger_id", "INTEGER", primary_key=True),
                Column("name", "TEXT", person, not_null=True),
                Column("nationality", "TEXT", choice(COUNTRIES)),
                Column("frequent_flyer", "INTEGER", choice([0, 1], [0.7, 0.3])),
            ],
        ),
        Table(
            "booking",
            900,
            [
                Column("booking_id", "INTEGER", primary_key=True),
                Column("flight_id", "INTEGER", references=("flight", "flight_id")),
                Column("passenger_id", "INTEGER", references=("passenger", "passenger_id")),
                Column("seat_class", "TEXT", choice(["economy", "premium", "business"], [0.7, 0.2, 0.1])),
                Column("fare", "REAL", real(50, 3000)),
            ],
        ),
    ]


def ecommerce() -> list[Table]:
    return [
        Table(
            "customer",
            150,
            [
                Column("customer_id", "INTEGER", primary_key=True),
                Column("name", "TEXT", person, not_null=True),
                Column(
                    "email",
                    "TEXT",
                    derived(
                        lambda rng, row: (
                            f"{row['name'].lower().replace(' ', '.')}{row['customer_id']}@mail.test"
                        )
                    ),
                ),
                Column("city", "TEXT", choice(CITIES)),
                Column("signup_year", "INTEGER", integer(2015, 2023)),
            ],
        ),
        Table(
            "product",
            60,
            [
                Column("product_id", "INTEGER", primary_key=True),
                Column(
                    "name",
                    "TEXT",
                    words(
                        ["Smart", "Classic", "Eco", "Pro", "Mini", "Ultra"],
                        ["Lamp", "Kettle", "Backpack", "Headphones", "Chair", "Watch", "Blender", "Jacket"],
                    ),
                ),
                Column("category", "TEXT", choice(["Electronics", "Home", "Outdoor", "Fashion", "Kitchen"])),
                Column("price", "REAL", real(5, 900)),
                Column("stock", "INTEGER", integer(0, 500)),
            ],
        ),
        Table(
            "orders",
            500,
            [
                Column("order_id", "INTEGER", primary_key=True),
                Column("customer_id", "INTEGER", references=("customer", "customer_id")),
                Column("order_date", "TEXT", date(2021, 2023)),
                Column(
                    "status",
                    "TEXT",
                    choice(["delivered", "shipped", "cancelled", "pending"], [0.6, 0.2, 0.1, 0.1]),
                ),
            ],
        ),
        Table(
            "order_item",
            1200,
            [
                Column("order_id", "INTEGER", references=("orders", "order_id")),
                Column("product_id", "INTEGER", references=("product", "product_id")),
                Column("quantity", "INTEGER", integer(1, 5)),
            ],
            composite_key=("order_id", "product_id"),
        ),
        Table(
            "review",
            400,
            [
                Column("review_id", "INTEGER", primary_key=True),
                Column("product_id", "INTEGER", references=("product", "product_id")),
                Column("customer_id", "INTEGER", references=("customer", "customer_id")),
                Column("rating", "INTEGER", choice([1, 2, 3, 4, 5], [0.05, 0.1, 0.2, 0.35, 0.3])),
                Column("review_year", "INTEGER", integer(2021, 2023)),
            ],
        ),
    ]


def school() -> list[Table]:
    subjects = ["Math", "Physics", "Biology", "History", "English", "Art", "Chemistry"]
    return [
        Table(
            "teacher",
            30,
            [
                Column("teacher_id", "INTEGER", primary_key=True),
                Column("name", "TEXT", person, not_null=True),
                Column("subject", "TEXT", choice(subjects)),
                Column("hire_year", "INTEGER", integer(1995, 2023)),
                Column("salary", "INTEGER", integer(38000, 92000)),
            ],
        ),
        Table(
            "course",
            45,
            [
                Column("course_id", "INTEGER", primary_key=True),
                Column(
                    "title",
                    "TEXT",
                    derived(
                        lambda rng, row: (
                            f"{rng.choice(subjects)} {rng.choice(['I', 'II', 'III', 'Lab', 'Seminar'])}"
                        )
                    ),
                ),
                Column("grade_level", "INTEGER", integer(9, 12)),
                Column("teacher_id", "INTEGER", references=("teacher", "teacher_id")),
                Column(
                    "room",
                    "TEXT",
                    derived(lambda rng, row: f"R{rng.randint(1, 4)}{rng.randint(0, 2)}{rng.randint(1, 9)}"),
                ),
            ],
        ),
        Table(
            "student",
            300,
            [
                Column("student_id", "INTEGER", primary_key=True),
                Column("name", "TEXT", person, not_null=True),
                Column("grade_level", "INTEGER", integer(9, 12)),
                Column("gender", "TEXT", choice(["F", "M"])),
                Column("birth_year", "INTEGER", integer(2005, 2010)),
            ],
        ),
        Table(
            "enrollment",
            1200,
            [
                Column("student_id", "INTEGER", references=("student", "student_id")),
                Column("course_id", "INTEGER", references=("course", "course_id")),
                Column("score", "INTEGER", maybe(integer(35, 100), 0.08)),
            ],
            composite_key=("student_id", "course_id"),
        ),
    ]


def sports_league() -> list[Table]:
    return [
        Table(
            "team",
            12,
            [
                Column("team_id", "INTEGER", primary_key=True),
                Column(
                    "name",
                    "TEXT",
                    derived(
                        lambda rng, row: (
                            f"{CITIES[row['team_id'] - 1]} {['Falcons', 'Wolves', 'Tigers', 'Sharks', 'Comets', 'Bears'][row['team_id'] % 6]}"
                        )
                    ),
                ),
                Column("city", "TEXT", derived(lambda rng, row: CITIES[row["team_id"] - 1])),
                Column("founded_year", "INTEGER", integer(1900, 2010)),
                Column("stadium_capacity", "INTEGER", integer(8000, 60000)),
            ],
        ),
        Table(
            "player",
            180,
            [
                Column("player_id", "INTEGER", primary_key=True),
                Column("name", "TEXT", person, not_null=True),
                Column("team_id", "INTEGER", references=("team", "team_id")),
                Column("position", "TEXT", choice(["guard", "forward", "center"])),
                Column("age", "INTEGER", integer(19, 38)),
                Column("salary", "INTEGER", integer(500000, 30000000)),
            ],
        ),
        Table(
            "game",
            200,
            [
                Column("game_id", "INTEGER", primary_key=True),
                Column("season", "INTEGER", integer(2020, 2023)),
                Column("home_team_id", "INTEGER", references=("team", "team_id")),
                Column("away_team_id", "INTEGER", references=("team", "team_id")),
                Column("home_score", "INTEGER", integer(70, 130)),
                Column("away_score", "INTEGER", integer(70, 130)),
            ],
        ),
        Table(
            "player_stat",
            1500,
            [
                Column("player_id", "INTEGER", references=("player", "player_id")),
                Column("game_id", "INTEGER", references=("game", "game_id")),
                Column("points", "INTEGER", integer(0, 45)),
                Column("assists", "INTEGER", integer(0, 15)),
            ],
            composite_key=("player_id", "game_id"),
        ),
    ]


def logistics() -> list[Table]:
    return [
        Table(
            "warehouse",
            10,
            [
                Column("warehouse_id", "INTEGER", primary_key=True),
                Column("name", "TEXT", derived(lambda rng, row: f"{CITIES[row['warehouse_id'] - 1]} Hub")),
                Column("city", "TEXT", derived(lambda rng, row: CITIES[row["warehouse_id"] - 1])),
                Column("capacity", "INTEGER", integer(5000, 50000)),
            ],
        ),
        Table(
            "supplier",
            25,
            [
                Column("supplier_id", "INTEGER", primary_key=True),
                Column(
                    "name",
                    "TEXT",
                    words(
                        ["Nordic", "Pacific", "Atlas", "Summit", "Delta"],
                        ["Supply", "Trading", "Goods", "Industries"],
                    ),
                ),
                Column("country", "TEXT", choice(COUNTRIES)),
                Column("rating", "REAL", real(1, 5, 1)),
            ],
        ),
        Table(
            "item",
            120,
            [
                Column("item_id", "INTEGER", primary_key=True),
                Column(
                    "name",
                    "TEXT",
                    words(
                        ["Steel", "Plastic", "Wooden", "Glass", "Copper"],
                        ["Pipe", "Crate", "Panel", "Bolt", "Valve", "Sheet"],
                    ),
                ),
                Column("category", "TEXT", choice(["hardware", "packaging", "construction", "electrical"])),
                Column("unit_weight_kg", "REAL", real(0.1, 80)),
                Column("supplier_id", "INTEGER", references=("supplier", "supplier_id")),
            ],
        ),
        Table(
            "stock",
            500,
            [
                Column("warehouse_id", "INTEGER", references=("warehouse", "warehouse_id")),
                Column("item_id", "INTEGER", references=("item", "item_id")),
                Column("quantity", "INTEGER", integer(0, 2000)),
            ],
            composite_key=("warehouse_id", "item_id"),
        ),
        Table(
            "shipment",
            400,
            [
                Column("shipment_id", "INTEGER", primary_key=True),
                Column("warehouse_id", "INTEGER", references=("warehouse", "warehouse_id")),
                Column("destination_city", "TEXT", choice(CITIES)),
                Column("ship_date", "TEXT", date(2022, 2023)),
                Column(
                    "status",
                    "TEXT",
                    choice(["delivered", "in transit", "delayed", "lost"], [0.6, 0.25, 0.12, 0.03]),
                ),
                Column("weight_kg", "REAL", real(5, 5000)),
            ],
        ),
    ]


def film() -> list[Table]:
    return [
        Table(
            "director",
            30,
            [
                Column("director_id", "INTEGER", primary_key=True),
                Column("name", "TEXT", person, not_null=True),
                Column("nationality", "TEXT", choice(COUNTRIES[:8])),
                Column("birth_year", "INTEGER", integer(1940, 1990)),
            ],
        ),
        Table(
            "movie",
            150,
            [
                Column("movie_id", "INTEGER", primary_key=True),
                Column("title", "TEXT", words(ADJ, NOUN), not_null=True),
                Column("release_year", "INTEGER", integer(1980, 2023)),
                Column(
                    "genre",
                    "TEXT",
                    choice(["Drama", "Comedy", "Thriller", "Animation", "Documentary", "Sci-Fi"]),
                ),
                Column("runtime_min", "INTEGER", integer(75, 190)),
                Column("budget_musd", "REAL", real(0.5, 250, 1)),
                Column("director_id", "INTEGER", references=("director", "director_id")),
            ],
        ),
        Table(
            "actor",
            120,
            [
                Column("actor_id", "INTEGER", primary_key=True),
                Column("name", "TEXT", person, not_null=True),
                Column("gender", "TEXT", choice(["F", "M"])),
                Column("birth_year", "INTEGER", integer(1945, 2005)),
            ],
        ),
        Table(
            "casting",
            600,
            [
                Column("movie_id", "INTEGER", references=("movie", "movie_id")),
                Column("actor_id", "INTEGER", references=("actor", "actor_id")),
                Column("role", "TEXT", choice(["lead", "supporting", "cameo"], [0.3, 0.55, 0.15])),
            ],
            composite_key=("movie_id", "actor_id"),
        ),
        Table(
            "review_score",
            450,
            [
                Column("review_id", "INTEGER", primary_key=True),
                Column("movie_id", "INTEGER", references=("movie", "movie_id")),
                Column("source", "TEXT", choice(["critics", "audience", "festival"])),
                Column("score", "REAL", real(1, 10, 1)),
            ],
        ),
    ]


def hr() -> list[Table]:
    return [
        Table(
            "department",
            8,
            [
                Column("department_id", "INTEGER", primary_key=True),
                Column(
                    "name",
                    "TEXT",
                    derived(
                        lambda rng, row: [
                            "Engineering",
                            "Sales",
                            "Marketing",
                            "Finance",
                            "Support",
                            "Legal",
                            "Research",
                            "Operations",
                        ][row["department_id"] - 1]
                    ),
                ),
                Column("location", "TEXT", choice(CITIES[:4])),
                Column("budget", "INTEGER", integer(200000, 5000000)),
            ],
        ),
        Table(
            "employee",
            250,
            [
                Column("employee_id", "INTEGER", primary_key=True),
                Column("name", "TEXT", person, not_null=True),
                Column("department_id", "INTEGER", references=("department", "department_id")),
                Column(
                    "job_title",
                    "TEXT",
                    choice(
                        ["Engineer", "Analyst", "Manager", "Specialist", "Intern"],
                        [0.35, 0.25, 0.12, 0.2, 0.08],
                    ),
                ),
                Column("salary", "INTEGER", integer(28000, 180000)),
                Column("hire_year", "INTEGER", integer(2005, 2023)),
                Column(
                    "manager_id",
                    "INTEGER",
                    derived(lambda rng, row: None if row["employee_id"] <= 10 else rng.randint(1, 10)),
                    references=("employee", "employee_id"),
                ),
            ],
        ),
        Table(
            "project",
            40,
            [
                Column("project_id", "INTEGER", primary_key=True),
                Column(
                    "name",
                    "TEXT",
                    words(
                        ["Project"],
                        ["Apollo", "Borealis", "Cobalt", "Delta", "Ember", "Falcon", "Granite", "Helix"],
                    ),
                ),
                Column("department_id", "INTEGER", references=("department", "department_id")),
                Column("start_year", "INTEGER", integer(2018, 2023)),
                Column("budget", "INTEGER", integer(20000, 900000)),
            ],
        ),
        Table(
            "assignment",
            500,
            [
                Column("employee_id", "INTEGER", references=("employee", "employee_id")),
                Column("project_id", "INTEGER", references=("project", "project_id")),
                Column("hours", "INTEGER", integer(10, 400)),
            ],
            composite_key=("employee_id", "project_id"),
        ),
    ]


def music() -> list[Table]:
    return [
        Table(
            "artist",
            40,
            [
                Column("artist_id", "INTEGER", primary_key=True),
                Column(
                    "name",
                    "TEXT",
                    words(
                        ["The", "Neon", "Velvet", "Iron", "Paper", "Solar"],
                        ["Foxes", "Lanterns", "Tides", "Owls", "Engines", "Rivers"],
                    ),
                ),
                Column("country", "TEXT", choice(COUNTRIES[:7])),
                Column("formed_year", "INTEGER", integer(1965, 2018)),
            ],
        ),
        Table(
            "album",
            120,
            [
                Column("album_id", "INTEGER", primary_key=True),
                Column("title", "TEXT", words(ADJ, NOUN), not_null=True),
                Column("artist_id", "INTEGER", references=("artist", "artist_id")),
                Column("release_year", "INTEGER", integer(1970, 2023)),
                Column("genre", "TEXT", choice(["Rock", "Jazz", "Pop", "Electronic", "Folk", "Hip-Hop"])),
            ],
        ),
        Table(
            "track",
            900,
            [
                Column("track_id", "INTEGER", primary_key=True),
                Column("title", "TEXT", words(ADJ, NOUN), not_null=True),
                Column("album_id", "INTEGER", references=("album", "album_id")),
                Column("duration_sec", "INTEGER", integer(95, 540)),
                Column("plays", "INTEGER", integer(0, 2000000)),
            ],
        ),
        Table(
            "playlist",
            20,
            [
                Column("playlist_id", "INTEGER", primary_key=True),
                Column(
                    "name",
                    "TEXT",
                    words(
                        ["Morning", "Workout", "Late Night", "Road Trip", "Focus"],
                        ["Mix", "Vibes", "Classics"],
                    ),
                ),
                Column("owner", "TEXT", person),
            ],
        ),
        Table(
            "playlist_track",
            400,
            [
                Column("playlist_id", "INTEGER", references=("playlist", "playlist_id")),
                Column("track_id", "INTEGER", references=("track", "track_id")),
                Column("position", "INTEGER", integer(1, 50)),
            ],
            composite_key=("playlist_id", "track_id"),
        ),
    ]


DATABASES: dict[str, Callable[[], list[Table]]] = {
    "library": library,
    "clinic": clinic,
    "airline": airline,
    "ecommerce": ecommerce,
    "school": school,
    "sports_league": sports_league,
    "logistics": logistics,
    "film": film,
    "hr": hr,
    "music": music,
}
