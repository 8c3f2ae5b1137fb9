"""Strategy benchmarks: a versioned instance set, the strategies of three families (routing,
territory design, quota method), sweeps through one executor (local processes or a Dask cluster),
and ranked summaries with confidence intervals. See ``docs/bench.md``.

    from salesplan.api.bench import SweepSpec, run_sweep, summarise
    results = run_sweep(SweepSpec(instances=("tiny",), seeds=(0, 1, 2), replications=8))
    summary = summarise(results)
"""

from .instances import INSTANCE_SET_VERSION, INSTANCES, SUITES, build_instance
from .strategies import FAMILIES, Strategy, strategies
from .summary import METRICS, summarise, summary_markdown
from .sweep import SweepError, SweepSpec, open_executor, process_pool, run_sweep

__all__ = [
    "FAMILIES",
    "INSTANCES",
    "INSTANCE_SET_VERSION",
    "METRICS",
    "SUITES",
    "Strategy",
    "SweepError",
    "SweepSpec",
    "build_instance",
    "open_executor",
    "process_pool",
    "run_sweep",
    "strategies",
    "summarise",
    "summary_markdown",
]
