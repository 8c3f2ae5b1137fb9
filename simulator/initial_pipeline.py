# ruff: noqa: N806  (single capitals follow the model notation: S stages)
"""The scenario's open deals at the horizon start (``initial_pipeline``), as leads that resume
at their stage.

Each deal becomes a lead created ``age_days`` before the horizon start, owned by its rep, with
one conversion uniform and one duration per stage (drawn from the ``conversion``, ``durations``
and ``values`` streams' ``initial_pipeline`` leaves) and its value (the table's, else a draw from
the product's deal size). Durations by month of quarter are taken at the stage entry times the
deal would have from the horizon start on. The engine shifts its cumulative durations so that
the deal resumes at its stage on day 0.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .leads import LeadBatch
from .plan import Plan
from .streams import Streams

__all__ = ["InitialPipeline", "initial_pipeline"]


@dataclass(frozen=True)
class InitialPipeline:
    """The open deals as a lead batch (in table order), the stage index each resumes at, and
    the rep index owning each."""

    leads: LeadBatch
    stage: list[int]
    owner: np.ndarray

    def __len__(self) -> int:
        return len(self.leads)


def initial_pipeline(plan: Plan, streams: Streams) -> InitialPipeline:
    """Draw the scenario's open deals for one replication (see the module docstring)."""
    sc = plan.scenario
    deals = sc.initial_pipeline
    S, n = plan.n_stages, len(deals)
    seg_ix = {s: i for i, s in enumerate(plan.segment_ids)}
    prod_ix = {p: i for i, p in enumerate(plan.product_ids)}
    rep_ix = {r: i for i, r in enumerate(plan.rep_ids)}
    stage_ix = {s: i for i, s in enumerate(plan.stage_names)}
    u = streams.rng("conversion", "initial_pipeline").random((n, S))
    dur_rng = streams.rng("durations", "initial_pipeline")
    val_rng = streams.rng("values", "initial_pipeline")
    durations = np.empty((n, S))
    value = np.empty(n)
    seg = np.empty(n, dtype=np.int64)
    prod = np.empty(n, dtype=np.int64)
    for i, d in enumerate(deals):
        owner = sc.reps[rep_ix[d.owner]]
        sid = d.segment or (owner.segments[0] if owner.segments else plan.segment_ids[0])
        pid = d.product or plan.product_ids[0]
        seg[i], prod[i] = seg_ix[sid], prod_ix[pid]
        entered = 0.0  # the deal resumes at its stage at the horizon start
        for k, st in enumerate(sc.stages):
            dists = st.durations_for(sid, pid)
            q = int(plan.quarter_month(np.array([entered]))[0]) if len(dists) > 1 else 0
            durations[i, k] = dists[q].sample(dur_rng, 1)[0]
            if k >= stage_ix[d.stage]:
                entered += durations[i, k]
        value[i] = (d.value if d.value is not None
                    else sc.product_index[pid].deal_size_for(sid).sample(val_rng, 1)[0])
    owners = np.array([rep_ix[d.owner] for d in deals], dtype=np.int64)
    batch = LeadBatch(
        arrival=np.array([-d.age_days for d in deals], dtype=float),
        source=np.full(n, -1, dtype=np.int64),
        region=plan.rep_region[owners] if n else np.zeros(0, dtype=np.int64),
        segment=seg, product=prod,
        grade=np.zeros(n, dtype=np.int64),
        account=np.array([plan.account_ids.index(d.account) if d.account else -1
                          for d in deals], dtype=np.int64),
        uniforms=u, durations=durations, value=value,
    )
    return InitialPipeline(batch, [stage_ix[d.stage] for d in deals], owners)
