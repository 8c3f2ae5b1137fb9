"""salesplan: simulation and optimisation for sales territory and target (quota) planning.

One installed package, five subpackages (each a folder at the top of the source repository):

- :mod:`salesplan.scenarios`: the scenario model and file format (data; imports nothing above it);
- :mod:`salesplan.simulator`: the SimPy discrete-event model of the pipeline, Monte Carlo runs;
- :mod:`salesplan.optimizer`: PuLP models for territory alignment and quota allocation;
- :mod:`salesplan.api`: the application layer (what-if runner, CLI, HTTP service, strategy
  benchmarks);
- :mod:`salesplan.benchmarks`: the runnable performance benchmarks.

Importing ``salesplan`` imports none of them: ``from salesplan.simulator import simulate`` loads
the simulator and the scenario model only.
"""

__version__ = "0.2.0"

__all__ = ["__version__"]
