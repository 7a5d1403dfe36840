"""Event store and views on SQLite (embedded default) and Postgres."""
