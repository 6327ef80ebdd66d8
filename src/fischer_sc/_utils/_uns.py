"""What may go into ``uns``: h5ad-safe values only."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np


def clean_params(params: Mapping[str, Any]) -> dict[str, Any]:
    """Parameters as scanpy records them: ``None`` dropped, tuples as lists of scalars.

    Objects that cannot be written to h5ad (generators, callables, devices) are stored as their
    ``str`` so the record survives ``write_h5ad``. numpy scalars (``np.int64(3)``) are recorded
    as the Python numbers they hold.
    """
    out: dict[str, Any] = {}
    for key, given in params.items():
        value = _plain(given)
        if value is None:
            continue
        if isinstance(value, bool | int | float | str):
            out[key] = value
        elif isinstance(value, tuple | list) and all(isinstance(v, bool | int | float | str) for v in value):
            out[key] = list(value)
        else:
            out[key] = str(value)
    return out


def _plain(value: Any) -> Any:
    """The value with numpy scalars, alone or in a tuple/list, as the Python numbers they hold."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, tuple | list) and any(isinstance(v, np.generic) for v in value):
        return [v.item() if isinstance(v, np.generic) else v for v in value]
    return value
