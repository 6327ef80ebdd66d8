"""What may go into ``uns``: h5ad-safe values only."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def clean_params(params: Mapping[str, Any]) -> dict[str, Any]:
    """Parameters as scanpy records them: ``None`` dropped, tuples as lists of scalars.

    Objects that cannot be written to h5ad (generators, callables, devices) are stored as their
    ``str`` so the record survives ``write_h5ad``.
    """
    out: dict[str, Any] = {}
    for key, value in params.items():
        if value is None:
            continue
        if isinstance(value, bool | int | float | str):
            out[key] = value
        elif isinstance(value, tuple | list) and all(isinstance(v, bool | int | float | str) for v in value):
            out[key] = list(value)
        else:
            out[key] = str(value)
    return out
