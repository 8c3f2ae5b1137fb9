"""Scenario files: YAML/JSON documents, CSV tables, errors by file and line, the examples."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from _docs import base_doc

from salesplan.scenarios import (
    ScenarioError,
    dump_scenario,
    load_scenario,
    loads_scenario,
    parse_scenario,
)

EXAMPLES = Path(__file__).resolve().parents[1] / "scenarios" / "examples"


def _write(tmp_path: Path, doc: dict, accounts_csv: str | None = None) -> Path:
    if accounts_csv is not None:
        (tmp_path / "accounts.csv").write_text(accounts_csv)
        doc["accounts"] = "accounts.csv"
    path = tmp_path / "plan.yaml"
    path.write_text(yaml.safe_dump(doc))
    return path


ACCOUNTS_HEADER = "id,region,segment,lat,lon,potential,workload_hours,owner,locked\n"


def _problems(path: Path) -> list[str]:
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    return [str(p) for p in info.value.problems]


@pytest.mark.parametrize("name", ["midmarket.yaml", "small.yaml"])
def test_shipped_examples_validate(name):
    sc = load_scenario(EXAMPLES / name)
    assert sc.reps and sc.accounts and sc.targets is not None


def test_midmarket_has_the_promised_shape():
    sc = load_scenario(EXAMPLES / "midmarket.yaml")
    assert len(sc.regions) == 4 and len(sc.products) == 3 and len(sc.segments) == 3
    assert len(sc.stages) == 6 and 35 <= len(sc.reps) <= 45 and len(sc.accounts) == 2000
    from salesplan.scenarios.summary import summarise

    leads = summarise(sc).headline["expected_leads"]
    assert 15_500 <= leads <= 17_500  # inbound; reps source about 5,000 deals more themselves
    assert sc.policies.sourcing.per_rep_per_month > 0 and sc.policies.overflow_wait_days
    assert {v.name for v in sc.variants} >= {"hire-weakest", "leads-minus-20",
                                               "proposal-plus-10", "target-plus-15",
                                               "lose-top-rep", "route-least-loaded"}


def test_small_has_the_promised_shape():
    sc = load_scenario(EXAMPLES / "small.yaml")
    assert len(sc.regions) == 2 and len(sc.reps) == 6 and len(sc.accounts) == 100


def test_examples_are_rebuilt_bit_for_bit(tmp_path):
    from salesplan.scenarios.examples.build import main

    for written in main(tmp_path):
        assert written.read_bytes() == (EXAMPLES / written.name).read_bytes(), written.name


def test_csv_row_errors_name_file_and_line(tmp_path):
    rows = ("A1,East,SMB,40,-74,100,1,R1,false\n"
            "A2,East,SMB,40,-74,-5,1,R1,false\n"
            "A3,East,SMB,91,-74,100,1,R1,maybe\n")
    problems = _problems(_write(tmp_path, base_doc(), ACCOUNTS_HEADER + rows))
    assert "accounts.csv line 3: potential must be >= 0, got -5" in problems
    assert "accounts.csv line 4: lat must be <= 90, got 91" in problems
    assert any(p.startswith("accounts.csv line 4: locked must be a valid boolean")
               for p in problems)


def test_csv_unknown_and_missing_columns(tmp_path):
    csv_text = "id,region,segment,lat,colour\nA1,East,SMB,40,red\n"
    problems = _problems(_write(tmp_path, base_doc(), csv_text))
    assert any(p.startswith("accounts.csv: unknown column(s) 'colour'") for p in problems)
    assert "accounts.csv: missing required column(s) lon" in problems


def test_csv_reference_errors_use_ids(tmp_path):
    csv_text = ACCOUNTS_HEADER + "A1,Mars,SMB,40,-74,100,1,R1,false\n"
    problems = _problems(_write(tmp_path, base_doc(), csv_text))
    assert any(p.startswith("accounts[A1].region: 'Mars' is not a defined region")
               for p in problems)


def test_csv_lists_and_empty_cells(tmp_path):
    doc = base_doc()
    (tmp_path / "reps.csv").write_text(
        "id,region,segments,capacity,start_date\nR1,East,SMB;Enterprise,3,\nR17,West,,4,2027-03-01\n")
    doc["reps"] = "reps.csv"
    path = _write(tmp_path, doc)
    sc = load_scenario(path)
    assert sc.reps[0].segments == ["SMB", "Enterprise"] and sc.reps[0].start_date is None
    assert sc.reps[1].segments == [] and sc.reps[1].start_date.isoformat() == "2027-03-01"


def test_missing_table_file(tmp_path):
    doc = base_doc()
    doc["accounts"] = "nowhere.csv"
    assert "accounts: table file 'nowhere.csv' not found" in _problems(_write(tmp_path, doc))


def test_missing_scenario_file(tmp_path):
    assert _problems(tmp_path / "nope.yaml") == [f"file '{tmp_path / 'nope.yaml'}' not found"]


def test_invalid_yaml_names_line_and_column(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("name: x\nhorizon: {start: 2027-01-01\n")
    (problem,) = _problems(path)
    assert problem.startswith("not valid YAML: line 3 column 1")


def test_invalid_json(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text('{"name": "x",}')
    (problem,) = _problems(path)
    assert problem.startswith("not valid JSON: line 1 column 14")


def test_document_must_be_a_mapping(tmp_path):
    path = tmp_path / "list.yaml"
    path.write_text("- a\n- b\n")
    assert _problems(path) == ["a scenario must be a mapping of sections (name: ..., horizon: "
                               "...), got a list"]


def test_json_and_yaml_load_the_same_scenario(tmp_path):
    doc = base_doc()
    (tmp_path / "a.json").write_text(json.dumps(doc))
    (tmp_path / "a.yaml").write_text(yaml.safe_dump(doc))
    assert load_scenario(tmp_path / "a.json") == load_scenario(tmp_path / "a.yaml")


def test_loads_with_tables_supplied_as_text():
    doc = base_doc()
    doc["accounts"] = "acc.csv"
    text = yaml.safe_dump(doc)
    sc = loads_scenario(text, tables={"acc.csv": ACCOUNTS_HEADER + "A1,East,SMB,1,2,3,4,R1,true\n"})
    assert sc.accounts[0].locked is True
    with pytest.raises(ScenarioError, match=r"table file 'acc\.csv' not found"):
        loads_scenario(text, tables={})


def test_dump_writes_csv_tables_and_loads_back(tmp_path):
    sc = parse_scenario(base_doc())
    written = dump_scenario(sc, tmp_path / "out.yaml", tables="csv")
    assert [p.name for p in written] == ["out.yaml", "out_reps.csv", "out_accounts.csv",
                                         "out_initial_pipeline.csv"]
    assert load_scenario(tmp_path / "out.yaml") == sc


def test_json_schema_is_produced():
    from salesplan.scenarios import Scenario

    schema = Scenario.model_json_schema()
    assert {"horizon", "stages", "reps", "accounts"} <= set(schema["properties"])
    json.dumps(schema)
