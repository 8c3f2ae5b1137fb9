"""Rep-sourced deals: the rate at which reps create opportunities themselves (outbound
prospecting, referrals, expansion), from the deals the export marks as rep-sourced (the
mapping's ``rep_sourced`` values of its ``sourced_by`` column).

The model is the scenario's (``policies.sourcing``): a seated, ramped rep ``r`` of productivity
``p_r`` creates deals as a Poisson process of ``lambda x p_r`` a month. Over the fully observed
months before the cut (the lead sources' window), with ``m_r`` the months rep ``r`` was seated
and ``k_r`` the rep-sourced deals it created in them, the maximum-likelihood rate is
``lambda = K / E``, ``K = sum k_r``, ``E = sum p_r m_r`` (productivity-weighted rep-months; a
calibrated scenario has no ramp, so every seated month counts in full). The 95% interval is the
exact Poisson (Garwood) interval of ``K`` over ``E`` when the reps' counts are no more
dispersed than Poisson; when they are (Pearson dispersion ``phi`` over the ``R`` reps above 1:
some reps source more than others, a negative-binomial margin), it is the quasi-Poisson interval
``lambda exp(+-t sqrt(phi / K))``, ``t`` the 97.5% quantile of Student's t with ``R - 1``
degrees of freedom (``phi`` is estimated from them). On generated data (rep rates gamma with CV
0.5, 5 to 30 reps, 6 to 24 months each) it covers the mean rate 93-95% of the time; the exact
Poisson interval alone covers it about 40% of the time.

*Seated months.* The export has no start or leave dates: a rep counts as seated from the month
of its first deal known at the cut (created or closed, whoever sourced it) to the month of its
last, or to the end of the window when it holds a deal open at the cut, within the window.

*Pooled, not per rep.* The scenario scales a rep's sourcing by its productivity (the
empirical-Bayes win-rate multiplier of :mod:`.reps`); a second per-rep multiplier for
sourcing alone would be estimated from a handful of deals per rep and break that tie. The
per-rep counts and the dispersion are reported so that a planner can see the spread.

The deals counted here are taken out of the arrivals (:func:`~.lead_sources.lead_sources` fits
the others), so no opportunity is counted twice. Where the export cannot say who sourced a deal
(no ``sourced_by`` column, as in Maven; blank on every deal; no owners; no seated rep-months),
the rate is not estimable: every opportunity is a routed lead and sourcing stays off (0).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from salesplan.scenarios.crm.mapping import norm_key

from .cut import CutHistory
from .documents import rounded
from .reps import RepEstimates

__all__ = ["RepSourcing", "SourcingRate", "fit_sourcing_rate", "rep_sourcing", "seated_months"]

@dataclass(frozen=True)
class SourcingRate:
    """The pooled rate of rep-sourced deals (module docstring): ``rate`` per productivity-
    weighted seated rep-month, its standard error ``se`` (``sqrt(max(phi, 1) K) / E``), 95%
    interval ``ci``, the ``deals`` counted (``K``), the ``exposure`` (``E``), the ``reps`` with
    seated months, the Pearson ``dispersion`` over reps (NaN below 2 reps) and the interval's
    ``method`` (``poisson-exact`` or ``quasi-poisson``)."""

    rate: float
    se: float
    ci: tuple[float, float]
    deals: int
    exposure: float
    reps: int
    dispersion: float
    method: str


def fit_sourcing_rate(counts: np.ndarray, exposure: np.ndarray) -> SourcingRate:
    """The pooled Poisson rate of ``counts`` (deals per rep) over ``exposure`` (productivity-
    weighted months per rep, > 0 somewhere) with its interval (module docstring)."""
    k = np.asarray(counts, dtype=float)
    e = np.asarray(exposure, dtype=float)
    keep = e > 0
    k, e = k[keep], e[keep]
    total_k, total_e = float(k.sum()), float(e.sum())
    if total_e <= 0:
        raise ValueError("no exposure: no seated rep-month")
    rate = total_k / total_e
    phi = float("nan")
    if k.size >= 2 and rate > 0:
        mu = rate * e
        phi = float(np.sum((k - mu) ** 2 / mu) / (k.size - 1))
    if k.size >= 2 and total_k > 0 and phi > 1:
        half = float(stats.t.ppf(0.975, k.size - 1)) * math.sqrt(phi / total_k)
        ci = (rate * math.exp(-half), rate * math.exp(half))
        method = "quasi-poisson"
    else:
        lo = 0.0 if total_k == 0 else float(stats.chi2.ppf(0.025, 2 * total_k)) / 2
        hi = float(stats.chi2.ppf(0.975, 2 * total_k + 2)) / 2
        ci = (lo / total_e, hi / total_e)
        method = "poisson-exact"
    se = math.sqrt(max(phi if math.isfinite(phi) else 1.0, 1.0) * total_k) / total_e
    return SourcingRate(rate=rate, se=se, ci=ci, deals=int(total_k), exposure=total_e,
                        reps=int(k.size), dispersion=phi, method=method)


@dataclass
class RepSourcing:
    """What the calibration says about rep-sourced deals.

    ``fit``: the pooled rate (None: not estimable, ``reason`` says why); ``deal_ids``: the
    deals counted (rep-sourced, created in the window by a seated scenario rep), which the
    arrivals leave out; ``by_rep``: per rep, the seated months and the deals counted;
    ``summary``: the column, its values and counts; ``notes``."""

    fit: SourcingRate | None
    reason: str | None = None
    deal_ids: frozenset[str] = frozenset()
    window: tuple[str, str] | None = None
    by_rep: list[dict[str, Any]] = field(default_factory=list)
    summary: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @property
    def estimable(self) -> bool:
        return self.fit is not None

    @property
    def not_estimated(self) -> str | None:
        """The sentence for ``not_estimated`` when the rate is not estimable (else None)."""
        if self.fit is not None:
            return None
        return (f"rep-sourced rate not estimable: {self.reason}; every opportunity is treated "
                "as a routed lead, sourcing off")

    def policy_document(self) -> dict[str, Any] | None:
        """The scenario's ``policies.sourcing`` (None: not estimable, the default 0 stands)."""
        if self.fit is None:
            return None
        return {"per_rep_per_month": rounded(self.fit.rate, 4)}

    def to_dict(self) -> dict[str, Any]:
        """The estimate for ``calibration.json["sourcing"]``."""
        if self.fit is None:
            return {"estimable": False, "per_rep_per_month": 0.0, "note": self.not_estimated,
                    **self.summary}
        f = self.fit
        return {
            "estimable": True, "per_rep_per_month": f.rate, "se": f.se, "ci": list(f.ci),
            "interval": f.method, "dispersion": f.dispersion, "deals": f.deals,
            "rep_months": float(sum(r["seated_months"] for r in self.by_rep)),
            "productivity_weighted_rep_months": f.exposure, "reps": f.reps,
            "window": list(self.window or ()), **self.summary,
            "model": "Poisson per seated rep-month x productivity, pooled over reps "
                     "(simulator/calibration/sourcing.py)",
            "by_rep": self.by_rep,
        }


def seated_months(deals: pd.DataFrame, reps: list[str], first: pd.Period, last: pd.Period
                  ) -> pd.DataFrame:
    """Per rep of ``reps``: ``seated_from`` and ``seated_to`` (months, within ``first``..
    ``last``; None when the rep was not seated then) and ``seated_months``: from the month of
    its first deal (created or closed) to the month of its last, or to ``last`` while it holds
    an open deal (module docstring)."""
    own = deals[deals["owner"].isin(reps)]
    start = own["created_date"].fillna(own["close_date"])
    end = own["close_date"].where(own["outcome"].ne("open")).fillna(own["created_date"])
    end_m = end.dt.to_period("M").where(own["outcome"].ne("open"), last)
    spans = pd.DataFrame({"rep": own["owner"], "start": start.dt.to_period("M"), "end": end_m})
    starts = spans.groupby("rep")["start"].min().to_dict()
    ends = spans.groupby("rep")["end"].max().to_dict()
    rows = []
    for r in sorted(reps):
        lo = max(starts[r], first) if r in starts else None
        hi = min(ends[r], last) if r in ends else None
        n = (hi - lo).n + 1 if lo is not None and hi >= lo else 0
        rows.append({"rep": r, "seated_from": str(lo) if n else None,
                     "seated_to": str(hi) if n else None, "seated_months": n})
    return pd.DataFrame(rows, columns=["rep", "seated_from", "seated_to", "seated_months"])


def _reason(cut: CutHistory, in_window: pd.DataFrame) -> str | None:
    """Why the export cannot give the rate (None: it can)."""
    m, full = cut.mapping, cut.full
    column = m.columns.get("sourced_by")
    if column is None:
        return "the export does not say who sourced a deal"
    if not full.has("sourced_by"):
        return (f"the export does not say who sourced a deal (column {column!r}, mapped to "
                "sourced_by, is not in the file)")
    if not full.has("owner") or cut.deals["owner"].isna().all():
        return "the export names no deal owner, so seated rep-months cannot be counted"
    if in_window["rep_sourced"].isna().all():
        return (f"column {column!r} (sourced_by) is blank on every deal created in the "
                "window")
    return None


def _value_summary(cut: CutHistory, in_window: pd.DataFrame) -> dict[str, Any]:
    """The sourced_by column, the mapping's values, and the deals of the window by value."""
    m = cut.mapping
    if m.columns.get("sourced_by") is None:
        return {}
    vals = in_window["sourced_by"].fillna("(blank)").value_counts().sort_index()
    return {"column": m.columns["sourced_by"], "rep_sourced_values": list(m.rep_sourced),
            "routed_values": m.routed,
            "deals_in_window_by_value": {str(k): int(v) for k, v in vals.items()}}


def rep_sourcing(cut: CutHistory, deals: pd.DataFrame, reps: RepEstimates,
                 window: tuple[pd.Period, pd.Period]) -> RepSourcing:
    """The rep-sourced rate of ``deals`` (the known deals with their dimensions filled) over
    the seated months of the scenario ``reps`` in ``window`` (the lead sources' fully observed
    months), or why it cannot be estimated (module docstring)."""
    first, last = window
    month = deals["created_date"].dt.to_period("M")
    in_window = deals[deals["created_date"].notna() & (month >= first) & (month <= last)]
    summary = _value_summary(cut, in_window)
    reason = _reason(cut, in_window)
    if reason is not None:
        return RepSourcing(fit=None, reason=reason, summary=summary)
    prod = {d["id"]: float(d["productivity"]) for d in reps.documents}
    seats = seated_months(deals, sorted(prod), first, last)
    seats["productivity"] = seats["rep"].map(prod)
    of_rep = in_window[in_window["owner"].isin(prod)]
    counted = of_rep[of_rep["rep_sourced"].fillna(False).astype(bool)]
    seats["rep_sourced"] = seats["rep"].map(counted.groupby("owner").size()).fillna(0).astype(int)
    seats["routed"] = seats["rep"].map(of_rep.groupby("owner").size()).fillna(0).astype(int)
    seats["routed"] -= seats["rep_sourced"]
    seats["unknown"] = seats["rep"].map(of_rep["rep_sourced"].isna().groupby(
        of_rep["owner"]).sum()).fillna(0).astype(int)
    exposure = (seats["seated_months"] * seats["productivity"]).to_numpy(dtype=float)
    if exposure.sum() <= 0:
        return RepSourcing(fit=None, reason="no deal created in the window is owned by a rep "
                           "of the scenario, so no rep-month is seated", summary=summary)
    fit = fit_sourcing_rate(seats["rep_sourced"].to_numpy(), exposure)
    seats["rate"] = seats["rep_sourced"] / seats["seated_months"].where(
        seats["seated_months"] > 0)
    return RepSourcing(fit=fit, deal_ids=frozenset(counted["id"]),
                       window=(str(first), str(last)),
                       by_rep=seats.to_dict(orient="records"),
                       summary={**summary, **_extras(fit, seats, in_window, counted)},
                       notes=_notes(fit, seats, in_window, counted, cut))


def _extras(fit: SourcingRate, seats: pd.DataFrame, in_window: pd.DataFrame,
            counted: pd.DataFrame) -> dict[str, Any]:
    """What else the estimate reports: the deals of unknown source (and the rate if they all
    were rep-sourced), the rep-sourced deals left out (no scenario owner), the mix of the
    deals counted and the parameters not estimated."""
    unknown = int(seats["unknown"].sum())
    rep_flag = in_window["rep_sourced"].fillna(False).astype(bool)
    return {
        "deals_unknown_source": unknown,
        "per_rep_per_month_if_unknown_were_rep_sourced": (fit.deals + unknown) / fit.exposure,
        "rep_sourced_without_scenario_owner": int(rep_flag.sum()) - len(counted),
        "share_of_deals_in_window": len(counted) / max(len(in_window), 1),
        "product_mix": {str(k): int(v) for k, v in
                        counted["product"].value_counts().sort_index().items()},
        "segment_mix": {str(k): int(v) for k, v in
                        counted["segment"].value_counts().sort_index().items()},
        "not_estimated": ["per_account_per_year (the market limit): the export holds no "
                          "account potential", "entry_stage: sourced deals enter the first "
                          "stage", "ramp: no start dates, every seated month counts in full"],
    }


def _notes(fit: SourcingRate, seats: pd.DataFrame, in_window: pd.DataFrame,
           counted: pd.DataFrame, cut: CutHistory) -> list[str]:
    """The notes a planner reads: the estimate, what left the arrivals, and what the mapping
    may have missed."""
    m = cut.mapping
    notes = [f"rep-sourced deals: {fit.deals} of {len(in_window)} deals created in the "
             f"window, over {int(seats['seated_months'].sum())} seated rep-months: "
             f"{fit.rate:.3f} per rep-month at productivity 1 (95% CI {fit.ci[0]:.3f}-"
             f"{fit.ci[1]:.3f}, {fit.method}); they are left out of the lead sources' "
             "arrivals"]
    unknown = int(seats["unknown"].sum())
    if unknown:
        notes.append(f"{unknown} deals of seated reps in the window do not say who sourced "
                     "them: counted as routed leads (the rate would be "
                     f"{(fit.deals + unknown) / fit.exposure:.3f} if they were all "
                     "rep-sourced)")
    left = int(in_window["rep_sourced"].fillna(False).astype(bool).sum()) - len(counted)
    if left:
        notes.append(f"{left} rep-sourced deals in the window have no owner among the "
                     "scenario's reps: left in the arrivals as routed leads")
    seen = set(in_window["sourced_by"].dropna().map(norm_key))
    unused = [v for v in m.rep_sourced if norm_key(v) not in seen]
    if unused:
        notes.append(f"rep_sourced value(s) {unused} appear on no deal of the window "
                     f"(column {m.columns['sourced_by']!r}): check the mapping's spelling")
    return notes

