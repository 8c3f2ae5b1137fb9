"""The one place the engine reaches below SimPy's public API: lifecycle timeouts that precede
the same day's arrival batch.

SimPy orders events at the same time by priority, then by creation. A rep's hire or departure
must take effect before the leads of that day are routed, so its timeout is scheduled with
SimPy's ``URGENT`` priority through the public :meth:`simpy.Environment.schedule`. SimPy has no
public constructor for an already-triggered event at a chosen priority (``Timeout`` always uses
``NORMAL``), so :func:`lifecycle_timeout` marks the event triggered the way ``Timeout`` itself
does, by setting ``_ok`` and ``_value``. Those two attributes have meant the same since SimPy 3;
``pyproject.toml`` pins SimPy below 5, and ``tests/test_simulator_clock.py`` fails if a SimPy
release changes what they mean.
"""

from __future__ import annotations

import simpy

__all__ = ["lifecycle_timeout"]


def lifecycle_timeout(env: simpy.Environment, delay: float) -> simpy.Event:
    """A timeout of ``delay`` days at ``URGENT`` priority: processed before every ``NORMAL``
    event (arrival batches, month-end snapshots) scheduled for the same time."""
    event = simpy.Event(env)
    event._ok, event._value = True, None  # triggered, as simpy.Timeout makes it
    env.schedule(event, simpy.events.URGENT, delay)
    return event
