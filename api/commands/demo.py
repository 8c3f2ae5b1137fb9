"""``salesplan demo``: the main job on the shipped example scenario (what ``make demo`` runs).

It grows as the engines land: today it validates and describes ``midmarket.yaml``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from api.commands.scenario import describe
from api.console import out

EXAMPLES = Path(__file__).resolve().parents[2] / "scenarios" / "examples"


def demo(
    out_dir: Annotated[Path, typer.Option("--out", help="Where to write outputs")] = Path(
        "demo-output"),
    scenario: Annotated[Path, typer.Option(help="Scenario file")] = EXAMPLES / "midmarket.yaml",
) -> None:
    """Run the main job on the shipped example scenario."""
    out.print(f"[bold]salesplan demo[/bold] on {scenario}")
    describe(scenario)
    out_dir.mkdir(parents=True, exist_ok=True)


def register(app: typer.Typer) -> None:
    app.command()(demo)
