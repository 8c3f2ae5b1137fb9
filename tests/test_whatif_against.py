"""``salesplan whatif base.yaml --against plan-b.yaml``: another scenario file as a variant of the
base, on common random numbers; what differs is noted, what cannot be paired is refused."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from salesplan.api.cli import main
from salesplan.api.planning.against import (
    IncomparableScenariosError,
    as_variant,
    scenario_differences,
)
from salesplan.api.planning.whatif import compare, run_against
from salesplan.scenarios import Scenario, load_scenario
from salesplan.scenarios.io import dump_scenario
from salesplan.scenarios.levers import LeverError, Routing, apply_levers

EXAMPLES = Path(__file__).resolve().parents[1] / "scenarios" / "examples"
N = 12


@pytest.fixture(scope="module")
def small():
    return load_scenario(EXAMPLES / "small.yaml")


def _edited(sc: Scenario, edit) -> Scenario:
    doc = sc.model_dump()
    edit(doc)
    return Scenario.model_validate(doc)


def _plan_b(doc: dict) -> None:
    """A new rep R9 in North taking three of R1's accounts, R2 with less capacity, a higher
    target and least-loaded routing."""
    doc["reps"].append({**doc["reps"][0], "id": "R9", "name": "New"})
    moved = [a for a in doc["accounts"] if a["owner"] == "R1" and not a["locked"]][:3]
    for a in moved:
        a["owner"] = "R9"
    doc["reps"][1]["capacity"] = 3
    doc["targets"]["company"] = 1_800_000.0
    doc["policies"]["routing"] = "least_loaded"


def test_the_notes_say_what_differs(small):
    other = _edited(small, _plan_b)
    notes = scenario_differences(small, other)
    text = "\n".join(notes)
    assert "reps: 1 added (R9); 1 changed (capacity 1): R2 capacity 12 -> 3" in text
    assert "accounts: 3 changed (owner 3)" in text and "3 re-owned, potential" in text
    assert "targets.company: 1,620,000 -> 1,800,000" in text
    assert "policies.routing: territory_owner -> least_loaded" in text
    assert "the other file's 2 variant(s) are not run" in text
    assert not any("pairing" in n for n in notes)  # the funnel's structure is the same
    longer = scenario_differences(small, _edited(small, lambda d: d["stages"].append(
        {"name": "contract", "conversion": 0.9, "duration": {"dist": "fixed", "value": 3}})))
    assert "stages: 1 added (contract)" in longer
    assert any(n.startswith("pairing: stages differ") for n in longer)


def test_an_identical_file_differs_by_exactly_zero(small):
    same = _edited(small, lambda d: d.update(name="copy", variants=[]))
    applied = as_variant(small, same, "copy")
    assert applied.notes == ["no differences from the base (name, description and variants "
                             "aside): the paired difference is exactly zero"]
    c = compare(small, [applied], replications=N, seed=2, workers=1)
    assert np.array_equal(c.variants[0].bookings, c.base.bookings)


def test_a_file_pairs_exactly_like_the_lever_it_amounts_to(small):
    """A plan file that only changes the routing is simulated on the very same random numbers
    as the routing lever: replication by replication, the same bookings."""
    other = _edited(small, lambda d: d["policies"].update(routing="least_loaded"))
    lever = apply_levers(small, [Routing(strategy="least_loaded")], "lever")
    c = run_against(small, {"plan-b": other}, replications=N, seed=4, workers=1)
    via_lever = compare(small, [lever], replications=N, seed=4, workers=1)
    assert np.array_equal(c.variants[0].bookings, via_lever.variants[0].bookings)
    assert np.array_equal(c.base.bookings, via_lever.base.bookings)
    assert c.variants[0].notes == ["policies.routing: territory_owner -> least_loaded",
                                   "the other file's 2 variant(s) are not run (hire-south, "
                                   "leads-minus-20)"]


@pytest.mark.parametrize("edit, message", [
    (lambda d: d["horizon"].update(months=9), "horizon.months: 9 (base: 12)"),
    (lambda d: d["horizon"].update(start="2027-04-01"),
     "horizon.start: 2027-04-01 (base: 2027-01-01)"),
    (lambda d: d["horizon"].update(currency="EUR"), "horizon.currency: EUR (base: USD)"),
])
def test_what_cannot_be_paired_is_refused(small, edit, message):
    with pytest.raises(IncomparableScenariosError, match="cannot be paired with the base") as e:
        as_variant(small, _edited(small, edit), "plan-b")
    assert message in str(e.value)


def test_names_must_not_clash(small):
    with pytest.raises(LeverError, match="'base': already the name"):
        run_against(small, {"base": small}, replications=2, workers=1)
    with pytest.raises(LeverError, match="'hire-south': already the name"):
        run_against(small, {"hire-south": small}, ["hire-south"], replications=2, workers=1)


def test_cli_against_writes_the_pair_and_prints_the_notes(small, tmp_path, capsys):
    dump_scenario(_edited(small, _plan_b), tmp_path / "plan-b.yaml")
    (tmp_path / "other").mkdir()
    dump_scenario(small, tmp_path / "other" / "plan-b.yaml")
    out = tmp_path / "out"
    code = main(["whatif", str(EXAMPLES / "small.yaml"), "--against",
                 str(tmp_path / "plan-b.yaml"), "--against", str(tmp_path / "other" /
                                                                  "plan-b.yaml"),
                 "--replications", "6", "--workers", "1", "--out", str(out)])
    assert code == 0
    summary = json.loads((out / "summary.json").read_text())
    assert list(summary["variants"]) == ["base", "plan-b", "plan-b-2"]
    assert summary["variants"]["plan-b-2"]["diff_vs_base_mean"] == 0.0
    err = capsys.readouterr().err
    assert "note (plan-b): policies.routing: territory_owner -> least_loaded" in err


def test_cli_refuses_another_horizon_naming_the_file(small, tmp_path, capsys):
    path = tmp_path / "later.yaml"
    dump_scenario(_edited(small, lambda d: d["horizon"].update(start="2027-04-01")), path)
    code = main(["whatif", str(EXAMPLES / "small.yaml"), "--against", str(path),
                 "--replications", "4", "--workers", "1", "--out", str(tmp_path / "out")])
    assert code == 2
    err = capsys.readouterr().err
    assert f"{path} cannot be paired with the base: horizon.start: 2027-04-01" in err
    assert "Traceback" not in err
