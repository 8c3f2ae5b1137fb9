"""Warnings: what a valid scenario may get wrong without being invalid.

:func:`scenario_warnings` looks at a validated :class:`~salesplan.scenarios.model.Scenario` and
returns advisory :class:`~salesplan.scenarios.references.Problem` objects, separate from the
errors :func:`~salesplan.scenarios.io.load_scenario` raises: the scenario runs, but an answer
built on it may mislead. ``salesplan validate`` and ``describe`` print them (exit code 0), and the
what-if runner carries them into the base outcome's notes.

The warnings, in this order:

- **no accounts**: every rep's territory potential is 0 (quota methods that read it fall back to
  their other parts, or to an even split) and territory routing has no owner to route a lead to;
- **a rep with no accounts under territory routing** (``policies.routing`` in
  :data:`TERRITORY_ROUTINGS`): the rep gets only the leads of accounts with no eligible owner
  (unassigned accounts, owners away), so it books little whatever its capacity. A planned hire
  (``start_date`` on or after the horizon start) is no exception unless accounts are handed to it:
  accounts whose ``owner`` is the hire, worked by their ``previous_owner`` until the hire starts.
  A rep that is only the ``previous_owner`` of accounts owns none once they are handed over.
"""

from __future__ import annotations

from collections import defaultdict

from .model import Account, Rep, Scenario
from .references import Problem

__all__ = ["TERRITORY_ROUTINGS", "scenario_warnings"]

TERRITORY_ROUTINGS = frozenset({"territory_owner"})
"""Routing strategies that send an account's leads to its owner (the simulator's strategies with
``owner_first``); the data layer names them because it cannot import the simulator."""


def scenario_warnings(scenario: Scenario) -> list[Problem]:
    """Every warning about ``scenario`` (see the module notes), in rep order; empty when none."""
    if not scenario.accounts:
        return [Problem("accounts", "the scenario has no accounts: every rep's territory "
                        "potential is 0 (quota methods that use it fall back to their other "
                        "parts or an even split) and territory routing has no owner to send a "
                        "lead to (every lead goes to the least-loaded rep of its region)")]
    routing = scenario.policies.routing
    if routing not in TERRITORY_ROUTINGS:
        return []
    owned: dict[str, int] = defaultdict(int)
    handed: dict[str, list[Account]] = defaultdict(list)
    for a in scenario.accounts:
        if a.owner is not None:
            owned[a.owner] += 1
        if a.previous_owner is not None and a.previous_owner != a.owner:
            handed[a.previous_owner].append(a)
    return [Problem(f"reps[{rep.id}]", _no_accounts(scenario, rep, handed.get(rep.id, [])))
            for rep in scenario.reps if owned[rep.id] == 0]


def _no_accounts(scenario: Scenario, rep: Rep, handed: list[Account]) -> str:
    """The warning for ``rep``, which owns no accounts under territory routing; ``handed``: the
    accounts it works only until their owner (a hire) starts."""
    routing = f"territory routing (policies.routing: {scenario.policies.routing})"
    consequence = ("it gets only the leads of accounts with no eligible owner, so it will book "
                   "little whatever its capacity")
    if handed:
        to = sorted({a.owner for a in handed if a.owner is not None})
        return (f"owns no accounts under {routing}: the {len(handed)} account(s) it works are "
                f"handed over to {', '.join(to)} when they start; after that {consequence}")
    starts = rep.start_date is not None and rep.start_date >= scenario.horizon.start
    if starts:
        return (f"starts {rep.start_date.isoformat()} and owns no accounts under {routing}: "
                f"{consequence}; hand it accounts (owner: {rep.id}, previous_owner: the rep who "
                "works them until then) or expect its bookings near 0")
    return (f"owns no accounts under {routing}: {consequence}; give it accounts "
            "(Account.owner) or choose another routing")
