"""The ``realign`` what-if lever: re-align territories with the optimiser, then simulate.

The optimiser returns a new owner for every account; the variant's scenario carries those owners
(so territory-owner routing follows the new territories). The alignment's status, moves and gap
are reported in the variant's notes, with whatever the optimiser widened or relaxed.
"""

from __future__ import annotations

from collections.abc import Mapping

from salesplan.optimizer import AlignmentOptions, BalanceBand, align
from salesplan.scenarios import Scenario
from salesplan.scenarios.levers import Realign

__all__ = ["realign_scenario", "with_owners"]


def with_owners(sc: Scenario, owners: Mapping[str, str] | None) -> Scenario:
    """``sc`` with each account's owner from ``owners`` (account id -> rep id; accounts absent
    from it keep theirs); ``None`` returns ``sc`` itself.

    An account given to a rep who starts during the horizon is handed over on that rep's start
    date: until then it stays with the rep working it at the horizon start (its previous owner,
    else its owner). An account given to a rep seated from the start has no previous owner."""
    if owners is None:
        return sc
    starts = {r.id: r.start_date for r in sc.reps}
    accounts = []
    for a in sc.accounts:
        new = owners.get(a.id, a.owner)
        if new == a.owner:
            accounts.append(a)
            continue
        working = a.previous_owner or a.owner
        prev = working if new is not None and starts.get(new) and working != new else None
        accounts.append(a.model_copy(update={"owner": new, "previous_owner": prev}))
    return sc.model_copy(update={"accounts": accounts})


def realign_scenario(sc: Scenario, lever: Realign, time_limit: float = 60.0
                     ) -> tuple[Scenario, list[str]]:
    """``sc`` with account owners from an optimised alignment, and notes describing it."""
    options = AlignmentOptions(
        mode=lever.mode,
        balance=tuple(BalanceBand(metric, tol) for metric, tol in sorted(lever.balance.items())),
        max_moves=lever.max_moves,
        time_limit=time_limit,
    )
    result = align(sc, options)
    owner = dict(zip(result.assignment["account"], result.assignment["rep"], strict=True))
    m = result.metrics
    notes = [f"re-aligned territories ({lever.mode}): {m.status}, {m.moves} accounts moved, "
             f"solved in {m.solve_seconds:.1f} s", *result.notes]
    return with_owners(sc, owner), notes
