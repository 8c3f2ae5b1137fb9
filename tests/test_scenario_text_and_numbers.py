"""Text and numbers a scenario may hold (issue #19, first part): lone surrogates and NUL
characters are refused wherever they appear, and every number is finite, whether the scenario
comes as JSON, YAML or a CSV table. Each message names the field."""

from __future__ import annotations

import json

import pytest

from salesplan.scenarios import ScenarioError, load_scenario, loads_scenario, parse_scenario
from salesplan.scenarios.examples import EXAMPLES
from salesplan.scenarios.text import bad_text, text_problems


@pytest.fixture(scope="module")
def doc() -> dict:
    return load_scenario(EXAMPLES / "small.yaml").model_dump(mode="json")


def _with(doc: dict, where: tuple, value: object) -> dict:
    """A copy of ``doc`` with the value at ``where`` (keys and list positions) replaced."""
    d = json.loads(json.dumps(doc))
    node = d
    for part in where[:-1]:
        node = node[part]
    node[where[-1]] = value
    return d


def _problems(d: dict) -> str:
    with pytest.raises(ScenarioError) as e:
        parse_scenario(json.loads(json.dumps(d, allow_nan=True)))
    return str(e.value)


def test_bad_text_names_the_character():
    assert bad_text("fine é 漢") is None
    assert "lone surrogate U+D800 at position 1" in bad_text("a\ud800")
    assert "NUL character at position 0" in bad_text("\x00")


def test_text_problems_are_found_in_keys_lists_and_nested_values():
    found = dict(text_problems({"reps": [{"id": "R1", "name": "x\udc00"}],
                                "targets": {"by_region": {"No\x00rth": 1.0}}}))
    assert "lone surrogate" in found["reps[R1].name"]
    assert found["targets.by_region"].startswith("a key contains a NUL")


@pytest.mark.parametrize(("where", "value", "path"), [
    (("name",), "\ud800", "name"),
    (("description",), "ok\x00", "description"),
    (("reps", 1, "name"), "R\udfff", "reps[R2].name"),
    (("accounts", 0, "name"), "\ud83d", "accounts[A001].name"),
])
def test_lone_surrogates_and_nul_are_refused_with_the_path(doc, where, value, path):
    assert f"{path}: contains a" in _problems(_with(doc, where, value))


@pytest.mark.parametrize(("where", "value", "path"), [
    (("targets", "company"), float("inf"), "targets.company"),
    (("accounts", 3, "potential"), float("nan"), "accounts[A004].potential"),
    (("reps", 0, "productivity"), float("inf"), "reps[R1].productivity"),
    (("compensation", "plans", 0, "ote"), float("inf"), "compensation.plans[AE].ote"),
    (("stages", 0, "duration", "mean"), float("inf"), "stages[lead].duration.mean"),
])
def test_non_finite_numbers_are_refused_with_the_path(doc, where, value, path):
    assert f"{path}: must be a finite number" in _problems(_with(doc, where, value))


def test_infinity_in_yaml_and_in_a_csv_cell_is_refused():
    text = (EXAMPLES / "small.yaml").read_text().replace("company: 1620000.0",
                                                          "company: .inf")
    assert "company: .inf" in text
    table = (EXAMPLES / "small_accounts.csv").read_text().splitlines()
    header = table[0].split(",")
    cells = table[1].split(",")
    cells[header.index("potential")] = "inf"
    table[1] = ",".join(cells)
    with pytest.raises(ScenarioError) as e:
        loads_scenario(text, tables={"small_accounts.csv": "\n".join(table) + "\n"})
    msg = str(e.value)
    assert "targets.company: must be a finite number" in msg
    assert "line 2: potential must be a finite number, got inf" in msg
