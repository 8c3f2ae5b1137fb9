"""``salesplan quotas``: files and keys the issue names, compare-methods, pins errors."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from salesplan.api.cli import main

SMALL = Path(__file__).resolve().parents[1] / "scenarios" / "examples" / "small.yaml"


def test_fair_quotas_cli_writes_the_plan(tmp_path, capsys):
    out = tmp_path / "q"
    code = main(["quotas", str(SMALL), "--method", "fair", "--over-assign", "1.1",
                 "--replications", "40", "--seed", "2", "--workers", "1",
                 "--by", "product,segment,month", "--out", str(out)])
    assert code == 0, capsys.readouterr().err
    quotas = pd.read_csv(out / "quotas.csv")
    assert list(quotas.columns) == ["rep", "region", "product", "segment", "period", "quota"]
    summary = json.loads((out / "summary.json").read_text())
    for key in ("method", "target", "total_quota", "p_attain_spread", "p_attain_std",
                "expected_share_attaining", "quota_potential_gini", "seed", "replications"):
        assert key in summary, key
    assert summary["method"] == "fair" and summary["seed"] == 2
    # over-assignment: rep quotas sum to 110% of the target, to the currency unit
    assert quotas.quota.sum() == round(1.1 * summary["target"])
    assert summary["total_quota"] == quotas.quota.sum()
    assert (out / "p_attain.png").read_bytes()[:4] == b"\x89PNG"
    reps = pd.read_csv(out / "reps.csv")
    assert {"rep", "quota", "p_attain", "expected_attainment", "why"} <= set(reps.columns)


def test_compare_methods_on_the_same_draws(tmp_path, capsys):
    out = tmp_path / "m"
    code = main(["quotas", str(SMALL), "--compare-methods", "--replications", "30",
                 "--workers", "1", "--out", str(out)])
    assert code == 0, capsys.readouterr().err
    methods = pd.read_csv(out / "methods.csv")
    assert {"even", "history", "potential", "capacity", "pipeline", "fair"} <= set(
        methods.method)
    fair = methods.set_index("method").loc["fair", "p_attain_spread"]
    potential = methods.set_index("method").loc["potential", "p_attain_spread"]
    assert fair < potential


def test_bad_pins_file_is_a_user_error(tmp_path, capsys):
    pins = tmp_path / "pins.csv"
    pins.write_text("level,id,value\nrep,R99,100000\n")
    code = main(["quotas", str(SMALL), "--pins", str(pins), "--replications", "5",
                 "--workers", "1", "--out", str(tmp_path / "x")])
    assert code == 2
    err = capsys.readouterr().err
    assert "R99" in err and "Traceback" not in err
