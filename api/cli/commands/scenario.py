"""``salesplan validate``, ``schema`` and ``describe``: the scenario commands."""

from __future__ import annotations

import json

import typer

from ..console import err, frame_table, money, out
from ..options import ScenarioFile

FileArg = ScenarioFile


def _print_warnings(sc) -> None:
    """The scenario's warnings on stderr, one per line, each labelled ``warning:``."""
    from salesplan.scenarios import scenario_warnings

    for w in scenario_warnings(sc):
        err.print(f"warning: {w}", markup=False)


def validate(file: FileArg) -> None:
    """Validate a scenario: a one-line summary (then any warnings) and exit 0, or every problem
    and exit 2. Warnings (on stderr, labelled) say what a valid scenario may get wrong."""
    from salesplan.scenarios import load_scenario

    sc = load_scenario(file)
    out.print(
        f"{file}: valid scenario '{sc.name}': {len(sc.regions)} regions, {len(sc.reps)} reps, "
        f"{len(sc.accounts)} accounts, {len(sc.stages)} stages, {len(sc.lead_sources)} lead "
        f"sources, {len(sc.variants)} variants"
    )
    _print_warnings(sc)


def schema() -> None:
    """Print the JSON Schema of the scenario format."""
    from salesplan.scenarios import Scenario

    print(json.dumps(Scenario.model_json_schema(), indent=2))


def describe(file: FileArg) -> None:
    """A readable summary: regions, reps, accounts, potential and workload per region, stages
    with cumulative conversion, expected leads per month, the target, then any warnings."""
    from salesplan.scenarios import load_scenario
    from salesplan.scenarios.summary import summarise

    sc = load_scenario(file)
    s = summarise(sc)
    cur = sc.horizon.currency
    h = s.headline
    out.print(f"[bold]{sc.name}[/bold]: {sc.description}" if sc.description else sc.name)
    out.print(
        f"Horizon {h['horizon']} ({cur}); {h['regions']} regions, {h['segments']} segments, "
        f"{h['products']} products, {h['reps']} reps, {h['accounts']} accounts; "
        f"routing: {h['routing']}"
    )
    out.print(frame_table(s.regions, "Regions", {
        "potential": lambda v: money(v, cur), "workload_hours": ",.0f",
        "leads_per_year": ",.0f"}))
    out.print(frame_table(s.stages, "Funnel (product of stage rates; before grade, rep and "
                                    "queueing effects)", {
        "conversion": ".1%", "cumulative_conversion": ".1%", "mean_days": ".1f",
        "cumulative_days": ".1f"}))
    out.print(frame_table(s.leads_by_month, "Expected leads per month",
                          {"expected_leads": ",.0f"}))
    out.print(f"Expected leads over the horizon: {h['expected_leads']:,.0f}; "
              f"lead-to-win (product of stages): {h['win_rate_product_of_stages']:.1%}")
    if sc.targets:
        out.print(f"Company target: {money(sc.targets.company, cur)}")
    if h["variants"]:
        out.print("What-if variants: " + ", ".join(h["variants"]))
    _print_warnings(sc)


def register(app: typer.Typer) -> None:
    app.command()(validate)
    app.command()(schema)
    app.command()(describe)
