"""The closing-hazard model (age x month of quarter, stalled share per entry month): it
recovers known hazards and stalled shares, picks the calendar only when the data call for it,
and its forecast for the open pipeline matches what the generating process then does."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from salesplan.simulator.calibration import ClosingHazards, fit_closing_hazards

BIN = 14
# per-day won / lost hazards by age bin (rows: 0-13, 14-27, ... days) and month of quarter:
# nothing older than two weeks closes in a quarter's first month before the age of 56 days,
# and a deal that does not stall closes within 126 days (S(126) < 0.05)
H_WON = np.array([[0.040, 0.020, 0.030], [0.0, 0.030, 0.060], [0.0, 0.030, 0.070],
                  [0.0, 0.030, 0.060], [0.010, 0.012, 0.030], [0.010, 0.012, 0.030],
                  [0.010, 0.012, 0.030], [0.010, 0.012, 0.030], [0.010, 0.012, 0.030],
                  [0.0, 0.0, 0.0]])
H_LOST = np.array([[0.040, 0.040, 0.010], [0.0, 0.040, 0.010], [0.0, 0.030, 0.010],
                   [0.0, 0.030, 0.010], [0.010, 0.012, 0.005], [0.010, 0.012, 0.005],
                   [0.010, 0.012, 0.005], [0.010, 0.012, 0.005], [0.010, 0.012, 0.005],
                   [0.0, 0.0, 0.0]])
LAST = len(H_WON) - 1


def _generate(rng, start, months, per_month, stall, h_won, h_lost, until):
    """Deals created uniformly over ``months`` from ``start``; each stalls with its month's
    share, else closes day by day with the hazards; followed until ``until`` (exclusive)."""
    rows = []
    for m in range(months):
        first = start + pd.DateOffset(months=m)
        days = (first + pd.DateOffset(months=1) - first).days
        key = first.strftime("%Y-%m")
        for _ in range(per_month):
            created = first + pd.Timedelta(days=int(rng.integers(0, days)))
            if rng.random() < stall.get(key, stall["default"]):
                rows.append((created, pd.NaT, "open"))
                continue
            t = created
            out = "open"
            while t < until:
                age = (t - created).days
                b = min(age // BIN, len(h_won) - 1)
                q = (t.month - 1) % 3 if h_won.shape[1] == 3 else 0
                u = rng.random()
                if u < h_won[b, q]:
                    out = "won"
                    break
                if u < h_won[b, q] + h_lost[b, q]:
                    out = "lost"
                    break
                t += pd.Timedelta(days=1)
            rows.append((created, t if out != "open" else pd.NaT, out))
    return pd.DataFrame(rows, columns=["created_date", "close_date", "outcome"])


def _at(d: pd.DataFrame, cut: pd.Timestamp) -> pd.DataFrame:
    """What was known at the cut: later closes unknown (open), later deals absent."""
    d = d[d["created_date"] < cut].copy()
    later = d["close_date"] >= cut
    d.loc[later, "outcome"] = "open"
    d.loc[later, "close_date"] = pd.NaT
    return d


@pytest.fixture(scope="module")
def world():
    rng = np.random.default_rng(11)
    start, cut = pd.Timestamp("2021-01-01"), pd.Timestamp("2021-10-01")
    truth = _generate(rng, start, 9, 700, {"2021-07": 0.4, "default": 0.1}, H_WON, H_LOST,
                      cut + pd.Timedelta(days=150))
    known = _at(truth, cut)
    hz = fit_closing_hazards(known["created_date"], known["close_date"],
                             known["outcome"].to_numpy(), cut)
    return truth, known, hz, cut


def test_recovers_hazards():
    """Without stalled deals the hazards are those of every open deal: each well-observed
    cell within 3.5 Poisson standard errors of the truth."""
    rng = np.random.default_rng(3)
    start, cut = pd.Timestamp("2021-01-01"), pd.Timestamp("2021-10-01")
    known = _at(_generate(rng, start, 9, 500, {"default": 0.0}, H_WON, H_LOST, cut), cut)
    hz = fit_closing_hazards(known["created_date"], known["close_date"],
                             known["outcome"].to_numpy(), cut)
    assert hz.calendar  # the age-only alternative loses on AIC
    assert hz.alternative["age_only"]["aic"] > hz.aic
    for h, truth, n in ((hz.h_won, H_WON, hz.events_won), (hz.h_lost, H_LOST, hz.events_lost)):
        for b in range(min(LAST, hz.n_bins - 1)):
            for q in range(3):
                if hz.exposure[b, q] < 1000:
                    continue
                se = max(np.sqrt(max(n[b, q], 1.0)) / hz.exposure[b, q], 1e-4)
                assert abs(h[b, q] - truth[b, q]) < 3.5 * se, (b, q, h[b, q], truth[b, q])
    # nothing closes beyond the oldest observed close: no extrapolation
    assert hz.h_won[-1].sum() == 0 and hz.h_lost[-1].sum() == 0
    prof = hz.quarter_profile()
    assert prof["won"][2] > prof["won"][0] and prof["lost"][2] < prof["lost"][0]


def test_recovers_stalled_shares(world):
    _, _, hz, _ = world
    assert hz.calendar
    # the never-closing share: the stalled deals plus the few closing deals that outlive the
    # hazards, (1 - pi) S(end) with S(end) from the true hazards along the calendar
    truth = ClosingHazards(calendar=True, bin_days=BIN, n_bins=LAST + 1, h_won=H_WON,
                           h_lost=H_LOST,
                           exposure=H_WON, events_won=H_WON, events_lost=H_LOST,
                           pooled_stall=0.0, stall={}, stall_tau2=0.0, loglik=0.0, aic=0.0,
                           alternative={}, origin=hz.origin, moq=hz.moq)
    st = hz.stall

    def never(month: str, pi: float) -> float:
        first = pd.Timestamp(month + "-01")
        days = np.arange((first - hz.origin).days,
                         (first + pd.DateOffset(months=1) - hz.origin).days)
        return pi + (1 - pi) * float(truth.paths(days)[0][:, -1].mean())

    assert abs(st["2021-07"]["stall_share"] - never("2021-07", 0.4)) < 0.08
    for m in ("2021-02", "2021-03", "2021-04", "2021-05"):
        assert abs(st[m]["stall_share"] - never(m, 0.1)) < 0.04, m
        assert st[m]["stall_share_se"] > 0


@pytest.fixture(scope="module")
def even_world():
    """Every entry month stalls 10%: the population the pooled hazards describe."""
    rng = np.random.default_rng(11)
    start, cut = pd.Timestamp("2021-01-01"), pd.Timestamp("2021-10-01")
    truth = _generate(rng, start, 9, 700, {"default": 0.1}, H_WON, H_LOST,
                      cut + pd.Timedelta(days=150))
    known = _at(truth, cut)
    hz = fit_closing_hazards(known["created_date"], known["close_date"],
                             known["outcome"].to_numpy(), cut)
    later = truth.loc[known.index[known["outcome"].eq("open")]]
    return later, hz, cut


def _forecast_vs_actual(later, hz, cut, cohort, month=None):
    """(forecast wins, actual wins, standard error of a sum of Bernoullis) for the cohort's
    deals open at the cut, in one month after it or in all."""
    p, per_day = hz.cohort_p_won(cohort)
    mine = later[later["created_date"].dt.strftime("%Y-%m") == cohort]
    won = mine["outcome"].eq("won")
    if month is None:
        q = p
    else:
        days = (cut + pd.to_timedelta(np.arange(per_day.size), unit="D")).to_period("M")
        q = p * float(per_day[days == month].sum())
        won &= mine["close_date"].dt.to_period("M") == month
    n = len(mine)
    return n * q, int(won.sum()), np.sqrt(n * q * (1 - q)) + 1.0


def test_pipeline_forecast_matches_what_then_happens(even_world):
    """Wins of the deals open at the cut, per entry month: forecast vs the generating process's
    realisation, within 3 standard errors; a higher stalled share means fewer wins."""
    later, hz, cut = even_world
    total = 0.0
    for c in ("2021-07", "2021-08", "2021-09"):
        expect, actual, se = _forecast_vs_actual(later, hz, cut, c)
        assert abs(actual - expect) < 3 * se, (c, actual, expect)
        assert 0 < hz.cohort_p_won(c, stall_share=0.6)[0] < hz.cohort_p_won(c, 0.3)[0]
        total += expect
    assert total > 100  # wins to compare, not 0 with 0


@pytest.mark.xfail(strict=True, reason="known limitation (docs/calibration.md): the hazards are "
                   "pooled over creation days, so a cohort's split of its wins over months can "
                   "be off although its total is right (here September's December: 51.5 "
                   "forecast, 27 won)")
def test_pipeline_forecast_by_month(even_world):
    later, hz, cut = even_world
    for c in ("2021-07", "2021-08", "2021-09"):
        for mo in pd.period_range("2021-10", "2021-12", freq="M"):
            expect, actual, se = _forecast_vs_actual(later, hz, cut, c, mo)
            assert abs(actual - expect) < 3 * se, (c, str(mo), actual, expect)


def test_age_only_when_there_is_no_calendar():
    rng = np.random.default_rng(5)
    h_w = np.array([[0.030], [0.030], [0.025], [0.020], [0.0]])
    h_l = np.array([[0.030], [0.020], [0.020], [0.020], [0.0]])
    start, cut = pd.Timestamp("2021-01-01"), pd.Timestamp("2021-10-01")
    known = _at(_generate(rng, start, 9, 400, {"default": 0.1}, h_w, h_l, cut), cut)
    hz = fit_closing_hazards(known["created_date"], known["close_date"],
                             known["outcome"].to_numpy(), cut)
    assert not hz.calendar
    assert hz.alternative["calendar"]["aic"] > hz.aic
    assert hz.quarter_profile() is None
    dists, p_by_q, p_all = hz.new_deal_won_time(cut)
    assert len(dists) == 1 and abs(dists[0].sum() - 1) < 1e-9
    # P(won) of a new deal: (1 - stall) x the won cumulative incidence of the true hazards
    s, won = 1.0, 0.0
    for age in range(5 * BIN):
        b = min(age // BIN, 4)
        won += s * h_w[b, 0]
        s *= 1 - h_w[b, 0] - h_l[b, 0]
    assert p_all == pytest.approx(0.9 * won, abs=0.03)
    assert p_by_q == [pytest.approx(p_all)]


def test_young_cohort_takes_the_pooled_share():
    """Deals created the day before the cut: their closing deals would mostly still be open,
    so their open share says nothing about stalling; they get the pooled share."""
    rng = np.random.default_rng(8)
    start, cut = pd.Timestamp("2021-01-01"), pd.Timestamp("2021-09-02")
    d = _generate(rng, start, 8, 400, {"default": 0.1}, H_WON, H_LOST, cut)
    young = pd.DataFrame({"created_date": [pd.Timestamp("2021-09-01")] * 200,
                          "close_date": [pd.NaT] * 200, "outcome": ["open"] * 200})
    known = _at(pd.concat([d, young], ignore_index=True), cut)
    hz = fit_closing_hazards(known["created_date"], known["close_date"],
                             known["outcome"].to_numpy(), cut)
    st = hz.stall["2021-09"]
    assert 1 - st["closing_deals_open_at_cut"] < 0.05
    assert st["weight"] == 0.0 and st["raw_stall_share"] is None
    assert st["stall_share"] == pytest.approx(hz.pooled_stall)
    assert hz.stall["2021-05"]["weight"] > 0  # an old cohort speaks for itself


def test_history_without_a_quarter_month_is_age_only():
    """A history that never saw a quarter's second month cannot say how deals close in it: the
    calendar model is not fitted (before, those cells got a closing rate of 0)."""
    rng = np.random.default_rng(2)
    start, cut = pd.Timestamp("2021-03-01"), pd.Timestamp("2021-05-01")
    known = _at(_generate(rng, start, 2, 600, {"default": 0.1}, H_WON, H_LOST, cut), cut)
    hz = fit_closing_hazards(known["created_date"], known["close_date"],
                             known["outcome"].to_numpy(), cut)
    assert not hz.calendar and "three months" in hz.calendar_note
    # every forecast day can close: no month is shut
    p, per_day = hz.cohort_p_won("2021-04")
    may = per_day[:31].sum()
    assert p > 0 and may > 0.2


def test_closed_deals_without_a_close_date_are_left_out(world):
    _, known, hz, cut = world
    k = known.copy()
    won = k.index[k["outcome"].eq("won")][:30]
    k.loc[won, "close_date"] = pd.NaT
    hz2 = fit_closing_hazards(k["created_date"], k["close_date"], k["outcome"].to_numpy(), cut)
    assert hz2.dropped["closed_without_close_date"] == 30
    assert hz2.n_bins == hz.n_bins  # no phantom close at the cut stretching the age range
    assert hz2.events_won.sum() == hz.events_won.sum() - 30


def test_horizon_after_the_cut_drops_the_gap_wins_only(even_world):
    """A horizon starting k days after the cut: P(won) stays conditional on open at the cut,
    so it is the full probability minus the wins of those k days."""
    _, hz, _ = even_world
    p, per_day = hz.cohort_p_won("2021-09")
    for k in (1, 15):
        p_k, per_k = hz.cohort_p_won("2021-09", skip_days=k)
        assert p_k == pytest.approx(p * (1 - per_day[:k].sum()), rel=1e-9)
        assert per_k == pytest.approx(per_day[k:] / per_day[k:].sum())


def test_a_quarter_month_that_never_wins_takes_the_pooled_won_day(world):
    """Only deals young in a quarter's third month can win: those created in a first month
    never do. Their won-day distribution is the pooled one (a valid distribution), P(won) 0."""
    _, _, hz, cut = world
    h_won = np.zeros_like(H_WON)
    h_won[0, 2] = 0.05
    only = ClosingHazards(calendar=True, bin_days=BIN, n_bins=LAST + 1, h_won=h_won,
                          h_lost=H_LOST, exposure=H_WON, events_won=H_WON, events_lost=H_LOST,
                          pooled_stall=0.0, stall={}, stall_tau2=0.0, loglik=0.0, aic=0.0,
                          alternative={}, origin=hz.origin, moq=hz.moq)
    dists, p_by_q, p_all = only.new_deal_won_time(cut)
    assert p_by_q[0] == 0.0 and p_by_q[2] > 0 and p_all > 0
    assert dists[0].sum() == pytest.approx(1.0)
    assert np.isfinite(dists[0]).all() and (dists[0] >= 0).all()
