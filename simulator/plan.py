"""A scenario compiled into the flat lookup tables the engine reads (built once per worker).

Indices follow the scenario's own order (``scenario.reps``, ``scenario.stages``...), so every
loop over them is deterministic. Units: times in days since the horizon start (negative during a
warm-up), money in the scenario's currency.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field

import numpy as np

from salesplan.scenarios.calendar import (
    DAYS_PER_YEAR,
    month_edges,
    month_labels,
    quarter_month,
    source_rate_per_day,
)
from salesplan.scenarios.model import LeadSource, Scenario

__all__ = ["DAYS_PER_MONTH", "RAMP_START", "Plan", "Sourcing", "compile_plan", "product_mix",
           "source_expected_counts"]

DAYS_PER_MONTH = DAYS_PER_YEAR / 12.0
"""Days in an average month (30.4375): converts ramp, backfill lag and hazards to days."""

RAMP_START = 0.25
"""Productivity factor of a new hire on the first day; it rises linearly to 1 over ramp_months."""


@dataclass
class Plan:
    """Everything the engine needs, as arrays and plain lists (no pydantic in the hot path)."""

    scenario: Scenario
    horizon_days: float
    warmup_months: int
    t0: float                      # simulation start (<= 0: the warm-up start)
    edges: np.ndarray              # month edges from -warmup to the horizon end (days)
    months: list[str]              # horizon month labels YYYY-MM
    n_stages: int
    stage_names: list[str]
    rep_ids: list[str]
    rep_region: np.ndarray         # region index per rep
    rep_capacity: list[int]
    rep_log_productivity: list[float]
    rep_start: list[float]         # day the seat is first filled (t0 if active already)
    rep_ramp_days: list[float]     # ramp length of the first occupant (days)
    rep_hazard_per_day: list[float]
    rep_serves: np.ndarray         # bool [rep, segment]
    rep_segments_n: list[int]      # number of listed segment skills (0: any segment)
    region_ids: list[str]
    segment_ids: list[str]
    product_ids: list[str]
    conv_logit: np.ndarray         # logit of conversion [stage, segment, product] (+-inf at 1/0)
    grade_ids: list[str]
    grade_share: np.ndarray
    grade_log_mult: np.ndarray
    half_life: float | None        # lead-response half-life (days), None: no decay
    overflow_wait: float           # owner routing: longest wait before a colleague (inf: none)
    open_deals_policy: str
    backfill: bool
    backfill_lag_days: float
    backfill_ramp_days: float | None
    account_ids: list[str]
    account_owner: np.ndarray      # owner rep index per account (-1: none)
    accounts_by_cell: dict[tuple[int, int], tuple[np.ndarray, np.ndarray]] = field(
        default_factory=dict)      # (region, segment) -> (account indices, probabilities)
    duration: list = field(default_factory=list)   # [stage][segment][product] distributions:
    # a 1-tuple, or 3 by month of quarter of the stage entry (Stage.duration_by_quarter_month)
    deal_size: list = field(default_factory=list)  # [product][segment] distribution
    expected_leads: list = field(default_factory=list)  # [source] expected leads per month
    target: float | None = None
    rep_end: list[float] = field(default_factory=list)  # planned departure day (inf: none)
    rep_backfill_on_end: list[bool] = field(default_factory=list)
    account_previous_owner: np.ndarray = field(  # rep working the account before its hand-over
        default_factory=lambda: np.zeros(0, dtype=np.int64))
    account_handover: np.ndarray = field(  # day the owner takes the account over (-inf: always)
        default_factory=lambda: np.zeros(0))
    sourcing: Sourcing | None = None  # rep-sourced deals (None: nobody sources)
    # log odds multiplier of each lead source's leads (LeadSource.conversion_multiplier)
    source_log_mult: np.ndarray = field(default_factory=lambda: np.zeros(0))

    def quarter_month(self, t: np.ndarray) -> np.ndarray:
        """Month of the calendar quarter (0, 1, 2) of times ``t`` (days since horizon start)."""
        return quarter_month(self.scenario.horizon.start, t)

    @property
    def n_reps(self) -> int:
        return len(self.rep_ids)


@dataclass(frozen=True)
class Sourcing:
    """Rep-sourced deals, compiled (see :mod:`salesplan.simulator.sourcing`).

    ``rate[r]``: deals per day rep r creates when seated, fully ramped and free (its rate
    times its productivity); ``entry``: the stage index they enter at; ``account_yield[i]``:
    deals per day account i can yield at most (the market; None: unlimited);
    ``cell_products[(region, segment)]``: product probabilities of the deals sourced in a cell
    (its lead sources' mix weighted by their volume; uniform without sources);
    ``account_segment``, ``account_potential``: per account.
    """

    rate: list[float]
    entry: int
    account_yield: np.ndarray | None
    cell_products: dict[tuple[int, int], np.ndarray]
    account_segment: np.ndarray
    account_potential: np.ndarray


def _day(horizon_start: dt.date, d: dt.date) -> float:
    return float((d - horizon_start).days)


def _seats(sc: Scenario, t0: float) -> tuple[list[float], list[float]]:
    """Per rep: the day its seat is first filled (t0 if active already), and the ramp of its
    first occupant (days)."""
    starts, ramps = [], []
    for r in sc.reps:
        if r.start_date is None:
            starts.append(t0)
            ramps.append(0.0)
        else:
            starts.append(max(t0, _day(sc.horizon.start, r.start_date)))
            ramps.append(r.ramp_months * DAYS_PER_MONTH)
    return starts, ramps


def _conversion_logits(sc: Scenario) -> np.ndarray:
    """logit of each stage's conversion, [stage, segment, product] (+-inf at 1 and 0)."""
    with np.errstate(divide="ignore"):
        conv = np.empty((len(sc.stages), len(sc.segment_ids), len(sc.product_ids)))
        for k, st in enumerate(sc.stages):
            for g, seg in enumerate(sc.segment_ids):
                for p, prod in enumerate(sc.product_ids):
                    conv[k, g, p] = st.resolve(seg, prod)[0]
        return np.log(conv) - np.log1p(-conv)


def _grades(sc: Scenario) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Lead grades: shares (normalised), log conversion multipliers, ids (one blank grade when
    the scenario has none)."""
    if not sc.grades:
        return np.ones(1), np.zeros(1), [""]
    share = np.array([g.share for g in sc.grades], dtype=float)
    share = share / share.sum() if share.sum() > 0 else np.full(len(share), 1 / len(share))
    return share, np.log([g.conversion_multiplier for g in sc.grades]), [g.grade for g in sc.grades]


def _account_cells(sc: Scenario) -> dict[tuple[int, int], tuple[np.ndarray, np.ndarray]]:
    """(region, segment) -> the accounts of the cell and the probability a lead of the cell is
    for each (proportional to potential; uniform when the cell has no potential)."""
    region_ix = {r: i for i, r in enumerate(sc.region_ids)}
    seg_ix = {s: i for i, s in enumerate(sc.segment_ids)}
    acc_region = np.array([region_ix[a.region] for a in sc.accounts], dtype=np.int64)
    acc_seg = np.array([seg_ix[a.segment] for a in sc.accounts], dtype=np.int64)
    pot = np.array([a.potential for a in sc.accounts], dtype=float)
    cells: dict[tuple[int, int], tuple[np.ndarray, np.ndarray]] = {}
    for ri in range(len(sc.region_ids)):
        for gi in range(len(sc.segment_ids)):
            idx = np.flatnonzero((acc_region == ri) & (acc_seg == gi))
            if idx.size:
                w = pot[idx]
                w = w / w.sum() if w.sum() > 0 else np.full(idx.size, 1.0 / idx.size)
                cells[(ri, gi)] = (idx, w)
    return cells


def compile_plan(sc: Scenario) -> Plan:
    """Compile a validated scenario into a :class:`Plan`."""
    h = sc.horizon
    warm = sc.policies.warmup_months if not sc.initial_pipeline else 0
    edges = month_edges(h, before=warm)
    t0 = float(edges[0])
    region_ix = {r: i for i, r in enumerate(sc.region_ids)}
    rep_ix = {r.id: i for i, r in enumerate(sc.reps)}
    starts, ramps = _seats(sc, t0)
    share, glm, gids = _grades(sc)
    att = sc.policies.attrition
    plan = Plan(
        scenario=sc, horizon_days=float(h.days), warmup_months=warm, t0=t0, edges=edges,
        months=month_labels(h), n_stages=len(sc.stages), stage_names=list(sc.stage_names),
        rep_ids=[r.id for r in sc.reps],
        rep_region=np.array([region_ix[r.region] for r in sc.reps], dtype=np.int64),
        rep_capacity=[r.capacity for r in sc.reps],
        rep_log_productivity=[math.log(r.productivity) for r in sc.reps],
        rep_start=starts, rep_ramp_days=ramps,
        rep_hazard_per_day=[-math.log1p(-r.attrition_monthly) / DAYS_PER_MONTH
                            for r in sc.reps],
        rep_serves=np.array([[r.serves(s) for s in sc.segment_ids] for r in sc.reps],
                            dtype=bool),
        rep_segments_n=[len(r.segments) for r in sc.reps],
        region_ids=list(sc.region_ids), segment_ids=list(sc.segment_ids),
        product_ids=list(sc.product_ids), conv_logit=_conversion_logits(sc),
        grade_ids=gids, grade_share=share, grade_log_mult=glm,
        half_life=sc.policies.response_half_life_days,
        overflow_wait=(math.inf if sc.policies.overflow_wait_days is None
                       else sc.policies.overflow_wait_days),
        open_deals_policy=att.open_deals, backfill=att.backfill,
        backfill_lag_days=float(round(att.backfill_lag_months * DAYS_PER_MONTH)),
        backfill_ramp_days=(None if att.backfill_ramp_months is None
                            else att.backfill_ramp_months * DAYS_PER_MONTH),
        account_ids=[a.id for a in sc.accounts],
        account_owner=np.array([rep_ix.get(a.owner, -1) if a.owner else -1
                                for a in sc.accounts], dtype=np.int64),
        accounts_by_cell=_account_cells(sc),
        duration=[[[st.durations_for(g, p) for p in sc.product_ids] for g in sc.segment_ids]
                  for st in sc.stages],
        deal_size=[[sc.product_index[p].deal_size_for(g) for g in sc.segment_ids]
                   for p in sc.product_ids],
        target=sc.targets.company if sc.targets else None,
        source_log_mult=np.log([s.conversion_multiplier for s in sc.lead_sources] or [1.0]),
    )
    plan.expected_leads = [source_expected_counts(plan, src) for src in sc.lead_sources]
    _add_plan_changes(plan, sc)
    plan.sourcing = _sourcing(sc, plan)
    return plan


def _add_plan_changes(plan: Plan, sc: Scenario) -> None:
    """Planned departures (end dates) and account hand-overs to planned hires."""
    h = sc.horizon
    plan.rep_end = [math.inf if r.end_date is None else max(plan.t0, _day(h.start, r.end_date))
                    for r in sc.reps]
    plan.rep_backfill_on_end = [plan.backfill if r.backfill_on_end is None
                                else r.backfill_on_end for r in sc.reps]
    rep_ix = {r: i for i, r in enumerate(plan.rep_ids)}
    prev = np.array([rep_ix.get(a.previous_owner, -1) if a.previous_owner else -1
                     for a in sc.accounts], dtype=np.int64)
    handover = np.full(len(sc.accounts), -math.inf)
    for i in range(len(sc.accounts)):
        if prev[i] >= 0 and plan.account_owner[i] >= 0:
            handover[i] = plan.rep_start[plan.account_owner[i]]
    plan.account_previous_owner, plan.account_handover = prev, handover


def _sourcing(sc: Scenario, plan: Plan) -> Sourcing | None:
    """The compiled sourcing policy, or None when no rep sources."""
    pol = sc.policies.sourcing
    per_month = [r.sourcing_per_month if r.sourcing_per_month is not None
                 else pol.per_rep_per_month for r in sc.reps]
    if not any(v > 0 for v in per_month):
        return None
    rate = [v * r.productivity / DAYS_PER_MONTH for v, r in zip(per_month, sc.reps, strict=True)]
    yield_ = None
    if pol.per_account_per_year is not None and sc.accounts:
        pot = np.array([a.potential for a in sc.accounts], dtype=float)
        rel = pot / pot.mean() if pot.mean() > 0 else np.ones(pot.size)
        yield_ = pol.per_account_per_year / DAYS_PER_YEAR * rel
    return Sourcing(rate=rate, entry=sc.stage_names.index(pol.entry_stage) if pol.entry_stage
                    else 0, account_yield=yield_, cell_products=_cell_products(sc, plan),
                    account_segment=np.array([plan.segment_ids.index(a.segment)
                                              for a in sc.accounts], dtype=np.int64),
                    account_potential=np.array([a.potential for a in sc.accounts], dtype=float))


def _cell_products(sc: Scenario, plan: Plan) -> dict[tuple[int, int], np.ndarray]:
    """(region, segment) -> product probabilities of the cell's lead sources (volume-weighted);
    cells without sources are absent (uniform)."""
    out: dict[tuple[int, int], np.ndarray] = {}
    for src in sc.lead_sources:
        key = (plan.region_ids.index(src.region), plan.segment_ids.index(src.segment))
        out[key] = out.get(key, 0.0) + product_mix(plan, src) * src.leads_per_month
    return {k: v / v.sum() if v.sum() > 0 else np.full(v.size, 1.0 / v.size)
            for k, v in out.items()}


def product_mix(plan: Plan, src: LeadSource) -> np.ndarray:
    """The probability of each product (in ``plan.product_ids`` order) for a lead of ``src``:
    its ``product_mix`` normalised, else uniform."""
    if src.product_mix:
        w = np.array([src.product_mix.get(p, 0.0) for p in plan.product_ids], dtype=float)
        return w / w.sum()
    return np.full(len(plan.product_ids), 1.0 / len(plan.product_ids))


def source_expected_counts(plan: Plan, src: LeadSource) -> np.ndarray:
    """Expected leads of a source in every simulated month (warm-up months first): the integral
    of the rate of :mod:`salesplan.scenarios.calendar` over each month, as in
    :func:`salesplan.scenarios.calendar.expected_leads_by_month`, extended to the warm-up."""
    base = source_rate_per_day(src, plan.scenario.horizon, before=plan.warmup_months)
    g = math.log1p(src.annual_growth) / DAYS_PER_YEAR
    e = plan.edges
    if abs(g) < 1e-15:
        return base * np.diff(e)
    return base * (np.exp(g * e[1:]) - np.exp(g * e[:-1])) / g
