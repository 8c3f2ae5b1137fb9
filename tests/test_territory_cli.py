"""``salesplan align``: files written, summary keys, exit code 2 with the diagnosis."""

from __future__ import annotations

import json

import pandas as pd

from salesplan.api.cli import main

SMALL = "scenarios/examples/small.yaml"


def test_align_writes_outputs(tmp_path, capsys):
    code = main(["align", SMALL, "--balance", "workload=0.05,potential=0.25", "--mode",
                 "realign", "--max-moves", "30", "--time-limit", "30", "--out", str(tmp_path)])
    assert code == 0
    for name in ("assignment.csv", "territories.csv", "summary.json", "map.png"):
        assert (tmp_path / name).stat().st_size > 0
    s = json.loads((tmp_path / "summary.json").read_text())
    for key in ("status", "objective", "bound", "gap", "moves", "solve_seconds"):
        assert key in s
    for metric in ("workload", "potential", "accounts"):
        assert set(s["balance"][metric]) == {"max_over_mean", "min_over_mean", "cv"}
    assert s["moves"] <= 30
    a = pd.read_csv(tmp_path / "assignment.csv")
    assert {"account", "rep", "previous_owner", "moved", "distance"} <= set(a.columns)
    assert a["account"].is_unique and len(a) == 100
    t = pd.read_csv(tmp_path / "territories.csv")
    assert t["workload_dev"].abs().max() <= 0.05 + 1e-9


def test_align_infeasible_exits_2_with_diagnosis(tmp_path, capsys):
    code = main(["align", SMALL, "--max-workload-hours", "300", "--out", str(tmp_path)])
    assert code == 2
    err = capsys.readouterr().err
    assert "region North: workload 1,257 h exceeds the capacity of its 3 reps (900 h)" in err
    assert "Traceback" not in err
    assert json.loads((tmp_path / "summary.json").read_text())["status"] == "no solution"


def test_align_tradeoff_writes_points(tmp_path):
    code = main(["align", SMALL, "--tradeoff", "--balance", "workload=0.1", "--time-limit",
                 "10", "--out", str(tmp_path)])
    assert code == 0
    pts = pd.read_csv(tmp_path / "tradeoff.csv")
    assert (tmp_path / "tradeoff.png").stat().st_size > 0
    assert pts["pareto"].any() and len(pts) >= 5
    cols = ["moves", "weighted_distance", "worst_deviation"]
    front = pts.loc[pts["pareto"], cols].to_numpy()
    rest = pts.loc[~pts["pareto"], cols].dropna().to_numpy()
    for a in front:  # no front point is dominated by any point
        for b in pts[cols].dropna().to_numpy():
            assert not ((b <= a).all() and (b < a).any())
    for a in rest:  # every other point is dominated by (or equal to) a front point
        assert any((f <= a).all() for f in front)


def test_align_dedicates_an_oversized_account(tmp_path, capsys):
    # the largest North account made 30x bigger: above every North rep's ±10% potential band
    import yaml

    with open(SMALL) as fh:
        src = yaml.safe_load(fh)
    accounts = pd.read_csv("scenarios/examples/small_accounts.csv")
    north = accounts[accounts["region"] == "North"]
    big = north["potential"].idxmax()
    accounts.loc[big, "potential"] *= 30
    accounts.to_csv(tmp_path / "small_accounts.csv", index=False)
    (tmp_path / "small.yaml").write_text(yaml.safe_dump(src))
    args = ["align", str(tmp_path / "small.yaml"), "--balance", "potential=0.1", "--mode",
            "carve", "--time-limit", "30"]
    assert main([*args, "--out", str(tmp_path / "plain")]) == 2
    assert "--dedicate-oversized" in capsys.readouterr().err
    assert main([*args, "--dedicate-oversized", "--out", str(tmp_path / "ded")]) == 0
    t = pd.read_csv(tmp_path / "ded" / "territories.csv")
    ded = t[t["dedicated_to"].notna()]
    assert ded["dedicated_to"].tolist() == [accounts.loc[big, "id"]]
    assert ded["accounts"].tolist() == [1]
    assert t.loc[t["dedicated_to"].isna() & (t["potential_target"] > 0),
                 "potential_dev"].abs().max() <= 0.1 + 1e-9
    s = json.loads((tmp_path / "ded" / "summary.json").read_text())
    assert any("has a dedicated territory" in n for n in s["notes"])
