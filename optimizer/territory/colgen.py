r"""Column generation for the LP relaxation: the LP over *every* eligible pair, with only the
pairs its duals ask for in the model.

The LP relaxation of :mod:`.formulation` (hard bands) is

    min  sum_ij c_ij x_ij
    s.t. sum_j x_ij = 1                                (u_i)      every account i
         lo_aj <= sum_i (v_ia / mu_aj) x_ij <= hi_aj   (y_aj)     every rep j, band a
         sum_i (h_i / cap_j) x_ij <= 1                 (y_cap_j)  reps with a capacity
         sum_{i owned, j != o(i)} x_ij <= M            (y_M)      re-align move cap
         sum_{i owned, j != o(i)} (p_i / P) x_ij <= 1  (y_P)      re-align moved-potential cap
         x_ij >= 0

(x_ij <= 1 is implied by the assign rows). c_ij is the model's cost, so in re-align mode it
carries the disruption term w_i lambda [j != o(i)]. A pair not in the model has the reduced cost

    rc_ij = c_ij - u_i - sum_a (v_ia / mu_aj) y_aj - (h_i / cap_j) y_cap_j
            - [i owned, j != o(i)] (y_M + (p_i / P) y_P)

which :class:`ColumnLP` prices for every eligible pair of the model's accounts (dense n x m
blocks of ``PRICE_ROWS`` accounts, so memory stays bounded). Each round adds each account's
``PER_ACCOUNT`` most negative pairs (at most ``PER_ROUND`` pairs a round, most negative
first) to the live :class:`highspy.Highs` object (``addCols``) and solves again, until no pair
prices below ``-tol`` (the LP over the model's pairs is then the LP over every eligible pair, a
true lower bound for every plan) or the bound below is within ``CG_GAP`` of it.

Every band row also has two elastic slack columns, every capacity and move-cap row one (cost
``spec.elastic_unit`` per unit of the row's scale), so the restricted LP is feasible from the
first round whatever the start pairs (phase one and two in one). At an optimum with zero slack
the LP is the hard LP; with slack left when pricing is done, no choice of pairs holds the rows
at that penalty.

**The bound before convergence** (Lagrangian; Farley 1990, Lübbecke & Desrosiers 2005,
Sec. 2.1). Take any y for the rows other than the assign rows with the sign its row allows
(y_r >= 0 where the row is held from below, y_r <= 0 from above; the restricted LP's duals,
clipped to those signs), and b_r the row's bound on the side of y_r's sign. Every x that holds
the rows has y_r (A_r x - b_r) >= 0, so

    c x >= c x - y (A x - b) >= min_{x in X} (c - y A) x + y b
         = sum_i min_j (c_ij - (y A)_ij) + y b =: L(y),

X = {sum_j x_ij = 1, 0 <= x <= 1} over every allowed pair. L(y) bounds the hard-band LP over
every allowed pair, hence every plan, whatever pairs the model holds. With the restricted
LP's optimal duals, c_ij - (y A)_ij = rc_ij + u_i, and L(y) = z + sum_i min(0, min_j rc_ij)
(Farley's bound) when z = sum_i u_i + y b, i.e. when no pair sits at its upper bound with a
negative reduced cost; L(y) is computed directly, so no such condition is needed.
:attr:`ColumnResult.bound` is the largest L(y) met over the rounds (with y = 0 among them:
each account at its cheapest allowed rep), or, priced out with no slack left, the LP value
itself.

Each pair has the upper bound 1 (implied by its assign row, but it lets HiGHS's dual simplex
flip bounds: the first LP of geo-33k's South pool, 55,782 pairs, solved in 2 s with it and not
in 60 s without). Each round is solved from scratch (see :meth:`ColumnLP._run_lp`).

Built directly with highspy from numpy arrays (compressed columns): PuLP takes about 12 s to
build 800,000 pairs, and a PuLP model cannot take columns into a solved model.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import numpy as np

from .formulation import ModelSpec

__all__ = ["ColumnLP", "ColumnResult", "allowed_pairs"]

log = logging.getLogger(__name__)

PER_ACCOUNT = 4
"""Pairs of negative reduced cost added per account and round (its most negative ones)."""
PER_ROUND = 60_000
"""At most this many pairs added a round (the most negative first)."""
PRICE_ROWS = 4096
"""Accounts priced per dense block (a block is PRICE_ROWS x m floats)."""
CG_GAP = 1e-4
"""Column generation stops when the Lagrangian bound is within this share of the LP over the
pairs in the model (measured on geo-33k's South pool: 0.01% after 4 rounds, 25 s; the
remaining rounds, each adding a few dozen pairs, changed the LP by under 0.004%)."""
RC_TOL = 1e-7
"""A pair prices out when rc_ij < -RC_TOL x (1 + c_ij) (HiGHS's dual feasibility tolerance
is 1e-7 on the same scale)."""


def allowed_pairs(spec: ModelSpec, eligible: np.ndarray) -> np.ndarray:
    """The pairs the LP may use (n x m bool): eligible pairs; a locked account (locks not
    dropped) only at its owner, as :func:`.candidates.candidate_pairs` with every rep."""
    allowed = np.asarray(eligible, dtype=bool).copy()
    if "locks" in spec.drop:
        return allowed
    rows = np.flatnonzero(spec.locked & (spec.owner >= 0))
    keep = allowed[rows, spec.owner[rows]]
    allowed[rows, :] = False
    allowed[rows, spec.owner[rows]] = keep
    return allowed


@dataclass
class ColumnResult:
    """One column-generation solve: ``state`` ``"optimal"`` (priced out: the LP over every
    eligible pair), ``"stopped"`` (the time or the ``gap`` ended it, or ``price=False``: the
    LP over the model's pairs, with the Lagrangian bound; None without pricing) or
    ``"failed"`` (HiGHS gave no optimum: nothing to use); ``objective`` the restricted LP's
    value (model units), ``bound`` a lower bound for every plan (None when failed),
    ``slack`` the total elastic slack (fractions of the targets; > 0: the rows do not hold
    in this LP), ``rounds``, ``added`` pairs, ``seconds`` (wall)."""

    state: str
    objective: float | None
    bound: float | None
    slack: float
    rounds: int
    added: int
    seconds: float

    @property
    def holds(self) -> bool:
        """The LP holds every band (no slack left)."""
        return self.state != "failed" and self.slack <= 1e-6


class ColumnLP:
    """The LP relaxation of ``spec`` over a growing set of pairs, on a live HiGHS object.

    ``allowed`` (n x m bool) are the pairs pricing may add (:func:`allowed_pairs`);
    ``start_i``/``start_j`` the first pairs (must give every account at least one).
    ``share`` tightens every band by that share of its tolerance (0: the real bands).
    ``simplex``: HiGHS's ``simplex_strategy`` (1 dual: a 20,000-pair pool of the generated
    10k x 100 solved in 0.23 s by the dual simplex, 5.4 s by the primal)."""

    def __init__(self, spec: ModelSpec, allowed: np.ndarray, start_i: np.ndarray,
                 start_j: np.ndarray, *, share: float = 0.0, threads: int | None = None,
                 simplex: int = 1) -> None:
        import highspy

        self.spec = spec
        self.allowed = allowed
        self.n, self.m = allowed.shape
        self.h = highspy.Highs()
        self.h.setOptionValue("output_flag", False)
        if threads is not None:
            self.h.setOptionValue("threads", int(threads))
        self.h.setOptionValue("simplex_strategy", int(simplex))
        self._rows()
        self.in_model = np.zeros((self.n, self.m), dtype=bool)
        self.pi = np.zeros(0, dtype=np.int64)
        self.pj = np.zeros(0, dtype=np.int64)
        self._slack_cols()
        self.set_share(share)
        self.add(start_i, start_j)
        self.slack = np.inf
        self._values = np.zeros(0)
        self._basis = None  # the basis of the last LP solved to optimality (_run_lp)
        self._basis_cols = 0
        self.floor = float(np.where(allowed, spec.cost, np.inf).min(axis=1).sum())
        """The bound every plan has: each account at its cheapest allowed rep (L(0))."""

    # -- the model -------------------------------------------------------------------------

    def _rows(self) -> None:
        """Assign rows, band rows (relative to mu), capacity rows, move caps; no columns."""
        spec, n, m = self.spec, self.n, self.m
        lower, upper = [np.ones(n)], [np.ones(n)]
        nrow = n
        self.band_rows: list[np.ndarray] = []  # per band: row per rep, -1: none
        self.band_coef: list[tuple[np.ndarray, np.ndarray]] = []  # (values, 1 / mu)
        self.band_tol: list[float] = []
        for band in spec.bands:
            rows = np.full(m, -1, dtype=np.int64)
            if f"balance:{band.metric}" in spec.drop:
                continue
            mu = np.asarray(band.mu, dtype=float)
            has = mu > 0
            rows[has] = nrow + np.arange(int(has.sum()))
            nrow += int(has.sum())
            lower.append(np.full(int(has.sum()), 1.0 - band.tolerance))
            upper.append(np.full(int(has.sum()), 1.0 + band.tolerance))
            self.band_rows.append(rows)
            self.band_coef.append((np.asarray(band.values, dtype=float),
                                   np.where(has, 1.0 / np.where(has, mu, 1.0), 0.0)))
            self.band_tol.append(float(band.tolerance))
        self.cap_row = np.full(m, -1, dtype=np.int64)
        self.cap_scale = np.ones(m)
        if "capacity" not in spec.drop:
            has = np.isfinite(spec.capacity)
            self.cap_row[has] = nrow + np.arange(int(has.sum()))
            nrow += int(has.sum())
            self.cap_scale = np.maximum(np.where(has, spec.capacity, 1.0), 1.0)
            lower.append(np.full(int(has.sum()), -np.inf))
            upper.append(spec.capacity[has] / self.cap_scale[has])
        self.move_row = self.pot_row = -1
        self.pot_scale = 1.0
        if spec.max_moves is not None and "move_cap" not in spec.drop:
            self.move_row, nrow = nrow, nrow + 1
            lower.append(np.array([-np.inf]))
            upper.append(np.array([float(spec.max_moves)]))
        if spec.max_moved_potential is not None and "move_cap" not in spec.drop:
            self.pot_scale = max(float(spec.max_moved_potential), 1.0)
            self.pot_row, nrow = nrow, nrow + 1
            lower.append(np.array([-np.inf]))
            upper.append(np.array([float(spec.max_moved_potential) / self.pot_scale]))
        self.n_rows = nrow
        lo, hi = np.concatenate(lower), np.concatenate(upper)
        self.h.addRows(nrow, lo, hi, 0, np.zeros(nrow, np.int32), np.zeros(0, np.int32),
                       np.zeros(0))

    def _slack_cols(self) -> None:
        """Elastic slacks at ``spec.elastic_unit``: two per band row (+1 and -1), one (-1)
        per capacity or move-cap row, so that the restricted LP always solves."""
        band = np.concatenate([r[r >= 0] for r in self.band_rows]) if self.band_rows \
            else np.zeros(0, dtype=np.int64)
        upper = np.concatenate([self.cap_row[self.cap_row >= 0],
                                [r for r in (self.move_row, self.pot_row) if r >= 0]])
        idx = np.concatenate([band, band, upper]).astype(np.int32)
        val = np.concatenate([np.ones(band.size), -np.ones(band.size + upper.size)])
        unit = max(float(self.spec.elastic_unit), 1.0)
        self.n_slack = int(idx.size)
        if not idx.size:
            return
        self.h.addCols(self.n_slack, np.full(self.n_slack, unit), np.zeros(self.n_slack),
                       np.full(self.n_slack, np.inf), self.n_slack,
                       np.arange(self.n_slack, dtype=np.int32), idx, val)

    def set_share(self, share: float) -> None:
        """Tighten every band by ``share`` of its tolerance (0: the real bands)."""
        self.share = float(share)
        for rows, tol in zip(self.band_rows, self.band_tol, strict=True):
            r = rows[rows >= 0].astype(np.int32)
            t = tol * (1.0 - self.share)
            self.h.changeRowsBounds(r.size, r, np.full(r.size, 1.0 - t), np.full(r.size, 1.0 + t))

    def _entries(self, ii: np.ndarray, jj: np.ndarray
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Compressed columns of pairs (ii, jj): (starts, row indices, values)."""
        spec = self.spec
        k = ii.size
        cols, rows, vals = [np.arange(k)], [ii], [np.ones(k)]
        for brow, (values, inv_mu) in zip(self.band_rows, self.band_coef, strict=True):
            r = brow[jj]
            ok = r >= 0
            cols.append(np.flatnonzero(ok))
            rows.append(r[ok])
            vals.append(values[ii[ok]] * inv_mu[jj[ok]])
        r = self.cap_row[jj]
        ok = r >= 0
        cols.append(np.flatnonzero(ok))
        rows.append(r[ok])
        vals.append(spec.workload[ii[ok]] / self.cap_scale[jj[ok]])
        moving = spec.has_owner[ii] & (jj != spec.owner[ii])
        mv = np.flatnonzero(moving)
        if self.move_row >= 0:
            cols.append(mv)
            rows.append(np.full(mv.size, self.move_row))
            vals.append(np.ones(mv.size))
        if self.pot_row >= 0:
            cols.append(mv)
            rows.append(np.full(mv.size, self.pot_row))
            vals.append(spec.potential[ii[mv]] / self.pot_scale)
        c, r, v = np.concatenate(cols), np.concatenate(rows), np.concatenate(vals)
        order = np.argsort(c, kind="stable")
        starts = np.searchsorted(c[order], np.arange(k)).astype(np.int32)
        return starts, r[order].astype(np.int32), v[order].astype(float)

    def add(self, ii: np.ndarray, jj: np.ndarray) -> int:
        """Add the allowed pairs (ii, jj) not yet in the model; returns how many."""
        ii, jj = np.asarray(ii, dtype=np.int64), np.asarray(jj, dtype=np.int64)
        key = np.unique(ii * self.m + jj)
        ii, jj = key // self.m, key % self.m
        new = self.allowed[ii, jj] & ~self.in_model[ii, jj]
        ii, jj = ii[new], jj[new]
        if not ii.size:
            return 0
        starts, rows, vals = self._entries(ii, jj)
        self.h.addCols(ii.size, self.spec.cost[ii, jj].astype(float), np.zeros(ii.size),
                       np.ones(ii.size), rows.size, starts, rows, vals)
        self.in_model[ii, jj] = True
        self.pi = np.concatenate([self.pi, ii])
        self.pj = np.concatenate([self.pj, jj])
        return int(ii.size)

    # -- duals and pricing -----------------------------------------------------------------

    def _duals(self) -> tuple[np.ndarray, np.ndarray]:
        """(u per account, the rows' duals), HiGHS's sign: col_dual = c - A' row_dual."""
        row_dual = np.asarray(self.h.getSolution().row_dual, dtype=float)
        return row_dual[:self.n], row_dual

    def reduced_costs(self, rows: np.ndarray, u: np.ndarray, row_dual: np.ndarray
                      ) -> np.ndarray:
        """rc_ij of the module doc for accounts ``rows`` and every rep (len(rows) x m; inf
        where the pair is not allowed)."""
        spec = self.spec
        rc = spec.cost[rows].astype(float) - u[rows, None]
        for brow, (values, inv_mu) in zip(self.band_rows, self.band_coef, strict=True):
            y = np.where(brow >= 0, row_dual[np.maximum(brow, 0)], 0.0) * inv_mu
            rc -= values[rows, None] * y[None, :]
        if (self.cap_row >= 0).any():
            y = np.where(self.cap_row >= 0, row_dual[np.maximum(self.cap_row, 0)], 0.0)
            rc -= spec.workload[rows, None] * (y / self.cap_scale)[None, :]
        if self.move_row >= 0 or self.pot_row >= 0:
            y_move = row_dual[self.move_row] if self.move_row >= 0 else 0.0
            y_pot = row_dual[self.pot_row] / self.pot_scale if self.pot_row >= 0 else 0.0
            moving = spec.has_owner[rows, None] & (
                np.arange(self.m)[None, :] != spec.owner[rows, None])
            rc -= moving * (y_move + spec.potential[rows, None] * y_pot)
        return np.where(self.allowed[rows], rc, np.inf)

    def price(self, per_account: int = PER_ACCOUNT, per_round: int = PER_ROUND,
              share: float | None = None) -> tuple[np.ndarray, np.ndarray, float]:
        """The pairs to add (each account's ``per_account`` most negative, at most
        ``per_round`` in all, most negative first) and the Lagrangian bound of the current
        duals (:meth:`lagrangian_bound`, computed in the same pass)."""
        u, row_dual = self._duals()
        y = self._signed(row_dual, share)
        new_i, new_j, new_rc = [], [], []
        total = 0.0
        kk = min(per_account, self.m)
        for s in range(0, self.n, PRICE_ROWS):
            rows = np.arange(s, min(self.n, s + PRICE_ROWS))
            rc = self.reduced_costs(rows, u, y)
            total += float((rc.min(axis=1) + u[rows]).sum())
            rc[self.in_model[rows]] = np.inf
            tol = RC_TOL * (1.0 + np.abs(self.spec.cost[rows]))
            neg = rc < -tol
            if not neg.any():
                continue
            cand = np.argpartition(rc, kk - 1, axis=1)[:, :kk] if kk < self.m else \
                np.tile(np.arange(self.m), (rows.size, 1))
            r_idx = np.repeat(np.arange(rows.size), cand.shape[1])
            c_idx = cand.ravel()
            ok = neg[r_idx, c_idx]
            new_i.append(rows[r_idx[ok]])
            new_j.append(c_idx[ok])
            new_rc.append(rc[r_idx[ok], c_idx[ok]])
        bound = total + self._row_term(y, share)
        if not new_i:
            return np.zeros(0, np.int64), np.zeros(0, np.int64), bound
        ii, jj, rcs = np.concatenate(new_i), np.concatenate(new_j), np.concatenate(new_rc)
        if ii.size > per_round:
            keep = np.argpartition(rcs, per_round - 1)[:per_round]
            ii, jj = ii[keep], jj[keep]
        return ii, jj, bound

    def _bounds(self, share: float | None = None) -> tuple[np.ndarray, np.ndarray]:
        """The rows' lower and upper bounds as the model has them now, or (``share``) with
        every band tightened by that share of its tolerance instead (0: the real bands)."""
        lp = self.h.getLp()
        lo = np.asarray(lp.row_lower_, dtype=float).copy()
        hi = np.asarray(lp.row_upper_, dtype=float).copy()
        if share is not None:
            for rows, tol in zip(self.band_rows, self.band_tol, strict=True):
                r = rows[rows >= 0]
                lo[r], hi[r] = 1.0 - tol * (1.0 - share), 1.0 + tol * (1.0 - share)
        return lo, hi

    def _signed(self, row_dual: np.ndarray, share: float | None = None) -> np.ndarray:
        """The duals of the rows other than the assign rows, each clipped to the sign its row
        allows (>= 0 on a row with no upper bound, <= 0 on one with no lower bound): any such
        y gives a valid Lagrangian bound; HiGHS's own can be off by its tolerance."""
        lo, hi = self._bounds(share)
        y = row_dual.copy()
        y[:self.n] = 0.0
        y = np.where(np.isfinite(hi), y, np.maximum(y, 0.0))
        y = np.where(np.isfinite(lo), y, np.minimum(y, 0.0))
        return y

    def _row_term(self, y: np.ndarray, share: float | None = None) -> float:
        """sum_r y_r b_r, b_r the row's bound on the side of y_r's sign (bands as
        :meth:`_bounds` has them for ``share``)."""
        lo, hi = self._bounds(share)
        b = np.where(y > 0, lo, hi)
        return float(np.where(y != 0, y * np.where(np.isfinite(b), b, 0.0), 0.0).sum())

    def lagrangian_bound(self, share: float | None = None) -> float:
        """L(y) = sum_i min_j (c_ij - (y A)_ij) + sum_r y_r b_r over every allowed pair, y
        the current duals of the rows other than the assign rows (:meth:`_signed`): a lower
        bound for the LP over every allowed pair with the rows as the model has them now
        (module doc), whatever pairs the model holds, or with b the bands tightened by
        ``share`` (0: the real bands) whatever the model's are. Any y with its rows' signs
        gives a valid L(y), so the duals of the LP with tightened bands bound the real LP
        too: about its value less the duals times the tightening (geo-50k's South pool,
        where pricing the real LP stopped at its time share with L(y) 3.2% below it, the
        tightened LP's duals after one more round of pricing bound it closer)."""
        return self.price(per_account=1, per_round=1, share=share)[2]

    # -- solving ---------------------------------------------------------------------------

    def _run_lp(self, deadline: float, warm: bool = False) -> bool:
        """Solve from scratch (presolve, then HiGHS's choice of simplex), or ``warm`` from the
        last basis, with the time to ``deadline``; True when optimal. From scratch after
        columns were added: on geo-33k's South pool (12,336 x 152) a warm re-solve after
        adding 30,000-40,000 columns took 40-48 s, a cold one 4-7 s. Warm after the bands
        changed (:meth:`set_share`: the basis stays dual feasible, the dual simplex goes on
        from it): the same pool's LP with bands 5% tighter in 1.3 s, from scratch 8.4 s."""
        import highspy

        if not warm:
            self.h.clearSolver()
        elif self.h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            self._restore_basis()
        # HiGHS's time limit counts the object's whole run time, not this run's
        self.h.setOptionValue("time_limit", self.h.getRunTime()
                              + max(1.0, deadline - time.perf_counter()))
        self.h.run()
        optimal = self.h.getModelStatus() == highspy.HighsModelStatus.kOptimal
        if optimal:
            self._basis, self._basis_cols = self.h.getBasis(), self.h.getNumCol()
        return optimal

    def back_to_last_optimum(self) -> int:
        """When the last run stopped without an optimum (the time limit in a pricing round),
        drop the pairs added since the last LP solved to optimality and go back to its basis,
        so that a warm solve (a change of bands) starts from an optimal basis of the same
        columns: with those pairs kept at 0 the basis is dual infeasible, and on geo-100k the
        LP with tightened bands did not solve in its share even warm. Their reduced costs were
        negative at the last optimum's duals, so pricing would add them again. Returns the
        pairs dropped. Call it before anything keeps the model's pairs (:attr:`pi`)."""
        import highspy

        if (self._basis is None
                or self.h.getModelStatus() == highspy.HighsModelStatus.kOptimal):
            return 0
        new = self.h.getNumCol() - self._basis_cols
        if new > 0:
            cols = np.arange(self._basis_cols, self._basis_cols + new, dtype=np.int32)
            self.h.deleteCols(new, cols)
            self.in_model[self.pi[-new:], self.pj[-new:]] = False
            self.pi, self.pj = self.pi[:-new], self.pj[:-new]
        self.h.setBasis(self._basis)
        return max(new, 0)

    def _restore_basis(self) -> None:
        """Go back to the basis of the last LP solved to optimality, the columns added since
        nonbasic at 0, when the last run stopped without an optimum (its basis is wherever
        the time limit left the simplex: a warm start from it stopped again on geo-50k's
        West pool, where the tightened LP from the last optimal basis solves in seconds)."""
        import highspy

        if self._basis is None:
            return
        basis = self._basis
        new = self.h.getNumCol() - self._basis_cols
        if new > 0:
            basis.col_status = list(basis.col_status) + [highspy.HighsBasisStatus.kLower] * new
            self._basis_cols += new
        self.h.setBasis(basis)

    def objective(self) -> float:
        return float(self.h.getInfo().objective_function_value)

    def solve(self, deadline: float, *, price: bool = True, gap: float = CG_GAP,
              warm: bool = False) -> ColumnResult:
        """Solve, pricing and adding pairs (``price``) until none prices out, the
        Lagrangian bound is within ``gap`` (relative) of the LP, or ``deadline`` (a
        :func:`time.perf_counter` instant) comes. ``warm``: the first LP starts from the
        last basis (after :meth:`set_share`; see :meth:`_run_lp`), the later ones from
        scratch. The values kept (:meth:`values`) are those of the last LP that solved. See
        :class:`ColumnResult`."""
        t0 = time.perf_counter()
        added, rounds = 0, 0
        # L(y) for y = 0 is the cheapest-rep floor: the early rounds' L(y) can be far below it
        # (geo-100k's South pool, 2 rounds: -2.5 million)
        best = self.floor if self.share == 0 else -np.inf
        z = None
        while True:
            rounds += 1
            if not self._run_lp(deadline, warm=warm and rounds == 1):
                log.info("column generation: LP %s in round %d", self.h.getModelStatus(),
                         rounds)
                if z is None:
                    return ColumnResult("failed", None, None, np.inf, rounds, added,
                                        time.perf_counter() - t0)
                return ColumnResult("stopped", z, min(z, best), self.slack, rounds, added,
                                    time.perf_counter() - t0)
            z = self.objective()
            self._keep()
            if not price:
                return ColumnResult("stopped", z, None, self.slack, rounds, added,
                                    time.perf_counter() - t0)
            ii, jj, bound = self.price()
            best = max(best, bound)
            log.info("column generation round %d: %d pairs, LP %.1f, bound %.1f, %d priced "
                     "out, %.1f s", rounds, self.pi.size, z, bound, ii.size,
                     time.perf_counter() - t0)
            if not ii.size or best >= z - 1e-9 * abs(z):
                # priced out, or the bound meets the LP: z is the LP over every allowed
                # pair (with slack left, the elastic one, which bounds nothing about the
                # hard rows: keep L(y))
                bound = z if self.slack <= 1e-6 else min(z, best)
                return ColumnResult("optimal", z, bound, self.slack, rounds, added,
                                    time.perf_counter() - t0)
            if z - best <= gap * abs(z) or time.perf_counter() > deadline - 1.0:
                return ColumnResult("stopped", z, min(z, best), self.slack, rounds, added,
                                    time.perf_counter() - t0)
            added += self.add(ii, jj)

    def set_upper(self, pairs: np.ndarray, upper: float) -> None:
        """Set the upper bound of the model's pairs selected by ``pairs`` (a bool mask or
        indices into :attr:`pi`/:attr:`pj`) to ``upper`` (0 closes a pair, 1 reopens it)."""
        idx = np.flatnonzero(pairs) if np.asarray(pairs).dtype == bool else np.asarray(pairs)
        if not idx.size:
            return
        cols = (idx + self.n_slack).astype(np.int32)
        self.h.changeColsBounds(cols.size, cols, np.zeros(cols.size),
                                np.full(cols.size, float(upper)))

    def resolve(self, deadline: float) -> bool:
        """Solve again from the last basis (after bound changes only: warm, no presolve, no
        pricing) until ``deadline`` (a :func:`time.perf_counter` instant). True when the LP is
        optimal with no elastic slack; its values are then kept (:meth:`values`), else the
        last ones stay."""
        import highspy

        self.h.setOptionValue("time_limit", self.h.getRunTime()
                              + max(0.5, deadline - time.perf_counter()))
        self.h.run()
        if self.h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            return False
        x = np.asarray(self.h.getSolution().col_value, dtype=float)
        if float(x[:self.n_slack].sum()) > 1e-6:  # as ColumnResult.holds
            return False
        self._keep()
        return True

    def _keep(self) -> None:
        """Keep the solution just solved (values, slack)."""
        x = np.asarray(self.h.getSolution().col_value, dtype=float)
        self.slack = float(x[:self.n_slack].sum())
        self._values = x[self.n_slack:self.n_slack + self.pi.size].copy()

    def values(self) -> np.ndarray:
        """x per pair (aligned with :attr:`pi`, :attr:`pj`) of the last LP that solved;
        pairs added after it are 0."""
        out = np.zeros(self.pi.size)
        out[:self._values.size] = self._values
        return out

    def column_duals(self) -> np.ndarray:
        """HiGHS's reduced costs of the pairs in the model (aligned with :attr:`pi`)."""
        d = np.asarray(self.h.getSolution().col_dual, dtype=float)
        return d[self.n_slack:self.n_slack + self.pi.size]
