"""``salesplan simulate``: files written, summary keys, user errors exit 2."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from salesplan.api.cli import main

SMALL = Path(__file__).resolve().parents[1] / "scenarios" / "examples" / "small.yaml"


def test_simulate_writes_outputs(tmp_path, capsys):
    quotas = tmp_path / "quotas.csv"
    quotas.write_text("rep,quota\n" + "".join(f"R{i},250000\n" for i in range(1, 7)))
    out = tmp_path / "out"
    code = main(["simulate", str(SMALL), "--replications", "4", "--seed", "9", "--workers", "1",
                 "--quotas", str(quotas), "--out", str(out)])
    assert code == 0
    s = json.loads((out / "summary.json").read_text())
    assert s["replications"] == 4 and s["seed"] == 9
    for key in ("bookings", "won_deals"):
        assert set(s[key]) >= {"mean", "ci95", "p10", "p50", "p90"}
        assert len(s[key]["ci95"]) == 2
    assert 0 <= s["p_hit_target"] <= 1
    assert set(s["quotas"]) == {f"R{i}" for i in range(1, 7)}
    for name in ("deals.csv.gz", "bookings.csv.gz", "funnel.csv", "reps.csv", "funnel.png",
                 "bookings_fan.png", "attainment.png"):
        assert (out / name).stat().st_size > 0
    bookings = pd.read_csv(out / "bookings.csv.gz")
    assert abs(bookings.bookings.sum() / 4 - s["bookings"]["mean"]) < 1e-6 * s["bookings"]["mean"]
    reps = pd.read_csv(out / "reps.csv")
    assert {"utilisation", "mean_wait_days", "won_deals", "bookings", "p_attain_100"} <= set(
        reps.columns)
    assert "P(hit)" in capsys.readouterr().out


def test_simulate_user_errors_exit_2(tmp_path, capsys):
    bad = tmp_path / "q.csv"
    bad.write_text("who,amount\nR1,5\n")
    assert main(["simulate", str(SMALL), "-n", "2", "--out", str(tmp_path / "o"),
                 "--quotas", str(bad), "--workers", "1"]) == 2
    assert main(["simulate", str(SMALL), "-n", "2", "--out", str(tmp_path / "o"),
                 "--routing", "nearest", "--workers", "1"]) == 2
    err = capsys.readouterr().err
    assert "needs columns 'rep' and 'quota'" in err
    assert "unknown routing strategy 'nearest'" in err and "round_robin" in err
    assert "Traceback" not in err
