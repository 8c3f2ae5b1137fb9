"""Application services: what the CLI, the HTTP service and notebooks call to answer a planning
question by composing the engines.

- :mod:`.whatif`: variants of a scenario on common random numbers, side by side;
- :mod:`.against`: another scenario file as a variant of a base (checked comparable, what
  differs noted);
- :mod:`.headcount`: the fewest hires that reach a probability of hitting the target;
- :mod:`.outcome`: one simulated variant's figures and the paired comparison of variants;
- :mod:`.quotas`: quota plans from simulated bookings (every method of the quota engine);
- :mod:`.realign`: a variant whose territories the optimiser re-aligns before it is simulated;
- :mod:`.report`: the what-if report (HTML with its CSV and JSON tables).
"""
