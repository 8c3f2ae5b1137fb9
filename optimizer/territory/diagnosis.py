"""Diagnosis of infeasible alignments, in a planner's words.

Before solving (:func:`check_input`): accounts with no eligible rep; locked accounts whose
owner is missing or ineligible; workload above the capacity of a region's (pool's) reps, of a
single account or of a rep's locked accounts; bands that indivisible accounts cannot hold (an
account alone above the upper band of every eligible rep, locked load above a band, an
account-count band with no whole number inside it); forced moves above the move cap.

After a proven-infeasible solve (:func:`explain_infeasible`): which constraint family to relax
and how, found by re-solving without each family in turn.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from .balance import best_upper_band
from .eligibility import why_no_rep, why_not

__all__ = ["check_input", "explain_infeasible"]

_MAX_LINES = 12


def _fmt(metric: str, value: float, currency: str) -> str:
    if metric == "workload":
        return f"{value:,.0f} h"
    if metric == "potential":
        return f"{value:,.0f} {currency}"
    return f"{value:,.1f} accounts"


def _capped(lines: list[str], what: str) -> list[str]:
    if len(lines) <= _MAX_LINES:
        return lines
    return [*lines[:_MAX_LINES], f"... and {len(lines) - _MAX_LINES} more {what}"]


def no_rep_problems(problem, eligible: np.ndarray, max_distance: float | None) -> list[str]:
    """Why each account without an eligible rep has none (capped), in planner's words."""
    no_rep = np.flatnonzero(~eligible.any(axis=1))
    return _capped([why_no_rep(problem, int(i), max_distance) for i in no_rep],
                   "accounts with no eligible rep")


def check_input(problem, options, prep) -> list[str]:
    """Every reason the input cannot have a plan, found without solving."""
    p, eligible = problem, prep.eligible
    owner = prep.owner
    out: list[str] = no_rep_problems(p, eligible, options.max_distance)

    lock_lines = []
    for i in np.flatnonzero(p.locked).tolist():
        if p.owner[i] is None:
            lock_lines.append(f"account {p.account_ids[i]} is locked but has no owner")
        elif owner[i] < 0:
            lock_lines.append(f"account {p.account_ids[i]} is locked to {p.owner[i]}, "
                              "which is not a rep in this plan")
        elif not eligible[i, owner[i]]:
            lock_lines.append(f"account {p.account_ids[i]} is locked to {p.owner[i]}, "
                              f"{why_not(p, i, int(owner[i]), options.max_distance)}")
    out += _capped(lock_lines, "locked accounts")

    cap = prep.capacity
    ok_acc = prep.pools.account_pool >= 0
    if np.isfinite(cap).any():
        # per region (or pool) total workload vs the capacity of its reps
        for g, name in enumerate(prep.pools.names):
            reps = prep.pools.reps_of(g)
            need = float(p.workload[ok_acc & (prep.pools.account_pool == g)].sum())
            have = float(cap[reps].sum())
            if need > have + 1e-6:
                out.append(f"{name}: workload {need:,.0f} h exceeds the capacity of its "
                           f"{reps.size} rep{'s' if reps.size != 1 else ''} ({have:,.0f} h)")
        best = np.where(eligible, cap[None, :], -np.inf).max(axis=1)
        big = np.flatnonzero(ok_acc & (p.workload > best + 1e-9))
        out += _capped([f"account {p.account_ids[i]} needs {p.workload[i]:,.0f} h, more than "
                        f"the capacity of any eligible rep ({best[i]:,.0f} h)"
                        for i in big.tolist()], "accounts above every capacity")
        locked_load = _locked_load(p, owner, p.workload)
        for j in np.flatnonzero(locked_load > cap + 1e-6).tolist():
            out.append(f"rep {p.rep_ids[j]}: locked accounts need {locked_load[j]:,.0f} h, "
                       f"above its capacity ({cap[j]:,.0f} h)")

    if not options.soft_balance:
        for band in prep.bands:
            out += _band_problems(p, prep, band, owner)

    if options.mode == "realign":
        forced = np.array([o is not None for o in p.owner]) & (
            (owner < 0) | ~eligible[np.arange(p.n_accounts), np.maximum(owner, 0)])
        n_forced = int(forced.sum())
        if options.max_moves is not None and n_forced > options.max_moves:
            why = "their owner is not an eligible rep" + (
                ", or serves a dedicated territory" if prep.dedicated else "")
            out.append(f"{n_forced} accounts must move ({why}), more than the move cap of "
                       f"{options.max_moves}")
        if options.max_moved_potential is not None:
            forced_pot = float(p.potential[forced].sum())
            if forced_pot > options.max_moved_potential + 1e-6:
                out.append(f"accounts that must move (owner not an eligible rep) carry "
                           f"{forced_pot:,.0f} {p.currency} of potential, more than the cap of "
                           f"{options.max_moved_potential:,.0f}")
    return out


def _locked_load(p, owner: np.ndarray, values: np.ndarray) -> np.ndarray:
    rows = np.flatnonzero(p.locked & (owner >= 0))
    return np.bincount(owner[rows], weights=values[rows], minlength=p.n_reps)


def _band_problems(p, prep, band, owner) -> list[str]:
    out: list[str] = []
    tau, mu, v = band.tolerance, band.mu, band.values
    pct = f"±{tau:.0%}" if tau * 100 == round(tau * 100) else f"±{tau:.1%}"
    upper = np.where(mu > 0, (1 + tau) * mu, np.inf)
    best_upper = best_upper_band(prep.eligible, mu, tau)
    ok_acc = prep.pools.account_pool >= 0
    big = np.flatnonzero(ok_acc & (v > best_upper + 1e-9) & ~p.locked)
    lines = []
    for i in big.tolist():
        need = v[i] / (best_upper[i] / (1 + tau)) - 1
        lines.append(f"account {p.account_ids[i]} ({_fmt(band.metric, v[i], p.currency)} of "
                     f"{band.metric}) alone exceeds the upper {band.metric} band of every "
                     f"eligible rep ({pct} around the mean "
                     f"{_fmt(band.metric, best_upper[i] / (1 + tau), p.currency)}): widen the "
                     f"{band.metric} tolerance to at least {need:.1%}, give it a dedicated "
                     "territory (dedicate_oversized, --dedicate-oversized) or use soft "
                     "balance")
    out += _capped(lines, f"accounts above the {band.metric} band")
    locked_load = _locked_load(p, owner, v)
    for j in np.flatnonzero(locked_load > upper + 1e-6).tolist():
        out.append(f"rep {p.rep_ids[j]}: locked accounts carry "
                   f"{_fmt(band.metric, locked_load[j], p.currency)} of {band.metric}, above its "
                   f"upper band ({_fmt(band.metric, upper[j], p.currency)}, {pct})")
    if band.metric == "accounts":
        for g, name in enumerate(prep.pools.names):
            reps = prep.pools.reps_of(g)
            if mu[reps].max() <= 0:
                continue
            lo_sum = sum(math.ceil((1 - tau) * mu[j] - 1e-9) for j in reps)
            hi_sum = sum(math.floor((1 + tau) * mu[j] + 1e-9) for j in reps)
            n_acc = int(((prep.pools.account_pool == g)).sum())
            empty = [j for j in reps if math.ceil((1 - tau) * mu[j] - 1e-9)
                     > math.floor((1 + tau) * mu[j] + 1e-9)]
            if empty:
                j = empty[0]
                out.append(f"{name}: an account-count band of {pct} around {mu[j]:.2f} accounts "
                           f"per rep contains no whole number; widen it")
            elif not lo_sum <= n_acc <= hi_sum:
                out.append(f"{name}: {n_acc} accounts cannot be split over {reps.size} reps "
                           f"with {pct} of the mean each; widen the account-count band")
    if prep.capacity is not None and band.metric == "workload":
        low = (1 - tau) * mu
        for j in np.flatnonzero(prep.capacity < low - 1e-6).tolist():
            out.append(f"rep {p.rep_ids[j]}: capacity {prep.capacity[j]:,.0f} h is below its "
                       f"lower workload band ({low[j]:,.0f} h, {pct})")
    return out


def explain_infeasible(
    problem, options, prep, try_solve: Callable[[frozenset[str], bool], tuple[str, dict]]
) -> list[str]:
    """Re-solve without each constraint family; say which one to relax and by how much.

    ``try_solve(drop, soft)`` returns (state, worst band deviations by metric)."""
    families: list[tuple[str, str]] = []
    for band in prep.bands:
        pct = f"±{band.tolerance:.1%}"
        families.append((f"balance:{band.metric}",
                         f"the {band.metric} balance band ({pct}): widen its tolerance or use "
                         "soft balance"))
    if np.isfinite(prep.capacity).any():
        families.append(("capacity", "rep capacity (max workload hours): raise it"))
    if options.max_moves is not None or options.max_moved_potential is not None:
        cap = (f"{options.max_moves} moves" if options.max_moves is not None
               else f"{options.max_moved_potential:,.0f} of moved potential")
        families.append(("move_cap", f"the move cap ({cap}): raise it"))
    if problem.locked.any():
        families.append(("locks", f"the locks on {int(problem.locked.sum())} accounts: "
                                  "unlock some"))
    fixes, unknown = [], []
    for fam, text in families:
        state, _ = try_solve(frozenset({fam}), False)
        if state in ("optimal", "feasible"):
            fixes.append(f"a plan exists without {text}")
        elif state == "none":
            unknown.append(fam)
    lines = list(fixes)
    if prep.bands and not options.soft_balance:
        state, worst = try_solve(frozenset(), True)
        if state in ("optimal", "feasible") and worst:
            parts = ", ".join(f"{m} {d:+.1%}" for m, d in worst.items())
            lines.append(f"soft balance (other constraints kept) finds a plan; its worst "
                         f"deviations from the mean are {parts}: bands at least that wide "
                         "can hold")
    if not fixes:
        lines.insert(0, "no single constraint family is to blame: relax several of "
                        + "; ".join(text for _, text in families) if families
                        else "the assignment itself is impossible")
    if unknown:
        lines.append("could not decide within the time limit for: " + ", ".join(unknown))
    return lines
