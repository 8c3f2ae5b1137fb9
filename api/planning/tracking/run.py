"""A ``track`` run from its options, for the CLI and the service alike: read the files the
options name, track, write the outputs (:mod:`.output`).

File options (the export, targets, quotas, teams, the plan...) are resolved by ``locate``: the
CLI passes paths as they are, the service the files of the scenario version, written into a
folder first, so that the defaults "beside the export" (the mapping's teams and stage-history
files, ``products.csv``) work the same way in both.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from salesplan.api.options import TrackOptions
    from salesplan.scenarios.crm.reader import History

    from .track import TrackResult

__all__ = ["load_history", "run_tracking"]

Progress = Callable[[float, str], None]


def load_history(history: Path, mapping: str | Path, teams: Path | None,
                 history_file: Path | None, products: Path | None, strict: bool) -> History:
    """Read a CRM export: ``products`` (default ``products.csv`` beside the export, if any)
    gives the canonical product names."""
    import pandas as pd

    from salesplan.scenarios.crm import read_history
    from salesplan.scenarios.crm.mapping import get_mapping

    m = get_mapping(mapping)
    catalogs = {}
    pfile = products or (history.parent / "products.csv")
    if pfile.exists():
        catalogs["product"] = pd.read_csv(pfile, dtype=str).iloc[:, 0].dropna().tolist()
    return read_history(history, m, teams=teams, history_path=history_file, catalogs=catalogs,
                        strict=strict)


def run_tracking(o: TrackOptions, locate: Callable[[str], Path], out_dir: Path,
                 progress: Progress | None = None
                 ) -> tuple[TrackResult, list[Path], list[str]]:
    """Track as of ``o.asof`` and write the files into ``out_dir``; returns the result, the
    files written and the charts not drawn."""
    from salesplan.scenarios.crm.mapping import PRESETS
    from salesplan.scenarios.io import load_scenario

    from .output import write_tracking
    from .targets import read_targets, targets_from_plan
    from .track import track

    def phase(at: float, message: str) -> None:
        if progress is not None:
            progress(at, message)

    def optional(name: str | None) -> Path | None:
        return locate(name) if name is not None else None

    plan = load_scenario(locate(o.scenario)) if o.scenario is not None else None
    given = o.targets or o.quotas
    targets = read_targets(locate(given)) if given else targets_from_plan(plan)
    reps = {r.id: r.region for r in plan.reps} if plan is not None else None
    phase(0.0, "reading the export")
    mapping = o.mapping if o.mapping in PRESETS else locate(o.mapping)
    history = load_history(locate(o.history), mapping, optional(o.teams),
                           optional(o.history_file), optional(o.products), o.strict)
    phase(0.2, f"forecasting the landing ({o.replications:,} replications), the risks and the "
               "actions")
    result = track(history, o.asof, targets, replications=o.replications, seed=o.seed,
                   reps=reps)
    phase(0.9, "writing the report")
    files, skipped = write_tracking(result, out_dir)
    return result, files, skipped
