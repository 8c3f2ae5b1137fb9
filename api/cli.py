"""The ``salesplan`` command line.

Exit codes: 0 success; 2 a user error (bad scenario, bad option, infeasible plan), with the
reason on stderr and no traceback; 1 a bug (with its traceback, so it can be reported).

Each command group lives in :mod:`salesplan.api.commands` and registers itself on the app below.
"""

from __future__ import annotations

import sys

import typer

from salesplan.api.commands import (
    align,
    bench,
    calibrate,
    demo,
    quotas,
    scenario,
    serve,
    simulate,
    whatif,
)
from salesplan.api.console import err
from salesplan.optimizer import silence_highs_banner
from salesplan.scenarios.errors import SalesplanError

try:  # recent typer vendors click as typer._click; older typer uses click itself
    from typer._click import exceptions as click_exceptions
except ImportError:  # pragma: no cover - depends on the installed typer
    from click import exceptions as click_exceptions

app = typer.Typer(
    name="salesplan",
    help="Simulation and optimisation for sales territory and quota planning.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
for module in (scenario, demo, simulate, serve, whatif, quotas, calibrate, align, bench):
    module.register(app)


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; returns (and, as a console script, exits with) the exit code."""
    silence_highs_banner()
    try:
        result = app(args=argv, prog_name="salesplan", standalone_mode=False)
    except click_exceptions.UsageError as exc:
        exc.show()
        return _exit(2)
    except click_exceptions.ClickException as exc:
        exc.show()
        return _exit(exc.exit_code)
    except KeyboardInterrupt:
        err.print("interrupted")
        return _exit(130)
    except SalesplanError as exc:
        err.print(f"error: {exc}", markup=False)
        return _exit(2)
    return _exit(result if isinstance(result, int) else 0)


def _exit(code: int) -> int:
    return code


def run() -> None:
    """Console-script entry point."""
    sys.exit(main())


if __name__ == "__main__":
    run()
