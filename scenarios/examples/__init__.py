"""The shipped example scenarios and the script that rebuilds them (``python -m
salesplan.scenarios.examples.build``)."""
