"""Parameter draws of a calibrated scenario for the backtest: the scenario with its estimates
redrawn from their sampling distributions, so that the prediction intervals carry the
estimation uncertainty (and the model error of the open-pipeline forecast).

The random draws of :func:`perturbed_scenario` are taken in this order from one generator: lead
sources, the stage conversion, the common pipeline frailty, each pipeline cohort (stalled share,
then own frailty), each product's deal size, the rep-sourced rate; a part with nothing to draw
takes nothing (a calibration without a rep-sourced rate draws exactly what it drew before).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from salesplan.scenarios.model import Scenario

from .calibrate import Calibration
from .hazards import ClosingHazards

__all__ = ["cohort_frailty", "expit", "logit", "mean_one_lognormal", "perturbed_scenario"]


def perturbed_scenario(cal: Calibration, rng: np.random.Generator) -> Scenario:
    """One draw of the calibrated scenario from the estimates' sampling distributions:
    each lead source's level x lognormal with log-sd sqrt((se/level)^2 + max(phi - 1, 0) /
    level) (estimation error plus the Pearson over-dispersion phi of monthly counts, as a
    gamma-Poisson frailty held over the horizon); the stage conversion on the logit scale with
    its standard error; each pipeline cohort's stalled share with its standard error (its
    P(won | open) recomputed by the closing-hazard model, with the calibration's bias
    correction), then times the model-error frailty of :func:`cohort_frailty` when the
    calibration sized one (``hazards.model_error``; none: no extra draw, the random stream is
    unchanged), and times one frailty common to every cohort when the model error has a
    common part (drawn once per call, before the cohorts); each product's mean deal size x
    lognormal with its standard error; the rep-sourced rate x a mean-one lognormal with its
    relative standard error (only when the calibration estimated one)."""
    doc = cal.scenario.model_dump(mode="json")
    _draw_lead_sources(doc["lead_sources"], cal, rng)
    st = doc["stages"][0]
    _draw_conversion(st, cal, rng)
    if cal.hazards is not None and st.get("overrides"):
        skip = int((pd.Timestamp(cal.scenario.horizon.start)
                    - pd.Timestamp(cal.estimates["cutoff"])).days)
        _draw_pipeline_cohorts(st["overrides"], cal.hazards, skip, rng)
    _draw_deal_sizes(doc["products"], cal.estimates.get("deal_sizes", {}), rng)
    _draw_sourcing(doc["policies"]["sourcing"], cal.estimates.get("sourcing") or {}, rng)
    return Scenario.model_validate(doc)


def _draw_lead_sources(sources: list[dict[str, Any]], cal: Calibration,
                       rng: np.random.Generator) -> None:
    """Each lead source's leads per month times a mean-one lognormal (estimation error plus
    over-dispersion of the monthly counts)."""
    for src, fit in zip(sources, cal.arrivals, strict=True):
        lvl = max(fit.level, 1e-9)
        sd = math.sqrt((fit.level_se / lvl) ** 2 + max(fit.dispersion - 1.0, 0.0) / lvl)
        src["leads_per_month"] = float(src["leads_per_month"] * math.exp(rng.normal(0, sd)
                                                                         - sd * sd / 2))


def _draw_conversion(stage: dict[str, Any], cal: Calibration, rng: np.random.Generator
                     ) -> None:
    """The first stage's conversion on the logit scale with its standard error (the
    closing-hazard model's for new deals, else the competing-outcome model's; no draw at 0,
    at 1 or without a standard error)."""
    o = cal.estimates["outcomes"] or {}
    p = stage["conversion"]
    p_se = (cal.hazards.new_deal.get("p_won_se") if cal.hazards is not None
            and cal.hazards.new_deal else o.get("p_won_se"))
    if 0 < p < 1 and p_se:
        se_lg = p_se / (p * (1 - p))
        stage["conversion"] = float(expit(logit(p) + rng.normal(0, se_lg)))


def _draw_pipeline_cohorts(overrides: list[dict[str, Any]], hz: ClosingHazards, skip: int,
                           rng: np.random.Generator) -> None:
    """Each pipeline cohort's ``P(won | open)`` (its stage override): the stalled share redrawn
    with its standard error, then the model error's own and common frailties; ``skip``: days
    from the cut to the horizon start."""
    s2, s2c = hz.cohort_log_var, hz.common_log_var
    common = mean_one_lognormal(s2c, rng) if s2c > 0 else 1.0
    for ov in overrides:
        c = ov["segment"].removeprefix("pipeline-")
        ci = hz.stall.get(c, {})
        se = ci.get("stall_share_se") or 0.0
        if se > 0:
            pi_d = float(min(max(hz.stall_share(c) + rng.normal(0, se), 0.0), 0.99))
            ov["conversion"] = hz.corrected_p_won(c, stall_share=pi_d, skip_days=skip)[0]
        if s2 > 0:
            ov["conversion"] = cohort_frailty(ov["conversion"], s2, rng)
        if s2c > 0:
            ov["conversion"] = float(min(ov["conversion"] * common, 1.0))


def _draw_deal_sizes(products: list[dict[str, Any]], sizes: dict[str, Any],
                     rng: np.random.Generator) -> None:
    """Each product's mean deal size times a lognormal whose log-sd comes from the mean's 95%
    interval (no draw without one)."""
    for prod in products:
        f = sizes.get(prod["id"], {}).get("all", {})
        lo, hi = (f.get("mean_ci") or [None, None])[:2]
        ds = prod.get("deal_size")
        if lo and hi and lo > 0 and ds and "mean" in ds:
            sd = (math.log(hi) - math.log(lo)) / (2 * 1.96)
            ds["mean"] = float(ds["mean"] * math.exp(rng.normal(0, sd)))


def _draw_sourcing(policy: dict[str, Any], estimate: dict[str, Any],
                   rng: np.random.Generator) -> None:
    """The rep-sourced rate (``policies.sourcing.per_rep_per_month``) times a mean-one lognormal
    of log-sd ``se / rate`` (:mod:`.sourcing`; no draw when not estimated or 0)."""
    rate, se = estimate.get("per_rep_per_month") or 0.0, estimate.get("se") or 0.0
    if estimate.get("estimable") and rate > 0 and se > 0 and policy["per_rep_per_month"] > 0:
        policy["per_rep_per_month"] = float(policy["per_rep_per_month"]
                                            * mean_one_lognormal((se / rate) ** 2, rng))


def cohort_frailty(p: float, log_var: float, rng: np.random.Generator) -> float:
    """A pipeline cohort's ``P(won | open)`` times a mean-one lognormal frailty
    ``exp(u - log_var / 2)``, ``u ~ N(0, log_var)`` (the model error sized by
    :func:`~salesplan.simulator.calibration.forecast_error.pipeline_model_error`), capped at 1."""
    return float(min(p * mean_one_lognormal(log_var, rng), 1.0))


def mean_one_lognormal(log_var: float, rng: np.random.Generator) -> float:
    """``exp(u - log_var / 2)``, ``u ~ N(0, log_var)``: a lognormal of mean one."""
    return math.exp(rng.normal(0.0, math.sqrt(log_var)) - log_var / 2)


def logit(p: float) -> float:
    return math.log(p / (1 - p))


def expit(x: float) -> float:
    return 1 / (1 + math.exp(-x))
