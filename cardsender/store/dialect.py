"""Every piece of dialect-specific SQL lives here (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, Engine, Table, event, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql.dml import Insert


def configure_engine(engine: Engine) -> None:
    """Set per-connection options: WAL, foreign keys and a busy timeout on SQLite."""
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        # WAL lets readers work while the service writes; SQLite takes one writer at a time.
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.close()


def _insert(conn: Connection, table: Table) -> Any:
    if conn.dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


def insert_or_ignore(conn: Connection, table: Table, keys: Sequence[str]) -> Insert:
    """Return INSERT ... ON CONFLICT (keys) DO NOTHING."""
    stmt = _insert(conn, table)
    return stmt.on_conflict_do_nothing(index_elements=list(keys))  # type: ignore[no-any-return]


def upsert(conn: Connection, table: Table, keys: Sequence[str], update: Sequence[str]) -> Insert:
    """Return INSERT ... ON CONFLICT (keys) DO UPDATE SET each of ``update`` to the new value."""
    stmt = _insert(conn, table)
    if not update:
        return stmt.on_conflict_do_nothing(index_elements=list(keys))  # type: ignore[no-any-return]
    return stmt.on_conflict_do_update(  # type: ignore[no-any-return]
        index_elements=list(keys), set_={name: stmt.excluded[name] for name in update}
    )


def insert_if_new(conn: Connection, stmt: Insert) -> bool:
    """Run a one-row INSERT ... ON CONFLICT DO NOTHING; return whether the row was added.

    ``rowcount`` cannot tell on PostgreSQL, where SQLAlchemy fetches the new key with RETURNING:
    asking for the key here and seeing whether a row came back works on both databases.
    """
    table = stmt.table
    assert isinstance(table, Table)
    key = next(iter(table.primary_key.columns))
    return conn.execute(stmt.returning(key)).first() is not None


def lock_row(conn: Connection, table: Table, where: Any) -> None:
    """Lock rows for writing until the transaction ends, before they are read.

    PostgreSQL: SELECT ... FOR UPDATE.  SQLite: an UPDATE that changes nothing takes the database's write
    lock at once; a read first would leave two processes holding snapshots that cannot both become writes.
    """
    if conn.dialect.name == "postgresql":
        conn.execute(select(*table.primary_key.columns).where(where).with_for_update())
        return
    key = next(iter(table.primary_key.columns))
    conn.execute(table.update().where(where).values({key.name: key}))
