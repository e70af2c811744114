"""Source databases (PostgreSQL, MySQL, DuckDB, SQLite) that a team points sqldistill at: their URLs
and credentials, reflection of their schemas, and snapshots into the SQLite files the critic's
sandbox, test-suite fuzzing and training use. A round never touches the source itself."""
