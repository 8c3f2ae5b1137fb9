# ruff: noqa: N806  (single capitals follow the model notation: N replications, R reps, M months)
"""Payouts: what a pay plan pays each rep in each replication of simulated sales.

Inputs are arrays, so this module never imports the simulator: :class:`Sales` holds won value and
won deals by replication, rep, product (and segment) and close month, and the days each seat was
filled; :class:`PayTerms` holds what the plan and the quota plan say about each rep. For rep
``r`` in replication ``n`` (money in the scenario's currency):

- **credit** ``x[m]``: bookings closed in month ``m``, weighted by the role's
  ``product_weights`` or ``segment_weights`` (1 for what the weights do not list);
- **quota** ``q[m]`` and **target variable** ``v[m]``: the rep's quota for month ``m`` and its
  on-target variable pay for the month, ``ote * mix / 12`` times the share of the month the rep is
  planned to be seated;
- **attainment** at the end of payout period ``k`` of plan year ``y`` (12 months from the horizon
  start): ``A_k = X_k / Q_k``, the credit and quota summed from the year's first month to the
  period's last (``A_k = 0`` where ``Q_k = 0``);
- **earned** to date: ``E_k = V_k * f(A_k)``, ``V_k`` the target variable to date and ``f`` the
  commission curve (:mod:`.curve`);
- **commission paid** in period ``k``: ``c_k = E_k - P_{k-1}``, floored at 0 unless the plan claws
  back, where ``P_{k-1}`` is what the year paid before (commission, and a recoverable draw's
  advances). So the year pays ``max_k E_k`` without clawback and ``E_K`` with it: the cumulative
  true-up never pays a unit twice;
- **draw** top-up in period ``k`` (new hires, periods ending within ``draw.months`` of the start
  date): ``d_k = max(0, share * (V_k - V_{k-1}) - c_k)``; a recoverable draw counts in ``P``, so
  later commission pays it back; what is not recovered by the year end is forgiven;
- **SPIF** awards: ``per_deal`` per won deal plus ``rate`` times bookings of the SPIF's product or
  segment in its months, for the SPIF's roles (not capped);
- **base** salary: ``ote * (1 - mix) / 365.25`` per day the seat was filled in the replication
  (simulated attrition and backfills included).

Total pay is base + commission + draw + SPIF, per rep and replication; variable pay is the last
three.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from salesplan.scenarios.compensation import Compensation, PayPlan
from salesplan.scenarios.model import Scenario

from ..quotas.context import months_between
from .curve import commission_fraction

__all__ = ["PayTerms", "Payouts", "Sales", "compute_payouts", "pay_terms", "payout_periods"]

DAYS_PER_YEAR = 365.25


@dataclass(frozen=True)
class Sales:
    """Simulated sales by replication (N), rep (R), product (P) or segment (G), close month (M).

    ``bookings_product``/``won_product``: [N, R, P, M] won value (currency) and won deals;
    ``bookings_segment``/``won_segment``: [N, R, G, M]; ``seated_days``: [N, R] days the seat was
    filled during the horizon."""

    bookings_product: np.ndarray
    won_product: np.ndarray
    bookings_segment: np.ndarray
    won_segment: np.ndarray
    seated_days: np.ndarray

    @property
    def bookings(self) -> np.ndarray:
        """[N, R] bookings over the horizon."""
        return self.bookings_product.sum(axis=(2, 3))


@dataclass(frozen=True)
class PayTerms:
    """What the plan says for each rep (R reps, M months; money in currency).

    ``quota``: [R, M] quota by month; ``seated``: [R, M] share of each month the rep is planned
    to be seated; ``start_month``: [R] fractional horizon month of the start date (NaN: seated
    before the horizon); ``plans``: the pay plan of each rep's role."""

    rep_ids: list[str]
    plans: list[PayPlan]
    quota: np.ndarray
    seated: np.ndarray
    start_month: np.ndarray

    @property
    def target_variable(self) -> np.ndarray:
        """[R, M] on-target variable pay by month: ``ote * mix / 12`` x planned seating."""
        return np.array([p.target_variable / 12.0 for p in self.plans])[:, None] * self.seated

    @property
    def target_base(self) -> np.ndarray:
        """[R, M] base pay by month at planned seating: ``ote * (1 - mix) / 12`` x seating."""
        return np.array([p.base_salary / 12.0 for p in self.plans])[:, None] * self.seated


def pay_terms(scenario: Scenario, quota: np.ndarray, seated: np.ndarray) -> PayTerms:
    """Terms for the scenario's reps from ``quota`` ([R, M] by month, currency) and ``seated``
    ([R, M], the share of each month each rep is planned to be seated)."""
    comp = _compensation(scenario)
    plans = [comp.plan_for(r.role) for r in scenario.reps]
    start = scenario.horizon.start
    start_month = np.array([np.nan if r.start_date is None else months_between(start, r.start_date)
                            for r in scenario.reps])
    return PayTerms(rep_ids=[r.id for r in scenario.reps], plans=plans,
                    quota=np.asarray(quota, dtype=float),
                    seated=np.asarray(seated, dtype=float), start_month=start_month)


def _compensation(scenario: Scenario) -> Compensation:
    if scenario.compensation is None:
        raise ValueError(f"scenario {scenario.name!r} has no compensation section")
    return scenario.compensation


def payout_periods(months: int, period: str) -> list[tuple[int, int]]:
    """``(first, last)`` horizon month (0-based, inclusive) of every payout period: months,
    quarters or years counted from the horizon start, never crossing a plan year (12 months from
    the start); the horizon's last period may be short."""
    length = {"month": 1, "quarter": 3, "year": 12}[period]
    out = []
    for year_start in range(0, months, 12):
        year_end = min(year_start + 12, months)
        for first in range(year_start, year_end, length):
            out.append((first, min(first + length, year_end) - 1))
    return out


@dataclass
class Payouts:
    """Pay per replication (N) and rep (R), in currency; ``commission_by_period`` is [N, R, K]
    for the K payout periods of ``periods`` (labels ``YYYY-MM`` of each period's last month, per
    rep's plan: reps of plans with different periods are padded with zeros)."""

    rep_ids: list[str]
    base: np.ndarray
    commission: np.ndarray
    draw: np.ndarray
    spif: np.ndarray
    bookings: np.ndarray
    credit: np.ndarray
    quota: np.ndarray           # [R] horizon quota
    target_variable: np.ndarray  # [R] horizon on-target variable pay (planned seating)
    target_base: np.ndarray     # [R] horizon base pay at planned seating
    earned_max: np.ndarray  # [N, R] most earned to date in any period, summed over plan years
    commission_by_period: np.ndarray
    period_ends: list[int]

    @property
    def variable(self) -> np.ndarray:
        """[N, R] commission + draw top-ups + SPIF awards."""
        return self.commission + self.draw + self.spif

    @property
    def total(self) -> np.ndarray:
        """[N, R] base + variable."""
        return self.base + self.variable

    @property
    def attainment(self) -> np.ndarray:
        """[N, R] credited bookings over quota for the horizon (NaN for a zero quota)."""
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(self.quota > 0, self.credit / self.quota, np.nan)

    def share_at_on_target_pay(self) -> np.ndarray:
        """[N] share of reps with a target variable whose variable pay reaches it (NaN when no
        rep has one)."""
        has = self.target_variable > 0
        if not has.any():
            return np.full(self.total.shape[0], np.nan)
        return (self.variable[:, has] >= self.target_variable[has] - 1e-6).mean(axis=1)

    def share_at_quota(self, level: float = 1.0) -> np.ndarray:
        """[N] share of reps with a quota whose credit reaches ``level`` x quota (NaN when no
        rep has one)."""
        has = self.quota > 0
        if not has.any():
            return np.full(self.total.shape[0], np.nan)
        return (self.credit[:, has] >= level * self.quota[has] - 1e-6).mean(axis=1)

    @property
    def ote(self) -> np.ndarray:
        """[R] on-target earnings over the horizon (base + target variable, planned seating)."""
        return self.target_base + self.target_variable


def _credit(plan: PayPlan, sales: Sales, r: int, product_ids: list[str],
            segment_ids: list[str]) -> np.ndarray:
    """[N, M] credited bookings of rep ``r`` (measure weights applied)."""
    if plan.weights_by == "product":
        w = np.array([plan.product_weights.get(p, 1.0) for p in product_ids])
        return np.einsum("npm,p->nm", sales.bookings_product[:, r], w)
    if plan.weights_by == "segment":
        w = np.array([plan.segment_weights.get(g, 1.0) for g in segment_ids])
        return np.einsum("ngm,g->nm", sales.bookings_segment[:, r], w)
    return sales.bookings_product[:, r].sum(axis=1)


def _commission(plan: PayPlan, credit: np.ndarray, quota: np.ndarray, tv: np.ndarray,
                start_month: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[int]]:
    """Commission per period [N, K], draw top-ups per period [N, K] and the sum over plan years
    of the most earned to date [N] for one rep (formulas in the module docstring)."""
    N, M = credit.shape
    periods = payout_periods(M, plan.period)
    pay = np.zeros((N, len(periods)))
    draw = np.zeros((N, len(periods)))
    earned_max = np.zeros(N)
    paid = np.zeros(N)
    best = np.zeros(N)
    year_of = None
    for k, (first, last) in enumerate(periods):
        year = first // 12
        if year != year_of:  # a new plan year: cumulative sums restart
            earned_max += best
            year_of, paid, best = year, np.zeros(N), np.zeros(N)
            y0 = year * 12
        X = credit[:, y0:last + 1].sum(axis=1)
        Q = quota[y0:last + 1].sum()
        V = tv[y0:last + 1].sum()
        A = X / Q if Q > 0 else np.zeros(N)
        earned = V * commission_fraction(plan, A)
        c = earned - paid
        if not plan.clawback:
            c = np.maximum(c, 0.0)
        pay[:, k] = c
        paid = paid + c
        best = np.maximum(best, earned)
        if plan.draw is not None and np.isfinite(start_month) and (
                last + 1 <= start_month + plan.draw.months):
            guarantee = plan.draw.share * tv[first:last + 1].sum()
            top_up = np.maximum(guarantee - c, 0.0)
            draw[:, k] = top_up
            if plan.draw.recoverable:
                paid = paid + top_up
    earned_max += best
    return pay, draw, earned_max, [last for _, last in periods]


def _spif(comp: Compensation, terms: PayTerms, sales: Sales, months: list[str],
          product_ids: list[str], segment_ids: list[str]) -> np.ndarray:
    """[N, R] SPIF awards."""
    N, R = sales.seated_days.shape
    out = np.zeros((N, R))
    for s in comp.spifs:
        in_window = np.array([(s.start is None or m >= s.start) and (s.end is None or m <= s.end)
                              for m in months])
        roles = np.array([not s.roles or p.role in s.roles for p in terms.plans])
        if s.segment is not None:
            g = segment_ids.index(s.segment)
            value, won = sales.bookings_segment[:, :, g], sales.won_segment[:, :, g]
        elif s.product is not None:
            p = product_ids.index(s.product)
            value, won = sales.bookings_product[:, :, p], sales.won_product[:, :, p]
        else:
            value, won = sales.bookings_product.sum(axis=2), sales.won_product.sum(axis=2)
        award = (s.per_deal * won[..., in_window].sum(axis=-1)
                 + s.rate * value[..., in_window].sum(axis=-1))
        out += award * roles[None, :]
    return out


def compute_payouts(scenario: Scenario, terms: PayTerms, sales: Sales,
                    comp: Compensation | None = None) -> Payouts:
    """Pay of every rep in every replication (module docstring). ``comp`` overrides the
    scenario's compensation section (plans are then looked up again by role)."""
    comp = comp or _compensation(scenario)
    if comp is not scenario.compensation:
        terms = PayTerms(terms.rep_ids, [comp.plan_for(r.role) for r in scenario.reps],
                         terms.quota, terms.seated, terms.start_month)
    N, R = sales.seated_days.shape
    M = terms.quota.shape[1]
    months = [f"{d.year:04d}-{d.month:02d}" for d in scenario.horizon.month_starts()[:M]]
    products, segments = scenario.product_ids, scenario.segment_ids
    K = max(len(payout_periods(M, p.period)) for p in terms.plans)
    commission, draw = np.zeros((N, R)), np.zeros((N, R))
    credit, earned_max = np.zeros((N, R)), np.zeros((N, R))
    by_period = np.zeros((N, R, K))
    ends: list[int] = []
    tv = terms.target_variable
    for r, plan in enumerate(terms.plans):
        x = _credit(plan, sales, r, products, segments)
        pay, top, best, ends_r = _commission(plan, x, terms.quota[r],
                                             tv[r], terms.start_month[r])
        commission[:, r], draw[:, r], earned_max[:, r] = pay.sum(axis=1), top.sum(axis=1), best
        credit[:, r] = x.sum(axis=1)
        by_period[:, r, :pay.shape[1]] = pay
        if len(ends_r) > len(ends):
            ends = ends_r
    base_per_day = np.array([p.base_salary for p in terms.plans]) / DAYS_PER_YEAR
    return Payouts(
        rep_ids=list(terms.rep_ids),
        base=sales.seated_days * base_per_day[None, :],
        commission=commission, draw=draw,
        spif=_spif(comp, terms, sales, months, products, segments),
        bookings=sales.bookings, credit=credit,
        quota=terms.quota.sum(axis=1), target_variable=tv.sum(axis=1),
        target_base=terms.target_base.sum(axis=1),
        earned_max=earned_max, commission_by_period=by_period, period_ends=ends,
    )
