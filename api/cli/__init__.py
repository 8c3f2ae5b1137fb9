"""The ``salesplan`` command line.

Exit codes: 0 success; 2 a user error (bad scenario, bad option, infeasible plan), with the
reason on stderr and no traceback; 1 a bug (with its traceback, so it can be reported).

Each command group lives in :mod:`salesplan.api.cli.commands` and registers itself on the app
below. Command modules import their engines when they run, not at start-up, so ``salesplan
--help`` and ``salesplan validate`` start in about the time Python takes to import pandas
(measured by ``salesplan bench perf``).
"""

from __future__ import annotations

import sys

import typer

from salesplan.errors import SalesplanError

from .commands import (
    align,
    bench,
    calibrate,
    comp,
    demo,
    quotas,
    scenario,
    serve,
    simulate,
    track,
    whatif,
)
from .console import DEFAULT_MAX_REPLICATIONS, err
from .help import ProseGroup, flags_take_no_value

try:  # recent typer vendors click as typer._click; older typer uses click itself
    from typer._click import exceptions as click_exceptions
except ImportError:  # pragma: no cover - depends on the installed typer
    from click import exceptions as click_exceptions

flags_take_no_value()
app = typer.Typer(
    name="salesplan",
    cls=ProseGroup,
    help="Simulation and optimisation for sales territory and quota planning.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
for module in (scenario, demo, simulate, serve, whatif, quotas, comp, calibrate, track, align,
               bench):
    module.register(app)

SOLVING = frozenset({"align", "quotas", "comp", "whatif", "plan-headcount", "demo", "bench",
                     "serve"})
"""Commands that may build a HiGHS solver (directly or in worker processes)."""


@app.callback()
def _before_command(
    ctx: typer.Context,
    max_replications: int = typer.Option(
        DEFAULT_MAX_REPLICATIONS, "--max-replications", min=1,
        envvar="SALESPLAN_MAX_REPLICATIONS",
        help="The most replications a command may run (the service's limit too); raise it to "
             "run more on purpose."),
) -> None:
    """Before a command: the replication cap, and, for a command that may solve, swallow
    HiGHS's once-per-process banner, which would otherwise land in the middle of tables and
    progress bars."""
    ctx.obj = {"max_replications": max_replications}
    if ctx.invoked_subcommand in SOLVING:
        from salesplan.optimizer.highs_banner import silence_highs_banner

        silence_highs_banner()


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; returns (and, as a console script, exits with) the exit code."""
    try:
        result = app(args=argv, prog_name="salesplan", standalone_mode=False)
    except click_exceptions.UsageError as exc:
        exc.show()
        return 2
    except click_exceptions.ClickException as exc:
        exc.show()
        return exc.exit_code
    except KeyboardInterrupt:
        err.print("interrupted")
        return 130
    except SalesplanError as exc:
        err.print(f"error: {exc}", markup=False)
        return 2
    except OSError as exc:
        if exc.filename is None:  # not a path the user gave: a bug, with its traceback
            raise
        err.print(f"error: {exc.filename}: {exc.strerror or exc} (check the path and that "
                  "you may read or write it)", markup=False)
        return 2
    return result if isinstance(result, int) else 0


def run() -> None:
    """Console-script entry point."""
    sys.exit(main())


if __name__ == "__main__":
    run()
