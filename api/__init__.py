"""salesplan application layer: the what-if runner, the HTTP service and the ``salesplan`` CLI.

It composes the engines (:mod:`simulator`, :mod:`optimizer`) over the data layer
(:mod:`scenarios`); nothing below imports from here.
"""
