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


def test_the_default_method_and_band_are_spelled_the_same_everywhere():
    from salesplan.api.cli.commands.quotas import (
        DEFAULT_PEER_BAND,
        DEFAULT_QUOTA_METHOD,
        parse_peer_band,
    )
    from salesplan.api.service.kinds import QuotasOptions, WhatifOptions
    from salesplan.optimizer import quotas

    assert DEFAULT_QUOTA_METHOD == quotas.DEFAULT_METHOD == "blended"
    assert WhatifOptions().quota_method == QuotasOptions().method == quotas.DEFAULT_METHOD
    assert parse_peer_band(DEFAULT_PEER_BAND) == quotas.DEFAULT_PEER_BAND
    assert QuotasOptions().peer_band == quotas.DEFAULT_PEER_BAND
    assert quotas.Bounds().peer_band == quotas.DEFAULT_PEER_BAND


def test_peer_band_option_sets_and_switches_off_the_band(tmp_path, capsys):
    summaries = {}
    for band in ("0.5,2", "none", "0.25,inf"):
        out = tmp_path / band
        code = main(["quotas", str(SMALL), "--replications", "10", "--workers", "1", "--by", "",
                     "--peer-band", band, "--out", str(out)])
        assert code == 0, capsys.readouterr().err
        summaries[band] = json.loads((out / "summary.json").read_text())
    assert summaries["0.5,2"]["method"] == "blended"  # the default method
    assert summaries["0.5,2"]["peer_band"] == [0.5, 2.0]
    assert summaries["none"]["peer_band"] is None
    assert summaries["0.25,inf"]["peer_band"] == [0.25, None]  # inf is not JSON


def test_a_bad_peer_band_is_a_user_error(tmp_path, capsys):
    for band, says in (("2,3", "0 <= low <= 1 <= high"), ("wide", "--peer-band must be "
                                                                  "LOW,HIGH")):
        code = main(["quotas", str(SMALL), "--peer-band", band, "--replications", "5",
                     "--workers", "1", "--out", str(tmp_path / "x")])
        assert code == 2
        err = capsys.readouterr().err
        assert says in err and "Traceback" not in err
