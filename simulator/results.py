# ruff: noqa: N806  (single capitals follow the model notation: S stages, H horizon...)
"""Results of a Monte Carlo run: tidy frames with documented columns, and a summary that
carries its uncertainty, the seed and the replication count.

Money is in the scenario's currency; times and durations in days; ``month`` is ``YYYY-MM`` of a
horizon month. "Mean" columns are means over replications unless said otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

from salesplan.stats import describe, wilson_interval

from .plan import Plan
from .replication import ReplicationOutput
from .routing import RoutingStrategy

__all__ = ["SimulationResult"]


def _nanmean(a: np.ndarray) -> np.ndarray:
    """Column means ignoring NaN; NaN (without a warning) where a column has no value."""
    a = np.asarray(a, dtype=float)
    ok = np.isfinite(a)
    n = ok.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(ok, a, 0.0).sum(axis=0) / np.where(n > 0, n, np.nan)


@dataclass
class SimulationResult:
    """Everything a run produced. Arrays are stacked over replications (axis 0)."""

    plan: Plan
    outputs: list[ReplicationOutput]
    seed: int
    quotas: dict[str, float] | None = None
    routing: RoutingStrategy | None = None
    _stack: dict[str, np.ndarray] = field(default_factory=dict, repr=False)

    # ---- raw stacks ----
    def stack(self, name: str) -> np.ndarray:
        """``getattr(output, name)`` stacked over replications (cached)."""
        if name not in self._stack:
            self._stack[name] = np.stack([np.asarray(getattr(o, name)) for o in self.outputs])
        return self._stack[name]

    @property
    def replications(self) -> int:
        return len(self.outputs)

    @property
    def months(self) -> list[str]:
        return self.plan.months

    @property
    def rep_ids(self) -> list[str]:
        return self.plan.rep_ids

    @property
    def currency(self) -> str:
        return self.plan.scenario.horizon.currency

    @property
    def target(self) -> float | None:
        return self.plan.target

    def total_bookings(self) -> np.ndarray:
        """Company bookings per replication (currency)."""
        return self.stack("bookings").sum(axis=(1, 2))

    def total_won(self) -> np.ndarray:
        """Deals won per replication."""
        return self.stack("won").sum(axis=(1, 2))

    def rep_bookings(self) -> np.ndarray:
        """[replication, rep] bookings."""
        return self.stack("bookings").sum(axis=2)

    def target_path(self) -> np.ndarray | None:
        """Cumulative company target at each horizon month end (currency): spread by the
        target's seasonality (12 monthly or 4 quarterly weights, repeated over the horizon;
        even when absent)."""
        if self.target is None:
            return None
        M = len(self.months)
        tg = self.plan.scenario.targets
        w = np.ones(M)
        if tg is not None and tg.seasonality:
            s = np.asarray(tg.seasonality, dtype=float)
            per_month = np.repeat(s, 3) if s.size == 4 else s
            start_month = self.plan.scenario.horizon.start.month - 1
            w = np.array([per_month[(start_month + m) % 12] for m in range(M)])
        return self.target * np.cumsum(w) / w.sum()

    # ---- frames ----
    @cached_property
    def deals(self) -> pd.DataFrame:
        """One row per deal of the first ``keep_deals`` replications (see
        :func:`salesplan.simulator.replication.deals_frame` for the columns)."""
        frames = [o.deals for o in self.outputs if o.deals is not None]
        if not frames:
            return pd.DataFrame()
        return pd.concat(frames, ignore_index=True)

    @cached_property
    def bookings(self) -> pd.DataFrame:
        """Rep x month per replication: replication, rep, region, month, bookings (currency),
        won_deals."""
        b, w = self.stack("bookings"), self.stack("won")
        n, R, M = b.shape
        region = np.array(self.plan.region_ids, dtype=object)[self.plan.rep_region]
        return pd.DataFrame({
            "replication": np.repeat(np.arange(n), R * M),
            "rep": np.tile(np.repeat(np.array(self.rep_ids, dtype=object), M), n),
            "region": np.tile(np.repeat(region, M), n),
            "month": np.tile(np.array(self.months, dtype=object), n * R),
            "bookings": b.ravel(),
            "won_deals": w.ravel(),
        })

    def bookings_by(self, dim: str) -> pd.DataFrame:
        """Bookings by ``region``, ``product`` or ``segment`` x month per replication:
        replication, <dim>, month, bookings (currency), won_deals."""
        if dim == "region":
            b = self._by_region(self.stack("bookings"))
            w = self._by_region(self.stack("won"))
            names = self.plan.region_ids
        elif dim in ("product", "segment"):
            b, w = self.stack(f"bookings_{dim}"), self.stack(f"won_{dim}")
            names = self.plan.product_ids if dim == "product" else self.plan.segment_ids
        else:
            raise ValueError(f"dim must be region, product or segment, got {dim!r}")
        n, K, M = b.shape
        return pd.DataFrame({
            "replication": np.repeat(np.arange(n), K * M),
            dim: np.tile(np.repeat(np.array(names, dtype=object), M), n),
            "month": np.tile(np.array(self.months, dtype=object), n * K),
            "bookings": b.ravel(),
            "won_deals": w.ravel(),
        })

    def _by_region(self, a: np.ndarray) -> np.ndarray:
        Q = len(self.plan.region_ids)
        out = np.zeros((a.shape[0], Q, a.shape[2]), dtype=a.dtype)
        for r, q in enumerate(self.plan.rep_region):
            out[:, q] += a[:, r]
        return out

    @cached_property
    def funnel(self) -> pd.DataFrame:
        """Per stage, over deals created in the horizon (means per replication):
        stage; entered, advanced, lost (deals, stage events before the horizon end);
        conversion (advanced / (advanced + lost), pooled); mean_days, median_days (time in the
        stage of completed passes; the median is the mean over replications of each
        replication's median); velocity_per_month (deals advancing out of the stage per
        horizon month)."""
        ent, adv, lost = (self.stack(k) for k in ("stage_entered", "stage_advanced",
                                                   "stage_lost"))
        dsum, dmed = self.stack("stage_days_sum"), self.stack("stage_days_median")
        n_done = (adv + lost).sum(axis=0)
        with np.errstate(invalid="ignore", divide="ignore"):
            conv = adv.sum(axis=0) / n_done
            mean_days = dsum.sum(axis=0) / n_done
        return pd.DataFrame({
            "stage": self.plan.stage_names,
            "entered": ent.mean(axis=0),
            "advanced": adv.mean(axis=0),
            "lost": lost.mean(axis=0),
            "conversion": conv,
            "mean_days": mean_days,
            "median_days": _nanmean(dmed),
            "velocity_per_month": adv.mean(axis=0) / len(self.months),
        })

    @cached_property
    def funnel_overall(self) -> dict[str, float]:
        """win_rate (won / closed, horizon-created deals); cycle_time_mean_days and
        cycle_time_median_days (creation to close, deals won in the horizon; median: mean of
        per-replication medians); sales_velocity_per_day (bookings of horizon-created deals per
        day: leads x win rate x mean won value / mean cycle, as realised)."""
        won_n = self.stack("won_n_created").sum()
        closed = self.stack("closed_n_created").sum()
        cyc_n = self.stack("cycle_n").sum()
        med = self.stack("cycle_median")
        return {
            "win_rate": float(won_n / closed) if closed else float("nan"),
            "cycle_time_mean_days": float(self.stack("cycle_sum").sum() / cyc_n)
            if cyc_n else float("nan"),
            "cycle_time_median_days": float(np.nanmean(med)) if np.isfinite(med).any()
            else float("nan"),
            "sales_velocity_per_day": float(self.stack("won_value_created").mean()
                                            / self.plan.horizon_days),
            "leads_per_replication": float(self.stack("leads").mean()),
        }

    @cached_property
    def coverage(self) -> pd.DataFrame:
        """At each horizon month end: month; open_pipeline_value (currency, deals open or
        queued, at their full value); open_deals; cumulative_bookings; remaining_target
        (company target - cumulative bookings); coverage (open_pipeline_value /
        remaining_target, mean over replications where the target is not yet met); headcount
        (seated reps). All means over replications."""
        ov, oc = self.stack("open_value"), self.stack("open_count")
        cum = np.cumsum(self.stack("bookings").sum(axis=1), axis=1)
        df = pd.DataFrame({
            "month": self.months,
            "open_pipeline_value": ov.mean(axis=0),
            "open_deals": oc.mean(axis=0),
            "cumulative_bookings": cum.mean(axis=0),
            "headcount": self.stack("headcount").mean(axis=0),
        })
        if self.target is not None:
            remaining = self.target - cum
            with np.errstate(invalid="ignore", divide="ignore"):
                ratio = np.where(remaining > 0, ov / np.where(remaining > 0, remaining, 1),
                                 np.nan)
            df["remaining_target"] = remaining.mean(axis=0)
            df["coverage"] = [float(np.nanmean(c)) if np.isfinite(c).any() else float("nan")
                              for c in ratio.T]
        return df

    @cached_property
    def flow(self) -> pd.DataFrame:
        """Deal flow per replication and rep (counts): carried_in (open at the horizon start),
        created (horizon leads whose final rep it is), won, lost, open_end (open at the
        horizon end, from deal records), open_live (same, from the live queue state)."""
        n, R = self.replications, len(self.rep_ids)
        return pd.DataFrame({
            "replication": np.repeat(np.arange(n), R),
            "rep": np.tile(np.array(self.rep_ids, dtype=object), n),
            "carried_in": self.stack("carried_in").ravel(),
            "created": self.stack("created").ravel(),
            "won": self.stack("won").sum(axis=2).ravel(),
            "lost": self.stack("lost").ravel(),
            "open_end": self.stack("open_end").ravel(),
            "open_live": self.stack("open_live").ravel(),
        })

    @cached_property
    def reps(self) -> pd.DataFrame:
        """Per rep (means over replications): rep, region, capacity; utilisation (slot-days
        worked / (capacity x days seated), in the horizon); mean_wait_days (arrival to first
        contact of its horizon leads, pooled); won_deals; bookings, bookings_p10,
        bookings_p90; sourced_deals (deals it created itself in the horizon);
        sourcing_blocked (deals it would have sourced but every slot was busy); departures;
        seated_days; and with quotas: quota,
        expected_attainment (mean of bookings / quota), p_attain_100 (share of replications
        with bookings >= quota)."""
        busy, seat = self.stack("busy"), self.stack("seated_days")
        cap = np.asarray(self.plan.rep_capacity, dtype=float)
        ws, wn = self.stack("wait_sum").sum(axis=0), self.stack("wait_n").sum(axis=0)
        rb = self.rep_bookings()
        with np.errstate(invalid="ignore", divide="ignore"):
            util = busy.sum(axis=0) / (cap * seat.sum(axis=0))
            wait = ws / wn
        df = pd.DataFrame({
            "rep": self.rep_ids,
            "region": np.array(self.plan.region_ids, dtype=object)[self.plan.rep_region],
            "capacity": self.plan.rep_capacity,
            "utilisation": util,
            "mean_wait_days": wait,
            "won_deals": self.stack("won").sum(axis=2).mean(axis=0),
            "bookings": rb.mean(axis=0),
            "bookings_p10": np.percentile(rb, 10, axis=0),
            "bookings_p90": np.percentile(rb, 90, axis=0),
            "sourced_deals": self.stack("sourced").mean(axis=0),
            "sourcing_blocked": self.stack("sourcing_blocked").mean(axis=0),
            "departures": self.stack("departures").mean(axis=0),
            "seated_days": seat.mean(axis=0),
        })
        if self.quotas:
            q = np.array([self.quotas.get(r, np.nan) for r in self.rep_ids])
            att = rb / q
            df["quota"] = q
            df["expected_attainment"] = att.mean(axis=0)
            df["p_attain_100"] = np.where(np.isnan(q), np.nan, (att >= 1.0).mean(axis=0))
        return df

    def attainment(self) -> np.ndarray | None:
        """[replication, rep] bookings / quota (None without quotas)."""
        if not self.quotas:
            return None
        q = np.array([self.quotas.get(r, np.nan) for r in self.rep_ids])
        return self.rep_bookings() / q

    @cached_property
    def summary(self) -> dict[str, Any]:
        """replications, seed, scenario, routing, currency; bookings and won_deals (each mean,
        ci95 [lo, hi], sd, se, p10, p50, p90); target and p_hit_target (share of replications
        with company bookings >= target) with its Wilson 95% interval p_hit_target_ci95; leads,
        sourced_deals, unrouted_leads (means); quotas: rep -> {quota, expected_attainment,
        p_attain_100}."""
        tb = self.total_bookings()
        out: dict[str, Any] = {
            "scenario": self.plan.scenario.name,
            "replications": self.replications,
            "seed": self.seed,
            "routing": self.routing.name if self.routing is not None else None,
            "currency": self.currency,
            "bookings": describe(tb),
            "won_deals": describe(self.total_won()),
            "leads": float(self.stack("leads").mean()),
            "sourced_deals": float(self.stack("sourced").sum(axis=1).mean()),
            "unrouted_leads": float(self.stack("unrouted").sum(axis=1).mean()),
            "unrouted_initial_deals": float(self.stack("unrouted_initial").mean()),
        }
        if self.target is not None:
            p = float((tb >= self.target).mean())
            out["target"] = self.target
            out["p_hit_target"] = p
            out["p_hit_target_ci95"] = list(wilson_interval(p, self.replications))
        if self.quotas:
            reps = self.reps.set_index("rep")
            out["quotas"] = {r: {"quota": float(reps.at[r, "quota"]),
                                 "expected_attainment": float(reps.at[r, "expected_attainment"]),
                                 "p_attain_100": float(reps.at[r, "p_attain_100"])}
                             for r in self.rep_ids if r in self.quotas}
        return out
