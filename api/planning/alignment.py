"""What ``salesplan align`` writes, for the CLI and the service alike.

One plan: ``assignment.csv``, ``territories.csv``, ``summary.json`` and (with the ``plots``
extra) ``map.png``; a failed plan: ``summary.json`` with ``status`` and the reasons. A tradeoff
(``--tradeoff``): ``tradeoff.csv`` and ``tradeoff.png``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from ..extras import have

if TYPE_CHECKING:
    import pandas as pd

    from salesplan.optimizer import AlignmentError, AlignmentProblem, AlignmentResult

__all__ = ["read_travel", "write_alignment", "write_failure", "write_tradeoff"]

Progress = Callable[[float, str], None]


def read_travel(path: Path) -> pd.DataFrame:
    """The travel table CSV (account, rep, and distance or minutes) as a frame."""
    import pandas as pd

    from salesplan.optimizer import InfeasibleInputError

    try:
        return pd.read_csv(path, dtype={"account": str, "rep": str})
    except (OSError, ValueError) as exc:
        raise InfeasibleInputError([f"{path.name}: {exc}"],
                                   "the travel table cannot be read") from None


def write_failure(exc: AlignmentError, out_dir: Path) -> Path:
    """``summary.json`` of an alignment without a plan: its status, headline and reasons."""
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "summary.json"
    path.write_text(json.dumps({"status": exc.status, "reasons": exc.reasons,
                                "headline": exc.headline}, indent=2))
    return path


def write_alignment(problem: AlignmentProblem, result: AlignmentResult, out_dir: Path,
                    name: str) -> tuple[list[Path], list[str]]:
    """Write one plan's files; returns them and the charts not drawn (no ``plots`` extra)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    files = [out_dir / n for n in ("assignment.csv", "territories.csv", "summary.json")]
    result.assignment.to_csv(files[0], index=False)
    result.territories.to_csv(files[1], index=False)
    files[2].write_text(json.dumps(result.summary(), indent=2))
    if not have("plots"):
        return files, ["map.png"]
    from salesplan.optimizer.plots import territory_map

    territory_map(problem, result, f"{name}: {result.status}").savefig(out_dir / "map.png")
    return [*files, out_dir / "map.png"], []


def write_tradeoff(points: pd.DataFrame, problem: AlignmentProblem, out_dir: Path
                   ) -> tuple[list[Path], list[str]]:
    """Write ``tradeoff.csv`` and ``tradeoff.png``; returns them and the charts not drawn."""
    out_dir.mkdir(parents=True, exist_ok=True)
    files = [out_dir / "tradeoff.csv"]
    points.to_csv(files[0], index=False)
    if not have("plots"):
        return files, ["tradeoff.png"]
    from salesplan.optimizer.plots import tradeoff_figure

    tradeoff_figure(points, problem.distance_unit).savefig(out_dir / "tradeoff.png")
    return [*files, out_dir / "tradeoff.png"], []
