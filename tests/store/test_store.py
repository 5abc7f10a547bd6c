"""The database: creation, migrations, refusal of newer schemas, SQLite settings."""

from __future__ import annotations

import datetime as dt
import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, inspect, select, text

from cardsender.domain.errors import StoreError
from cardsender.store import Store, schema
from cardsender.store.customers import get_customer, insert_customer
from cardsender.store.migrations import LATEST, MIGRATIONS

V1_DUMP = Path(__file__).parent.parent / "data" / "schema_v1.sqlite.sql"
NOW = dt.datetime(2026, 11, 22, 14, 0)


def url(path: Path) -> str:
    """Return the SQLAlchemy URL of a SQLite file."""
    return f"sqlite:///{path}"


def expected_tables() -> dict[str, list[tuple[str, bool, bool]]]:
    """Return each table of schema.py as (column, nullable, primary key) in order."""
    return {
        name: [(c.name, bool(c.nullable), bool(c.primary_key)) for c in table.columns]
        for name, table in schema.metadata.tables.items()
    }


def actual_tables(store: Store) -> dict[str, list[tuple[str, bool, bool]]]:
    """Return each table of the database as (column, nullable, primary key) in order."""
    inspector = inspect(store.engine)
    return {
        name: [
            (c["name"], bool(c["nullable"]), c["name"] in inspector.get_pk_constraint(name)["constrained_columns"])
            for c in inspector.get_columns(name)
        ]
        for name in inspector.get_table_names()
    }


def migration_versions(store: Store) -> list[int]:
    """Return the recorded schema versions, in order."""
    with store.begin() as conn:
        query = select(schema.schema_migrations.c.version).order_by(schema.schema_migrations.c.version)
        return [int(v) for v in conn.execute(query).scalars()]


def test_fresh_database_has_exactly_the_schema(database_url: str) -> None:
    """A new database has the tables and columns of schema.py, and records every migration."""
    with Store.open(database_url) as store:
        assert actual_tables(store) == expected_tables()
        assert migration_versions(store) == [number for number, _, _ in MIGRATIONS]


def load_version_1(database: str, database_url: str) -> None:
    """Make the database as the first release left it, with one customer in it."""
    script = V1_DUMP.read_text(encoding="utf-8")
    customer = (
        "INSERT INTO customers (id, external_id, first_name, last_name, country, subdivision, street, city, "
        "postal_code, channel, language, owner, no_email, no_post, no_humor, do_not_contact, notes, added_on, "
        "created_at, updated_at) VALUES (1, 'C1', 'Ana', '', '', '', '', '', '', 'email', '', '', FALSE, FALSE, "
        "FALSE, FALSE, '', '2026-01-01', '2026-01-01 12:00:00', '2026-01-01 12:00:00');"
    )
    if database == "sqlite":
        with closing(sqlite3.connect(database_url.removeprefix("sqlite:///"))) as db:
            db.executescript(script.replace("COMMIT;", customer + "\nCOMMIT;"))
        return
    # The same tables in PostgreSQL's words, as SQLAlchemy created them there.
    script = script.replace("BEGIN TRANSACTION;", "").replace("COMMIT;", "").replace("DATETIME", "TIMESTAMP")
    script = script.replace("id INTEGER NOT NULL", "id SERIAL NOT NULL")
    engine = create_engine(database_url.replace("postgresql://", "postgresql+psycopg://", 1))
    try:
        with engine.begin() as conn:
            statements = [s for s in (script + customer).split(";") if s.strip()]
            # PostgreSQL checks a foreign key's table when it is declared: customers first.
            statements.sort(key=lambda s: "CREATE TABLE customers" not in s)
            for statement in statements:
                conn.exec_driver_sql(statement)
    finally:
        engine.dispose()


def test_version_1_database_is_migrated_to_the_schema(database: str, database_url: str) -> None:
    """A database made by the first release is brought forward to exactly the tables of schema.py, keeping its
    customers, who join the default office."""
    load_version_1(database, database_url)
    with Store.open(database_url) as store:
        assert actual_tables(store) == expected_tables()
        assert migration_versions(store) == list(range(1, LATEST + 1))
        with store.begin() as conn:
            kept = get_customer(conn, "C1")
        assert (kept.first_name, kept.office) == ("Ana", "main")


def test_opening_twice_keeps_data_and_migrates_nothing(tmp_path: Path) -> None:
    """Opening an up-to-date database again changes nothing and keeps its rows."""
    values: dict[str, Any] = {"id": "C1", "first_name": "Ana", "channel": "email"}
    with Store.open(url(tmp_path / "c.db")) as store, store.begin() as conn:
        insert_customer(conn, values, NOW.date(), NOW)
    with Store.open(url(tmp_path / "c.db")) as store:
        assert migration_versions(store) == list(range(1, LATEST + 1))
        with store.begin() as conn:
            assert get_customer(conn, "C1").first_name == "Ana"


def test_newer_database_is_refused(tmp_path: Path) -> None:
    """A database from a newer cardsender is refused with a message saying to upgrade."""
    path = tmp_path / "future.db"
    with Store.open(url(path)) as store, store.begin() as conn:
        conn.execute(schema.schema_migrations.insert().values(version=LATEST + 1, name="future", applied_at=NOW))
    with pytest.raises(StoreError) as caught:
        Store.open(url(path))
    assert str(caught.value) == (
        f"the database is at schema version {LATEST + 1}, newer than this cardsender knows ({LATEST}); "
        "upgrade cardsender (pip install --upgrade cardsender)"
    )


def test_sqlite_runs_in_wal_mode_with_foreign_keys(tmp_path: Path) -> None:
    """SQLite connections use write-ahead logging, enforce foreign keys and wait when busy."""
    with Store.open(url(tmp_path / "w.db")) as store, store.begin() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert conn.execute(text("PRAGMA busy_timeout")).scalar() == 10000


def test_missing_folder_is_created(tmp_path: Path) -> None:
    """The folder of a SQLite file is created when missing."""
    with Store.open(url(tmp_path / "a" / "b" / "cards.db")):
        pass
    assert (tmp_path / "a" / "b" / "cards.db").is_file()


def test_unusable_url_is_refused() -> None:
    """A URL SQLAlchemy cannot use is refused with a pointer to [database] url."""
    with pytest.raises(StoreError) as caught:
        Store.open("nosuchdb://x/y")
    assert str(caught.value) == (
        "database url 'nosuchdb://x/y' cannot be used: Can't load plugin: sqlalchemy.dialects:nosuchdb; "
        "check [database] url"
    )


def test_a_file_that_is_not_a_database_is_refused_in_one_line(tmp_path: Path) -> None:
    """A url naming a file that is not SQLite gives a StoreError that names the url, not a traceback."""
    path = tmp_path / "notes.db"
    path.write_text("these are my notes, not a database\n" * 100, encoding="utf-8")
    with pytest.raises(StoreError) as caught:
        Store.open(url(path))
    assert str(caught.value).startswith(f"cannot open the database {url(path)!r}: file is not a database")


def test_a_database_without_its_driver_is_refused_in_one_line() -> None:
    """A url whose driver package is missing says which package to install."""
    with pytest.raises(StoreError) as caught:
        Store.open("mysql://cards@localhost/cards")
    assert str(caught.value) == (
        "database url 'mysql://cards@localhost/cards' needs the Python package 'MySQLdb', which is not installed; "
        "install it, or use a sqlite:/// url"
    )


def test_leases_by_name_are_taken_renewed_released_and_forgotten(database_url: str) -> None:
    """An office's lease goes to one holder while its heartbeat is fresh, to another once it is stale or
    released; the rows of services long gone are deleted, and only theirs."""
    from cardsender.store import lease as leases

    stale = dt.timedelta(minutes=3)
    office = leases.office_name("east")
    with Store.open(database_url) as store:
        with store.begin() as conn:
            assert leases.acquire(conn, "a:1", NOW, stale, office) is None
            assert leases.acquire(conn, "a:1", NOW, stale, leases.service_name(True, "a:1")) is None
        with store.begin() as conn:
            holder = leases.acquire(conn, "b:2", NOW + dt.timedelta(minutes=1), stale, office)
            assert holder is not None and holder.holder == "a:1"
            leases.renew_all(conn, "a:1", NOW + dt.timedelta(minutes=2))
            assert leases.acquire(conn, "b:2", NOW + dt.timedelta(minutes=4), stale, office) is not None
            assert leases.acquire(conn, "b:2", NOW + dt.timedelta(minutes=6), stale, office) is None
        with store.begin() as conn:
            leases.release_all(conn, "b:2")
            assert leases.acquire(conn, "a:1", NOW + dt.timedelta(minutes=7), stale, office) is None
            assert [lease.holder for lease in leases.services(conn)] == ["a:1"]
            assert leases.forget_services(conn, NOW) == 0
            assert leases.forget_services(conn, NOW + dt.timedelta(days=1)) == 1
            assert leases.services(conn) == []
            assert leases.read(conn, office) is not None
