"""The database: one SQLAlchemy Core engine, SQLite by default, PostgreSQL when configured.

It may import ``domain``, ``system`` and ``config``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Connection, Engine, create_engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DatabaseError, NoSuchModuleError, OperationalError, SQLAlchemyError

from cardsender.domain.errors import StoreError
from cardsender.store.dialect import configure_engine
from cardsender.store.migrations import migrate
from cardsender.system.private import create_private_file, private_folder


def _create_database_file(path: Path, url: str) -> None:
    """Create a SQLite database's folder (0700) and empty file (0600) unless they exist."""
    try:
        private_folder(path.parent)
    except OSError as exc:
        raise StoreError(f"cannot create the database folder for {url!r}: {exc.strerror}") from exc
    try:
        create_private_file(path)
    except OSError as exc:
        raise StoreError(
            f"cannot create the database {path} ({exc.strerror}); check [database] url, "
            "or choose a folder you can write to"
        ) from exc


class Store:
    """An open, migrated database."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @classmethod
    def open(cls, url: str) -> Store:
        """Open the database at ``url``, creating and migrating it as needed."""
        try:
            parsed = make_url(url)
            if parsed.get_backend_name() == "sqlite" and parsed.database and parsed.database != ":memory:":
                # SQLite would create the file with the umask's mode, and gives its -wal and -shm files the
                # database file's mode: made 0600 first, the whole database is its owner's only.
                _create_database_file(Path(parsed.database), url)
            if parsed.get_backend_name() == "postgresql" and parsed.drivername == "postgresql":
                parsed = parsed.set(drivername="postgresql+psycopg")
            engine = create_engine(parsed)
        except (ArgumentError, NoSuchModuleError) as exc:
            raise StoreError(f"database url {url!r} cannot be used: {exc}; check [database] url") from exc
        except ImportError as exc:
            how = "pip install 'cardsender[postgresql]'" if (exc.name or "").startswith("psycopg") else "install it"
            raise StoreError(
                f"database url {url!r} needs the Python package '{exc.name}', which is not installed; "
                f"{how}, or use a sqlite:/// url"
            ) from exc
        configure_engine(engine)
        try:
            migrate(engine)
        except DatabaseError as exc:  # OperationalError too: locked, unreadable, or not a database
            engine.dispose()
            raise StoreError(f"cannot open the database {url!r}: {exc.orig}; check [database] url") from exc
        return cls(engine)

    @property
    def dialect(self) -> str:
        """Return ``sqlite`` or ``postgresql``."""
        return self.engine.dialect.name

    @contextmanager
    def begin(self) -> Iterator[Connection]:
        """Run a block in one transaction, committed at the end or rolled back on error."""
        try:
            with self.engine.begin() as conn:
                yield conn
        except SQLAlchemyError as exc:
            if isinstance(exc, OperationalError) and "locked" in str(exc.orig):
                raise StoreError("the database is busy (another cardsender is writing); try again") from exc
            raise

    def close(self) -> None:
        """Release the connections."""
        self.engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
