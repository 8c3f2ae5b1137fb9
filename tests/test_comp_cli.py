"""``salesplan comp`` and the pay columns of ``salesplan quotas``: every file is written, the
figures are ``run_comp``'s for the same seed, the report says the headline numbers, user
errors exit 2 naming the problem, and ``--help`` describes every option."""

from __future__ import annotations

import inspect
import json
import re
import typing
from pathlib import Path

import pandas as pd
import pytest

from salesplan.api.cli import main
from salesplan.api.formatting import jsonable

ROOT = Path(__file__).resolve().parents[1]
SMALL = ROOT / "scenarios" / "examples" / "small.yaml"
N, SEED = 20, 3
COMP_FILES = {"summary.json", "payouts.csv", "pay_curve.png", "pay_distribution.png",
              "report.html"}


def _comp(tmp_path: Path, *args: str, out: str = "comp") -> tuple[int, Path]:
    out_dir = tmp_path / out
    code = main(["comp", str(SMALL), "--replications", str(N), "--seed", str(SEED),
                 "--workers", "1", "--out", str(out_dir), *args])
    return code, out_dir


@pytest.fixture(scope="module")
def small():
    from salesplan.scenarios import load_scenario

    return load_scenario(SMALL)


@pytest.fixture(scope="module")
def cli_run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("comp")
    code, out = _comp(tmp, "--budget-cost-of-sales", "0.3", "--share-at-quota", "0.6,0.7")
    assert code == 0
    return out


@pytest.fixture(scope="module")
def engine_run(small):
    from salesplan.api.planning.compensation import run_comp

    return run_comp(small, replications=N, seed=SEED, workers=1, design=(0.3, (0.6, 0.7)))


def test_comp_writes_every_file(cli_run):
    written = {p.name for p in cli_run.iterdir()}
    assert COMP_FILES | {"design.csv"} <= written
    for png in ("pay_curve.png", "pay_distribution.png"):
        assert (cli_run / png).read_bytes()[:4] == b"\x89PNG"
    design = pd.read_csv(cli_run / "design.csv")
    assert {"accelerator", "cap", "cost_of_sales", "share_at_on_target_pay"} <= set(
        design.columns)


def test_summary_equals_run_comp_for_the_same_seed(cli_run, engine_run):
    summary = json.loads((cli_run / "summary.json").read_text())
    assert summary["seed"] == SEED and summary["replications"] == N
    assert summary == json.loads(json.dumps(jsonable(engine_run.summary)))
    assert summary["design"]["quota_level"] == engine_run.design.quota_level


def test_payouts_has_one_row_per_rep_with_ids_and_rounded_money(cli_run, small):
    payouts = pd.read_csv(cli_run / "payouts.csv")
    assert list(payouts.columns[:3]) == ["rep", "region", "role"]
    assert list(payouts["rep"]) == [r.id for r in small.reps]
    assert list(payouts["region"]) == [r.region for r in small.reps]
    for col in ("quota", "pay_mean", "pay_p10", "pay_p50", "pay_p90", "on_target_earnings"):
        assert (payouts[col] == payouts[col].round(0)).all(), col
    assert (payouts["pay_p10"] <= payouts["pay_p90"]).all()


def test_report_states_the_headline_numbers(cli_run, engine_run):
    from salesplan.api.planning.comp_report import headline

    html = (cli_run / "report.html").read_text()
    s = engine_run.summary
    line = headline(s)
    assert line.startswith("Expected pay $") and "of bookings" in line
    assert line in html.replace("&#x27;", "'")
    assert f"{s['cost_of_sales']['mean']:.1%} of bookings" in html
    assert f"{s['share_at_on_target_pay']['mean']:.0%} of reps reach on-target pay" in html
    assert f"{s['p_over_budget']['p']:.0%}" in html and "budget" in html
    assert html.count("data:image/png;base64,") == 2
    assert "Gini" in html and "Plan design" in html
    for rep in ("R1", "R6"):
        assert f"<td>{rep}</td>" in html
    assert re.search(r"<td>\$\d{1,3}(,\d{3})+</td>", html)  # money formatted


def test_terminal_shows_the_table_and_headline(tmp_path, capsys):
    code, _ = _comp(tmp_path)
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "Expected pay" in captured.out and "R6" in captured.out
    assert "note:" not in captured.out


def test_quotas_file_from_salesplan_quotas_is_added_up_per_rep(tmp_path, capsys):
    q = tmp_path / "q"
    assert main(["quotas", str(SMALL), "--replications", "10", "--workers", "1", "--out",
                 str(q)]) == 0
    code, out = _comp(tmp_path, "--quotas", str(q / "quotas.csv"))
    assert code == 0, capsys.readouterr().err
    quotas = pd.read_csv(q / "quotas.csv").groupby("rep")["quota"].sum()
    payouts = pd.read_csv(out / "payouts.csv").set_index("rep")
    assert (payouts["quota"] == quotas.reindex(payouts.index)).all()
    assert json.loads((out / "summary.json").read_text())["quotas"] == "file"
    assert not (out / "design.csv").exists()


def _user_error(capsys, code: int, *says: str) -> None:
    err = capsys.readouterr().err
    assert code == 2, err
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) == 1, err
    for text in says:
        assert text in err, err


def test_scenario_without_a_pay_plan_is_a_user_error(tmp_path, capsys):
    bare = _without_pay_plan(tmp_path)
    code = main(["comp", str(bare), "--replications", "2", "--workers", "1", "--out",
                 str(tmp_path / "o")])
    _user_error(capsys, code, "has no compensation section")


def test_quotas_error_messages_name_the_problem(tmp_path, capsys):
    quotas = tmp_path / "quotas.csv"
    quotas.write_text("rep,quota\nR1,1000\nR2,1000\nR3,1000\nR4,1000\nR5,1000\nR6,1000\n"
                      "R99,1000\n")
    code, _ = _comp(tmp_path, "--quotas", str(quotas))
    _user_error(capsys, code, "quotas name reps the scenario does not have: R99")
    quotas.write_text("rep,quota\nR1,1000\nR2,1000\n")
    code, _ = _comp(tmp_path, "--quotas", str(quotas))
    _user_error(capsys, code, "quotas are missing for reps: R3, R4, R5, R6")


@pytest.mark.parametrize(("args", "says"), [
    (["--budget-cost-of-sales", "0.3", "--share-at-quota", "0.7,0.6"], "--share-at-quota"),
    (["--budget-cost-of-sales", "0.3", "--share-at-quota", "most"], "--share-at-quota"),
    (["--budget-cost-of-sales", "0.3", "--share-at-quota", "0.6,1.5"], "--share-at-quota"),
    (["--share-at-quota", "0.6,0.7"], "needs both"),
    (["--budget-cost-of-sales", "-1", "--share-at-quota", "0.6,0.7"],
     "--budget-cost-of-sales"),
    (["--method", "lottery"], "unknown quota method 'lottery'"),
])
def test_bad_options_are_user_errors(tmp_path, capsys, args, says):
    code, out = _comp(tmp_path, *args)
    _user_error(capsys, code, says)
    assert not out.exists()  # rejected before any work


def test_help_describes_every_option(capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")  # wide enough that no option name is cut
    assert main(["comp", "--help"]) == 0
    text = re.sub(r"\s+", " ", capsys.readouterr().out)
    for option in ("--out", "--quotas", "--method", "--replications", "--seed", "--workers",
                   "--budget-cost-of-sales", "--share-at-quota"):
        assert option in text, option
    from salesplan.api.cli.commands.comp import comp

    hints = typing.get_type_hints(comp, include_extras=True)
    for name in inspect.signature(comp).parameters:
        info = hints[name].__metadata__[0]
        assert info.help, f"{name} has no help text"


@pytest.fixture
def wide(monkeypatch):
    """A terminal wide enough that no table header is cut."""
    from salesplan.api.cli.console import out

    monkeypatch.setattr(out, "_width", 250)  # restored as it was (None: auto) afterwards


def test_quotas_compare_methods_adds_pay_columns_only_with_a_pay_plan(tmp_path, capsys, wide):
    from salesplan.api.planning.compensation import PAY_COLUMNS

    out = tmp_path / "m"
    code = main(["quotas", str(SMALL), "--compare-methods", "--replications", "10",
                 "--workers", "1", "--out", str(out)])
    assert code == 0, capsys.readouterr().err
    methods = pd.read_csv(out / "methods.csv").set_index("method")
    assert set(PAY_COLUMNS) <= set(methods.columns)
    assert "gini_pay_ratio" in capsys.readouterr().out
    # fair quotas spread pay most evenly
    assert methods.loc["fair", "gini_pay_ratio"] < methods.loc["potential", "gini_pay_ratio"]

    bare = _without_pay_plan(tmp_path)
    out = tmp_path / "m2"
    code = main(["quotas", str(bare), "--compare-methods", "--replications", "10",
                 "--workers", "1", "--out", str(out)])
    assert code == 0, capsys.readouterr().err
    methods = pd.read_csv(out / "methods.csv")
    assert not set(PAY_COLUMNS) & set(methods.columns)
    assert "gini_pay_ratio" not in capsys.readouterr().out


def test_quotas_compare_reuses_the_simulation(tmp_path, capsys, monkeypatch, small):
    """One simulation serves the quota plans and the pay columns, and the pay columns are the
    pay of each plan's own quotas on it."""
    from salesplan.api.planning import quotas as planning
    from salesplan.api.planning.compensation import comp_by_quotas, plan_rep_quotas

    calls = []
    real = planning.simulate_for_quotas

    def counted(*args, **kwargs):
        calls.append(args[1:3])
        result = real(*args, **kwargs)
        calls.append(result)
        return result

    monkeypatch.setattr(planning, "simulate_for_quotas", counted)
    import salesplan.api.planning.compensation as comp_mod

    monkeypatch.setattr(comp_mod, "simulate", _no_simulation)
    out = tmp_path / "m"
    code = main(["quotas", str(SMALL), "--compare-methods", "--replications", "8",
                 "--workers", "1", "--out", str(out)])
    assert code == 0, capsys.readouterr().err
    assert len(calls) == 2  # one simulation, returned once
    result = calls[1]
    _, plans = planning.compare_on(small, result)
    expected = comp_by_quotas(small, result, {m: plan_rep_quotas(small, p.quotas)
                                              for m, p in plans.items()})
    methods = pd.read_csv(out / "methods.csv").set_index("method")
    pd.testing.assert_series_equal(methods["gini_pay_ratio"].sort_index(),
                                   expected["gini_pay_ratio"].sort_index(), check_names=False)


def _no_simulation(*args, **kwargs):
    raise AssertionError("the pay columns must not simulate again")


def test_single_method_reports_pay_equity(tmp_path, capsys):
    out = tmp_path / "q"
    code = main(["quotas", str(SMALL), "--replications", "10", "--workers", "1", "--by", "",
                 "--out", str(out)])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    pay = json.loads((out / "summary.json").read_text())["pay"]
    assert {"cost_of_sales", "share_at_on_target_pay", "gini_pay_ratio",
            "territory_share"} <= set(pay)
    assert 0 < pay["cost_of_sales"] < 1
    assert "pay equity: Gini of the expected pay ratio" in captured.out

    bare = _without_pay_plan(tmp_path)
    out = tmp_path / "q2"
    code = main(["quotas", str(bare), "--replications", "10", "--workers", "1", "--by", "",
                 "--out", str(out)])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "pay" not in json.loads((out / "summary.json").read_text())
    assert "Pay:" not in captured.out


def _without_pay_plan(tmp_path: Path) -> Path:
    text = SMALL.read_text()
    bare = tmp_path / "bare" / "small.yaml"
    bare.parent.mkdir(exist_ok=True)
    bare.write_text(text[:text.index("\ncompensation:")] + text[text.index("\nvariants:"):])
    (bare.parent / "small_accounts.csv").write_bytes(
        (SMALL.parent / "small_accounts.csv").read_bytes())
    return bare


def test_the_comp_command_module_imports_no_engine():
    """``salesplan --help`` lists ``comp`` and stays light: the command imports its engines
    when it runs (``comp --help`` itself passes the HiGHS banner hook, like ``quotas``)."""
    from test_cli_extras import ENGINES, _run

    run = _run("""
        from salesplan.api.cli.commands import comp
        print(' '.join(sorted({m.split('.')[0] for m in sys.modules})))
    """)
    assert run.returncode == 0, run.stderr
    assert not set(run.stdout.split()) & (ENGINES | {"numpy", "pydantic"})


def test_read_quotas_adds_up_a_reps_rows_and_rejects_bad_ones(tmp_path):
    from salesplan.api.planning.simulation import QuotaFileError, read_quotas

    path = tmp_path / "quotas.csv"
    path.write_text("rep,product,quota\nR1,a,100\nR1,b,0\nR2,a,50\nR1,c,25\n")
    assert read_quotas(path) == {"R1": 125.0, "R2": 50.0}
    for rows, rep in (("R1,a,-1\nR2,a,5\n", "R1"), ("R1,a,x\n", "R1"), ("R3,a,0\n", "R3")):
        path.write_text("rep,product,quota\n" + rows)
        with pytest.raises(QuotaFileError, match=rep):
            read_quotas(path)
