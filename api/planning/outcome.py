"""What one simulated scenario (a base or a variant) produced, replication by replication, and
the side-by-side comparison built from several of them.

Arrays are indexed ``[replication, ...]``; replication ``i`` of every variant used the same
random-number streams (common random numbers), so ``variant[i] - base[i]`` is a paired sample.
Money is in the scenario's currency over the horizon.

Targets per region are ``targets.company x targets.by_region`` when the scenario splits its
target, otherwise the company target shared by the regions' account potential (documented in the
report). A rep reaches quota when its horizon bookings are at least its quota.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from salesplan.scenarios import Scenario
from salesplan.stats import estimate, paired_difference, proportion, unpaired_difference

__all__ = ["Comparison", "Outcome", "region_targets"]


def region_targets(sc: Scenario) -> dict[str, float] | None:
    """Each region's share of the company target (currency), or None without a target."""
    if sc.targets is None:
        return None
    if sc.targets.by_region:
        return {r: sc.targets.company * sc.targets.by_region.get(r, 0.0) for r in sc.region_ids}
    pot = dict.fromkeys(sc.region_ids, 0.0)
    for a in sc.accounts:
        pot[a.region] += a.potential
    total = sum(pot.values())
    if total <= 0:
        return {r: sc.targets.company / len(sc.region_ids) for r in sc.region_ids}
    return {r: sc.targets.company * v / total for r, v in pot.items()}


@dataclass
class Outcome:
    """Per-replication results of one scenario (see the module notes for units)."""

    name: str
    scenario: Scenario
    description: str = ""
    notes: list[str] = field(default_factory=list)
    bookings: np.ndarray = field(default_factory=lambda: np.zeros(0))       # [N]
    won: np.ndarray = field(default_factory=lambda: np.zeros(0))            # [N]
    monthly: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))   # [N, M]
    region_bookings: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))  # [N, Q]
    rep_bookings: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))     # [N, R]
    cost: np.ndarray = field(default_factory=lambda: np.zeros(0))           # [N]
    quotas: dict[str, float] | None = None
    quota_method: str | None = None
    mechanisms: tuple[str, ...] = ()   # how its levers move bookings (docs/whatif.md)
    pay: np.ndarray | None = None      # [N] total pay under the scenario's pay plan
    at_on_target_pay: np.ndarray | None = None  # [N] share of reps at on-target pay

    @property
    def target(self) -> float | None:
        return self.scenario.targets.company if self.scenario.targets else None

    @property
    def rep_ids(self) -> list[str]:
        return [r.id for r in self.scenario.reps]

    def hit(self) -> np.ndarray | None:
        """Per replication: did company bookings reach the target?"""
        return None if self.target is None else self.bookings >= self.target

    def region_hit(self) -> np.ndarray | None:
        """[N, Q] per replication and region: did the region reach its share of the target?"""
        targets = region_targets(self.scenario)
        if targets is None:
            return None
        t = np.array([targets[r] for r in self.scenario.region_ids])
        return self.region_bookings >= t[None, :]

    def attainment(self) -> np.ndarray | None:
        """[N, R] bookings / quota for reps with a positive quota (NaN for the others)."""
        if not self.quotas:
            return None
        q = np.array([self.quotas.get(r, 0.0) for r in self.rep_ids], dtype=float)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(q[None, :] > 0, self.rep_bookings / q[None, :], np.nan)

    def share_at_quota(self) -> np.ndarray | None:
        """[N] share of quota-carrying reps at or above 100% attainment."""
        att = self.attainment()
        if att is None:
            return None
        has = ~np.isnan(att[0]) if att.size else np.zeros(0, dtype=bool)
        if not has.any():
            return None
        return (att[:, has] >= 1.0).mean(axis=1)


@dataclass
class Comparison:
    """The base and its variants, simulated with the same seed (common random numbers)."""

    seed: int
    replications: int
    base: Outcome
    variants: list[Outcome]
    months: list[str]

    @property
    def all(self) -> list[Outcome]:
        return [self.base, *self.variants]

    @property
    def currency(self) -> str:
        return self.base.scenario.horizon.currency

    def fan_table(self) -> pd.DataFrame:
        """The fan chart's numbers, one row per variant and month: ``variant``, ``month`` (1..),
        ``month_label``, ``p10``, ``p50``, ``p90`` (cumulative bookings at the month's end
        over the replications, currency) and ``target`` (the variant's target phased by the
        target's seasonality, cumulative; NaN without a target). Small (variants x months), so
        a client can draw the fan itself."""
        path = target_path(self)
        rows = []
        for o in self.all:
            cum = np.cumsum(o.monthly, axis=1)
            lo, mid, hi = np.quantile(cum, [0.1, 0.5, 0.9], axis=0)
            scale = (o.target / self.base.target if path is not None and o.target is not None
                     and self.base.target else 1.0)
            for k, label in enumerate(self.months):
                rows.append({"variant": o.name, "month": k + 1, "month_label": label,
                             "p10": lo[k], "p50": mid[k], "p90": hi[k],
                             "target": path[k] * scale if path is not None else math.nan})
        return pd.DataFrame(rows)

    def owner_changes(self) -> pd.DataFrame:
        """The accounts whose owner a variant changes (a ``realign`` lever's new territories,
        a hire's hand-over), one row per variant and moved account: ``variant``, ``account``,
        ``owner_before`` (the base's), ``owner_after`` (the variant's; it takes the account on
        ``handover_date`` when it starts during the horizon, else from the start). Only moved
        accounts are listed, so the table stays small; with the base's accounts it gives each
        variant's territory map."""
        before = {a.id: a.owner for a in self.base.scenario.accounts}
        rows = []
        for o in self.variants:
            starts = {r.id: r.start_date for r in o.scenario.reps}
            for a in o.scenario.accounts:
                if a.id in before and a.owner != before[a.id]:
                    start = starts.get(a.owner)
                    rows.append({"variant": o.name, "account": a.id,
                                 "owner_before": before[a.id], "owner_after": a.owner,
                                 "handover_date": start.isoformat() if start else None})
        return pd.DataFrame(rows, columns=["variant", "account", "owner_before", "owner_after",
                                           "handover_date"])

    def row(self, o: Outcome) -> dict:
        """The side-by-side figures of one outcome (keys documented in docs/whatif.md)."""
        b, w = estimate(o.bookings), estimate(o.won)
        row = {
            "variant": o.name,
            "target": o.target,
            "bookings_mean": b.mean, "bookings_ci95_lo": b.ci95[0], "bookings_ci95_hi": b.ci95[1],
            "bookings_p10": b.p10, "bookings_p50": b.p50, "bookings_p90": b.p90,
            "won_mean": w.mean, "won_ci95_lo": w.ci95[0], "won_ci95_hi": w.ci95[1],
            "won_p10": w.p10, "won_p50": w.p50, "won_p90": w.p90,
        }
        hit = o.hit()
        if hit is not None:
            p = proportion(hit)
            row |= {"p_hit_target": p.p, "p_hit_ci95_lo": p.ci95[0], "p_hit_ci95_hi": p.ci95[1]}
        else:
            row |= {"p_hit_target": math.nan, "p_hit_ci95_lo": math.nan,
                    "p_hit_ci95_hi": math.nan}
        row |= self.p_hit_change(o)
        share = o.share_at_quota()
        row["share_reps_at_quota"] = float(share.mean()) if share is not None else math.nan
        cost = estimate(o.cost)
        row["cost_mean"] = cost.mean
        row["bookings_per_cost"] = b.mean / cost.mean if cost.mean > 0 else math.nan
        row |= self.pay_figures(o)
        if o is self.base:
            row |= {"diff_vs_base_mean": 0.0, "diff_vs_base_ci95_lo": 0.0,
                    "diff_vs_base_ci95_hi": 0.0, "paired_ci95_width": 0.0,
                    "unpaired_ci95_width": 0.0}
        else:
            d = paired_difference(o.bookings, self.base.bookings)
            _, (ulo, uhi) = unpaired_difference(o.bookings, self.base.bookings)
            row |= {"diff_vs_base_mean": d.mean, "diff_vs_base_ci95_lo": d.ci95[0],
                    "diff_vs_base_ci95_hi": d.ci95[1],
                    "paired_ci95_width": d.ci95[1] - d.ci95[0],
                    "unpaired_ci95_width": uhi - ulo}
        row["mechanisms"] = ", ".join(o.mechanisms)
        return row | self.split_difference(o)

    def p_hit_change(self, o: Outcome) -> dict:
        """The paired change in P(hit) from the base (probability points, 0..1 scale):
        ``p_hit_diff_mean`` is the mean over replications of ``hit_variant[i] - hit_base[i]``
        (each -1, 0 or 1: the same draws, so only replications whose outcome the levers flip
        count), with its t-based 95% interval. Zero for the base; NaN without a target.

        Paired, it is far narrower than the two P(hit)s' own intervals: a change of a few
        points can be told from noise when both P(hit)s have +-10-point intervals."""
        nan = math.nan
        hv, hb = o.hit(), self.base.hit()
        if hv is None or hb is None:
            return {"p_hit_diff_mean": nan, "p_hit_diff_ci95_lo": nan, "p_hit_diff_ci95_hi": nan}
        if o is self.base:
            return {"p_hit_diff_mean": 0.0, "p_hit_diff_ci95_lo": 0.0, "p_hit_diff_ci95_hi": 0.0}
        d = paired_difference(hv.astype(float), hb.astype(float))
        return {"p_hit_diff_mean": d.mean, "p_hit_diff_ci95_lo": d.ci95[0],
                "p_hit_diff_ci95_hi": d.ci95[1]}

    def pay_figures(self, o: Outcome) -> dict:
        """Under the scenario's pay plan (NaN without one): expected total pay with its 95% CI,
        cost of sales (pay over bookings, mean over replications), the share of reps at
        on-target pay, and the paired difference in pay from the base."""
        nan = math.nan
        out = {"pay_mean": nan, "pay_ci95_lo": nan, "pay_ci95_hi": nan, "cost_of_sales": nan,
               "share_at_on_target_pay": nan, "pay_diff_vs_base_mean": nan,
               "pay_diff_vs_base_ci95_lo": nan, "pay_diff_vs_base_ci95_hi": nan}
        if o.pay is None:
            return out
        e = estimate(o.pay)
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(o.bookings > 0, o.pay / np.where(o.bookings > 0, o.bookings, 1), nan)
        out |= {"pay_mean": e.mean, "pay_ci95_lo": e.ci95[0], "pay_ci95_hi": e.ci95[1],
                "cost_of_sales": float(np.nanmean(ratio)) if np.isfinite(ratio).any() else nan,
                "share_at_on_target_pay": float(np.mean(o.at_on_target_pay))}
        if o is not self.base and self.base.pay is not None:
            d = paired_difference(o.pay, self.base.pay)
            out |= {"pay_diff_vs_base_mean": d.mean, "pay_diff_vs_base_ci95_lo": d.ci95[0],
                    "pay_diff_vs_base_ci95_hi": d.ci95[1]}
        elif o is self.base:
            out |= {"pay_diff_vs_base_mean": 0.0, "pay_diff_vs_base_ci95_lo": 0.0,
                    "pay_diff_vs_base_ci95_hi": 0.0}
        return out

    def split_difference(self, o: Outcome) -> dict:
        """The difference from the base split by rep: what the variant's new reps (hires) book
        (``new_reps_bookings``), and the paired change in what the base's reps book
        (``existing_reps_diff``: the hand-over's effect, a departure's, a lever's on the team);
        means and 95% intervals. They add up to the difference."""
        base_ids = self.base.rep_ids
        pos = {r: j for j, r in enumerate(o.rep_ids)}
        shared = [pos[r] for r in base_ids if r in pos]
        new = [j for r, j in pos.items() if r not in set(base_ids)]
        base_shared = [j for j, r in enumerate(base_ids) if r in pos]
        mine = o.rep_bookings[:, new].sum(axis=1) if new else np.zeros(len(o.bookings))
        change = paired_difference(o.rep_bookings[:, shared].sum(axis=1),
                                   self.base.rep_bookings[:, base_shared].sum(axis=1))
        own = estimate(mine)
        return {"new_reps": len(new), "new_reps_bookings_mean": own.mean,
                "new_reps_bookings_ci95_lo": own.ci95[0], "new_reps_bookings_ci95_hi": own.ci95[1],
                "existing_reps_diff_mean": change.mean,
                "existing_reps_diff_ci95_lo": change.ci95[0],
                "existing_reps_diff_ci95_hi": change.ci95[1]}

    def table(self) -> pd.DataFrame:
        """One row per outcome, base first."""
        return pd.DataFrame([self.row(o) for o in self.all])

    def region_table(self) -> pd.DataFrame:
        """variant, region, target, bookings mean and 95% CI, P(region hits its target)."""
        rows = []
        for o in self.all:
            targets = region_targets(o.scenario) or {}
            hits = o.region_hit()
            for q, region in enumerate(o.scenario.region_ids):
                e = estimate(o.region_bookings[:, q])
                p = proportion(hits[:, q]) if hits is not None else None
                rows.append({"variant": o.name, "region": region,
                             "target": targets.get(region, math.nan),
                             "bookings_mean": e.mean, "bookings_ci95_lo": e.ci95[0],
                             "bookings_ci95_hi": e.ci95[1],
                             "p_hit": p.p if p else math.nan,
                             "p_hit_ci95_lo": p.ci95[0] if p else math.nan,
                             "p_hit_ci95_hi": p.ci95[1] if p else math.nan})
        return pd.DataFrame(rows)

    def rep_table(self) -> pd.DataFrame:
        """variant, rep, region, quota, expected bookings, expected attainment, P(attain)."""
        rows = []
        for o in self.all:
            att = o.attainment()
            for j, rep in enumerate(o.scenario.reps):
                quota = (o.quotas or {}).get(rep.id, math.nan)
                a = att[:, j] if att is not None else None
                ok = a is not None and not np.isnan(a[0])
                rows.append({"variant": o.name, "rep": rep.id, "region": rep.region,
                             "quota": quota,
                             "bookings_mean": float(o.rep_bookings[:, j].mean()),
                             "attainment_mean": float(a.mean()) if ok else math.nan,
                             "p_attain": float((a >= 1.0).mean()) if ok else math.nan})
        return pd.DataFrame(rows)

    def summary(self) -> dict:
        """JSON-ready summary: per variant the headline keys and the full row."""
        out = {"seed": self.seed, "replications": self.replications, "currency": self.currency,
               "base": self.base.name, "variants": {}}
        for o in self.all:
            r = self.row(o)
            out["variants"][o.name] = {
                "description": o.description,
                "mechanisms": list(o.mechanisms),
                "notes": o.notes,
                "quota_method": o.quota_method,
                "bookings_mean": r["bookings_mean"],
                "bookings_ci95": [r["bookings_ci95_lo"], r["bookings_ci95_hi"]],
                "p_hit_target": None if math.isnan(r["p_hit_target"]) else r["p_hit_target"],
                "p_hit_diff": None if math.isnan(r["p_hit_diff_mean"]) else r["p_hit_diff_mean"],
                "p_hit_diff_ci95": None if math.isnan(r["p_hit_diff_mean"]) else [
                    r["p_hit_diff_ci95_lo"], r["p_hit_diff_ci95_hi"]],
                "diff_vs_base_mean": r["diff_vs_base_mean"],
                "diff_vs_base_ci95": [r["diff_vs_base_ci95_lo"], r["diff_vs_base_ci95_hi"]],
                "row": {k: (None if isinstance(v, float) and math.isnan(v) else v)
                        for k, v in r.items()},
            }
        return out


def target_path(comparison: Comparison) -> np.ndarray | None:
    """Cumulative target at each month end (currency), from the target's seasonality."""
    sc = comparison.base.scenario
    if sc.targets is None:
        return None
    m = sc.horizon.months
    season = sc.targets.seasonality
    if season is None:
        weights = np.ones(m)
    elif len(season) == 12:
        start = sc.horizon.start.month - 1
        weights = np.array([season[(start + k) % 12] for k in range(m)], dtype=float)
    else:  # quarterly weights, spread evenly over each quarter's months
        weights = np.array([season[(k // 3) % 4] / 3 for k in range(m)], dtype=float)
    return sc.targets.company * np.cumsum(weights) / weights.sum()
