"""salesplan optimisers. Territory alignment lives in :mod:`optimizer.territory`; its public API
is re-exported here. Engines import only :mod:`scenarios` (never ``simulator`` or ``api``)."""

from .territory import *  # noqa: F403
from .territory import __all__ as _territory_all

__all__ = list(_territory_all)
