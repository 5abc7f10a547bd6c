"""The database: one SQLAlchemy Core engine, SQLite by default, PostgreSQL when configured."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Connection, Engine, create_engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DatabaseError, NoSuchModuleError, OperationalError, SQLAlchemyError

from cardsender.errors import StoreError
from cardsender.store.dialect import configure_engine
from cardsender.store.migrations import migrate


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
                Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
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
        except OSError as exc:
            raise StoreError(f"cannot create the database folder for {url!r}: {exc.strerror}") from exc
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
