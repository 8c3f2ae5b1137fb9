# ruff: noqa: N806  (single capitals follow the model notation: S stages, H horizon...)
"""One replication, reduced to compact arrays (what crosses process boundaries).

Horizon accounting (times in days since the horizon start ``0``; ``H`` = horizon end):

- a deal is *created* in the horizon if its lead arrived in ``[0, H)``; it is *carried in* if it
  was created before 0 (warm-up or initial pipeline) and still open at 0;
- *won* / *lost* in the horizon: closed in ``[0, H)``; bookings are the values of deals won in the
  horizon, by close month, including carried-in deals (they close inside the horizon), never
  deals closed during the warm-up;
- *open at the end*: close date ``>= H`` (including leads still queued for first contact);
- *unrouted*: leads for which no rep was eligible when they arrived (no rep of their region
  serving their segment was seated). They are reported, not silently dropped.

So per rep, ``carried_in + created = won + lost + open_end``, and ``open_end`` is also counted
from the live queue state at the horizon end (``open_live``), a separate derivation.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .engine import DealTable, run_engine
from .plan import Plan
from .routing import RoutingStrategy
from .streams import Streams, replication_seed

__all__ = ["PayDetail", "ReplicationOutput", "deals_frame", "run_replication"]


@dataclass
class ReplicationOutput:
    """Compact results of one replication. Shapes: R reps, M horizon months, S stages,
    P products, G segments, Q regions. Money in currency, times in days."""

    index: int
    bookings: np.ndarray        # [R, M] value won, by close month
    won: np.ndarray             # [R, M] deals won
    bookings_product: np.ndarray  # [P, M]
    bookings_segment: np.ndarray  # [G, M]
    won_product: np.ndarray     # [P, M]
    won_segment: np.ndarray     # [G, M]
    created: np.ndarray         # [R] horizon deals of the rep (final rep): routed leads, sourced
    sourced: np.ndarray         # [R] of which the rep sourced itself
    sourcing_blocked: np.ndarray  # [R] sourcing it could not do: every slot busy
    carried_in: np.ndarray      # [R]
    lost: np.ndarray            # [R]
    open_end: np.ndarray        # [R]
    open_live: np.ndarray       # [R] from the live queue state at the horizon end
    unrouted: np.ndarray        # [Q] horizon leads with no eligible rep, by region
    leads: int                  # horizon leads created (not counting rep-sourced deals)
    unrouted_initial: int       # initial-pipeline deals whose owner was absent, nobody eligible
    wait_sum: np.ndarray        # [R] days from arrival to first contact, horizon leads
    wait_n: np.ndarray          # [R]
    busy: np.ndarray            # [R] slot-days worked in the horizon
    seated_days: np.ndarray     # [R] days seated in the horizon
    departures: np.ndarray      # [R]
    stage_entered: np.ndarray   # [S]
    stage_advanced: np.ndarray  # [S]
    stage_lost: np.ndarray      # [S]
    stage_days_sum: np.ndarray  # [S] time in stage over completed passes
    stage_days_median: np.ndarray  # [S]
    cycle_sum: float            # created -> won, days, over deals won in the horizon
    cycle_n: int
    cycle_median: float
    won_value_created: float    # value won from horizon-created deals
    won_n_created: int
    closed_n_created: int
    open_value: np.ndarray      # [M] open pipeline value at each month end
    open_count: np.ndarray      # [M] open deals (incl. queued leads) at each month end
    headcount: np.ndarray       # [M] seated reps at each month end
    deals: pd.DataFrame | None = None
    pay_detail: PayDetail | None = None  # when the scenario has a pay plan


@dataclass
class PayDetail:
    """Won value and deals by rep, product (or segment) and close month: what pay plans credit
    (measure weights and SPIFs by product or segment). Kept only for scenarios with a
    ``compensation`` section (it is R x P x M per replication)."""

    bookings_product: np.ndarray  # [R, P, M]
    won_product: np.ndarray       # [R, P, M]
    bookings_segment: np.ndarray  # [R, G, M]
    won_segment: np.ndarray       # [R, G, M]


def run_replication(plan: Plan, seed: int, index: int, strategy: RoutingStrategy,
                    keep_deals: bool) -> ReplicationOutput:
    """Run replication ``index`` of ``seed`` (its own child seed) and reduce it."""
    table = run_engine(plan, Streams(replication_seed(seed, index)), strategy)
    out = reduce_table(plan, table, index)
    if keep_deals:
        out.deals = deals_frame(plan, table, index)
    return out


def _month(plan: Plan, t: np.ndarray) -> np.ndarray:
    e = plan.edges[plan.warmup_months:]
    return np.clip(np.searchsorted(e, t, side="right") - 1, 0, len(plan.months) - 1)


def _sum_along(x: np.ndarray) -> np.ndarray:
    """Row sums of ``x`` added strictly left to right (not numpy's pairwise summation): the
    rounding of summing the [n, S] transpose down its columns, which earlier versions did."""
    return np.cumsum(x, axis=1)[:, -1] if x.shape[1] else np.zeros(x.shape[0])


@dataclass(frozen=True)
class _Funnel:
    """Per stage, over horizon-created routed deals: entered, advanced, lost, days in stage of
    completed passes (sum and median)."""

    entered: np.ndarray
    advanced: np.ndarray
    lost: np.ndarray
    days_sum: np.ndarray
    days_median: np.ndarray


def _funnel(plan: Plan, tb: DealTable, c: np.ndarray) -> _Funnel:
    """The funnel of deals ``c``, stage by stage: [S, deals] arrays (rows are contiguous, so
    every broadcast runs along the long axis)."""
    H, S = plan.horizon_days, plan.n_stages
    st, exc, en = tb.start[c], tb.exit[c], tb.end[c]
    cm = np.take(tb.cum.T, c, axis=1)  # [S + 1, deals], C order (unlike tb.cum.T[:, c])
    ks = np.arange(S)[:, None]
    entry = st + cm[:S]
    leave = np.minimum(st + cm[1:], en)
    leave[S - 1] = en
    inside = ks >= tb.entry[c]  # stages from the one the deal entered at (sourced deals)
    reached = (exc >= ks) & inside
    entered = reached & (entry < H)
    advanced = (exc > ks) & inside & (leave < H)
    lost_k = reached & (exc == ks) & (en < H)
    done = advanced | lost_k
    span = leave - entry
    days = np.where(done, span, 0.0)  # time in stage of completed passes, else 0
    with np.errstate(all="ignore"):
        med = np.array([np.median(span[k][done[k]]) if done[k].any() else np.nan
                        for k in range(S)])
    return _Funnel(entered.sum(axis=1), advanced.sum(axis=1), lost_k.sum(axis=1),
                   _sum_along(days), med)


def _open_by_month(plan: Plan, tb: DealTable, routed: np.ndarray
                   ) -> tuple[np.ndarray, np.ndarray]:
    """Value and count of routed deals open at each horizon month end e (arrived by e, not
    closed by e): the arrivals by e minus the closes by e."""
    M = len(plan.months)
    edges_h = plan.edges[plan.warmup_months + 1:]
    v = tb.leads.value[routed]
    came = np.searchsorted(edges_h, tb.leads.arrival[routed], side="left")  # first end >= arr
    went = np.searchsorted(edges_h, tb.end[routed], side="left")  # first month end >= end
    value = (np.bincount(came, weights=v, minlength=M + 1)[:M].cumsum()
             - np.bincount(went, weights=v, minlength=M + 1)[:M].cumsum())
    count = (np.bincount(came, minlength=M + 1)[:M].cumsum()
             - np.bincount(went, minlength=M + 1)[:M].cumsum())
    return value, count


def reduce_table(plan: Plan, tb: DealTable, index: int) -> ReplicationOutput:
    """One replication's deals reduced to the counts and sums of :class:`ReplicationOutput`
    (accounting rules in the module docstring)."""
    H, S, M, R = plan.horizon_days, plan.n_stages, len(plan.months), plan.n_reps
    P, G, Q = len(plan.product_ids), len(plan.segment_ids), len(plan.region_ids)
    L = tb.leads
    arr, rep, end, ex, start = L.arrival, tb.rep, tb.end, tb.exit, tb.start
    routed = rep >= 0
    in_h = (end >= 0) & (end < H)
    won = routed & (ex == S) & in_h
    lost = routed & (ex < S) & in_h
    open_end = routed & (end >= H)
    created = arr >= 0
    carried = routed & (arr < 0) & (end >= 0)
    is_sourced = np.arange(len(L)) >= tb.n_leads
    wi = np.flatnonzero(won)  # won deals in deal order (the order bincount adds them in)
    m = _month(plan, end[wi])
    wv = L.value[wi]

    def grid(keys: np.ndarray, n: int, w: np.ndarray | None) -> np.ndarray:
        return np.bincount(keys[wi] * M + m, weights=w,
                           minlength=n * M).reshape(n, M).astype(float if w is not None
                                                                  else np.int64)

    rep0 = np.maximum(rep, 0)
    detail = None
    if plan.scenario.compensation is not None:
        detail = PayDetail(bookings_product=grid(rep0 * P + L.product, R * P, wv).reshape(R, P, M),
                           won_product=grid(rep0 * P + L.product, R * P, None).reshape(R, P, M),
                           bookings_segment=grid(rep0 * G + L.segment, R * G, wv
                                                 ).reshape(R, G, M),
                           won_segment=grid(rep0 * G + L.segment, R * G, None).reshape(R, G, M))
    contacted = created & routed & (start < H)
    wait = start - arr
    c = np.flatnonzero(created & routed)
    f = _funnel(plan, tb, c)
    cyc = (end - arr)[won]
    open_value, open_count = _open_by_month(plan, tb, routed)
    d = tb.desk
    return ReplicationOutput(
        index=index,
        bookings=grid(rep0, R, wv), won=grid(rep0, R, None),
        bookings_product=grid(L.product, P, wv), bookings_segment=grid(L.segment, G, wv),
        won_product=grid(L.product, P, None), won_segment=grid(L.segment, G, None),
        created=np.bincount(rep0[c], minlength=R),
        sourced=np.bincount(rep0[created & is_sourced], minlength=R),
        sourcing_blocked=tb.sourcing_blocked,
        carried_in=np.bincount(rep0[carried], minlength=R),
        lost=np.bincount(rep0[lost], minlength=R),
        open_end=np.bincount(rep0[open_end], minlength=R),
        open_live=tb.open_live,
        unrouted=np.bincount(L.region[created & ~routed], minlength=Q),
        leads=int((created & ~is_sourced).sum()),
        unrouted_initial=int((~routed[:tb.n_initial]).sum()),
        wait_sum=np.bincount(rep0[contacted], weights=wait[contacted], minlength=R),
        wait_n=np.bincount(rep0[contacted], minlength=R),
        busy=tb.busy, seated_days=np.array(d.active_days), departures=np.array(d.departures),
        stage_entered=f.entered, stage_advanced=f.advanced, stage_lost=f.lost,
        stage_days_sum=f.days_sum, stage_days_median=f.days_median,
        cycle_sum=float(cyc.sum()), cycle_n=int(cyc.size),
        cycle_median=float(np.median(cyc)) if cyc.size else float("nan"),
        won_value_created=float(L.value[won & created].sum()),
        won_n_created=int((won & created).sum()),
        closed_n_created=int(((won | lost) & created).sum()),
        open_value=open_value, open_count=open_count, headcount=tb.headcount,
        pay_detail=detail,
    )


OUTCOMES = np.array(["lost", "won"])


def deals_frame(plan: Plan, tb: DealTable, index: int) -> pd.DataFrame:
    """Per-deal records of one replication (deals created in, or carried into, the horizon).

    Columns: replication; deal_id (``D<n>`` initial pipeline, ``L<n>`` leads in arrival order,
    ``S<n>`` rep-sourced deals in time order); source (lead source id, ``initial_pipeline`` for
    table deals, ``rep_sourced``); region; segment; product;
    grade; account; rep (final rep, empty if unrouted); created_date, first_contact_date,
    closed_date (days since horizon start; NaN when not in the horizon or not yet);
    wait_time (days from creation to first contact); last_stage (stage lost at, the last stage
    for won deals, the stage reached at the horizon end for open ones); outcome
    (won/lost/open/unrouted); value (deal value, currency; booked only if won); reassigned
    (``reassigned`` or ``lost_on_departure`` when its rep left, else empty).
    """
    H, S = plan.horizon_days, plan.n_stages
    L = tb.leads
    arr, rep, end, ex, start = L.arrival, tb.rep, tb.end, tb.exit, tb.start
    keep = (arr >= 0) | ((rep >= 0) & (end >= 0))
    idx = np.flatnonzero(keep)
    routed = rep[idx] >= 0
    outcome = np.where(~routed, "unrouted",
                       np.where(end[idx] >= H, "open", np.where(ex[idx] == S, "won", "lost")))
    # the stage reached at the horizon end, for open deals
    pos = np.minimum(H, end[idx]) - start[idx]
    at_h = np.array([max(0, min(S - 1, int(np.searchsorted(tb.cum[i], p, side="right")) - 1))
                     if np.isfinite(p) else 0 for i, p in zip(idx, pos, strict=True)], dtype=int)
    last = np.where(outcome == "open", at_h, np.minimum(ex[idx], S - 1))
    names = np.array(plan.stage_names, dtype=object)
    n0, nl = tb.n_initial, tb.n_leads
    src_names = np.array([s.id for s in plan.scenario.lead_sources]
                         + ["rep_sourced", "initial_pipeline"], dtype=object)
    rep_names = np.array([*plan.rep_ids, ""], dtype=object)
    acc_names = np.array([*plan.account_ids, ""], dtype=object)
    contact = np.where((start[idx] >= 0) & (start[idx] < H) & (idx >= n0), start[idx], np.nan)
    ids = [f"D{i + 1}" if i < n0 else f"L{i - n0 + 1}" if i < nl else f"S{i - nl + 1}"
           for i in idx]
    closed = np.where((outcome == "won") | (outcome == "lost"), end[idx], np.nan)
    flag = np.array(["", "reassigned", "lost_on_departure"], dtype=object)[tb.flag[idx]]
    return pd.DataFrame({
        "replication": index,
        "deal_id": ids,
        "source": src_names[L.source[idx]],
        "region": np.array(plan.region_ids, dtype=object)[L.region[idx]],
        "segment": np.array(plan.segment_ids, dtype=object)[L.segment[idx]],
        "product": np.array(plan.product_ids, dtype=object)[L.product[idx]],
        "grade": np.where((idx < n0) | (idx >= nl), "",
                          np.array(plan.grade_ids, dtype=object)[L.grade[idx]]),
        "account": acc_names[L.account[idx]],
        "rep": rep_names[rep[idx]],
        "created_date": arr[idx],
        "first_contact_date": contact,
        "wait_time": contact - arr[idx],
        "last_stage": names[np.where(routed, last, 0)],
        "outcome": outcome,
        "closed_date": closed,
        "value": L.value[idx],
        "reassigned": flag,
    })
