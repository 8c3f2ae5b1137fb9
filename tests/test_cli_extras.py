"""The CLI starts light and says which extra to install: ``--help`` and ``validate`` import no
engine, a command whose extra is missing exits 2 naming it, and a command whose charts need
matplotlib writes everything else and says which charts it did not draw."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SMALL = ROOT / "scenarios" / "examples" / "small.yaml"
ENGINES = {"pandas", "scipy", "simpy", "pulp", "highspy", "matplotlib", "fastapi", "sqlalchemy",
           "distributed"}


def _run(code: str, *, block: tuple[str, ...] = (), cwd: Path | None = None
         ) -> subprocess.CompletedProcess:
    """Run ``code`` in a fresh interpreter in which the modules ``block`` cannot be imported
    (as if their extra were not installed)."""
    prelude = "import sys\n" + "".join(f"sys.modules[{m!r}] = None\n" for m in block)
    return subprocess.run([sys.executable, "-c", prelude + textwrap.dedent(code)],
                          capture_output=True, text=True, timeout=600, cwd=cwd or ROOT)


def _loaded_after(argv: list[str]) -> set[str]:
    code = f"""
        import contextlib, io
        from salesplan.api.cli import main
        with contextlib.redirect_stdout(io.StringIO()):
            main({argv!r})
        print(' '.join(sorted({{m.split('.')[0] for m in sys.modules}})))
    """
    run = _run(code)
    assert run.returncode == 0, run.stderr
    return set(run.stdout.split())


def test_help_imports_no_engine_and_no_scenario_model():
    loaded = _loaded_after(["--help"])
    assert not loaded & (ENGINES | {"numpy", "pydantic", "yaml"}), loaded & ENGINES


def test_validate_imports_the_scenario_model_only():
    loaded = _loaded_after(["validate", str(SMALL)])
    assert "pydantic" in loaded
    assert not loaded & ENGINES, loaded & ENGINES


def test_serve_without_the_service_extra_exits_2_naming_it():
    run = _run("from salesplan.api.cli import main; sys.exit(main(['serve']))",
               block=("fastapi", "uvicorn", "sqlalchemy"))
    assert run.returncode == 2, run.stderr
    assert "pip install 'salesplan[service]'" in run.stderr
    assert "Traceback" not in run.stderr


def test_a_dask_scheduler_without_the_dask_extra_exits_2_naming_it(tmp_path):
    run = _run(f"""
        from salesplan.api.cli import main
        sys.exit(main(['bench', 'strategies', '--out', {str(tmp_path)!r}, '--instances',
                       'midmarket', '--seeds', '1', '--replications', '2', '--scheduler',
                       'tcp://127.0.0.1:1']))
    """, block=("distributed",))
    assert run.returncode == 2, run.stderr
    assert "pip install 'salesplan[dask]'" in run.stderr
    assert "Traceback" not in run.stderr


@pytest.mark.slow
def test_simulate_without_matplotlib_writes_the_tables_and_names_the_charts(tmp_path):
    run = _run(f"""
        from salesplan.api.cli import main
        sys.exit(main(['simulate', {str(SMALL)!r}, '-n', '3', '--workers', '1', '--out',
                       {str(tmp_path)!r}]))
    """, block=("matplotlib",))
    assert run.returncode == 0, run.stderr
    written = {p.name for p in tmp_path.iterdir()}
    assert {"summary.json", "bookings.csv.gz", "reps.csv"} <= written
    assert not {p for p in written if p.endswith(".png")}
    assert "funnel.png" in run.stderr and "pip install 'salesplan[plots]'" in run.stderr
    assert json.loads((tmp_path / "summary.json").read_text())["replications"] == 3


@pytest.mark.slow
def test_whatif_report_without_matplotlib_says_its_charts_are_missing(tmp_path):
    run = _run(f"""
        from salesplan.api.cli import main
        sys.exit(main(['whatif', {str(SMALL)!r}, '--replications', '2', '--workers', '1',
                       '--variants', 'leads-minus-20', '--out', {str(tmp_path)!r}]))
    """, block=("matplotlib",))
    assert run.returncode == 0, run.stderr
    html = (tmp_path / "report.html").read_text()
    assert "Charts not drawn" in html and "<img" not in html


def test_quota_help_lists_every_built_in_method():
    from salesplan.api.cli.commands.quotas import BUILT_IN_METHODS
    from salesplan.optimizer.quotas import method_names

    assert set(BUILT_IN_METHODS.split("|")) == set(method_names())


def test_an_unwritable_out_is_one_line_and_exit_2(tmp_path, capsys):
    """``--out`` under a file (or anywhere the user may not write) is a user error, not a
    traceback (issue #19)."""
    from salesplan.api.cli import main
    from salesplan.scenarios.examples import EXAMPLES

    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    code = main(["simulate", str(EXAMPLES / "small.yaml"), "-n", "2",
                 "--out", str(blocker / "out")])
    err = capsys.readouterr().err
    assert code == 2
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert str(blocker / "out") in err or str(blocker) in err


def test_replications_are_capped_like_the_service_and_the_cap_can_be_raised(tmp_path, capsys):
    """``-n 1000000000`` stops at once with a one-line error instead of filling memory; the cap
    (the service's default, 2,000) is raised with ``salesplan --max-replications N`` or
    ``SALESPLAN_MAX_REPLICATIONS`` (issue #19)."""
    from salesplan.api.cli import main
    from salesplan.scenarios.examples import EXAMPLES

    small = str(EXAMPLES / "small.yaml")
    assert main(["simulate", small, "-n", "1000000000", "--out", str(tmp_path / "a")]) == 2
    err = capsys.readouterr().err
    assert "1,000,000,000 is above the cap of 2,000" in err and "Traceback" not in err
    assert not (tmp_path / "a").exists()
    for command in (["whatif", small], ["quotas", small], ["comp", small],
                    ["plan-headcount", small]):
        assert main(["--max-replications", "9", *command, "--replications", "12",
                     "--out", str(tmp_path / "b")]) == 2, command
        assert "above the cap of 9" in capsys.readouterr().err
    assert main(["--max-replications", "3", "simulate", small, "-n", "3", "--out",
                 str(tmp_path / "c")]) == 0
