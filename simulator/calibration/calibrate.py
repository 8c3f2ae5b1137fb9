"""Calibrate a scenario from a CRM history: every estimate with its uncertainty, and the open
pipeline at the cut date as the scenario's initial pipeline.

Funnel identified from the data:

- **flat exports** (current stage only, e.g. Maven): one stage from the created/engaged date to
  the close. Its conversion is ``p_won`` of the competing-outcome model
  (:func:`~salesplan.simulator.calibration.fits.fit_outcomes`: won, lost, and, if the data call for
  it, a never-closing "stalled" share; open deals enter as censored, never as lost). Won and lost
  durations are fitted separately; the scenario stage uses the *won* duration, because the simulator
  draws one duration per stage for both outcomes and only won deals book money.
- **history exports** (stage changes with dates, e.g. Salesforce): one stage per open stage
  seen; conversion = advanced / (advanced + lost) among deals that left the stage (deals still
  in it are censored, not lost), with a Jeffreys interval; time in stage fitted with censoring.
  The whole cycle is also fitted with the competing-outcome model for the report.

The open pipeline at the cut: for a flat export, each open deal's chance of being won and its
remaining time depend on its age (an old open deal is likely stalled). The scenario model has
per-segment stage overrides but no per-deal parameters, so open deals are grouped into age
cohorts, each a segment ``pipeline-age-<lo>-<hi>`` with a stage override holding
``P(won | open at that age)`` and the won deals' remaining-time distribution.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from salesplan.scenarios.crm.reader import History
from salesplan.scenarios.errors import SalesplanError
from salesplan.scenarios.model import Scenario

from .estimators import (
    fit_arrivals,
    fit_deal_size,
    jeffreys_interval,
    rep_productivity,
)
from .fits import (
    MIN_DAYS,
    CumulativeIncidence,
    OutcomeFit,
    aalen_johansen,
    fit_duration,
    fit_outcomes,
)
from .forecast_error import bias_correction, pipeline_model_error
from .hazards import ClosingHazards, fit_closing_hazards

__all__ = ["Calibration", "CalibrationError", "calibrate", "history_at"]

ALL = "all"


class CalibrationError(SalesplanError):
    """The history cannot support a calibration (too few deals, no dates...)."""


@dataclass
class Calibration:
    """The calibrated scenario and every estimate behind it (``estimates`` is JSON-ready)."""

    scenario: Scenario
    estimates: dict[str, Any]
    outcomes: OutcomeFit | None
    deals: pd.DataFrame
    reps: pd.DataFrame
    arrivals: list[Any] = field(default_factory=list)
    stage_fits: dict[str, Any] = field(default_factory=dict)
    cif: CumulativeIncidence | None = None
    hazards: ClosingHazards | None = None


def _first_of_next_month(d: pd.Timestamp) -> pd.Timestamp:
    return (d + pd.offsets.MonthBegin(1)).normalize() if d.day != 1 else d.normalize()


def history_at(history: History, cut: pd.Timestamp) -> History:
    """What was known just before ``cut``: deals created before it; closes on or after it are
    unknown (those deals are open at the cut, in the stage they were in); a flat export's
    amounts of those deals are hidden (a flat export's amount is the close value)."""
    d = history.deals
    d = d[d["created_date"].notna() & (d["created_date"] < cut)
          | d["created_date"].isna() & (d["close_date"] < cut)].copy()
    later = d["close_date"].notna() & (d["close_date"] >= cut)
    d.loc[later, "outcome"] = "open"
    d.loc[later, "close_date"] = pd.NaT
    if history.mapping.kind == "flat":
        d.loc[later, "amount"] = np.nan
    tr = history.transitions
    if tr is not None:
        tr = tr[tr["date"] < cut]
        last_open = tr[~tr["stage"].isin(["won", "lost"])].groupby("id")["stage"].last()
        opened = d["outcome"].eq("open")
        st = d["id"].map(last_open)
        d.loc[opened & st.notna(), "stage"] = st[opened & st.notna()]
        blank = opened & (d["stage"].isna() | d["stage"].isin(["", "won", "lost"]))
        d.loc[blank, "stage"] = history.mapping.scenario_stages[0]
    else:
        d.loc[later, "stage"] = history.mapping.scenario_stages[-1]
    d.attrs = dict(history.deals.attrs)
    return History(deals=d.reset_index(drop=True), report=history.report,
                   mapping=history.mapping, teams=history.teams, transitions=tr,
                   as_of=cut - pd.Timedelta(days=1), sources=history.sources)


def _round(x: float, nd: int = 6) -> float:
    return float(round(x, nd)) if math.isfinite(x) else x


def calibrate(history: History, cutoff: str | dt.date | pd.Timestamp | None = None,
              horizon_months: int = 12, name: str | None = None,
              currency: str = "USD", pipeline_bias: bool = True) -> Calibration:
    """Estimate a scenario from ``history`` as known at ``cutoff`` (default: the day after the
    export's last date). The horizon starts at the cut (rounded up to a first of month) and runs
    ``horizon_months``. ``pipeline_bias`` (flat exports with the closing-hazard model): scale
    every open-pipeline cohort's ``P(won | open)`` by the bias ratio the inner cuts measured
    (realised over forecast wins, :mod:`.forecast_error`); False keeps the model's forecast (the
    ratio is still reported)."""
    if cutoff is None:
        if history.as_of is None:
            raise CalibrationError("the history has no dates")
        cut = history.as_of + pd.Timedelta(days=1)
    else:
        cut = pd.Timestamp(cutoff)
    start = _first_of_next_month(cut)
    h = history_at(history, cut)
    d = h.deals
    notes: list[str] = []
    if start != cut:
        notes.append(f"cut {cut.date()} is not a first of month: the horizon starts "
                     f"{start.date()}")
    m = h.mapping
    if len(d) < 10:
        raise CalibrationError(f"only {len(d)} usable deals before {cut.date()}; "
                               "a calibration needs at least 10")
    as_of = cut  # open deals are censored at the cut
    trunc = d.attrs.get("truncation_date")
    created = d["created_date"]
    age = (as_of - created).dt.days.astype(float)
    cycle = (d["close_date"] - created).dt.days.astype(float)
    t = np.where(d["outcome"].eq("open"), age, cycle)
    entry = np.zeros(len(d))
    if trunc is not None:
        entry = np.maximum((trunc - created).dt.days.fillna(0).to_numpy(dtype=float), 0.0)
        notes.append(f"left truncation: deals created before {trunc.date()} enter the "
                     "likelihoods conditionally on lasting until then")
    has_t = created.notna().to_numpy()
    outcomes: OutcomeFit | None
    try:
        outcomes = fit_outcomes(np.where(has_t, t, np.nan), d["outcome"].to_numpy(),
                                entry=np.where(has_t, entry, 0.0))
    except ValueError as exc:
        if m.kind == "flat" or h.transitions is None or h.transitions.empty:
            raise CalibrationError(f"outcomes and cycle times cannot be estimated before "
                                   f"{cut.date()}: {exc}") from None
        outcomes = None
        notes.append(f"whole-cycle outcome model not fitted ({exc}); stages from history only")
    cif = aalen_johansen(np.where(has_t, t, np.nan), d["outcome"].to_numpy(),
                         np.where(has_t, entry, 0.0))

    # ---- dimensions ----
    d = d.copy()
    for k in ("segment", "source"):
        d[k] = d[k].fillna(ALL)
    teams = h.teams
    if teams is not None:
        regions = sorted(set(teams["region"]))
    else:
        regions = sorted(set(d["region"].dropna())) or [ALL]
        if d["region"].isna().all():
            d["region"] = ALL
            notes.append("no region in the export and no team table: one region 'all'")
    if d["owner"].isna().all():
        d["owner"] = "team-" + d["region"].fillna(ALL).astype(str)
        teams = pd.DataFrame({"rep": sorted(set(d["owner"])),
                              "region": [o[5:] for o in sorted(set(d["owner"]))]})
        regions = sorted(set(teams["region"]))
        notes.append("no owner in the export: one pseudo-rep 'team-<region>' per region "
                     "holds every deal (no per-rep productivity)")
    segments = sorted(set(d["segment"]))
    products = sorted(set(d["product"].dropna())) or ["default"]
    if d["product"].isna().all():
        d["product"] = "default"

    # ---- closing hazards (flat exports): open pipeline, new deals' timing and conversion ----
    hazards = None
    flat = m.kind == "flat" or h.transitions is None or h.transitions.empty
    if flat:
        try:
            hazards = fit_closing_hazards(d["created_date"], d["close_date"],
                                          d["outcome"].to_numpy(), cut, trunc)
            left = {k: v for k, v in hazards.dropped.items() if v}
            if left:
                notes.append("closing-hazard model: left out " + ", ".join(
                    f"{v} deals ({k.replace('_', ' ')})" for k, v in left.items()))
            if hazards.calendar_note:
                notes.append(f"closing-hazard model: {hazards.calendar_note}")
        except ValueError as exc:
            notes.append(f"closing-hazard model not fitted ({exc}): open deals keep the "
                         "stage's conversion and duration")
    if hazards is not None:
        hazards.model_error = me = pipeline_model_error(
            d["created_date"], d["close_date"], d["outcome"].to_numpy(), cut, trunc,
            horizon_months, calendar=hazards.calendar)
        me["bias_correction"], bias_note = bias_correction(me, pipeline_bias)
        if bias_note:
            notes.append(f"open-pipeline forecast: {bias_note}")
        if me.get("log_variance") is not None:
            notes.append("open-pipeline forecast: model error from "
                         f"{len(me['origins'])} inner cut(s) before the cut, log-sd "
                         f"{me['log_sd']:.3f} per entry-month cohort; drawn in the backtest's "
                         "parameter draws as frailties on P(won | open) of log-sd "
                         f"{math.sqrt(hazards.common_log_var):.3f} common to all cohorts and "
                         f"{math.sqrt(hazards.cohort_log_var):.3f} each cohort's own "
                         f"({me['split']})"
                         + (f"; {me['note']}" if me.get("note") else ""))
        else:
            notes.append(f"open-pipeline forecast: model error {me['note']}")

    # ---- stages ----
    stage_fits: dict[str, Any] = {}
    if flat:
        entry_stage = m.stage_name(m.funnel_entry) if m.funnel_entry else m.scenario_stages[-1]
        stage_names = [entry_stage]
        assert outcomes is not None
        stages_doc = [{"name": entry_stage, "conversion": _round(outcomes.p_won),
                       "duration": outcomes.won.distribution()}]
        if hazards is not None:
            _hazard_stage(stages_doc[0], hazards, start, d, notes)
        if m.kind == "flat" and len(m.scenario_stages) > 1:
            notes.append(f"flat export: one stage '{entry_stage}' from "
                         f"{m.columns.get('created', 'created')} to close; open deals of "
                         "earlier stages are placed in it")
    else:
        stages_doc, stage_names, stage_fits = _stage_estimates(h, d, cut, notes)

    # ---- arrivals ----
    first_m = created.min().to_period("M")
    if trunc is not None:
        tp = trunc.to_period("M")
        first_m = tp if trunc.day == 1 else tp + 1
    elif created.min().day != 1:
        first_m = first_m + 1
    last_m = (cut - pd.Timedelta(days=1)).to_period("M")
    if cut != cut.to_period("M").start_time:
        last_m = last_m - 1
    if last_m < first_m:
        raise CalibrationError(f"no full month of arrivals between {first_m} and {last_m}")
    in_win = created.notna() & (created.dt.to_period("M") >= first_m) & (
        created.dt.to_period("M") <= last_m)
    no_region = int((in_win & d["region"].isna()).sum())
    if no_region:
        notes.append(f"{no_region} deals without a region (owner not in the team table) are "
                     "not counted in any region's arrivals")
    arrivals = []
    sources_doc = []
    for (reg, seg, src), g in d[in_win & d["region"].notna()].groupby(
            ["region", "segment", "source"], sort=True):
        fit = fit_arrivals(g["created_date"], first_m, last_m,
                           {"region": reg, "segment": seg, "source": src})
        arrivals.append(fit)
        mix = g["product"].value_counts().sort_index()
        sid = "-".join(x for x in (reg, seg, src) if x != ALL) or "all"
        sources_doc.append({
            "id": sid, "region": reg, "segment": seg,
            "channel": src if src != ALL else "inbound",
            "leads_per_month": _round(fit.level, 4),
            "seasonality": [_round(s, 4) for s in fit.seasonality],
            "annual_growth": _round(fit.annual_growth, 4),
            "product_mix": {p: int(c) for p, c in mix.items()},
        })

    # ---- deal sizes ----
    won = d[d["outcome"].eq("won")]
    sizes: dict[str, Any] = {}
    pooled = won["amount"].dropna()
    pooled = pooled[pooled > 0]
    if len(pooled) < 2:
        raise CalibrationError("fewer than 2 won deals with a positive amount: deal sizes "
                               "cannot be estimated")
    pooled_fit = fit_deal_size(pooled.to_numpy())
    products_doc = []
    for p in products:
        a = won.loc[won["product"].eq(p), "amount"].dropna()
        a = a[a > 0]
        if len(a) >= 5:
            f = fit_deal_size(a.to_numpy())
        else:
            f = dict(pooled_fit, note=f"only {len(a)} won amounts: the pooled fit is used")
        by_seg = {}
        if len(segments) > 1:
            for s in segments:
                aa = won.loc[won["product"].eq(p) & won["segment"].eq(s), "amount"].dropna()
                aa = aa[aa > 0]
                if len(aa) >= 30:
                    by_seg[s] = fit_deal_size(aa.to_numpy())
        sizes[p] = {"all": f, **{f"segment:{s}": v for s, v in by_seg.items()}}
        products_doc.append({"id": p, "deal_size": f["dist"],
                             "deal_size_by_segment": {s: v["dist"] for s, v in by_seg.items()}})

    # ---- reps ----
    closed = d[d["outcome"].isin(["won", "lost"]) & d["owner"].notna()]
    if len(closed):
        rep_frame, prior = rep_productivity(pd.DataFrame({
            "owner": closed["owner"], "won": closed["outcome"].eq("won"),
            "days": (closed["close_date"] - closed["created_date"]).dt.days.astype(float)}))
    else:
        rep_frame = pd.DataFrame(columns=["rep", "closed", "won", "raw_win_rate", "win_rate",
                                          "productivity"])
        prior = {"note": "no closed deal with an owner: productivity 1 for every rep"}
    prod = dict(zip(rep_frame["rep"], rep_frame["productivity"], strict=True))
    if teams is not None:
        rep_region = dict(zip(teams["rep"], teams["region"], strict=True))
    else:
        rep_region = (d.dropna(subset=["owner"]).groupby("owner")["region"]
                      .agg(lambda s: s.mode().iat[0] if s.notna().any() else ALL).to_dict())
    capacity = _capacity(d, cut)
    reps_doc = [{"id": r, "region": rep_region[r] if isinstance(rep_region[r], str) else ALL,
                 "capacity": capacity, "productivity": _round(float(prod.get(r, 1.0)), 4)}
                for r in sorted(rep_region)]
    if any(r["region"] == ALL for r in reps_doc) and ALL not in regions:
        regions.append(ALL)

    # ---- open pipeline at the cut ----
    pipeline_doc, cohort_segments, overrides, pipe_notes = _pipeline(
        d, cut, start, hazards, m.kind, set(rep_region), stage_names)
    notes += pipe_notes
    if overrides:
        stages_doc[-1 if m.kind == "flat" else 0].setdefault("overrides", [])
        if m.kind == "flat":
            stages_doc[0]["overrides"] = overrides

    doc = {
        "name": name or f"calibrated-{m.name}",
        "description": f"Calibrated from {m.name} history as known at {cut.date()} "
                       f"({len(d)} deals).",
        "horizon": {"start": start.date().isoformat(), "months": horizon_months,
                    "currency": currency},
        "regions": [{"id": r} for r in regions],
        "segments": [{"id": s} for s in segments] + [{"id": s} for s in cohort_segments],
        "products": products_doc,
        "stages": stages_doc,
        "lead_sources": sources_doc,
        "reps": reps_doc,
        "policies": {"routing": "least_loaded", "warmup_months": 0},
        "initial_pipeline": pipeline_doc,
    }
    try:
        scenario = Scenario.model_validate(doc)
    except Exception as exc:  # pragma: no cover - a calibration bug, reported plainly
        raise CalibrationError(f"the calibrated scenario does not validate: {exc}") from exc

    est = {
        "cutoff": cut.date().isoformat(),
        "horizon_start": start.date().isoformat(),
        "mapping": m.name,
        "funnel": {"kind": m.kind, "stages": stage_names,
                   "assumption": m.notes},
        "deals_used": len(d),
        "outcomes": outcomes.to_dict() if outcomes is not None else None,
        "cumulative_incidence": {"p_won": cif.p_won,
                                 "p_lost": float(cif.cif_lost[-1]) if cif.times.size else None,
                                 "p_open_at_last_close": float(cif.surv[-1])
                                 if cif.times.size else None,
                                 "last_close_days": float(cif.times[-1])
                                 if cif.times.size else None,
                                 "method": "Aalen-Johansen (non-parametric, censoring and "
                                           "left truncation); used for the open pipeline"},
        "stages": stage_fits,
        "arrivals": [a.to_dict() for a in arrivals],
        "deal_sizes": sizes,
        "deal_size_pooled": pooled_fit,
        "reps": rep_frame.to_dict(orient="records"),
        "rep_prior": prior,
        "capacity": {"value": capacity, "rule": "3 x the most open deals any rep held at a "
                     "month start (at least 50): CRM history shows no queueing"},
        "not_estimated": ["rep attrition and ramp (no start/leave dates in the export)",
                          "lead grades (no grade column)", "lead-response decay (no first-"
                          "contact dates)"],
        "closing_hazards": hazards.to_dict() if hazards is not None else None,
        "open_pipeline": {"deals": len(pipeline_doc), "cohorts": cohort_segments},
        "cleaning": history.summary(),
        "notes": notes,
    }
    return Calibration(scenario, _jsonable(est), outcomes, d, rep_frame, arrivals, stage_fits,
                       cif, hazards)


def _hazard_stage(stage: dict[str, Any], hz: ClosingHazards, start: pd.Timestamp,
                  d: pd.DataFrame, notes: list[str]) -> None:
    """Give a flat export's stage the closing-hazard model's conversion and, with the calendar,
    its won-time distributions by month of quarter of entry (deals created in the 12 months
    from the horizon start). The parametric won fit stays as ``duration`` for the report."""
    dists, p_by_q, p_all = hz.new_deal_won_time(start)
    n_closed = int(d["outcome"].isin(["won", "lost"]).sum())
    hz.new_deal = {"p_won": p_all, "p_won_se": math.sqrt(p_all * (1 - p_all) / max(n_closed, 1)),
                   "p_won_by_quarter_month": p_by_q if hz.calendar else None,
                   "parametric_p_won": stage["conversion"]}
    stage["conversion"] = _round(p_all)
    if not hz.calendar:
        notes.append("closing-hazard model: no month-of-quarter effect (age-only model has the "
                     "lower AIC); stage conversion from it, the parametric won cycle as duration")
        return
    # a deal arriving at time t of day d and won on day d + j closes at t + j: in that day
    stage["duration_by_quarter_month"] = [_won_days(p, offset=0.0) for p in dists]
    notes.append("closing-hazard model: closes depend on the month of the quarter (lower AIC "
                 "than age only); the stage's conversion is its P(won) and its durations are "
                 "the won-day distributions by month of quarter of entry")


def _won_days(per_day: np.ndarray, offset: float) -> dict[str, Any]:
    """An empirical duration from the probability of each day j being the won day: values
    ``j + offset`` days (a placeholder single value when no day has mass: never won)."""
    nz = np.flatnonzero(per_day > 1e-9)
    if not nz.size:
        return {"dist": "empirical", "values": [1.0], "weights": [1.0]}
    return {"dist": "empirical", "values": [float(j) + offset for j in nz],
            "weights": [_round(float(per_day[j]), 9) for j in nz]}


def _capacity(d: pd.DataFrame, cut: pd.Timestamp) -> int:
    months = pd.date_range(d["created_date"].min(), cut, freq="MS")
    best = 0
    end = d["close_date"].fillna(cut + pd.Timedelta(days=1))
    for ms in months:
        open_ = d[(d["created_date"] <= ms) & (end > ms)]
        sizes = open_.dropna(subset=["owner"]).groupby("owner").size()
        if len(sizes):
            best = max(best, int(sizes.max()))
    return int(min(max(50, 3 * best), 100_000))


def _pipeline(d: pd.DataFrame, cut: pd.Timestamp, start: pd.Timestamp,
              hazards: ClosingHazards | None, kind: str, reps: set[str], stage_names: list[str]
              ) -> tuple[list[dict], list[str], list[dict], list[str]]:
    notes: list[str] = []
    op = d[d["outcome"].eq("open")].copy()
    no_owner = op["owner"].isna() | ~op["owner"].isin(reps)
    if no_owner.any():
        notes.append(f"{int(no_owner.sum())} open deals at the cut have no owner in the team "
                     "table: not in the initial pipeline")
    op = op[~no_owner]
    op["age"] = (start - op["created_date"]).dt.days.astype(float).clip(lower=0)
    rows, cohorts, overrides = [], [], []
    if kind == "flat" and len(op) and hazards is not None:
        skip = int((start - cut).days)
        op["cohort"] = op["created_date"].dt.strftime("%Y-%m")
        for c, g in op.groupby("cohort", sort=True):
            seg = f"pipeline-{c}"
            raw, raw_per_day = hazards.cohort_p_won(c, skip_days=skip)
            p, per_day = hazards.bias_corrected(raw, raw_per_day, skip_days=skip)
            # pipeline deals start at day 0.0: the middle of the won day
            dur = _won_days(per_day, offset=0.5)
            cohorts.append(seg)
            overrides.append({"segment": seg, "conversion": _round(min(max(p, 0.0), 1.0)),
                              "duration": dur})
            op.loc[g.index, "cohort"] = seg
            hazards.stall.setdefault(c, {}).update(p_won_given_open=p,
                                                   p_won_given_open_uncorrected=raw)
        notes.append("open pipeline grouped into entry-month cohorts (segments pipeline-YYYY-MM) "
                     "with P(won | open at the cut) and the won day after the horizon start from "
                     "the closing-hazard model (age x month of quarter"
                     + ("" if hazards.calendar else ": not supported by the data, age only")
                     + ", stalled share per entry month) as stage overrides")
    for r in op.sort_values("id").itertuples():
        stage = r.stage if isinstance(r.stage, str) and r.stage in stage_names else stage_names[0]
        rows.append({"id": str(r.id), "stage": stage, "age_days": float(r.age),
                     "owner": r.owner,
                     "value": float(r.amount) if pd.notna(r.amount) and r.amount >= 0 else None,
                     "segment": getattr(r, "cohort", None) if kind == "flat" else (
                         r.segment if isinstance(r.segment, str) else None),
                     "product": r.product if isinstance(r.product, str) else None})
    return rows, cohorts, overrides, notes


def _stage_estimates(h: History, d: pd.DataFrame, cut: pd.Timestamp, notes: list[str]
                     ) -> tuple[list[dict], list[str], dict[str, Any]]:
    """Per-stage conversion and time in stage from stage changes before the cut."""
    tr = h.transitions
    order = h.mapping.scenario_stages
    ids = set(d["id"])
    tr = tr[tr["id"].isin(ids)]
    entered: dict[str, int] = dict.fromkeys(order, 0)
    adv: dict[str, int] = dict.fromkeys(order, 0)
    lost: dict[str, int] = dict.fromkeys(order, 0)
    times: dict[str, list[tuple[float, bool]]] = {s: [] for s in order}
    created = dict(zip(d["id"], d["created_date"], strict=True))
    for _oid, g in tr.groupby("id", sort=True):
        seq = list(zip(g["stage"], g["date"], strict=True))
        if not seq:
            continue
        first_open = next((s for s, _ in seq if s in order), None)
        if first_open is None:
            continue
        i0 = order.index(first_open)
        reached = max((order.index(s) for s, _ in seq if s in order), default=i0)
        final = seq[-1][0]
        for k in range(i0, reached + 1):
            entered[order[k]] += 1
        for k in range(i0, reached):
            adv[order[k]] += 1
        if final == "won":
            adv[order[reached]] += 1
        elif final == "lost":
            lost[order[reached]] += 1
        # time in each visited stage
        for j, (s, t0) in enumerate(seq):
            if s not in order:
                continue
            if j + 1 < len(seq):
                times[s].append((max((seq[j + 1][1] - t0).days, 0), True))
            else:
                times[s].append((max((cut - t0).days, 0), False))
        _ = created
    stages_doc, fits = [], {}
    # stages no deal ever sat in (always skipped) are not part of the identified funnel
    seen = [s for s in order if times[s]]
    skipped = [s for s in order if entered[s] > 0 and not times[s]]
    if skipped:
        notes.append(f"stages always skipped, left out of the funnel: {', '.join(skipped)}")
    if not seen:
        raise CalibrationError("no stage changes before the cut")
    for s in seen:
        n = adv[s] + lost[s]
        p = adv[s] / n if n else 1.0
        lo, hi = jeffreys_interval(adv[s], n)
        tt = times[s]
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
        fits[s] = {"entered": entered[s], "advanced": adv[s], "lost": lost[s],
                   "open": entered[s] - adv[s] - lost[s], "conversion": p,
                   "conversion_ci": [lo, hi], "duration": fd}
        stages_doc.append({"name": s, "conversion": _round(p), "duration": dist})
    return stages_doc, seen, fits


def _jsonable(x: Any) -> Any:
    if isinstance(x, dict):
        return {str(k): _jsonable(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [_jsonable(v) for v in x]
    if isinstance(x, np.generic):
        x = x.item()
    if isinstance(x, float) and not math.isfinite(x):
        return None
    if isinstance(x, pd.Timestamp | dt.date):
        return x.isoformat()
    return x
