"""Strategy benchmarks: determinism across executors (in-process, local processes, a Dask
LocalCluster on loopback), metric definitions checked against direct runs, the CLI."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from salesplan.api.bench.instances import build_instance
from salesplan.api.bench.strategies import PLANNING_SEED_OFFSET, design_territory
from salesplan.api.bench.sweep import TIMING_COLUMNS, SweepError, SweepSpec, process_pool, run_sweep
from salesplan.api.cli import main
from salesplan.optimizer.quotas import allocate_quotas
from salesplan.simulator import Lead, RoutingState, register_routing_function, simulate

SPEC = SweepSpec(instances=("tiny",), seeds=(0, 1), replications=4)


def _reproducible(df: pd.DataFrame) -> pd.DataFrame:
    return df.drop(columns=list(TIMING_COLUMNS))


@pytest.fixture(scope="module")
def inline() -> pd.DataFrame:
    return run_sweep(SPEC)


@pytest.fixture(scope="module")
def cluster():
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  host="127.0.0.1", dashboard_address=None) as c:
        yield c


def test_rows_cover_every_family_strategy_and_seed(inline):
    assert len(inline) == (4 + 5 + 6) * 2
    assert inline.groupby(["family", "strategy"]).size().eq(2).all()
    assert not inline.drop(columns=["balance_cv", "weighted_km", "quota_notes"]).isna().any().any()


@pytest.mark.slow
def test_identical_with_local_processes(inline):
    with process_pool(2) as pool:
        other = run_sweep(SPEC, pool)
    pd.testing.assert_frame_equal(_reproducible(inline), _reproducible(other), check_exact=True)


@pytest.mark.slow
def test_identical_on_a_dask_cluster_through_the_cli(inline, cluster, tmp_path, capsys):
    out = tmp_path / "dask"
    code = main(["bench", "strategies", "--instances", "tiny", "--seeds", "2",
                 "--replications", "4", "--scheduler", cluster.scheduler_address,
                 "--out", str(out)])
    assert code == 0, capsys.readouterr().err
    run = json.loads((out / "run.json").read_text())
    assert run["executor"].startswith("Dask cluster")
    other = pd.read_csv(out / "results.csv")
    mine = _reproducible(inline)
    theirs = _reproducible(other)[mine.columns]
    # the CSV holds every float to round-trip precision: equal, not close
    pd.testing.assert_frame_equal(mine, theirs.astype(mine.dtypes.to_dict()), check_exact=True)


def test_metrics_match_a_direct_simulation(inline):
    """The routing family's territory_owner row is exactly a plain simulate() of the instance
    with that seed, judged against potential quotas (the documented definitions)."""
    sc = build_instance("tiny").scenario
    res = simulate(sc, 4, 1, workers=1, routing="territory_owner", keep_deals=0)
    row = inline[(inline.family == "routing") & (inline.strategy == "territory_owner")
                 & (inline.seed == 1)].iloc[0]
    total = res.total_bookings()
    assert row.bookings == total.mean()
    assert row.p_hit_target == (total >= sc.targets.company).mean()
    plan = allocate_quotas(sc, "potential", by=(), rounding=1000)
    per_rep = plan.quotas.groupby("rep")["quota"].sum()
    q = np.array([per_rep.get(r, 0.0) for r in res.rep_ids])
    at = res.rep_bookings() >= q
    assert row.attainment_spread == pytest.approx(at.mean(axis=0).std(), abs=1e-15)
    assert row.share_at_quota == pytest.approx(at.mean(axis=1).mean(), abs=1e-15)
    waits = res.stack("wait_sum").sum() / res.stack("wait_n").sum()
    assert row.lead_wait_days == pytest.approx(waits, rel=1e-12)


def test_common_random_numbers_across_strategies(inline):
    """Arrivals do not depend on the strategy: for a seed, every strategy sees the same leads."""
    for seed, rows in inline.groupby("seed"):
        assert rows.leads.nunique() == 1, seed
    assert inline.leads.nunique() == len(SPEC.seeds)


def test_fair_quotas_are_set_on_held_out_draws(inline):
    """fair quotas come from simulate(seed + PLANNING_SEED_OFFSET), judged on seed's draws."""
    sc = build_instance("tiny").scenario
    seed = 1
    planning = simulate(sc, 4, seed + PLANNING_SEED_OFFSET, workers=1, keep_deals=0)
    judged = simulate(sc, 4, seed, workers=1, keep_deals=0)
    draws = pd.DataFrame(planning.rep_bookings(), columns=planning.rep_ids)
    plan = allocate_quotas(sc, "fair", samples=draws, by=(), rounding=1000)
    per_rep = plan.quotas.groupby("rep")["quota"].sum()
    q = np.array([per_rep.get(r, 0.0) for r in judged.rep_ids])
    at = judged.rep_bookings() >= q
    row = inline[(inline.strategy == "fair") & (inline.seed == seed)].iloc[0]
    assert row.attainment_spread == at.mean(axis=0).std()
    assert row.share_at_quota == at.mean(axis=1).mean()


def test_quota_fallbacks_are_reported(inline):
    pipeline = inline[(inline.strategy == "pipeline")].iloc[0]
    assert "split evenly" in pipeline.quota_notes


def test_unmeasured_designs_are_nan_not_zero():
    df = run_sweep(SweepSpec(instances=("tiny-loses-third",), seeds=(0,), replications=2,
                             families=("territory",)))
    as_is = df[df.strategy == "as_is"].iloc[0]
    assert np.isnan(as_is.moves) and np.isnan(as_is.balance_cv)
    assert "not measured" in as_is.design_status


def test_territory_rows_carry_the_design_figures(inline):
    t = inline[(inline.family == "territory") & (inline.seed == 0)].set_index("strategy")
    direct = design_territory(build_instance("tiny").scenario, "greedy_lpt")
    assert t.loc["greedy_lpt", "balance_cv"] == direct.balance_cv
    assert t.loc["greedy_lpt", "moves"] == direct.moves
    # the MILP balances potential within its ±10% band; nearest rep is the compact extreme
    assert t.loc["milp_carve", "balance_cv"] < t.loc["nearest", "balance_cv"]
    assert t.loc["nearest", "weighted_km"] <= t[["weighted_km"]].min().iloc[0] + 1e-9
    assert t.loc["as_is", "moves"] == 0


def _always_first(lead: Lead, candidates: tuple[int, ...], state: RoutingState) -> int:
    return candidates[0]


def test_a_registered_routing_function_is_benchmarked():
    strategy = register_routing_function("first_candidate", _always_first)
    spec = SweepSpec(instances=("tiny",), seeds=(0,), replications=2, families=("routing",),
                     routings=("territory_owner", strategy))
    df = run_sweep(spec)
    assert list(df.strategy) == ["territory_owner", "first_candidate"]
    assert df.bookings.iloc[0] != df.bookings.iloc[1]


def test_bad_sweeps_are_refused():
    with pytest.raises(SweepError, match="replications"):
        SweepSpec(instances=("tiny",), seeds=(0,), replications=1)
    with pytest.raises(SweepError, match="seeds"):
        SweepSpec(instances=("tiny",), seeds=(), replications=3)
    with pytest.raises(SweepError, match="instances named more than once: tiny"):
        SweepSpec(instances=("tiny", "tiny"), seeds=(0,), replications=3)


def test_unpicklable_routing_is_refused_before_the_sweep():
    strategy = register_routing_function("lambda_first", lambda lead, cands, state: cands[0])
    spec = SweepSpec(instances=("tiny",), seeds=(0,), replications=2, families=("routing",),
                     routings=(strategy,))
    with process_pool(1) as pool, pytest.raises(SweepError, match="'lambda_first' cannot be"):
        run_sweep(spec, pool)


PLUGIN = """
from salesplan.simulator import register_routing_function


def last_candidate(lead, candidates, state):
    return candidates[-1]


register_routing_function("last_candidate", last_candidate)
"""


@pytest.mark.slow
def test_cli_plugin_registers_a_routing_for_worker_processes(tmp_path, monkeypatch, capsys):
    (tmp_path / "my_routing.py").write_text(PLUGIN)
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    out = tmp_path / "p"
    code = main(["bench", "strategies", "--plugin", "my_routing", "--instances", "tiny",
                 "--families", "routing", "--routings", "territory_owner,last_candidate",
                 "--seeds", "1", "--replications", "2", "--workers", "2", "--out", str(out)])
    assert code == 0, capsys.readouterr().err
    df = pd.read_csv(out / "results.csv")
    assert list(df.strategy) == ["territory_owner", "last_candidate"]


@pytest.mark.slow
def test_cli_small_suite_writes_everything(tmp_path, capsys):
    """The small suite as CI runs it: both instances, 3 seeds x 8 replications, 2 processes."""
    out = tmp_path / "b"
    code = main(["bench", "strategies", "--suite", "small", "--workers", "2", "--out", str(out)])
    assert code == 0, capsys.readouterr().err
    results = pd.read_csv(out / "results.csv")
    assert set(results.instance) == {"tiny", "tiny-loses-third"}
    assert len(results) == 2 * 15 * 3
    for name in ("results.csv", "summary.csv", "pairs.csv", "summary.md", "instances.json",
                 "run.json",
                 "plots/routing.png", "plots/territory.png", "plots/quota.png"):
        assert (out / name).is_file(), name
    md = (out / "summary.md").read_text()
    for heading in ("## tiny", "## tiny-loses-third", "### routing", "### territory",
                    "### quota", "## Across instances"):
        assert heading in md
    manifest = json.loads((out / "instances.json").read_text())
    assert manifest["instances"]["tiny"]["fingerprint"] == build_instance("tiny").fingerprint
    assert json.loads((out / "run.json").read_text())["executor"] == "2 local processes"


@pytest.mark.parametrize("args, message", [
    (["--suite", "huge"], "--suite: unknown 'huge'"),
    (["--instances", "nowhere"], "--instances: unknown nowhere"),
    (["--families", "pricing"], "--families: unknown pricing"),
    (["--routings", "coin_flip"], "--routings: unknown coin_flip"),
    (["--seeds", "0"], "--seeds must be >= 1"),
    (["--replications", "1"], "--replications must be >= 2"),
    (["--instances", "tiny,tiny"], "--instances: tiny named more than once"),
    (["--seeds", "1000001"], "seeds must be 0..999999"),
    (["--scheduler", "foo:bar:baz"], "cannot reach the Dask scheduler at foo:bar:baz"),
    (["--plugin", "no_such_module_here"], "--plugin no_such_module_here: cannot import it"),
])
def test_cli_bad_options_are_user_errors(tmp_path, capsys, args, message):
    code = main(["bench", "strategies", "--out", str(tmp_path / "x"), *args])
    assert code == 2
    assert message in capsys.readouterr().err


def test_an_unreachable_scheduler_is_a_user_error(tmp_path, capsys):
    code = main(["bench", "strategies", "--instances", "tiny", "--seeds", "1",
                 "--replications", "2", "--scheduler", "tcp://127.0.0.1:1",
                 "--out", str(tmp_path / "x")])
    assert code == 2
    assert "cannot reach the Dask scheduler at tcp://127.0.0.1:1" in capsys.readouterr().err
