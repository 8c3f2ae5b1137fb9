"""Every validation rule of the scenario model, each with a bad-input case.

Each case makes exactly one thing wrong in a valid document and checks that the error names the
path, the value and what was expected.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from _docs import base_doc

from salesplan.scenarios import ScenarioError, parse_scenario


def _set(path: str, value) -> Callable[[dict], None]:
    """A mutation setting doc[path] (dotted, with integer list indices) to ``value``."""

    def mutate(doc: dict) -> None:
        node = doc
        parts = path.split(".")
        for p in parts[:-1]:
            node = node[int(p)] if p.isdigit() else node[p]
        last = parts[-1]
        if last.isdigit():
            node[int(last)] = value
        else:
            node[last] = value

    return mutate


def _edit(fn: Callable[[dict], None]) -> Callable[[dict], None]:
    """A mutation given as a function of the document."""
    return fn


def _drop(path: str) -> Callable[[dict], None]:
    def mutate(doc: dict) -> None:
        node = doc
        parts = path.split(".")
        for p in parts[:-1]:
            node = node[int(p)] if p.isdigit() else node[p]
        del node[parts[-1]]

    return mutate


def _problems(doc: dict) -> list[str]:
    with pytest.raises(ScenarioError) as info:
        parse_scenario(doc)
    return [str(p) for p in info.value.problems]


CASES = [
    # horizon
    ("horizon not first of month", _set("horizon.start", "2027-01-15"),
     "horizon.start: must be the first day of a month, got 2027-01-15"),
    ("horizon months zero", _set("horizon.months", 0), "horizon.months: must be >= 1, got 0"),
    ("horizon months too long", _set("horizon.months", 121), "horizon.months: must be <= 120"),
    ("currency not ISO", _set("horizon.currency", "dollars"), "horizon.currency: must match"),
    ("horizon missing", _drop("horizon"), "horizon: is required"),
    # sections that must not be empty
    ("no regions", _set("regions", []), "regions: needs at least 1 item(s), got 0"),
    ("no stages", _set("stages", []), "stages: needs at least 1 item(s), got 0"),
    ("no reps", _set("reps", []), "reps: needs at least 1 item(s), got 0"),
    ("unknown top-level field", _set("colour", "blue"), "colour: is not a known field"),
    # products and distributions
    ("product without size", _set("products.0", {"id": "core"}),
     "products[core]: give list_price or deal_size"),
    ("negative list price", _set("products.0.list_price", -5.0),
     "products[core].list_price: must be > 0, got -5.0"),
    ("unknown distribution", _set("products.1.deal_size", {"dist": "weibull", "mean": 3}),
     "products[plus].deal_size: unknown dist 'weibull'"),
    ("gamma cv zero", _set("products.1.deal_size.cv", 0),
     "products[plus].deal_size.cv: must be > 0"),
    ("exponential mean negative", _set("stages.0.duration.mean", -1),
     "stages[lead].duration.mean: must be > 0, got -1"),
    ("fixed negative", _set("stages.1.duration.value", -2),
     "stages[contact].duration.value: must be >= 0, got -2"),
    ("lognormal missing cv", _drop("stages.2.duration.cv"),
     "stages[proposal].duration.cv: is required"),
    ("empirical weights length",
     _set("stages.1.duration", {"dist": "empirical", "values": [1, 2], "weights": [1]}),
     "stages[contact].duration: weights must have one entry per value (2), got 1"),
    ("empirical zero weights",
     _set("stages.1.duration", {"dist": "empirical", "values": [1, 2], "weights": [0, 0]}),
     "stages[contact].duration: weights must not all be zero"),
    ("empirical no values", _set("stages.1.duration", {"dist": "empirical", "values": []}),
     "stages[contact].duration.values: needs at least 1 item(s), got 0"),
    ("segment deal size unknown segment",
     _set("products.0.deal_size_by_segment", {"Mega": {"dist": "fixed", "value": 3}}),
     "products[core].deal_size_by_segment: 'Mega' is not a defined segment"),
    # stages
    ("conversion above 1", _set("stages.2.conversion", 1.3),
     "stages[proposal].conversion: must be in [0, 1], got 1.3"),
    ("conversion negative", _set("stages.0.conversion", -0.1),
     "stages[lead].conversion: must be in [0, 1], got -0.1"),
    ("duplicate stage names", _set("stages.1.name", "lead"),
     "stages[lead].name: name 'lead' is used 2 times"),
    ("override without target", _set("stages.2.overrides", [{"conversion": 0.4}]),
     "stages[proposal].overrides[0]: an override needs a segment or a product"),
    ("override without values", _set("stages.2.overrides", [{"segment": "SMB"}]),
     "stages[proposal].overrides[0]: an override needs a conversion or a duration"),
    ("override unknown segment", _set("stages.2.overrides.0.segment", "Mega"),
     "stages[proposal].overrides[0].segment: 'Mega' is not a defined segment (defined: SMB, "
     "Enterprise)"),
    ("override unknown product",
     _set("stages.2.overrides", [{"product": "gold", "conversion": 0.4}]),
     "stages[proposal].overrides[0].product: 'gold' is not a defined product"),
    # grades
    ("grade shares", _set("grades.1.share", 0.5), "grades: shares must sum to 1, got 0.9"),
    ("grade multiplier", _set("grades.0.conversion_multiplier", 0),
     "grades[0].conversion_multiplier: must be > 0, got 0"),
    ("grade share above 1", _set("grades.0.share", 1.5), "grades[0].share: must be <= 1, got 1.5"),
    # lead sources
    ("negative leads", _set("lead_sources.0.leads_per_month", -3),
     "lead_sources[web].leads_per_month: must be >= 0, got -3"),
    ("seasonality length", _set("lead_sources.0.seasonality", [1.0] * 11),
     "lead_sources[web].seasonality: must have 12 positive entries "
     "(one per calendar month), got 11"),
    ("seasonality not positive", _set("lead_sources.0.seasonality", [1.0] * 11 + [0.0]),
     "lead_sources[web].seasonality[11]: must be > 0, got 0.0"),
    ("growth at -100%", _set("lead_sources.0.annual_growth", -1.0),
     "lead_sources[web].annual_growth: must be > -1, got -1.0"),
    ("source unknown region", _set("lead_sources.0.region", "Mars"),
     "lead_sources[web].region: 'Mars' is not a defined region"),
    ("source unknown segment", _set("lead_sources.0.segment", "Mega"),
     "lead_sources[web].segment: 'Mega' is not a defined segment"),
    ("source unknown product", _set("lead_sources.0.product_mix", {"gold": 1}),
     "lead_sources[web].product_mix: 'gold' is not a defined product"),
    ("source zero mix", _set("lead_sources.0.product_mix", {"core": 0}),
     "lead_sources[web].product_mix: weights must not all be zero"),
    # reps
    ("rep unknown region", _set("reps.1.region", "Northwest"),
     "reps[R17].region: 'Northwest' is not a defined region "
     "(defined: East, West, Central, South)"),
    ("rep capacity zero", _set("reps.1.capacity", 0), "reps[R17].capacity: must be >= 1, got 0"),
    ("rep productivity", _set("reps.0.productivity", 0),
     "reps[R1].productivity: must be > 0, got 0"),
    ("rep attrition", _set("reps.0.attrition_monthly", 1.0),
     "reps[R1].attrition_monthly: must be < 1, got 1.0"),
    ("rep ramp", _set("reps.0.ramp_months", -1), "reps[R1].ramp_months: must be >= 0, got -1"),
    ("rep latitude", _set("reps.0.lat", 95.0), "reps[R1].lat: must be <= 90, got 95.0"),
    ("rep unknown skill", _set("reps.0.segments", ["SMB", "Mega"]),
     "reps[R1].segments: 'Mega' is not a defined segment"),
    ("rep bad date", _set("reps.0.start_date", "someday"),
     "reps[R1].start_date: must be a valid date"),
    ("duplicate rep ids", _set("reps.1.id", "R1"), "reps[R1].id: id 'R1' is used 2 times"),
    # accounts
    ("negative potential", _set("accounts.0.potential", -5.0),
     "accounts[A1].potential: must be >= 0, got -5.0"),
    ("negative workload", _set("accounts.0.workload_hours", -1.0),
     "accounts[A1].workload_hours: must be >= 0, got -1.0"),
    ("account longitude", _set("accounts.0.lon", 200.0), "accounts[A1].lon: must be <= 180"),
    ("account unknown owner", _set("accounts.0.owner", "R9"),
     "accounts[A1].owner: 'R9' is not a defined rep (defined: R1, R17)"),
    ("account unknown region", _set("accounts.0.region", "Mars"),
     "accounts[A1].region: 'Mars' is not a defined region"),
    ("account unknown segment", _set("accounts.0.segment", "Mega"),
     "accounts[A1].segment: 'Mega' is not a defined segment"),
    ("locked without owner", lambda d: d["accounts"][0].update(owner=None, locked=True),
     "accounts[A1].locked: a locked account needs an owner"),
    ("locked to other region", lambda d: d["accounts"][0].update(owner="R17", locked=True),
     "accounts[A1].owner: locked to 'R17', a rep of region 'West', but the account is in 'East'"),
    # initial pipeline
    ("pipeline unknown stage", _set("initial_pipeline.0.stage", "demo"),
     "initial_pipeline[D1].stage: 'demo' is not a defined stage"),
    ("pipeline unknown owner", _set("initial_pipeline.0.owner", "R99"),
     "initial_pipeline[D1].owner: 'R99' is not a defined rep"),
    ("pipeline negative age", _set("initial_pipeline.0.age_days", -1),
     "initial_pipeline[D1].age_days: must be >= 0, got -1"),
    # targets
    ("target zero", _set("targets.company", 0), "targets.company: must be > 0, got 0"),
    ("target shares", _set("targets.by_region", {"East": 0.5, "West": 0.4}),
     "targets.by_region: shares must sum to 1, got 0.9"),
    ("target unknown region", _set("targets.by_region", {"East": 0.5, "Mars": 0.5}),
     "targets.by_region: 'Mars' is not a defined region"),
    ("target seasonality length", _set("targets.seasonality", [1, 1, 1]),
     "targets.seasonality: must have 4 (quarterly) or 12 (monthly) entries, got 3"),
    # policies
    ("half-life zero", _set("policies", {"response_half_life_days": 0}),
     "policies.response_half_life_days: must be > 0, got 0"),
    ("open deals policy", _set("policies", {"attrition": {"open_deals": "keep"}}),
     "policies.attrition.open_deals: must be 'reassign' or 'lose', got 'keep'"),
    ("warm-up negative", _set("policies", {"warmup_months": -1}),
     "policies.warmup_months: must be >= 0, got -1"),
    # variants and levers
    ("unknown lever", _set("variants.0.levers.0", {"lever": "magic", "factor": 2}),
     "variants[more-leads].levers[0]: unknown lever 'magic'"),
    ("lever bad value", _set("variants.0.levers.0.factor", -1),
     "variants[more-leads].levers[0].factor: must be >= 0, got -1"),
    ("lever unknown region", _set("variants.0.levers.0.region", "Mars"),
     "variants[more-leads].levers[0].region: 'Mars' is not a defined region"),
    ("lever unknown stage",
     _set("variants.0.levers.0", {"lever": "conversion", "stage": "demo", "factor": 1.1}),
     "variants[more-leads].levers[0].stage: 'demo' is not a defined stage (or 'all')"),
    ("lever unknown source", _set("variants.0.levers.0.source", "fax"),
     "variants[more-leads].levers[0].source: 'fax' is not a defined lead source"),
    ("lever unknown product",
     _set("variants.0.levers.0", {"lever": "deal_size", "product": "gold", "factor": 1.1}),
     "variants[more-leads].levers[0].product: 'gold' is not a defined product"),
    ("hire after horizon",
     _set("variants.0.levers.0", {"lever": "hire", "region": "East", "count": 2,
                                  "start_month": 9}),
     "variants[more-leads].levers[0].start_month: must be within the horizon (1..6), got 9"),
    ("target lever needs one", _set("variants.0.levers.0", {"lever": "target"}),
     "variants[more-leads].levers[0]: give exactly one of factor or amount"),
    ("lever unknown field", _set("variants.0.levers.0.colour", "red"),
     "variants[more-leads].levers[0].colour: is not a known field"),
    ("variant without levers", _set("variants.0.levers", []),
     "variants[more-leads].levers: needs at least 1 item(s), got 0"),
    ("variant bad name", _set("variants.0.name", "more leads!"),
     "variants[more leads!].name: must match"),
    # issue #18: hand-overs, planned departures, sourcing, overflow, departures
    ("previous owner unknown", _set("accounts.0.previous_owner", "R99"),
     "accounts[A1].previous_owner: 'R99' is not a defined rep"),
    ("previous owner is the owner", _set("accounts.0.previous_owner", "R1"),
     "accounts[A1].previous_owner: 'R1' is also the owner"),
    ("previous owner but the owner has no start date", _set("accounts.0.previous_owner", "R17"),
     "accounts[A1].previous_owner: the hand-over is on the owner's start date, but 'R1' has no "
     "start_date"),
    ("end before start", _edit(lambda d: d["reps"][0].update(start_date="2027-03-01",
                                                             end_date="2027-02-01")),
     "reps[R1]: end_date 2027-02-01 must come after start_date 2027-03-01"),
    ("sourcing rate negative", _set("policies", {"sourcing": {"per_rep_per_month": -1}}),
     "policies.sourcing.per_rep_per_month: must be >= 0, got -1"),
    ("sourcing entry stage unknown", _set("policies", {"sourcing": {"entry_stage": "demo"}}),
     "policies.sourcing.entry_stage: 'demo' is not a defined stage"),
    ("sourcing market zero", _set("policies", {"sourcing": {"per_account_per_year": 0}}),
     "policies.sourcing.per_account_per_year: must be > 0, got 0"),
    ("rep sourcing negative", _set("reps.0.sourcing_per_month", -2),
     "reps[R1].sourcing_per_month: must be >= 0, got -2"),
    ("overflow negative", _set("policies", {"overflow_wait_days": -1}),
     "policies.overflow_wait_days: must be >= 0, got -1"),
    ("departure of nobody", _set("variants.0.levers.0", {"lever": "departure", "month": 2}),
     "variants[more-leads].levers[0]: say who leaves"),
    ("departure of a rep and the top", _set("variants.0.levers.0", {
        "lever": "departure", "month": 2, "rep": "R1", "top": 1}),
     "variants[more-leads].levers[0]: give rep, or top (optionally with region), or region"),
    ("departure of an unknown rep", _set("variants.0.levers.0", {
        "lever": "departure", "month": 2, "rep": "R99"}),
     "variants[more-leads].levers[0].rep: 'R99' is not a defined rep"),
    ("departure after the horizon", _set("variants.0.levers.0", {
        "lever": "departure", "month": 9, "top": 1}),
     "variants[more-leads].levers[0].month: must be within the horizon (1..6), got 9"),
    ("hire of a negative count", _set("variants.0.levers.0", {
        "lever": "hire", "region": "East", "count": -1}),
     "variants[more-leads].levers[0].count: must be >= 0, got -1"),
]


@pytest.mark.parametrize("mutate, expected", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_each_rule_reports_path_value_and_expectation(mutate, expected):
    doc = base_doc()
    mutate(doc)
    problems = _problems(doc)
    assert any(expected in p for p in problems), problems


def test_base_document_is_valid():
    sc = parse_scenario(base_doc())
    assert sc.name == "tiny" and len(sc.reps) == 2


def test_every_problem_is_reported_at_once():
    doc = base_doc()
    doc["stages"][2]["conversion"] = 1.3  # structural
    doc["reps"][1]["region"] = "Northwest"  # reference
    doc["accounts"][0]["potential"] = -5.0  # structural, another section
    doc["initial_pipeline"][0]["owner"] = "R99"  # reference, another section
    problems = _problems(doc)
    assert len(problems) == 4, problems


def test_error_message_lists_problems_under_the_source():
    doc = base_doc()
    doc["stages"][2]["conversion"] = 1.3
    with pytest.raises(ScenarioError) as info:
        parse_scenario(doc, source="plan.yaml")
    assert str(info.value).splitlines() == [
        "plan.yaml: 1 problem found",
        "  stages[proposal].conversion: must be in [0, 1], got 1.3",
    ]


def test_python_construction_checks_references_too():
    from pydantic import ValidationError

    from salesplan.scenarios import Scenario

    doc = base_doc()
    doc["reps"][1]["region"] = "Northwest"
    with pytest.raises(ValidationError, match="'Northwest' is not a defined region"):
        Scenario.model_validate(doc)


def test_stage_override_resolution_is_most_specific_first():
    doc = base_doc()
    doc["stages"][2]["overrides"] = [
        {"segment": "Enterprise", "product": "plus", "conversion": 0.1},
        {"segment": "Enterprise", "conversion": 0.3},
        {"product": "plus", "conversion": 0.2},
    ]
    stage = parse_scenario(doc).stages[2]
    assert stage.resolve("Enterprise", "plus")[0] == 0.1
    assert stage.resolve("Enterprise", "core")[0] == 0.3
    assert stage.resolve("SMB", "plus")[0] == 0.2
    assert stage.resolve("SMB", "core")[0] == 0.7


def test_an_empty_file_and_an_empty_rep_list_say_so_plainly(tmp_path):
    """A 0-byte file names what a scenario needs; ``reps: []`` is two lines, not one per
    account owner (issue #19)."""
    from salesplan.scenarios import load_scenario

    empty = tmp_path / "empty.yaml"
    empty.write_text("")
    with pytest.raises(ScenarioError) as e:
        load_scenario(empty)
    assert "the file is empty" in str(e.value) and "NoneType" not in str(e.value)
    doc = base_doc()
    doc["reps"] = []
    doc["accounts"] = [dict(doc["accounts"][0], id=f"A{i}") for i in range(30)]
    with pytest.raises(ScenarioError) as e:
        parse_scenario(doc)
    lines = [p for p in str(e.value).splitlines()[1:] if p.strip()]
    assert len(lines) == 2 and lines[0] == "  reps: needs at least 1 item(s), got 0"
    # the 30 account owners, and the base document's other references to reps
    assert lines[1].startswith("  reps: no rep is defined, so the 3")
    assert lines[1].endswith(" reference(s) to one cannot resolve")
