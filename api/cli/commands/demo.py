"""``salesplan demo``: the main job on the shipped example scenario (what ``make demo`` runs).

It validates ``midmarket.yaml``, then compares the base with its what-if variants (hire in the
weakest region, lead volume -20%, proposal conversion +10%, target +15%, the top rep leaves in
June, least-loaded routing) on common random numbers, prints the side-by-side table and how each
variant moves bookings, and writes the report. It is sized to finish in about a minute on 2
cores.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ..console import check_replications, out
from ..options import Seed
from .quotas import DEFAULT_QUOTA_METHOD
from .whatif import whatif


def demo(
    out_dir: Annotated[Path, typer.Option("--out", help="The folder for the outputs.")] = Path(
        "demo-output"),
    scenario: Annotated[Path | None, typer.Option(
        help="The scenario file (default: the shipped example midmarket.yaml).")] = None,
    replications: Annotated[int, typer.Option(min=2, help="Replications per variant.")] = 100,
    seed: Seed = 0,
) -> None:
    """Run the main job on the shipped example: a what-if comparison of its variants."""
    check_replications(replications)
    from salesplan.scenarios import EXAMPLES, load_scenario

    scenario = scenario or EXAMPLES / "midmarket.yaml"
    sc = load_scenario(scenario)
    out.print(f"[bold]salesplan demo[/bold]: {scenario.name} is valid ({len(sc.reps)} reps, "
              f"{len(sc.accounts)} accounts, {len(sc.variants)} variants)")
    whatif(scenario, out_dir, None, replications, seed, None, DEFAULT_QUOTA_METHOD)


def register(app: typer.Typer) -> None:
    app.command()(demo)
