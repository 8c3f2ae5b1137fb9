"""``salesplan serve`` (the HTTP service) and ``salesplan apikey create|list|revoke``.

Both read the database from ``--database`` or ``SALESPLAN_DATABASE_URL`` (default: SQLite in
``SALESPLAN_DATA_DIR``, ``./salesplan-data``). See ``docs/service.md``.
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from salesplan.errors import SalesplanError

from ..console import err, out

DatabaseOpt = Annotated[str | None, typer.Option(
    "--database", help="SQLAlchemy database URL (default: SALESPLAN_DATABASE_URL, else SQLite "
                       "in SALESPLAN_DATA_DIR).")]


class SettingsError(SalesplanError):
    """A ``SALESPLAN_*`` variable or a ``serve`` option with a value the service refuses."""


def _settings(database: str | None, **overrides):
    """The service's settings from the environment and the options; a bad value is a
    :class:`SettingsError` naming the variable, the value and what is expected."""
    from salesplan.api.extras import require

    require("service", "the HTTP service and its API keys")
    from pydantic import ValidationError

    from salesplan.api.service.settings import ENV_PREFIX, Settings

    try:
        return Settings.from_env(database_url=database, **overrides)
    except ValidationError as exc:
        problems = []
        for e in exc.errors():
            field = str(e["loc"][0]) if e["loc"] else "settings"
            option = {"dask_scheduler": " (--dask-scheduler)", "run_workers": " (--workers)",
                      "database_url": " (--database)"}.get(field, "")
            message = str(e["msg"]).removeprefix("Value error, ")
            if "got " not in message and isinstance(e.get("input"), str | int | float):
                message += f", got {e['input']!r}"
            problems.append(f"{ENV_PREFIX}{field.upper()}{option}: {message}")
        raise SettingsError("; ".join(problems)) from None


def _session(database: str | None):
    """A database session of the service's store (the ``service`` extra), for the key
    commands."""
    settings = _settings(database)
    from salesplan.api.service.db import Database

    return Database.from_settings(settings).session()


def serve(
    host: Annotated[str, typer.Option(help="The interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="The TCP port.")] = 8000,
    database: DatabaseOpt = None,
    workers: Annotated[int | None, typer.Option(
        help="Simultaneous runs (run worker processes, or runs on the Dask cluster; default "
             "SALESPLAN_RUN_WORKERS or 2). The HTTP server itself is one process.",
        min=1, max=64)] = None,
    dask_scheduler: Annotated[str | None, typer.Option(
        "--dask-scheduler",
        help="Run on a Dask cluster: the scheduler's address, such as tcp://host:8786 "
             "(default: SALESPLAN_DASK_SCHEDULER, else local worker processes). Needs the "
             "dask extra; the workers need salesplan installed.")] = None,
) -> None:
    """Serve the HTTP API (scenarios, runs, results) until interrupted."""
    settings = _settings(database, run_workers=workers, dask_scheduler=dask_scheduler)
    import uvicorn

    from salesplan.api.service import create_app

    where = f"{settings.run_workers} run worker(s)"
    if settings.dask_scheduler:
        from salesplan.api.service.cluster import check_scheduler

        where = (f"{settings.run_workers} run(s) at once on the "
                 f"{check_scheduler(settings.dask_scheduler)}")
    app = create_app(settings)
    out.print(f"salesplan service on http://{host}:{port} (docs at /docs); database "
              f"{app.state.db.engine.url.render_as_string(hide_password=True)}; {where}",
              markup=False)
    # the server's own process: hand the GIL over every 1 ms (Python's default is 5 ms), so
    # /health and light requests are not kept waiting behind a scenario being validated
    sys.setswitchinterval(0.001)
    uvicorn.run(app, host=host, port=port, log_level="info")


apikey_app = typer.Typer(help="Create, list and revoke API keys.", no_args_is_help=True)


@apikey_app.command("create")
def apikey_create(
    name: Annotated[str, typer.Argument(help="A name for the key's holder")],
    workspace: Annotated[str, typer.Option(
        help="The workspace the key belongs to; it sees only that workspace's scenarios and "
             "runs.")] = "default",
    role: Annotated[str, typer.Option(
        help="The key's role: viewer (reads), planner (also creates and runs), admin (also "
             "manages the workspace's keys over the API).")] = "admin",
    database: DatabaseOpt = None,
) -> None:
    """Create a key and print it once (only its hash is stored)."""
    from salesplan.api.service.keys import create_key

    with _session(database) as s:
        created = create_key(s, name, workspace=workspace, role=role)
    err.print(f"API key {created.name!r} (id {created.id}, {created.role} of workspace "
              f"{created.workspace!r}) created; it is shown once, store it now:", markup=False)
    print(created.key)


@apikey_app.command("list")
def apikey_list(
    workspace: Annotated[str | None, typer.Option(
        help="List only this workspace's keys (default: every workspace's).")] = None,
    database: DatabaseOpt = None,
) -> None:
    """List keys: id, name, workspace, role, created, revoked (never the key)."""
    from salesplan.api.service.keys import list_keys

    with _session(database) as s:
        rows = list_keys(s, workspace)
        if not rows:
            out.print("no API keys")
        for r in rows:
            state = f"revoked {r.revoked:%Y-%m-%d %H:%M}" if r.revoked else "active"
            out.print(f"{r.id}  {r.name}  {r.workspace}  {r.role}  "
                      f"created {r.created:%Y-%m-%d %H:%M}  {state}", markup=False)


@apikey_app.command("revoke")
def apikey_revoke(key: Annotated[str, typer.Argument(help="The key's name or id")],
                  database: DatabaseOpt = None) -> None:
    """Revoke a key: it answers 401 from now on."""
    from salesplan.api.service.keys import revoke_key

    with _session(database) as s:
        row = revoke_key(s, key)
        out.print(f"API key {row.name!r} (id {row.id}) revoked", markup=False)


def register(app: typer.Typer) -> None:
    app.command()(serve)
    app.add_typer(apikey_app, name="apikey")
