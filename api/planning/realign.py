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
    from it keep theirs); ``None`` returns ``sc`` itself."""
    if owners is None:
        return sc
    accounts = [a.model_copy(update={"owner": owners.get(a.id, a.owner)}) for a in sc.accounts]
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
