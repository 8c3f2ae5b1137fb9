"""The engine's one use of SimPy internals (simulator.clock) keeps its meaning: a lifecycle
timeout fires at its time, with no value, before any normal event scheduled for that time, even
one created earlier."""

from __future__ import annotations

import simpy

from salesplan.simulator.clock import lifecycle_timeout


def test_lifecycle_timeouts_precede_normal_events_at_the_same_time():
    env = simpy.Environment()
    order = []

    def normal(name, delay):
        yield env.timeout(delay)
        order.append((env.now, name))

    def urgent(name, delay):
        value = yield lifecycle_timeout(env, delay)
        order.append((env.now, name, value))

    env.process(normal("arrivals", 5))      # created first: NORMAL would put it first
    env.process(urgent("departure", 5))
    env.process(normal("snapshot", 3))
    env.process(urgent("hire", 3))
    env.run()
    assert order == [(3, "hire", None), (3, "snapshot"), (5, "departure", None),
                     (5, "arrivals")]
