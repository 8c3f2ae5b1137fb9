"""The alignment problem as plain arrays: the lower-level entry for benchmarks and research.

:class:`AlignmentProblem` holds, for n accounts and m reps: ids, potential (currency/yr),
workload (hours/yr), the (n x m) distance matrix (km or minutes; NaN = unknown pair), current
owners, locks, and optional region/segment data used for eligibility and diagnosis. Build it
from a scenario (:meth:`AlignmentProblem.from_scenario`), from frames
(:meth:`AlignmentProblem.from_frames`) or directly from arrays.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from salesplan.scenarios.model import Scenario

from .distance import haversine_km, travel_table
from .errors import InfeasibleInputError

__all__ = ["AlignmentProblem"]


@dataclass(frozen=True, eq=False)
class AlignmentProblem:
    """n accounts, m reps, as arrays (row i = account i, column j = rep j).

    ``owner`` holds the previous owner's id per account (None: unowned; an id that is not among
    ``rep_ids`` is kept for the report and counts as a forced move). ``rep_segments[j]`` empty
    means rep j serves every segment. ``notes`` record what was ignored while building.
    """

    account_ids: list[str]
    rep_ids: list[str]
    potential: np.ndarray
    workload: np.ndarray
    distance: np.ndarray
    owner: list[str | None]
    locked: np.ndarray
    account_region: list[str] | None = None
    account_segment: list[str] | None = None
    rep_region: list[str] | None = None
    rep_segments: list[tuple[str, ...]] | None = None
    account_lat: np.ndarray | None = None
    account_lon: np.ndarray | None = None
    rep_lat: np.ndarray | None = None
    rep_lon: np.ndarray | None = None
    distance_unit: str = "km"
    currency: str = "USD"
    notes: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        n, m = len(self.account_ids), len(self.rep_ids)
        problems = []
        if self.distance.shape != (n, m):
            problems.append(f"distance matrix has shape {self.distance.shape}, expected {(n, m)}")
        for name in ("potential", "workload", "locked"):
            if len(getattr(self, name)) != n:
                problems.append(f"{name} has {len(getattr(self, name))} entries, expected {n}")
        if len(self.owner) != n:
            problems.append(f"owner has {len(self.owner)} entries, expected {n}")
        if len(set(self.account_ids)) != n:
            problems.append("account ids are not unique")
        if len(set(self.rep_ids)) != m:
            problems.append("rep ids are not unique")
        if m == 0:
            problems.append("there are no reps")
        if problems:
            raise InfeasibleInputError(problems, "the alignment problem is malformed")

    @property
    def n_accounts(self) -> int:
        return len(self.account_ids)

    @property
    def n_reps(self) -> int:
        return len(self.rep_ids)

    def owner_index(self) -> np.ndarray:
        """Column of each account's owner among the reps (-1: none or not a rep here)."""
        index = {r: j for j, r in enumerate(self.rep_ids)}
        return np.array([index.get(o, -1) if o is not None else -1 for o in self.owner],
                        dtype=np.int64)

    def subset(self, accounts: np.ndarray, reps: np.ndarray) -> AlignmentProblem:
        """The problem restricted to the rows ``accounts`` and columns ``reps`` (index arrays).
        Owners keep their ids: an owner outside ``reps`` is no rep of the subset."""
        a, r = np.asarray(accounts, dtype=np.int64), np.asarray(reps, dtype=np.int64)

        def rows(x):
            return None if x is None else [x[i] for i in a]

        def cols(x):
            return None if x is None else [x[j] for j in r]

        def arr(x, idx):
            return None if x is None else np.asarray(x)[idx]

        return AlignmentProblem(
            account_ids=rows(self.account_ids), rep_ids=cols(self.rep_ids),
            potential=arr(self.potential, a), workload=arr(self.workload, a),
            distance=self.distance[np.ix_(a, r)], owner=rows(self.owner),
            locked=arr(self.locked, a), account_region=rows(self.account_region),
            account_segment=rows(self.account_segment), rep_region=cols(self.rep_region),
            rep_segments=cols(self.rep_segments), account_lat=arr(self.account_lat, a),
            account_lon=arr(self.account_lon, a), rep_lat=arr(self.rep_lat, r),
            rep_lon=arr(self.rep_lon, r), distance_unit=self.distance_unit,
            currency=self.currency)

    @classmethod
    def from_scenario(cls, scenario: Scenario, travel: pd.DataFrame | None = None
                      ) -> AlignmentProblem:
        """Accounts and reps of a scenario. Distances are haversine km from coordinates, or the
        travel frame (see :func:`.distance.travel_table`) when given."""
        accounts, reps = scenario.accounts, scenario.reps
        if not accounts:
            raise InfeasibleInputError(["the scenario has no accounts"],
                                       "nothing to align")
        acc_ids = [a.id for a in accounts]
        rep_ids = [r.id for r in reps]
        notes: list[str] = []
        a_lat = np.array([a.lat for a in accounts], dtype=float)
        a_lon = np.array([a.lon for a in accounts], dtype=float)
        r_lat = np.array([np.nan if r.lat is None else r.lat for r in reps], dtype=float)
        r_lon = np.array([np.nan if r.lon is None else r.lon for r in reps], dtype=float)
        if travel is not None:
            table = travel_table(travel, acc_ids, rep_ids)
            dist, unit = table.matrix, table.unit
            notes += table.notes
        else:
            missing = [r.id for r in reps if r.lat is None or r.lon is None]
            if missing:
                raise InfeasibleInputError(
                    [f"rep {rid} has no home coordinates (lat/lon): give them, or a travel "
                     "table" for rid in missing], "distances cannot be computed")
            dist, unit = haversine_km(a_lat, a_lon, r_lat, r_lon), "km"
        return cls(
            account_ids=acc_ids,
            rep_ids=rep_ids,
            potential=np.array([a.potential for a in accounts], dtype=float),
            workload=np.array([a.workload_hours for a in accounts], dtype=float),
            distance=dist,
            owner=[a.owner for a in accounts],
            locked=np.array([a.locked for a in accounts], dtype=bool),
            account_region=[a.region for a in accounts],
            account_segment=[a.segment for a in accounts],
            rep_region=[r.region for r in reps],
            rep_segments=[tuple(r.segments) for r in reps],
            account_lat=a_lat, account_lon=a_lon, rep_lat=r_lat, rep_lon=r_lon,
            distance_unit=unit, currency=scenario.horizon.currency, notes=notes,
        )

    @classmethod
    def from_frames(cls, accounts: pd.DataFrame, reps: pd.DataFrame,
                    distance: np.ndarray | pd.DataFrame | None = None,
                    distance_unit: str = "km") -> AlignmentProblem:
        """From frames. ``accounts`` needs ``id``, ``potential``, ``workload_hours`` and either
        ``lat``/``lon`` or a ``distance``; optional ``owner``, ``locked``, ``region``,
        ``segment``. ``reps`` needs ``id``, optional ``lat``/``lon``, ``region``, ``segments``
        (a list or ``;``-separated text). ``distance`` is an (n x m) array or a travel frame
        (account, rep, distance|minutes)."""
        acc_ids = [str(v) for v in accounts["id"]]
        rep_ids = [str(v) for v in reps["id"]]
        a_lat = accounts["lat"].to_numpy(float) if "lat" in accounts else None
        a_lon = accounts["lon"].to_numpy(float) if "lon" in accounts else None
        r_lat = reps["lat"].to_numpy(float) if "lat" in reps else None
        r_lon = reps["lon"].to_numpy(float) if "lon" in reps else None
        notes: list[str] = []
        if isinstance(distance, pd.DataFrame):
            table = travel_table(distance, acc_ids, rep_ids)
            dist, distance_unit = table.matrix, table.unit
            notes += table.notes
        elif distance is not None:
            dist = np.asarray(distance, dtype=float)
        else:
            if a_lat is None or r_lat is None:
                raise InfeasibleInputError(["give lat/lon for accounts and reps, or distances"],
                                           "distances cannot be computed")
            dist = haversine_km(a_lat, a_lon, r_lat, r_lon)

        def col(frame, name, default):
            return list(frame[name]) if name in frame else default

        owners = [None if (o is None or (isinstance(o, float) and np.isnan(o)) or o == "")
                  else str(o) for o in col(accounts, "owner", [None] * len(acc_ids))]
        segs = None
        if "segments" in reps:
            segs = [tuple(s for s in (v.split(";") if isinstance(v, str) else (v or ())) if s)
                    for v in reps["segments"]]
        return cls(
            account_ids=acc_ids, rep_ids=rep_ids,
            potential=accounts["potential"].to_numpy(float),
            workload=accounts["workload_hours"].to_numpy(float),
            distance=dist, owner=owners,
            locked=np.asarray(col(accounts, "locked", [False] * len(acc_ids)), dtype=bool),
            account_region=col(accounts, "region", None),
            account_segment=col(accounts, "segment", None),
            rep_region=col(reps, "region", None),
            rep_segments=segs if "segment" in accounts else None,
            account_lat=a_lat, account_lon=a_lon, rep_lat=r_lat, rep_lon=r_lon,
            distance_unit=distance_unit, notes=notes,
        )
