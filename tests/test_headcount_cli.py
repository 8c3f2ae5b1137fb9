"""``salesplan plan-headcount`` end to end: an out-of-reach p exits 2 with the best plan, after
writing plan.json and frontier.csv; on the shipped example the command either reaches p or
exits 2, never reports an unreached plan with exit code 0."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from pydantic import ValidationError

from salesplan.api.cli import main
from salesplan.api.service.kinds import PlanHeadcountOptions, run_plan_headcount_kind
from salesplan.scenarios import dump_scenario, load_scenario

EXAMPLES = Path(__file__).resolve().parents[1] / "scenarios" / "examples"


def _small_with_target(tmp_path: Path, factor: float) -> Path:
    sc = load_scenario(EXAMPLES / "small.yaml")
    targets = sc.targets.model_copy(update={"company": sc.targets.company * factor})
    path = tmp_path / "scenario" / "small.yaml"
    path.parent.mkdir()
    dump_scenario(sc.model_copy(update={"targets": targets}), path)
    return path


def test_out_of_reach_exits_2_after_writing_the_best_plan_and_frontier(tmp_path, capsys):
    """A target 100 times the example's cannot be hit with two hires: exit 2, the message names
    the best P(hit) and its hires, and nothing computed is lost."""
    out = tmp_path / "out"
    code = main(["plan-headcount", str(_small_with_target(tmp_path, 100.0)), "--p", "0.8",
                 "--replications", "10", "--seed", "4", "--workers", "1", "--max-hires", "2",
                 "--out", str(out)])
    captured = capsys.readouterr()
    assert code == 2
    assert ("error: p = 80% is not reachable with these levers: best P(hit) 0.0% "
            "[0.0%, 27.8%] at 0 hires;") in captured.err
    assert "Traceback" not in captured.err
    plan = json.loads((out / "plan.json").read_text())
    assert plan["reached"] is False and plan["hires"] == {} and plan["p_hit"] == 0.0
    assert plan["stop_reason"] in {"no_significant_lift", "max_hires"}
    assert plan["verdict"] in captured.err
    frontier = pd.read_csv(out / "frontier.csv")
    assert len(frontier) == len(plan["frontier"]) >= 2 and frontier.step.iloc[0] == 0
    assert {"p_hit", "p_hit_ci95_lo", "p_hit_ci95_hi", "p_hit_lift", "p_hit_lift_ci95_lo",
            "p_hit_lift_ci95_hi", "bookings_lift", "bookings_lift_ci95_lo",
            "bookings_lift_ci95_hi", "accepted", "hires_North", "hires_South"} <= set(frontier)
    # the frontier is printed with the same figures
    assert "Frontier" in captured.out and "27.8]" in captured.out


def test_the_example_reaches_p_or_exits_2(tmp_path, capsys):
    """The issue's case (small.yaml, p = 0.8): exit 0 only with a plan that reaches p."""
    out = tmp_path / "out"
    code = main(["plan-headcount", str(EXAMPLES / "small.yaml"), "--p", "0.8",
                 "--replications", "20", "--workers", "1", "--max-hires", "4",
                 "--out", str(out)])
    captured = capsys.readouterr()
    plan = json.loads((out / "plan.json").read_text())
    assert (code == 0) == plan["reached"]
    if plan["reached"]:
        assert plan["p_hit"] >= 0.8 and "Plan:" in captured.out
    else:
        assert code == 2 and "not reachable with these levers: best P(hit)" in captured.err
    accepted = [pt for pt in plan["frontier"] if pt["accepted"]]
    assert all(pt["bookings_lift_ci95"][0] > 0 for pt in accepted[1:])


def test_unknown_cost_is_a_user_error(tmp_path, capsys):
    code = main(["plan-headcount", str(EXAMPLES / "small.yaml"), "--cost", "seats",
                 "--replications", "10", "--workers", "1", "--out", str(tmp_path)])
    assert code == 2
    assert "--cost: Input should be 'hires' or 'payroll'" in capsys.readouterr().err


def test_service_run_keeps_the_best_plan_and_frontier_when_out_of_reach(tmp_path):
    """The service's plan-headcount run: an out-of-reach p is a result (reached false, the
    verdict), not a failed run, so the frontier table is kept."""
    sc = load_scenario(_small_with_target(tmp_path, 100.0))
    messages: list[str] = []
    out = run_plan_headcount_kind(sc, {"replications": 10, "max_hires": 1, "cost": "payroll"},
                                  lambda _, message: messages.append(message))
    assert out.result["reached"] is False and out.result["cost"] == "payroll"
    assert "not reachable with these levers" in out.result["verdict"]
    json.dumps(out.result, allow_nan=False)
    frontier = out.tables["frontier"]
    assert len(frontier) >= 1 and {"p_hit_ci95_lo", "bookings_lift_ci95_lo"} <= set(frontier)
    assert messages
    with pytest.raises(ValidationError, match="cost"):
        PlanHeadcountOptions.model_validate({"cost": "seats"})
