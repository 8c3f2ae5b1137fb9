"""Rank strategies per metric, with confidence intervals, and say which are indistinguishable.

For each (instance, family, metric) and strategy, the unit of replication is the seed: the
per-seed figure (itself a mean over the seed's replications) is averaged over seeds, with a
t-based 95% confidence interval (``n_seeds - 1`` degrees of freedom; none with one seed).

Strategies are ranked by mean in the metric's better direction (rank 1 = best). Every other
strategy is compared with the best by a **paired** t-test on the per-seed differences (the same
seed gives every strategy the same random draws, so the pairing removes the shared noise), with
Holm's step-down correction over the comparisons with the best for that metric (one column of a
table: k - 1 comparisons for k strategies) at family-wise level 5%. A
strategy whose difference from the best is not significant is *indistinguishable from the best*
(marked ``≈`` in the tables). With one seed nothing can be told apart by test, so only exact
ties count. A metric that does not depend on the seed (territory figures) has zero variance:
equal means are a tie, different means are distinct. Compute times are measurements (one per
strategy where the work does not depend on the seed): they are ranked but not tested.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from salesplan.stats import estimate

__all__ = ["METRICS", "Metric", "best_counts", "pairwise", "summarise", "summary_markdown"]

ALPHA = 0.05


@dataclass(frozen=True)
class Metric:
    name: str
    label: str
    better: str  # "higher" | "lower"
    families: tuple[str, ...]
    unit: str = ""
    measured: bool = False  # a timing: not reproducible bit for bit


METRICS: tuple[Metric, ...] = (
    Metric("bookings", "bookings", "higher", ("routing", "territory"), "currency"),
    Metric("p_hit_target", "P(hit target)", "higher", ("routing", "territory")),
    Metric("attainment_spread", "attainment spread", "lower",
           ("routing", "territory", "quota")),
    Metric("share_at_quota", "share at quota", "higher", ("routing", "territory", "quota")),
    Metric("balance_cv", "balance CV", "lower", ("territory",)),
    Metric("weighted_km", "weighted km", "lower", ("territory",), "km"),
    Metric("moves", "moves", "lower", ("territory",)),
    Metric("lead_wait_days", "lead wait (days)", "lower", ("routing", "territory"), "days"),
    Metric("uncontacted_share", "uncontacted at end", "lower", ("routing", "territory")),
    Metric("compute_seconds", "compute (s)", "lower", ("routing", "territory", "quota"), "s",
           measured=True),
)
_BY_NAME = {m.name: m for m in METRICS}


def _holm(pvalues: dict[str, float]) -> dict[str, bool]:
    """Holm step-down: True where the null (no difference) is rejected."""
    order = sorted(pvalues, key=lambda k: pvalues[k])
    rejected: dict[str, bool] = {k: False for k in pvalues}
    m = len(order)
    for i, k in enumerate(order):
        if pvalues[k] <= ALPHA / (m - i):
            rejected[k] = True
        else:
            break
    return rejected


def _paired_p(d: np.ndarray) -> float:
    d = d[np.isfinite(d)]
    n = d.size
    if n == 0:
        return math.nan
    if n < 2:
        return math.nan  # cannot test: only exact ties count
    mean = float(d.mean())
    sd = float(d.std(ddof=1))
    if sd == 0.0:  # a seed-independent metric: equal or not
        return 1.0 if mean == 0.0 else 0.0
    t = mean / (sd / math.sqrt(n))
    return float(2 * stats.t.sf(abs(t), n - 1))


def summarise(results: pd.DataFrame) -> pd.DataFrame:
    """One row per (instance, family, metric, strategy): ``mean``, ``ci_lo``, ``ci_hi``,
    ``n_seeds``, ``rank``, ``best`` (rank 1), ``p_vs_best`` (paired t, unadjusted),
    ``indistinguishable`` (from the best, after Holm)."""
    out = []
    for (inst, fam), g in results.groupby(["instance", "family"], sort=False):
        order = list(dict.fromkeys(g["strategy"]))
        for metric in METRICS:
            if fam not in metric.families:
                continue
            wide = g.pivot(index="seed", columns="strategy", values=metric.name)[order]
            wide = wide.astype(float)
            means = wide.mean()
            if means.isna().all():
                continue
            sign = -1.0 if metric.better == "higher" else 1.0
            ranked = (sign * means).rank(method="min", na_option="bottom").astype(int)
            best = ranked.idxmin()
            pvals = {s: _paired_p((wide[s] - wide[best]).to_numpy())
                     for s in order if s != best and np.isfinite(means[s])}
            testable = {s: p for s, p in pvals.items() if np.isfinite(p)}
            rejected = _holm(testable)
            for s in order:
                est = estimate(wide[s].dropna().to_numpy())
                n, mean, (lo, hi) = est.n, est.mean, est.ci95
                p = pvals.get(s, math.nan)
                if metric.measured:  # one timing per strategy: rank it, do not test it
                    indist = s == best
                elif s == best:
                    indist = True
                elif s in testable:
                    indist = not rejected[s]
                else:
                    indist = bool(np.isfinite(means[s]) and means[s] == means[best])
                out.append({"instance": inst, "family": fam, "metric": metric.name,
                            "strategy": s, "mean": mean, "ci_lo": lo, "ci_hi": hi,
                            "n_seeds": n, "rank": int(ranked[s]) if n else None,
                            "best": s == best, "p_vs_best": p, "indistinguishable": indist})
    return pd.DataFrame(out)


def pairwise(results: pd.DataFrame) -> pd.DataFrame:
    """Every pair of strategies, per (instance, family, metric): ``diff`` = mean over seeds of
    a - b, its t 95% CI (``ci_lo``, ``ci_hi``), the paired t-test's ``p`` and ``indistinguishable``
    after Holm's correction over all pairs of that metric column (k (k - 1) / 2 comparisons).
    Timings are left out (not replicated); pairs with an unmeasured side are left out."""
    out = []
    for (inst, fam), g in results.groupby(["instance", "family"], sort=False):
        order = list(dict.fromkeys(g["strategy"]))
        for metric in METRICS:
            if fam not in metric.families or metric.measured:
                continue
            wide = g.pivot(index="seed", columns="strategy", values=metric.name)[order]
            wide = wide.astype(float)
            rows = {}
            for i, a in enumerate(order):
                for b in order[i + 1:]:
                    d = (wide[a] - wide[b]).to_numpy()
                    d = d[np.isfinite(d)]
                    if d.size == 0:
                        continue
                    est = estimate(d)
                    rows[(a, b)] = (est.mean, *est.ci95, _paired_p(d), d.size)
            testable = {k: v[3] for k, v in rows.items() if np.isfinite(v[3])}
            rejected = _holm(testable)
            for (a, b), (mean, lo, hi, p, n) in rows.items():
                indist = (not rejected[(a, b)]) if (a, b) in testable else mean == 0.0
                out.append({"instance": inst, "family": fam, "metric": metric.name,
                            "a": a, "b": b, "diff": mean, "ci_lo": lo, "ci_hi": hi,
                            "n_seeds": n, "p": p, "indistinguishable": bool(indist)})
    return pd.DataFrame(out)


def best_counts(summary: pd.DataFrame) -> pd.DataFrame:
    """Per (family, metric, strategy): instances where the strategy is best or indistinguishable
    from the best, out of the instances measured."""
    measured = summary[np.isfinite(summary["mean"].astype(float))]
    g = measured.groupby(["family", "metric", "strategy"], sort=False)
    return g.agg(best_or_tied=("indistinguishable", "sum"),
                 instances=("instance", "nunique"),
                 mean_rank=("rank", "mean")).reset_index()


def _fmt(value: float, metric: Metric) -> str:
    if not np.isfinite(value):
        return "–"
    if metric.name == "bookings":
        return f"{value / 1e6:.3f}M"
    if metric.name in ("p_hit_target", "share_at_quota", "uncontacted_share"):
        return f"{value:.1%}"
    if metric.name == "moves":
        return f"{value:.0f}"
    if metric.name == "compute_seconds":
        return f"{value:.2f}"
    return f"{value:.3f}" if abs(value) < 10 else f"{value:.1f}"


def _cell(row: pd.Series, metric: Metric) -> str:
    text = _fmt(row["mean"], metric)
    half = (row["ci_hi"] - row["ci_lo"]) / 2
    # a seed-independent figure has a zero-width interval (up to rounding): no ±
    if np.isfinite(half) and half > 1e-9 * max(1.0, abs(row["mean"])):
        if metric.name == "bookings":
            text += f" ±{half / 1e6:.3f}"
        elif metric.name in ("p_hit_target", "share_at_quota", "uncontacted_share"):
            text += f" ±{half:.1%}"
        else:
            text += f" ±{_fmt(half, metric)}"
    if pd.notna(row["rank"]):
        text += f" ({int(row['rank'])})"
    if row["best"]:
        return f"**{text}**"
    if row["indistinguishable"]:
        return f"≈ {text}"
    return text


def summary_markdown(results: pd.DataFrame, summary: pd.DataFrame, header: str) -> str:
    """The ranked tables as Markdown: per instance and family, strategies x metrics."""
    lines = [header.rstrip(), "",
             "Cells: mean over seeds ± half-width of the 95% CI (rank). **Bold**: best; "
             "≈: statistically indistinguishable from the best (paired t-test over seeds, "
             "Holm-corrected over each column's comparisons with the best, 5%); –: not "
             "measured. Compute times are measurements, not reproducible bit for bit.", ""]
    for inst in dict.fromkeys(results["instance"]):
        lines += [f"## {inst}", ""]
        for fam in dict.fromkeys(results.loc[results["instance"] == inst, "family"]):
            s = summary[(summary["instance"] == inst) & (summary["family"] == fam)]
            metrics = [m for m in METRICS if m.name in set(s["metric"])]
            lines += [f"### {fam}", "",
                      "| strategy | " + " | ".join(m.label for m in metrics) + " |",
                      "|---|" + "---:|" * len(metrics)]
            for strat in dict.fromkeys(s["strategy"]):
                cells = []
                for m in metrics:
                    r = s[(s["strategy"] == strat) & (s["metric"] == m.name)]
                    cells.append(_cell(r.iloc[0], m) if len(r) else "–")
                lines.append(f"| {strat} | " + " | ".join(cells) + " |")
            lines.append("")
    counts = best_counts(summary)
    lines += ["## Across instances", "",
              "Instances where each strategy is best or indistinguishable from the best, of "
              "those measured (mean rank in brackets).", ""]
    for fam in dict.fromkeys(counts["family"]):
        c = counts[counts["family"] == fam]
        metrics = [m for m in METRICS if m.name in set(c["metric"])]
        lines += [f"### {fam}", "", "| strategy | " + " | ".join(m.label for m in metrics)
                  + " |", "|---|" + "---:|" * len(metrics)]
        for strat in dict.fromkeys(c["strategy"]):
            cells = []
            for m in metrics:
                r = c[(c["strategy"] == strat) & (c["metric"] == m.name)]
                cells.append(f"{int(r.iloc[0]['best_or_tied'])}/{int(r.iloc[0]['instances'])}"
                             f" ({r.iloc[0]['mean_rank']:.1f})" if len(r) else "–")
            lines.append(f"| {strat} | " + " | ".join(cells) + " |")
        lines.append("")
    return "\n".join(lines) + "\n"
