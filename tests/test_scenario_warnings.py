"""Validation warnings: a valid scenario that may mislead (no accounts; a rep without accounts
under territory routing, a planned hire included unless accounts are handed to it) is warned
about in the data layer, by ``salesplan validate`` and ``describe`` (exit 0), and in the what-if
base outcome's notes; a scenario without those conditions has none."""

from __future__ import annotations

import copy
from pathlib import Path

import yaml
from _docs import base_doc

from salesplan.api.cli import main
from salesplan.scenarios import EXAMPLES, Problem, Scenario, load_scenario, scenario_warnings


def doc_without_warnings() -> dict:
    """``base_doc`` with R17 owning an account of its region (nothing to warn about)."""
    doc = base_doc()
    doc["accounts"].append({"id": "A2", "region": "West", "segment": "SMB", "lat": 40.0,
                            "lon": -100.0, "potential": 500.0, "owner": "R17"})
    return doc


def warnings_of(doc: dict) -> list[str]:
    return [str(w) for w in scenario_warnings(Scenario.model_validate(doc))]


def test_a_scenario_without_those_conditions_has_no_warnings() -> None:
    assert warnings_of(doc_without_warnings()) == []
    assert scenario_warnings(load_scenario(EXAMPLES / "midmarket.yaml")) == []


def test_a_scenario_with_no_accounts_is_warned_about_once() -> None:
    doc = doc_without_warnings()
    doc["accounts"] = []
    got = scenario_warnings(Scenario.model_validate(doc))
    assert len(got) == 1 and isinstance(got[0], Problem)
    assert got[0].path == "accounts"
    assert got[0].message.startswith("the scenario has no accounts: every rep's territory "
                                     "potential is 0")


def test_a_rep_without_accounts_under_territory_routing_is_warned_about() -> None:
    doc = base_doc()  # R17 owns nothing
    assert warnings_of(doc) == [
        "reps[R17]: owns no accounts under territory routing (policies.routing: "
        "territory_owner): it gets only the leads of accounts with no eligible owner, so it "
        "will book little whatever its capacity; give it accounts (Account.owner) or choose "
        "another routing"]
    doc["policies"] = {"routing": "least_loaded"}  # accounts do not route leads
    assert warnings_of(doc) == []


def hire_doc(handed: bool) -> dict:
    """``doc_without_warnings`` plus R30, a West hire from March; ``handed``: R17's account A2
    is handed to it (owner R30, previous owner R17)."""
    doc = doc_without_warnings()
    doc["reps"].append({"id": "R30", "region": "West", "start_date": "2027-03-01",
                        "ramp_months": 2, "capacity": 5})
    if handed:
        doc["accounts"][1] |= {"owner": "R30", "previous_owner": "R17"}
    return doc


def test_a_planned_hire_without_accounts_is_a_warning_unless_accounts_are_handed_to_it() -> None:
    assert warnings_of(hire_doc(handed=False)) == [
        "reps[R30]: starts 2027-03-01 and owns no accounts under territory routing "
        "(policies.routing: territory_owner): it gets only the leads of accounts with no "
        "eligible owner, so it will book little whatever its capacity; hand it accounts "
        "(owner: R30, previous_owner: the rep who works them until then) or expect its "
        "bookings near 0"]
    # handed A2: the hire is fine, but R17 (its only account handed over) owns none after
    assert warnings_of(hire_doc(handed=True)) == [
        "reps[R17]: owns no accounts under territory routing (policies.routing: "
        "territory_owner): the 1 account(s) it works are handed over to R30 when they start; "
        "after that it gets only the leads of accounts with no eligible owner, so it will "
        "book little whatever its capacity"]
    doc = hire_doc(handed=True)
    doc["accounts"].append({"id": "A3", "region": "West", "segment": "SMB", "lat": 41.0,
                            "lon": -101.0, "potential": 700.0, "owner": "R17"})
    assert warnings_of(doc) == []


def test_small_example_warns_about_its_hire_r6_while_it_owns_no_accounts() -> None:
    sc = load_scenario(EXAMPLES / "small.yaml")
    owns = {a.owner for a in sc.accounts}
    want = [] if "R6" in owns else ["reps[R6]"]
    assert [w.path for w in scenario_warnings(sc)] == want


def write(tmp_path: Path, doc: dict) -> Path:
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(copy.deepcopy(doc)))
    return path


def test_validate_prints_warnings_after_the_summary_on_stderr_and_exits_0(tmp_path,
                                                                          capsys) -> None:
    assert main(["validate", str(write(tmp_path, hire_doc(handed=False)))]) == 0
    captured = capsys.readouterr()
    assert "valid scenario 'tiny'" in captured.out and "warning:" not in captured.out
    assert captured.err.startswith("warning: reps[R30]: starts 2027-03-01 and owns no accounts")
    assert main(["validate", str(write(tmp_path, doc_without_warnings()))]) == 0
    assert capsys.readouterr().err == ""


def test_describe_prints_the_warnings(tmp_path, capsys) -> None:
    doc = doc_without_warnings()
    doc["accounts"] = []
    assert main(["describe", str(write(tmp_path, doc))]) == 0
    assert "warning: accounts: the scenario has no accounts" in capsys.readouterr().err


def test_whatif_carries_the_warnings_into_the_base_outcome_notes() -> None:
    from salesplan.api.planning.whatif import compare

    sc = Scenario.model_validate(hire_doc(handed=False))
    c = compare(sc, [], replications=3, seed=0, workers=1)
    assert c.base.notes[0].startswith("warning: reps[R30]: starts 2027-03-01")
    quiet = compare(Scenario.model_validate(doc_without_warnings()), [], replications=3, seed=0,
                    workers=1)
    assert not any(n.startswith("warning:") for n in quiet.base.notes)
