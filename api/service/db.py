"""Persistence: SQLAlchemy 2 models and the engine (SQLite in WAL mode by default, or any URL).

Tables: ``scenarios`` (a name and a soft-delete flag), ``scenario_versions`` (immutable: the
document as uploaded, JSON, and its CSV tables), ``runs`` (the queue and its history),
``results`` (a run's JSON result) with ``result_files`` (its CSV tables and PNG charts) and
``api_keys`` (sha256 of each key; the key itself is never stored).

Scenarios, runs and keys carry a ``workspace`` (a name; ``default`` for everything a previous
version stored) and keys a ``role`` (``admin``, ``planner`` or ``viewer``). :func:`migrate`
adds those columns to a database created before they existed (idempotent, at start-up).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    create_engine,
    event,
    inspect,
    text,
)
from sqlalchemy.engine import Engine
from sqlalchemy.exc import ArgumentError, OperationalError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker

from salesplan.scenarios.errors import SalesplanError

from .settings import Settings

__all__ = [
    "DEFAULT_WORKSPACE",
    "ROLES",
    "ApiKey",
    "Base",
    "Database",
    "DatabaseError",
    "Result",
    "ResultFile",
    "Run",
    "ScenarioRow",
    "ScenarioVersion",
    "migrate",
    "utcnow",
]

DEFAULT_WORKSPACE = "default"
ROLES = ("viewer", "planner", "admin")
"""Roles, each allowed what the one before it is: a viewer reads; a planner also creates and
updates scenarios, submits and cancels runs, deletes scenarios; an admin also manages the keys
of its workspace."""

class DatabaseError(SalesplanError):
    """The database cannot be opened (bad URL, missing driver, unreachable server)."""


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Base(DeclarativeBase):
    type_annotation_map = {dt.datetime: DateTime(timezone=True)}  # noqa: RUF012


class ScenarioRow(Base):
    __tablename__ = "scenarios"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(200))
    created: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated: Mapped[dt.datetime] = mapped_column(default=utcnow)
    latest_version: Mapped[int] = mapped_column(Integer, default=1)
    deleted: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    workspace: Mapped[str] = mapped_column(String(64), default=DEFAULT_WORKSPACE,
                                           server_default=DEFAULT_WORKSPACE)

    __table_args__ = (Index("ix_scenarios_workspace", "workspace"),)


class ScenarioVersion(Base):
    __tablename__ = "scenario_versions"
    __table_args__ = (UniqueConstraint("scenario_id", "version", name="uq_scenario_version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    scenario_id: Mapped[int] = mapped_column(ForeignKey("scenarios.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    created: Mapped[dt.datetime] = mapped_column(default=utcnow)
    name: Mapped[str] = mapped_column(String(200))
    document: Mapped[dict] = mapped_column(JSON)
    tables: Mapped[dict] = mapped_column(JSON, default=dict)
    counts: Mapped[dict] = mapped_column(JSON, default=dict)


class Run(Base):
    __tablename__ = "runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    scenario_id: Mapped[int] = mapped_column(ForeignKey("scenarios.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(40))
    options: Mapped[dict] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(12), default="queued", index=True)
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    message: Mapped[str] = mapped_column(Text, default="")
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
    started: Mapped[dt.datetime | None] = mapped_column(nullable=True)
    finished: Mapped[dt.datetime | None] = mapped_column(nullable=True)
    api_key_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    workspace: Mapped[str] = mapped_column(String(64), default=DEFAULT_WORKSPACE,
                                           server_default=DEFAULT_WORKSPACE)

    __table_args__ = (Index("ix_runs_workspace", "workspace"),)


class Result(Base):
    __tablename__ = "results"

    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id"), primary_key=True)
    result: Mapped[dict] = mapped_column(JSON)
    created: Mapped[dt.datetime] = mapped_column(default=utcnow)


class ResultFile(Base):
    """A run's CSV table (``kind='table'``) or PNG chart (``kind='chart'``)."""

    __tablename__ = "result_files"

    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(8), primary_key=True)
    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    content: Mapped[bytes] = mapped_column(LargeBinary)


class ApiKey(Base):
    __tablename__ = "api_keys"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    key_hash: Mapped[str] = mapped_column(String(64))
    created: Mapped[dt.datetime] = mapped_column(default=utcnow)
    revoked: Mapped[dt.datetime | None] = mapped_column(nullable=True)
    workspace: Mapped[str] = mapped_column(String(64), default=DEFAULT_WORKSPACE,
                                           server_default=DEFAULT_WORKSPACE)
    # keys made before roles existed managed everything: they become admins of ``default``
    role: Mapped[str] = mapped_column(String(16), default="admin", server_default="admin")


MIGRATIONS: tuple[tuple[str, str, str], ...] = (
    # (table, column, DDL type and default); every existing row gets the default
    ("scenarios", "workspace", f"VARCHAR(64) NOT NULL DEFAULT '{DEFAULT_WORKSPACE}'"),
    ("runs", "workspace", f"VARCHAR(64) NOT NULL DEFAULT '{DEFAULT_WORKSPACE}'"),
    ("api_keys", "workspace", f"VARCHAR(64) NOT NULL DEFAULT '{DEFAULT_WORKSPACE}'"),
    ("api_keys", "role", "VARCHAR(16) NOT NULL DEFAULT 'admin'"),
)
INDEXES = (("ix_scenarios_workspace", "scenarios"), ("ix_runs_workspace", "runs"))


def migrate(engine: Engine) -> list[str]:
    """Bring a database made by an earlier version up to the current tables: add the missing
    columns (with their defaults, so existing rows land in the ``default`` workspace and
    existing keys become its admins) and their indexes. Idempotent; returns what it added."""
    added = []
    with engine.begin() as conn:
        insp = inspect(conn)
        tables = set(insp.get_table_names())
        for table, column, ddl in MIGRATIONS:
            if table not in tables:
                continue
            if column not in {c["name"] for c in insp.get_columns(table)}:
                conn.execute(text(f"ALTER TABLE {table} ADD COLUMN {column} {ddl}"))
                added.append(f"{table}.{column}")
        insp = inspect(conn)
        for index, table in INDEXES:
            if index not in {i["name"] for i in insp.get_indexes(table)}:
                conn.execute(text(f"CREATE INDEX {index} ON {table} (workspace)"))
                added.append(index)
    return added


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cur = dbapi_connection.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=FULL")  # a committed run or result survives power loss
    cur.execute("PRAGMA busy_timeout=10000")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()


class Database:
    """The engine and a session factory for one database URL; creates the tables."""

    def __init__(self, url: str):
        self.url = url
        kwargs: dict = {"pool_pre_ping": True}
        if url.startswith("sqlite"):
            kwargs["connect_args"] = {"check_same_thread": False, "timeout": 10}
        try:
            self.engine: Engine = create_engine(url, **kwargs)
        except ArgumentError as exc:
            raise DatabaseError(f"invalid database URL {url!r}: {exc}") from None
        except ImportError as exc:
            raise DatabaseError(f"the driver for {url.split(':', 1)[0]!r} is not installed "
                                f"({exc}); for PostgreSQL: pip install 'psycopg[binary]'"
                                ) from None
        if self.engine.dialect.name == "sqlite":
            event.listen(self.engine, "connect", _sqlite_pragmas)
        try:
            Base.metadata.create_all(self.engine)
            self.migrated = migrate(self.engine)
        except OperationalError as exc:
            raise DatabaseError(f"cannot open the database "
                                f"{self.engine.url.render_as_string(hide_password=True)}: "
                                f"{exc.orig}") from None
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)

    @classmethod
    def from_settings(cls, settings: Settings) -> Database:
        if not settings.database_url:
            settings.data_dir.mkdir(parents=True, exist_ok=True)
        return cls(settings.resolved_database_url)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session committed on success, rolled back on error."""
        with self.sessions() as s:
            try:
                yield s
                s.commit()
            except BaseException:
                s.rollback()
                raise

    def dispose(self) -> None:
        self.engine.dispose()
