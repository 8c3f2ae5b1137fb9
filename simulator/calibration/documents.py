"""Small helpers for the JSON-ready documents a calibration writes (the scenario document and
the estimates): rounding and conversion to plain JSON types."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["jsonable", "rounded"]


def rounded(x: float, nd: int = 6) -> float:
    """``x`` rounded to ``nd`` decimals as a plain float (NaN and infinities unchanged)."""
    return float(round(x, nd)) if math.isfinite(x) else x


def jsonable(x: Any) -> Any:
    """``x`` with plain JSON types: dict keys as strings, tuples as lists, numpy scalars as
    Python numbers, NaN and infinities as None, timestamps and dates as ISO text."""
    if isinstance(x, dict):
        return {str(k): jsonable(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [jsonable(v) for v in x]
    if isinstance(x, np.generic):
        x = x.item()
    if isinstance(x, float) and not math.isfinite(x):
        return None
    if isinstance(x, pd.Timestamp | dt.date):
        return x.isoformat()
    return x
