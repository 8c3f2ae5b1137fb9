"""The open pipeline at the cut: the scenario's initial pipeline.

Every deal open at the cut whose owner is a rep of the scenario enters it, with its stage, age
at the horizon start, value and product. For a flat export with the closing-hazard model, the
scenario has per-segment stage overrides but no per-deal parameters, so the open deals are
grouped into entry-month cohorts, each a segment ``pipeline-YYYY-MM`` with a stage override
holding ``P(won | open at the cut)`` (with the calibration's bias correction) and the won day
after the horizon start.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from .cut import CutHistory
from .documents import rounded
from .hazards import ClosingHazards
from .stages import won_day_duration

__all__ = ["OpenPipeline", "open_pipeline"]


@dataclass
class OpenPipeline:
    """``deals``: the scenario's initial-pipeline documents, sorted by id; ``cohorts``: the
    cohort segments (``pipeline-YYYY-MM``) and ``overrides``: their stage overrides (both empty
    without the closing-hazard model); ``notes``."""

    deals: list[dict[str, Any]]
    cohorts: list[str] = field(default_factory=list)
    overrides: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def open_pipeline(cut: CutHistory, deals: pd.DataFrame, *, hazards: ClosingHazards | None,
                  reps: set[str], stage_names: list[str]) -> OpenPipeline:
    """The open ``deals`` at the cut owned by one of ``reps`` (module docstring); an open
    deal's stage not in ``stage_names`` becomes the first stage. Records each cohort's
    ``P(won | open)`` in ``hazards.stall``."""
    out = OpenPipeline([])
    op = deals[deals["outcome"].eq("open")].copy()
    no_owner = op["owner"].isna() | ~op["owner"].isin(reps)
    if no_owner.any():
        out.notes.append(f"{int(no_owner.sum())} open deals at the cut have no owner in the "
                         "team table: not in the initial pipeline")
    op = op[~no_owner]
    op["age"] = (cut.start - op["created_date"]).dt.days.astype(float).clip(lower=0)
    flat = cut.mapping.kind == "flat"
    if flat and len(op) and hazards is not None:
        _cohort_overrides(op, hazards, int((cut.start - cut.cut).days), out)
    for r in op.sort_values("id").itertuples():
        stage = r.stage if isinstance(r.stage, str) and r.stage in stage_names else stage_names[0]
        out.deals.append({
            "id": str(r.id), "stage": stage, "age_days": float(r.age), "owner": r.owner,
            "value": float(r.amount) if pd.notna(r.amount) and r.amount >= 0 else None,
            "segment": getattr(r, "cohort", None) if flat else (
                r.segment if isinstance(r.segment, str) else None),
            "product": r.product if isinstance(r.product, str) else None})
    return out


def _cohort_overrides(op: pd.DataFrame, hazards: ClosingHazards, skip: int,
                      out: OpenPipeline) -> None:
    """Group the open deals ``op`` into entry-month cohorts (column ``cohort``: the cohort's
    segment) with their stage overrides in ``out``; ``skip``: days from the cut to the horizon
    start (wins in them are not counted)."""
    op["cohort"] = op["created_date"].dt.strftime("%Y-%m")
    for c, g in op.groupby("cohort", sort=True):
        seg = f"pipeline-{c}"
        raw, raw_per_day = hazards.cohort_p_won(c, skip_days=skip)
        p, per_day = hazards.bias_corrected(raw, raw_per_day, skip_days=skip)
        # pipeline deals start at day 0.0: the middle of the won day
        dur = won_day_duration(per_day, offset=0.5)
        out.cohorts.append(seg)
        out.overrides.append({"segment": seg, "conversion": rounded(min(max(p, 0.0), 1.0)),
                              "duration": dur})
        op.loc[g.index, "cohort"] = seg
        hazards.stall.setdefault(c, {}).update(p_won_given_open=p,
                                               p_won_given_open_uncorrected=raw)
    out.notes.append("open pipeline grouped into entry-month cohorts (segments pipeline-YYYY-MM) "
                     "with P(won | open at the cut) and the won day after the horizon start "
                     "from the closing-hazard model (age x month of quarter"
                     + ("" if hazards.calendar else ": not supported by the data, age only")
                     + ", stalled share per entry month) as stage overrides")
