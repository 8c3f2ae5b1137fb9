"""Options shared by the commands, so that each has one description and one default everywhere:
``--seed`` 0, ``--workers`` one per CPU, ``--out`` a folder named after the command in the
current directory (``simulate-output``, ...)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

__all__ = ["OUT_HELP", "Out", "ScenarioFile", "Seed", "Workers"]

ScenarioFile = Annotated[Path, typer.Argument(help="The scenario file (.yaml, .yml or .json).")]
OUT_HELP = "The folder for the outputs (created if missing)."
Out = Annotated[Path, typer.Option("--out", help=OUT_HELP)]
Seed = Annotated[int, typer.Option(min=0, help="The random seed (results depend only on it).")]
Workers = Annotated[int | None, typer.Option(
    min=1, help="Worker processes (default: one per CPU; 1 runs in this process).")]
