"""``salesplan track`` end to end on the Maven export (small replications): the files, their
columns, the risks and actions; and bad input: one line, exit code 2, no traceback."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from _track_history import closed_deals, write_history

from salesplan.api.cli import main
from salesplan.api.planning.tracking.actions import ACTION_COLUMNS
from salesplan.api.planning.tracking.forecast import FORECAST_COLUMNS
from salesplan.api.planning.tracking.risks import RISK_COLUMNS
from salesplan.scenarios.crm import read_history

MAVEN = Path(__file__).resolve().parent / "data" / "maven_crm" / "sales_pipeline.csv.gz"

TARGETS = """period,level,id,target
2017Q4,company,,3000000
2017Q4,region,Central,1000000
2017Q4,region,East,950000
2017Q4,region,West,1050000
2017Q4,rep,Anna Snelling,80000
2017Q4,rep,Darcel Schlecht,250000
2017Q4,rep,Versie Hillebrand,90000
2017-11,product,GTX Plus Basic,150000
"""


@pytest.fixture(scope="module")
def tracked(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("track")
    targets = tmp / "targets.csv"
    targets.write_text(TARGETS)
    out = tmp / "out"
    code = main(["track", str(MAVEN), "--mapping", "maven", "--asof", "2017-11-15",
                 "--targets", str(targets), "--replications", "100", "--seed", "4",
                 "--out", str(out)])
    assert code == 0
    return out


def test_track_writes_every_file_with_its_columns(tracked):
    for name in ("summary.json", "forecast.csv", "risks.csv", "actions.csv", "pipeline.csv",
                 "report.html"):
        assert (tracked / name).stat().st_size > 0
    fc = pd.read_csv(tracked / "forecast.csv")
    assert list(fc.columns[:len(FORECAST_COLUMNS)]) == FORECAST_COLUMNS
    assert len(fc) == 8
    assert ((fc["p10"] <= fc["p50"]) & (fc["p50"] <= fc["p90"])).all()
    assert fc["p_hit"].between(0, 1).all()
    assert (fc["p10"] >= fc["won_to_date"] - 1e-6).all()
    # 22 working days of October and 11 of November, of 65 in the quarter
    q4 = fc[fc["period"] == "2017Q4"].iloc[0]
    assert q4["target_to_date"] == pytest.approx(q4["target"] * 33 / 65)
    assert list(pd.read_csv(tracked / "risks.csv").columns) == RISK_COLUMNS
    assert list(pd.read_csv(tracked / "actions.csv").columns) == ACTION_COLUMNS
    s = json.loads((tracked / "summary.json").read_text())
    assert s["seed"] == 4 and s["replications"] == 100 and s["asof"] == "2017-11-15"
    assert "closing_model" in s["model"]


def test_risks_are_ranked_and_explained(tracked):
    r = pd.read_csv(tracked / "risks.csv")
    assert (r["score"].diff().dropna() <= 1e-9).all()
    assert r["score"].iloc[0] == pytest.approx(r["gap"].iloc[0] * r["p_miss"].iloc[0])
    assert r["why"].str.contains("vs peers").any()
    assert r["why"].str.contains("sure").any()


def test_actions_are_paired_what_ifs_and_a_hire_is_too_late(tracked):
    a = pd.read_csv(tracked / "actions.csv")
    assert {"add leads", "hire"} <= set(a["action"])
    sim = a[a["action"] != "hire"]
    assert (sim["lift_lo"] <= sim["lift"] + 1e-12).all()
    assert (sim["lift"] <= sim["lift_hi"] + 1e-12).all()
    assert (a["lift"].diff().dropna() <= 1e-12).all()
    hire = a[a["action"] == "hire"].iloc[0]
    assert "too late" in hire["detail"]
    report = (tracked / "report.html").read_text()
    assert "Where we stand" in report and "As of 2017-11-15" in report


def _bad(tmp_path, capsys, targets: str, *extra: str, history: Path = MAVEN,
         asof: str = "2017-11-15") -> str:
    t = tmp_path / "t.csv"
    t.write_text(targets)
    code = main(["track", str(history), "--mapping", "maven", "--asof", asof, "--targets",
                 str(t), "--replications", "10", "--out", str(tmp_path / "o"), *extra])
    captured = capsys.readouterr()
    assert code == 2
    assert "Traceback" not in captured.err
    return captured.err


@pytest.fixture()
def small(tmp_path):
    rows = closed_deals(40, "2021-01-05") + closed_deals(40, "2021-05-01", seed=2)
    return write_history(tmp_path / "small", rows)


@pytest.mark.parametrize(("targets", "asof", "says"), [
    ("period,level,id,target\n2021Q3,company,,1000\n", "2020-01-01", "outside the export"),
    ("period,level,id,target\n2021Q3,rep,Zed,1000\n", "2021-06-15", "unknown rep"),
    ("period,level,id,target\n2021Q3,region,Mars,1000\n", "2021-06-15", "unknown region"),
    ("period,level,id,target\n2021-13,rep,Ann,1000\n", "2021-06-15", "does not parse"),
    ("period,level,id,target\nQ3 2021,rep,Ann,1000\n", "2021-06-15", "does not parse"),
    ("period,level,id,target\n2021Q3,rep,Ann,1000\n2021-08,rep,Ann,10\n", "2021-06-15",
     "overlapping targets"),
    ("period,level,id,target\n2021Q3,segment,SMB,1000\n", "2021-06-15",
     "level 'segment' cannot be measured"),
    ("period,level,id,target\n2021Q3,team,x,1000\n", "2021-06-15", "level 'team'"),
    ("period,level,id,target\n2021Q3,rep,Ann,lots\n", "2021-06-15", "not a number"),
    ("period,level,id,target\n2021Q3,rep,,1000\n", "2021-06-15", "line 2: id is empty"),
    ("period,level,id,target\n2021Q3,company,,1000\n", "2021-08-04", "outside the export"),
    ("period,level,target\n2021Q3,rep,1000\n", "2021-06-15", "missing column(s) id"),
])
def test_bad_input_is_one_clear_line(tmp_path, capsys, small, targets, asof, says):
    msg = _bad(tmp_path, capsys, targets, history=small, asof=asof)
    assert says in msg
    assert msg.strip().count("\n") <= 1  # one message (the console may wrap it once)


def test_targets_or_quotas_exactly_one(tmp_path, capsys, small):
    code = main(["track", str(small), "--mapping", "maven", "--asof", "2021-06-15",
                 "--out", str(tmp_path / "o")])
    assert code == 2 and "give the targets with --targets or --quotas" in capsys.readouterr().err
    t = tmp_path / "t.csv"
    t.write_text("period,level,id,target\n2021Q3,company,,1000\n")
    code = main(["track", str(small), "--mapping", "maven", "--asof", "2021-06-15",
                 "--targets", str(t), "--replications", "0", "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert code == 2 and "'--replications'" in err and "greater than or equal to 1" in err


def test_the_exports_last_day_is_a_valid_asof(tmp_path, small):
    t = tmp_path / "t.csv"
    t.write_text("period,level,id,target\n2021Q3,company,,1000\n")
    last = read_history(small, "maven").as_of.date().isoformat()
    code = main(["track", str(small), "--mapping", "maven", "--asof", last, "--targets",
                 str(t), "--replications", "10", "--out", str(tmp_path / "o")])
    assert code == 0
    code = main(["track", str(small), "--mapping", "maven", "--asof", "2030-01-01",
                 "--targets", str(t), "--replications", "10", "--out", str(tmp_path / "p")])
    assert code == 2


def test_quotas_csv_is_read_as_rep_targets(tmp_path, small):
    q = tmp_path / "quotas.csv"
    q.write_text("rep,region,product,segment,period,quota\n"
                 "Ann,North,Widget,,2021-07,500\nAnn,North,Widget,,2021-08,500\n"
                 "Cid,South,Widget,,2021-07,700\n")
    code = main(["track", str(small), "--mapping", "maven", "--asof", "2021-07-20",
                 "--quotas", str(q), "--replications", "20", "--out", str(tmp_path / "o")])
    assert code == 0
    fc = pd.read_csv(tmp_path / "o" / "forecast.csv")
    ann = fc[(fc["level"] == "rep") & (fc["id"] == "Ann")]
    assert sorted(ann["period"]) == ["2021-07", "2021-08"]
    comp = fc[fc["level"] == "company"].set_index("period")["target"]
    assert comp["2021-07"] == 1200


def test_a_plan_adds_its_reps(tmp_path, small):
    """--scenario: the plan's reps (R1..R6 in North and South) can carry targets; they have
    no deals, so they land at zero, and their regions' landings include them."""
    plan = Path(__file__).resolve().parents[1] / "scenarios" / "examples" / "small.yaml"
    t = tmp_path / "t.csv"
    t.write_text("period,level,id,target\n2021Q3,rep,R1,100\n2021Q3,region,North,100\n")
    code = main(["track", str(small), "--mapping", "maven", "--asof", "2021-07-20",
                 "--targets", str(t), "--scenario", str(plan), "--replications", "20",
                 "--out", str(tmp_path / "o")])
    assert code == 0
    fc = pd.read_csv(tmp_path / "o" / "forecast.csv").set_index("id")
    assert fc.loc["R1", "p_hit"] == 0 and fc.loc["R1", "p90"] == 0


def test_without_matplotlib_the_report_says_which_charts_are_missing(tmp_path, small):
    import subprocess
    import sys
    import textwrap

    t = tmp_path / "t.csv"
    t.write_text("period,level,id,target\n2021Q3,company,,1000\n2021Q3,region,North,500\n")
    code = textwrap.dedent(f"""
        import sys
        sys.modules['matplotlib'] = None
        from salesplan.api.cli import main
        sys.exit(main(['track', {str(small)!r}, '--mapping', 'maven', '--asof', '2021-06-15',
                       '--targets', {str(t)!r}, '--replications', '20', '--out',
                       {str(tmp_path / 'o')!r}]))
    """)
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=300)
    assert run.returncode == 0, run.stderr
    assert "won to date against the pace line" in run.stderr
    assert "pip install 'salesplan[plots]'" in run.stderr
    html = (tmp_path / "o" / "report.html").read_text()
    assert "Charts not drawn" in html and "<img" not in html
    assert (tmp_path / "o" / "forecast.csv").exists()
