"""Which registered omics methods are implemented: each is called once on tiny data."""

from __future__ import annotations

import inspect
import re
from typing import Any

import pandas as pd

# Arguments each omics method needs on fischer_sc.testing.small_adata() (90 x 20, obs "group",
# "batch", "time", obsm "X_pca"), kept small so that implemented tools finish at once.
PROBE_KWARGS: dict[str, dict[str, Any]] = {
    "dtsne": {"perplexity": 10.0, "n_iter": 100, "early_exaggeration_iter": 25},
    "mercat": {"n_epochs": 5},
    "factor_out": {"prior_key": "batch", "perplexity": 10.0},
    "binaps": {"n_epochs": 2},
    "diffnaps": {"groupby": "group", "n_epochs": 2},
    "dash_grn": {"time_key": "time", "n_epochs": 2, "pruning": "none"},
    "group_centroids": {"groupby": "group"},
}
# Passed as well when the method's signature has them.
_COMMON_KWARGS: dict[str, Any] = {"copy": True, "progress": False}

AVAILABLE = "available"
PENDING = "pending"

_CAPABILITY = re.compile(r"capability '([^']+)'")


def _call_name(name: str, func: Any, provider: str) -> str:
    if provider == "fischer_sc" and isinstance(func, str) and func.startswith("fischer_sc.tl:"):
        return f"fs.tl.{func.partition(':')[2]}"
    return f"fs.plugins.run({name!r}, ...)"


def method_status(domain: str = "omics") -> pd.DataFrame:
    """Whether each registered method of ``domain`` is implemented.

    Every method with an entry in :data:`PROBE_KWARGS` is called once on
    :func:`fischer_sc.testing.small_adata` (with ``copy=True`` where it takes it). Raising
    :class:`NotImplementedError` means ``"pending"``, returning means ``"available"``; any other
    error propagates, since an implemented method must run on that data.

    Parameters
    ----------
    domain
        Registry domain to check.

    Returns
    -------
    One row per method with columns ``name``, ``call`` (how to call it), ``provider``,
    ``status`` (``"available"``, ``"pending"``, ``"missing dependency"`` or ``"not probed"``)
    and ``note``.
    """
    import fischer_sc as fs
    from fischer_sc.testing import small_adata

    reg = fs.plugins.registry()
    rows = []
    for name in fs.plugins.list_methods(domain=domain)["name"]:
        registration = reg.registration(name)
        provider = registration.provider.distribution
        row = {"name": name, "call": _call_name(name, registration.spec.func, provider), "provider": provider}
        try:
            func = reg.get(name).func
        except ImportError as e:
            rows.append({**row, "status": "missing dependency", "note": str(e)})
            continue
        if name not in PROBE_KWARGS:
            rows.append({**row, "status": "not probed", "note": "no probe arguments known for this method"})
            continue
        params = inspect.signature(func).parameters  # type: ignore[arg-type]
        kwargs = {k: v for k, v in _COMMON_KWARGS.items() if k in params} | PROBE_KWARGS[name]
        adata = small_adata()
        try:
            func(adata, **kwargs)  # type: ignore[operator]
        except NotImplementedError as e:
            match = _CAPABILITY.search(str(e))
            note = f"arrives with: {match.group(1)}" if match else str(e)
            rows.append({**row, "status": PENDING, "note": note})
            continue
        rows.append({**row, "status": AVAILABLE, "note": f"ran on small_adata() ({adata.n_obs} x {adata.n_vars})"})
    return pd.DataFrame(rows, columns=["name", "call", "provider", "status", "note"])
