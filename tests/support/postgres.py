"""Fresh databases on the session's real PostgreSQL server (the `postgres` fixture)."""

from __future__ import annotations

import uuid


def new_postgres_database(server: object) -> str:
    """A fresh, empty database on the session's server; its SQLAlchemy URL (psycopg 3 driver)."""
    import sqlalchemy as sa

    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(psycopg_url(server.get_uri()), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f"CREATE DATABASE {name}"))
    admin.dispose()
    return psycopg_url(server.get_uri(name))


def psycopg_url(uri: str) -> str:
    return uri.replace("postgresql://", "postgresql+psycopg://", 1)
