"""The scenario's stages.

- A one-stage funnel (a flat export, or a history export without stage changes before the cut):
  :func:`flat_stage`, from the competing-outcome model (conversion ``p_won``, the won deals'
  duration) and, when fitted, the closing-hazard model (conversion and won-day distributions by
  month of quarter of entry).
- A history export: :func:`history_stages`, one stage per open stage seen, conversion = advanced
  / (advanced + lost) among the deals that left it (deals still in it are censored, not lost)
  with a Jeffreys interval, time in stage fitted with censoring.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .cut import CutHistory
from .documents import rounded
from .errors import CalibrationError
from .estimators import jeffreys_interval
from .fits import MIN_DAYS, fit_duration
from .hazards import ClosingHazards
from .outcomes import OutcomeFit

__all__ = ["StageCounts", "StageEstimates", "count_stage_changes", "flat_stage",
           "funnel_stages", "history_stages", "won_day_duration"]


@dataclass
class StageEstimates:
    """``documents``: the scenario's stage documents in funnel order; ``names``: their names;
    ``fits``: per stage of a history export, its counts, conversion with its 95% interval and
    duration fit (empty for a one-stage funnel); ``notes``."""

    documents: list[dict[str, Any]]
    names: list[str]
    fits: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    win_probability: dict[str, Any] = field(default_factory=dict)

    def set_win_probability(self, model: str, ci: list[float] | None) -> None:
        """Record the win probability of a new lead as the scenario gives it: the product of
        the stage documents' conversions (what is printed is what is simulated), with the
        interval of ``model``'s estimate when it has one."""
        p = float(np.prod([d["conversion"] for d in self.documents]))
        self.win_probability = {"value": p, "ci": ci, "model": model}


def funnel_stages(cut: CutHistory, deals: pd.DataFrame, *, outcomes: OutcomeFit | None,
                  hazards: ClosingHazards | None) -> StageEstimates:
    """The stages of the funnel the data identify (module docstring) from ``deals`` (the known
    deals with their dimensions filled)."""
    if cut.flat:
        return flat_stage(cut, deals, outcomes=outcomes, hazards=hazards)
    return history_stages(cut, deals)


def flat_stage(cut: CutHistory, deals: pd.DataFrame, *, outcomes: OutcomeFit | None,
               hazards: ClosingHazards | None) -> StageEstimates:
    """One stage from the funnel entry to the close. Its duration is the *won* deals' (the
    simulator draws one duration per stage for both outcomes and only won deals book money)."""
    m = cut.mapping
    entry_stage = m.stage_name(m.funnel_entry) if m.funnel_entry else m.scenario_stages[-1]
    assert outcomes is not None  # fit_cycle raises for a one-stage funnel without it
    stage = {"name": entry_stage, "conversion": rounded(outcomes.p_won),
             "duration": outcomes.won.distribution()}
    notes = []
    if hazards is not None:
        notes += _hazard_stage(stage, hazards, cut.start, deals)
    if m.kind == "flat" and len(m.scenario_stages) > 1:
        notes.append(f"flat export: one stage '{entry_stage}' from "
                     f"{m.columns.get('created', 'created')} to close; open deals of "
                     "earlier stages are placed in it")
    out = StageEstimates([stage], [entry_stage], notes=notes)
    if hazards is not None:
        p, se = hazards.new_deal["p_won"], hazards.new_deal["p_won_se"]
        out.set_win_probability("closing hazards (P(won) of a new deal)",
                                [max(p - 1.96 * se, 0.0), min(p + 1.96 * se, 1.0)])
    else:
        out.set_win_probability("competing outcomes", list(outcomes.p_won_ci))
    return out


def _hazard_stage(stage: dict[str, Any], hz: ClosingHazards, start: pd.Timestamp,
                  d: pd.DataFrame) -> list[str]:
    """Give a flat export's stage the closing-hazard model's conversion and, with the calendar,
    its won-time distributions by month of quarter of entry (deals created in the 12 months
    from the horizon start). The parametric won fit stays as ``duration`` for the report. Sets
    ``hz.new_deal``; returns the notes."""
    dists, p_by_q, p_all = hz.new_deal_won_time(start)
    n_closed = int(d["outcome"].isin(["won", "lost"]).sum())
    hz.new_deal = {"p_won": p_all, "p_won_se": math.sqrt(p_all * (1 - p_all) / max(n_closed, 1)),
                   "p_won_by_quarter_month": p_by_q if hz.calendar else None,
                   "parametric_p_won": stage["conversion"]}
    stage["conversion"] = rounded(p_all)
    if not hz.calendar and hz.loss_rule is not None:
        # the competing-outcome model's lognormal or gamma losses cannot hold a point mass, so
        # its won cycle is distorted: the hazards' won-day distribution instead
        stage["duration"] = won_day_duration(dists[0], offset=0.0)
        return ["closing-hazard model: no month-of-quarter effect; losses follow a rule at "
                f"age {hz.loss_age} days, so the stage's conversion and its duration (the "
                "won-day distribution) both come from the hazards"]
    if not hz.calendar:
        return ["closing-hazard model: no month-of-quarter effect (age-only model has the "
                "lower AIC); stage conversion from it, the parametric won cycle as duration"]
    # a deal arriving at time t of day d and won on day d + j closes at t + j: in that day
    stage["duration_by_quarter_month"] = [won_day_duration(p, offset=0.0) for p in dists]
    return ["closing-hazard model: closes depend on the month of the quarter (lower AIC "
            "than age only); the stage's conversion is its P(won) and its durations are "
            "the won-day distributions by month of quarter of entry"]


def won_day_duration(per_day: np.ndarray, offset: float) -> dict[str, Any]:
    """An empirical duration from the probability of each day j being the won day: values
    ``j + offset`` days (a placeholder single value when no day has mass: never won)."""
    nz = np.flatnonzero(per_day > 1e-9)
    if not nz.size:
        return {"dist": "empirical", "values": [1.0], "weights": [1.0]}
    return {"dist": "empirical", "values": [float(j) + offset for j in nz],
            "weights": [rounded(float(per_day[j]), 9) for j in nz]}


@dataclass
class StageCounts:
    """Per open stage (funnel order), from the stage changes before the cut: the deals that
    ``entered`` it, ``advanced`` from it (to a later stage, or won), were ``lost`` in it; and
    each visit's days in the stage with whether it ended (False: still in it at the cut)."""

    entered: dict[str, int]
    advanced: dict[str, int]
    lost: dict[str, int]
    visits: dict[str, list[tuple[float, bool]]]


def count_stage_changes(transitions: pd.DataFrame, order: list[str], cut: pd.Timestamp
                        ) -> StageCounts:
    """Count each deal's path through the open stages ``order`` (``transitions``: ``id``,
    ``date``, ``stage``, in time order per deal). A deal entering at a later stage skipped the
    earlier ones; every stage up to the furthest it reached counts as entered and, but the
    last, as advanced from; the last is advanced from if the deal was won, lost in if lost."""
    c = StageCounts(entered=dict.fromkeys(order, 0), advanced=dict.fromkeys(order, 0),
                    lost=dict.fromkeys(order, 0), visits={s: [] for s in order})
    for _oid, g in transitions.groupby("id", sort=True):
        seq = list(zip(g["stage"], g["date"], strict=True))
        first_open = next((s for s, _ in seq if s in order), None)
        if first_open is None:
            continue
        i0 = order.index(first_open)
        reached = max((order.index(s) for s, _ in seq if s in order), default=i0)
        final = seq[-1][0]
        for k in range(i0, reached + 1):
            c.entered[order[k]] += 1
        for k in range(i0, reached):
            c.advanced[order[k]] += 1
        if final == "won":
            c.advanced[order[reached]] += 1
        elif final == "lost":
            c.lost[order[reached]] += 1
        for j, (s, t0) in enumerate(seq):
            if s not in order:
                continue
            if j + 1 < len(seq):
                c.visits[s].append((max((seq[j + 1][1] - t0).days, 0), True))
            else:
                c.visits[s].append((max((cut - t0).days, 0), False))
    return c


def history_stages(cut: CutHistory, deals: pd.DataFrame) -> StageEstimates:
    """Per-stage conversion and time in stage from the stage changes of ``deals`` before the
    cut. Stages no deal ever sat in (always skipped) are not part of the identified funnel."""
    order = cut.mapping.scenario_stages
    tr = cut.known.transitions
    counts = count_stage_changes(tr[tr["id"].isin(set(deals["id"]))], order, cut.cut)
    notes: list[str] = []
    seen = [s for s in order if counts.visits[s]]
    skipped = [s for s in order if counts.entered[s] > 0 and not counts.visits[s]]
    if skipped:
        notes.append(f"stages always skipped, left out of the funnel: {', '.join(skipped)}")
    if not seen:
        raise CalibrationError("no stage changes before the cut")
    out = StageEstimates([], seen, notes=notes)
    for s in seen:
        doc, out.fits[s] = _stage_estimate(s, counts, notes)
        out.documents.append(doc)
    out.set_win_probability("product of the stage conversions", None)
    return out


def _stage_estimate(s: str, counts: StageCounts, notes: list[str]
                    ) -> tuple[dict[str, Any], dict[str, Any]]:
    """Stage ``s``'s scenario document and its estimate (counts, conversion with its Jeffreys
    interval, duration fit; an exponential with the mean time when no fit is possible)."""
    adv, lost, entered = counts.advanced[s], counts.lost[s], counts.entered[s]
    n = adv + lost
    p = adv / n if n else 1.0
    lo, hi = jeffreys_interval(adv, n)
    tt = counts.visits[s]
    ev = np.array([e for _, e in tt], bool)
    arr = np.array([max(x, MIN_DAYS) for x, _ in tt], float)
    try:
        f = fit_duration(arr, ev)
        dist = f.distribution()
        fd = f.to_dict()
    except ValueError as exc:
        dist = {"dist": "exponential", "mean": float(max(arr.mean() if arr.size else 7.0,
                                                         MIN_DAYS))}
        fd = {"note": f"{exc}: exponential with the sample mean used"}
        notes.append(f"stage {s}: {exc}; exponential with the mean time used")
    if n == 0:
        notes.append(f"stage {s}: no deal has left it yet; conversion 1 assumed")
    fit = {"entered": entered, "advanced": adv, "lost": lost, "open": entered - adv - lost,
           "conversion": p, "conversion_ci": [lo, hi], "duration": fd}
    return {"name": s, "conversion": rounded(p), "duration": dist}, fit
