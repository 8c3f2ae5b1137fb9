"""salesplan application layer: it composes the engines (:mod:`salesplan.simulator`,
:mod:`salesplan.optimizer`) over the data layer (:mod:`salesplan.scenarios`); nothing below
imports from here.

- :mod:`.planning`: application services (what-if runner, headcount plan, quota runs, reports);
- :mod:`.cli`: the ``salesplan`` command line (one module per command group in ``commands``);
- :mod:`.service`: the HTTP service (FastAPI; the ``service`` extra);
- :mod:`.bench`: the strategy benchmarks (instances, strategies, sweeps, ranked summaries);
- :mod:`.plots`: every chart this layer draws (the ``plots`` extra);
- :mod:`.formatting`, :mod:`.extras`: money as people read it; which extra provides what.
"""
