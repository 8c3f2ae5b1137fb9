"""Service settings: every limit and location in one class, read once from the environment.

Each field ``foo`` is read from ``SALESPLAN_FOO`` (``SALESPLAN_DATA_DIR``,
``SALESPLAN_DATABASE_URL``, ``SALESPLAN_MAX_BODY_BYTES``...). :func:`get_settings` reads the
environment once per process; the app factory takes a :class:`Settings` instance so tests pass
their own instead of patching the environment.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator

__all__ = ["DASK_SCHEMES", "ENV_PREFIX", "Settings", "get_settings"]

ENV_PREFIX = "SALESPLAN_"
DASK_SCHEMES = ("tcp", "tls", "ucx", "ws", "wss", "inproc")
"""Address schemes of a Dask scheduler (``distributed`` comms)."""


class Settings(BaseModel):
    """Service configuration (see ``docs/service.md`` for what each limit answers)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    data_dir: Path = Field(Path("salesplan-data"), description="Where the SQLite file lives")
    database_url: str | None = Field(
        None, description="Any SQLAlchemy URL; default: SQLite in data_dir (WAL mode)")
    max_body_bytes: int = Field(20_000_000, ge=1, description="Request body size limit (413)")
    max_accounts: int = Field(50_000, ge=1, description="Accounts per scenario (422)")
    max_reps: int = Field(2_000, ge=1, description="Reps per scenario (422)")
    max_replications: int = Field(2_000, ge=1, description="Replications per run (422)")
    run_workers: int = Field(2, ge=1, le=64, description="Simultaneous runs; more runs queue")
    validation_concurrency: int = Field(
        1, ge=1, le=64, description="Scenario uploads validated at once; more wait their turn "
                                    "(validation is CPU-bound Python, serialised by the GIL "
                                    "anyway: letting 50 share it makes every one of them, and "
                                    "/health, slow)")
    run_processes: int | None = Field(
        None, ge=1, le=64, description="Processes each run's replications are spread over "
                                       "(local run workers, POSIX; results are the same "
                                       "whatever the number). None: the machine's CPUs "
                                       "divided among run_workers, at least 1")
    run_time_limit: float = Field(
        1800.0, gt=0, description="Seconds a run may take before it is stopped and failed")
    run_memory_mb: int | None = Field(
        None, ge=64, description="Address-space limit of each run process (MB; POSIX only); "
                                 "a run past it fails with a clear message. None: no limit")
    max_attempts: int = Field(
        3, ge=1, description="Starts of a run (restarts included) before it is marked failed")
    poll_interval: float = Field(0.2, gt=0, description="Run pool tick (seconds)")
    auth_failure_limit: int = Field(
        20, ge=1, description="Failed authentications a client (remote address) may make in "
                              "auth_failure_window seconds; past it, 429 with Retry-After")
    auth_failure_window: float = Field(
        60.0, gt=0, description="The window (seconds) of auth_failure_limit")
    cors_origins: tuple[str, ...] = Field(
        (), description="Origins allowed to call the API from a browser (CORS), e.g. "
                        "'https://plan.example.com,https://bi.example.com'; '*' for any. "
                        "Empty (the default): no CORS headers, browsers refuse other origins")

    dask_scheduler: str | None = Field(
        None, description="A Dask scheduler address (tcp://host:8786): runs, and the "
                          "replications inside them, execute on that cluster instead of local "
                          "worker processes. None (the default): local processes")
    dask_stop_grace: float = Field(
        10.0, gt=0, le=600, description="Seconds a run cancelled on the Dask cluster may take "
                                        "to end before the server restarts its Dask worker")

    @field_validator("dask_scheduler")
    @classmethod
    def _scheduler(cls, value: str | None) -> str | None:
        if value is None:
            return None
        value = value.strip()
        scheme, sep, rest = value.partition("://")
        if not sep or scheme not in DASK_SCHEMES or not rest:
            raise ValueError(f"must be a Dask scheduler address such as tcp://host:8786 "
                             f"(schemes: {', '.join(DASK_SCHEMES)}), got {value!r}")
        return value

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _split_origins(cls, value):
        if isinstance(value, str):
            return tuple(o.strip().rstrip("/") for o in value.split(",") if o.strip())
        return value

    @property
    def resolved_run_processes(self) -> int:
        """Replication processes per run: ``run_processes``, or the CPUs shared among the
        ``run_workers`` (1 where lanes are not supported: Windows)."""
        if os.name != "posix":
            return 1
        if self.run_processes is not None:
            return self.run_processes
        return max(1, (os.cpu_count() or 1) // self.run_workers)

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'salesplan.db').resolve()}"

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None, **overrides) -> Settings:
        """Settings from ``SALESPLAN_*`` variables; ``overrides`` (not None) win."""
        env = os.environ if environ is None else environ
        values: dict = {}
        for name in cls.model_fields:
            key = ENV_PREFIX + name.upper()
            if key in env and env[key] != "":
                values[name] = env[key]
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls.model_validate(values)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process's settings, read from the environment once."""
    return Settings.from_env()
