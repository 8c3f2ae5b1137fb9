"""What each rep can be expected to carry and book, from the scenario alone (no simulation).

These are the *static* expectations a planner would compute on paper. Levers use them to make
their choices (which reps a new hire relieves, which reps are the "top" ones); they never stand
in for simulated results, which add queueing, lead decay, ramp, attrition and randomness.

Per rep, over a horizon month of average length, with the rep seated and fully ramped:

- ``leads_per_month``: the leads of its accounts. A lead source's leads are spread over the
  accounts of its region and segment in proportion to potential (evenly without potential), as
  the simulator draws them; an account's leads go to whoever owns it (the previous owner before a
  hand-over, weighted by the share of the horizon before it). Leads of a cell without accounts,
  or of accounts without an owner, are spread evenly over the region's reps serving the segment.
- ``sourced_per_month``: deals it creates itself (the sourcing policy, its productivity).
- ``win_probability``: P(won) of one of its leads: the product of the stage conversions over
  the lead grade mix, with the rep's productivity on the odds (no decay).
- ``bookings_per_year``: 12 x (leads x P(won) + sourced x P(won from the entry stage)) x the
  mean deal size of the lead's segment and product.
- ``deal_days``: mean days a deal holds one of its slots (stage durations weighted by the
  chance of reaching each stage); ``utilisation``: open deals over capacity by Little's law,
  ``(leads + sourced) / day x deal_days / capacity`` (above 1: leads queue).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .calendar import DAYS_PER_YEAR, expected_leads_by_month
from .model import Scenario

__all__ = ["COLUMNS", "account_leads", "expected_by_rep"]

DAYS_PER_MONTH = DAYS_PER_YEAR / 12.0
COLUMNS = ["region", "leads_per_month", "sourced_per_month", "win_probability",
           "bookings_per_year", "deal_days", "utilisation"]


@dataclass(frozen=True)
class _Cell:
    """One (segment, product) cell's funnel: stage conversions and mean stage days."""

    conversion: np.ndarray
    days: np.ndarray


def _cells(sc: Scenario) -> dict[tuple[str, str], _Cell]:
    out = {}
    for seg in sc.segment_ids:
        for prod in sc.product_ids:
            conv, days = [], []
            for st in sc.stages:
                c, _ = st.resolve(seg, prod)
                conv.append(c)
                days.append(float(np.mean([d.mean_value for d in st.durations_for(seg, prod)])))
            out[(seg, prod)] = _Cell(np.array(conv), np.array(days))
    return out


def _grade_mix(sc: Scenario) -> list[tuple[float, float]]:
    """(share, log odds multiplier) of each lead grade (one neutral grade without grades)."""
    if not sc.grades:
        return [(1.0, 0.0)]
    total = sum(g.share for g in sc.grades) or 1.0
    return [(g.share / total, math.log(g.conversion_multiplier)) for g in sc.grades]


def _pass_probabilities(cell: _Cell, log_odds: float, start: int = 0) -> np.ndarray:
    """P(pass stage k) from stage ``start`` on, with ``log_odds`` added to every stage's logit."""
    p = np.clip(cell.conversion[start:], 1e-12, 1 - 1e-12)
    z = np.log(p) - np.log1p(-p) + log_odds
    out = 1.0 / (1.0 + np.exp(-z))
    out[cell.conversion[start:] >= 1.0] = 1.0
    out[cell.conversion[start:] <= 0.0] = 0.0
    return out


def _win_and_days(cell: _Cell, log_odds: float, start: int = 0) -> tuple[float, float]:
    """P(won) and mean days in the funnel of a deal entering at stage ``start``."""
    passes = _pass_probabilities(cell, log_odds, start)
    reach = np.concatenate([[1.0], np.cumprod(passes)[:-1]])
    return float(np.prod(passes)), float(np.sum(reach * cell.days[start:]))


def _lead_flows(sc: Scenario) -> dict[str, dict[tuple[str, str, float], float]]:
    """Rep -> (segment, product, the source's log odds multiplier) -> expected leads per month
    over the horizon."""
    flows: dict[str, dict[tuple[str, str], float]] = {r.id: {} for r in sc.reps}
    start_day = {r.id: (r.start_date - sc.horizon.start).days if r.start_date else 0
                 for r in sc.reps}
    for src in sc.lead_sources:
        per_month = _per_month(sc, src)
        mix = src.product_mix or dict.fromkeys(sc.product_ids, 1.0)
        total_mix = sum(mix.values())
        for rep_id, share in _cell_owners(sc, src.region, src.segment, start_day).items():
            for prod, w in mix.items():
                key = (src.segment, prod, math.log(src.conversion_multiplier))
                flows[rep_id][key] = flows[rep_id].get(key, 0.0) + per_month * share * w / total_mix
    return flows


def _cell_owners(sc: Scenario, region: str, segment: str, start_day: dict[str, int]
                 ) -> dict[str, float]:
    """Rep -> share of a (region, segment) cell's leads it works over the horizon."""
    accounts, weights = _cell_accounts(sc, region, segment)
    shares: dict[str, float] = {}
    orphan = 0.0 if accounts else 1.0
    days = max(sc.horizon.days, 1)
    for a, w in zip(accounts, weights, strict=True):
        if a.owner is None or a.owner not in sc.rep_index:
            orphan += w
            continue
        before = min(max(start_day[a.owner], 0), days) / days if a.previous_owner else 0.0
        shares[a.owner] = shares.get(a.owner, 0.0) + w * (1.0 - before)
        if before > 0:
            shares[a.previous_owner] = shares.get(a.previous_owner, 0.0) + w * before
    if orphan > 0:
        serving = [r.id for r in sc.reps if r.region == region and r.serves(segment)]
        for rid in serving:
            shares[rid] = shares.get(rid, 0.0) + orphan / len(serving)
    return shares


def expected_by_rep(sc: Scenario) -> pd.DataFrame:
    """The static expectations of every rep (index: rep id; columns :data:`COLUMNS`)."""
    cells, grades, flows = _cells(sc), _grade_mix(sc), _lead_flows(sc)
    sourcing = sc.policies.sourcing
    entry = sc.stage_names.index(sourcing.entry_stage) if sourcing.entry_stage else 0
    rows = []
    for r in sc.reps:
        lp = math.log(r.productivity)
        leads = won = booked = busy = 0.0
        for (seg, prod, lm), n in flows[r.id].items():
            value = sc.product_index[prod].deal_size_for(seg).mean_value
            for share, g in grades:
                p, d = _win_and_days(cells[(seg, prod)], lp + g + lm)
                leads += n * share
                won += n * share * p
                booked += n * share * p * value
                busy += n * share * d
        rate = (r.sourcing_per_month if r.sourcing_per_month is not None
                else sourcing.per_rep_per_month) * r.productivity
        p_src, d_src, v_src = _sourced_cell(sc, r, cells, lp, entry)
        booked += rate * p_src * v_src
        busy += rate * d_src
        rows.append({"rep": r.id, "region": r.region, "leads_per_month": leads,
                     "sourced_per_month": rate,
                     "win_probability": won / leads if leads > 0 else math.nan,
                     "bookings_per_year": 12.0 * booked,
                     "deal_days": busy / (leads + rate) if leads + rate > 0 else math.nan,
                     "utilisation": busy / DAYS_PER_MONTH / r.capacity})
    return pd.DataFrame(rows).set_index("rep")[COLUMNS]


def _sourced_cell(sc: Scenario, rep, cells: dict, log_odds: float, entry: int
                  ) -> tuple[float, float, float]:
    """P(won), mean days and mean value of a deal the rep sources: the mean over the segments
    it serves and the products, weighted evenly (a static approximation of its accounts' mix)."""
    segs = [s for s in sc.segment_ids if rep.serves(s)] or sc.segment_ids
    p = d = v = 0.0
    n = len(segs) * len(sc.product_ids)
    for seg in segs:
        for prod in sc.product_ids:
            pw, dd = _win_and_days(cells[(seg, prod)], log_odds, entry)
            p += pw / n
            d += dd / n
            v += sc.product_index[prod].deal_size_for(seg).mean_value / n
    return p, d, v


def account_leads(sc: Scenario) -> dict[str, float]:
    """Account id -> expected leads per month over the horizon (its cell's leads, spread by
    potential as the simulator draws them)."""
    out: dict[str, float] = {}
    for src in sc.lead_sources:
        accounts, weights = _cell_accounts(sc, src.region, src.segment)
        per_month = _per_month(sc, src)
        for a, w in zip(accounts, weights, strict=True):
            out[a.id] = out.get(a.id, 0.0) + per_month * float(w)
    return out


def _per_month(sc: Scenario, src) -> float:
    """A lead source's expected leads per month, averaged over the horizon."""
    return float(expected_leads_by_month(src, sc.horizon).sum()) / sc.horizon.months


def _cell_accounts(sc: Scenario, region: str, segment: str) -> tuple[list, np.ndarray]:
    """The accounts of a (region, segment) cell and the share of the cell's leads each gets:
    proportional to potential, evenly without potential (as the simulator draws them)."""
    accounts = [a for a in sc.accounts if a.region == region and a.segment == segment]
    pot = np.array([a.potential for a in accounts], dtype=float)
    if accounts and pot.sum() > 0:
        return accounts, pot / pot.sum()
    return accounts, np.full(len(accounts), 1.0 / max(len(accounts), 1))
