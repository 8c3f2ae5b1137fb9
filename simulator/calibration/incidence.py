"""The Aalen-Johansen estimate of the won and lost cumulative incidence of a deal's whole cycle
(non-parametric competing risks, with censoring and left truncation), and what it says about a
deal still open at a given age."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .fits import MIN_DAYS

__all__ = ["CumulativeIncidence", "aalen_johansen"]


@dataclass
class CumulativeIncidence:
    """Aalen-Johansen estimate of won/lost cumulative incidence with censoring and left
    truncation (risk set at u: entry < u <= t). ``times``: event times; ``cif_won``,
    ``cif_lost``: cumulative incidence after each; ``surv``: P(still open) after each."""

    times: np.ndarray
    cif_won: np.ndarray
    cif_lost: np.ndarray
    surv: np.ndarray

    def _at(self, arr: np.ndarray, a: float, start: float) -> float:
        i = np.searchsorted(self.times, a, side="right") - 1
        return start if i < 0 else float(arr[i])

    @property
    def p_won(self) -> float:
        return float(self.cif_won[-1]) if self.times.size else float("nan")

    def base_survival(self, age: float) -> float:
        """P(still open at ``age``) for a deal that is not stalled: (S(age) - pi) / (1 - pi)
        with pi = S(last close), the pooled never-closing share."""
        pi = float(self.surv[-1]) if self.times.size else 0.0
        if pi >= 1:
            return 1.0
        return max(self._at(self.surv, age, 1.0) - pi, 0.0) / (1 - pi)

    def p_won_given_open(self, age: float, stall_share: float | None = None) -> float:
        """P(won | still open at ``age``): (CIF_won(end) - CIF_won(age)) / S(age); 0 beyond the
        last observed event (no extrapolation). With ``stall_share`` (a cohort's own
        never-closing share) the non-stalled law is re-mixed with it."""
        pi = float(self.surv[-1]) if self.times.size else 0.0
        rest = max(self.p_won - self._at(self.cif_won, age, 0.0), 0.0)
        if stall_share is None or pi >= 1:
            s = self._at(self.surv, age, 1.0)
            return rest / s if s > 0 else 0.0
        num = (1 - stall_share) * rest / (1 - pi)
        den = stall_share + (1 - stall_share) * self.base_survival(age)
        return num / den if den > 0 else 0.0

    def residual_won(self, age: float) -> tuple[list[float], list[float]]:
        """Remaining days (values) and weights of won closes after ``age``."""
        inc = np.diff(np.concatenate([[0.0], self.cif_won]))
        m = (self.times > age) & (inc > 0)
        return (self.times[m] - age).tolist(), inc[m].tolist()


def aalen_johansen(t: np.ndarray, outcome: np.ndarray, entry: np.ndarray | None = None
                   ) -> CumulativeIncidence:
    """Non-parametric competing-risks estimate (won/lost; open rows censored at ``t``)."""
    t = np.asarray(t, float)
    o = np.asarray(outcome)
    ok = np.isfinite(t)
    t, o = np.maximum(t[ok], MIN_DAYS), o[ok]
    en = np.zeros(t.size) if entry is None else np.nan_to_num(np.asarray(entry, float)[ok])
    ev_t = np.unique(t[o != "open"])
    st, ent = np.sort(t), np.sort(en)
    s, cw, cl = 1.0, 0.0, 0.0
    cws, cls, ss = [], [], []
    tw, tl = np.sort(t[o == "won"]), np.sort(t[o == "lost"])
    for u in ev_t:
        n = (t.size - np.searchsorted(st, u, side="left")) - (t.size - np.searchsorted(
            ent, u, side="left"))
        if n <= 0:
            cws.append(cw)
            cls.append(cl)
            ss.append(s)
            continue
        dw = np.searchsorted(tw, u, side="right") - np.searchsorted(tw, u, side="left")
        dl = np.searchsorted(tl, u, side="right") - np.searchsorted(tl, u, side="left")
        cw += s * dw / n
        cl += s * dl / n
        s *= 1 - (dw + dl) / n
        cws.append(cw)
        cls.append(cl)
        ss.append(s)
    return CumulativeIncidence(ev_t, np.array(cws), np.array(cls), np.array(ss))
