"""The body of :func:`fischer_sc.tl.binaps` and :func:`fischer_sc.tl.diffnaps`.

validate -> binarise (CSR) -> train the binary net (``fischer_sc.core.binarynet._train``) -> extract
patterns by thresholds -> count supports by sparse products -> write. Nothing is written into
``adata`` before every step has succeeded.
"""

from __future__ import annotations

import math
import numbers
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from scipy import sparse

from fischer_sc._utils import clean_params, progress_enabled, resolve_rng

from ._binarize import binarize_matrix

if TYPE_CHECKING:
    from anndata import AnnData

_NOT_PARAMS = ("adata", "device", "progress", "copy", "save_model")
MAX_HIDDEN = 1000  # cap of the default hidden width (see docs/diffnaps.md: memory and time at 100k features)
REGU_CAP = 100.0  # cap of the exponential W-shaped schedule (pitfall 6 of the spec)
SCREEN_ABOVE = 20000  # screen="auto" keeps only class-enriched features above this many (docs/diffnaps.md)


def default_hidden_dim(n_features: int) -> int:
    """``min(1000, max(64, m // 2))``: the width used when ``hidden_dim=None``."""
    return int(min(MAX_HIDDEN, max(64, n_features // 2)))


def _check_int(a: dict[str, Any], name: str, minimum: int) -> None:
    value = a[name]
    if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < minimum:
        msg = f"{name} must be an integer >= {minimum}, got {value!r}."
        raise ValueError(msg)


def _check_float(a: dict[str, Any], name: str, low: float, high: float = math.inf, *, open_low: bool = False) -> None:
    value = a[name]
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value)
    ok = ok and (value > low if open_low else value >= low) and value <= high
    if not ok:
        bound = f"{'>' if open_low else '>='} {low:g}" + ("" if high == math.inf else f" and <= {high:g}")
        msg = f"{name} must be a number {bound}, got {value!r}."
        raise ValueError(msg)


def _check_options(a: dict[str, Any], tool: str) -> None:
    """Raise on bad options before any work is done (``adata`` is untouched on error)."""
    if a["hidden_dim"] is not None:
        _check_int(a, "hidden_dim", 1)
    _check_int(a, "n_epochs", 0)
    _check_int(a, "batch_size", 1)
    _check_int(a, "min_size", 1)
    _check_float(a, "learning_rate", 0.0, open_low=True)
    _check_float(a, "lambda_s", 0.0)
    if tool == "binaps":
        _check_float(a, "threshold", 0.0, 1.0)
    else:
        _check_float(a, "lambda_c", 0.0)
        _check_float(a, "regu_rate", 0.0, open_low=True)
        _check_float(a, "tau_e", 0.0, 1.0)
        _check_float(a, "tau_c", 0.0, 1.0)
        _check_float(a, "train_fraction", 0.0, 1.0, open_low=True)
        for name in ("elastic", "class_elastic"):
            value = a[name]
            if (
                not isinstance(value, tuple | list)
                or len(value) != 2
                or not all(isinstance(v, numbers.Real) and math.isfinite(v) and v >= 0 for v in value)
            ):
                msg = f"{name} must be a pair (L1, L2) of non-negative numbers, got {value!r}."
                raise ValueError(msg)
    if tool == "diffnaps" and not (a["screen"] == "auto" or isinstance(a["screen"], bool)):
        msg = f"screen must be 'auto', True or False, got {a['screen']!r}."
        raise ValueError(msg)
    if a["tied_update"] not in ("double", "single"):
        msg = f"tied_update must be 'double' or 'single', got {a['tied_update']!r}."
        raise ValueError(msg)
    if a["key_added"] is not None and (not isinstance(a["key_added"], str) or not a["key_added"]):
        msg = f"key_added must be a non-empty string or None, got {a['key_added']!r}."
        raise TypeError(msg)


def _device(device: str | None) -> str:
    if device is None or device == "cpu":
        return "cpu"
    if isinstance(device, str) and device.startswith("cuda"):
        import torch

        if not torch.cuda.is_available():
            msg = f"device={device!r}, but torch sees no CUDA device; use device=None (CPU)."
            raise ValueError(msg)
        return device
    msg = f"device must be None, 'cpu' or 'cuda', got {device!r}."
    raise ValueError(msg)


def _binary_input(adata: AnnData, layer: str | None, binarize: Any, tool: str) -> tuple[sparse.csr_matrix, str]:
    if layer is None:
        x, where = adata.X, "adata.X"
    elif layer in adata.layers:
        x, where = adata.layers[layer], f"adata.layers[{layer!r}]"
    else:
        known = ", ".join(repr(k) for k in adata.layers) or "(none)"
        msg = f"layer={layer!r} is not in adata.layers (layers: {known}); use None for .X."
        raise KeyError(msg)
    if x is None:
        msg = f"{where} is empty (None); pass layer= to use a layer."
        raise ValueError(msg)
    if adata.n_obs < 2 or adata.n_vars < 2:
        msg = f"{tool} needs at least 2 observations and 2 features, got {adata.n_obs} x {adata.n_vars}."
        raise ValueError(msg)
    nonzero = x.getnnz(axis=1) if sparse.issparse(x) else np.count_nonzero(np.asarray(x), axis=1)
    if sparse.issparse(x) and x.nnz and not np.all(x.data):
        nonzero = (x != 0).getnnz(axis=1)
    empty = np.flatnonzero(np.asarray(nonzero).ravel() == 0)
    if len(empty):
        first = ", ".join(repr(str(n)) for n in adata.obs_names[empty[:3]])
        msg = (
            f"{len(empty)} observations of {where} are empty (all zero; e.g. {first}): they hold no pattern. "
            "Remove them first, e.g. sc.pp.filter_cells(adata, min_genes=1)."
        )
        raise ValueError(msg)
    # Rows that only become empty through the binarisation rule (nothing above a gene's quartile)
    # are kept: they are data, and the reconstruction loss counts any pattern predicted there.
    xb, applied = binarize_matrix(x, binarize, where)
    return xb, applied


def _labels(adata: AnnData, groupby: Any) -> tuple[np.ndarray, list[str]]:
    if not isinstance(groupby, str) or groupby not in adata.obs:
        known = ", ".join(repr(str(k)) for k in adata.obs.columns) or "(none)"
        msg = f"groupby={groupby!r} is not a column of adata.obs (columns: {known})."
        raise KeyError(msg)
    col = adata.obs[groupby]
    if col.isna().any():
        msg = f"adata.obs[{groupby!r}] has {int(col.isna().sum())} missing values; drop or label those observations."
        raise ValueError(msg)
    cat = col.astype("category")
    cat = cat.cat.remove_unused_categories()
    classes = [str(c) for c in cat.cat.categories]
    if len(classes) < 2:
        msg = (
            f"adata.obs[{groupby!r}] has {len(classes)} group(s) ({', '.join(map(repr, classes))}); diffnaps contrasts "
            "groups and needs at least 2. Use fs.tl.binaps for patterns without groups."
        )
        raise ValueError(msg)
    return cat.cat.codes.to_numpy().astype(np.int64), classes


def _seed(random_state: Any) -> int:
    return int(resolve_rng(random_state).integers(2**31 - 1))


def _screen(xb: sparse.csr_matrix, labels: np.ndarray, n_classes: int, screen: Any) -> np.ndarray | None:
    """Indices of the class-enriched features DiffNaps trains on, or ``None`` for all of them."""
    from fischer_sc.core.binarynet import enriched_features

    if screen is False or (screen == "auto" and xb.shape[1] <= SCREEN_ABOVE):
        return None
    kept, _ = enriched_features(xb, labels, n_classes)
    if len(kept) < 2:
        msg = (
            f"screen kept {len(kept)} of {xb.shape[1]} features (no feature is significantly more frequent in one "
            "group than outside it); pass screen=False to train on all features."
        )
        raise ValueError(msg)
    return kept


def _config(a: dict[str, Any], tool: str, hidden: int) -> Any:
    """The :class:`~fischer_sc.core.binarynet._train.BinaryNetConfig` of one call of ``tool`` from its arguments ``a``.

    BinaPs: weights start at the floor 1/m, the length penalty is summed over units and there is no
    class head; DiffNaps: Xavier-normal start, the penalty averaged over units, the head and the
    W-shaped terms with their exponential schedule.
    """
    from fischer_sc.core.binarynet import BinaryNetConfig

    common = {
        "hidden_dim": hidden,
        "n_epochs": int(a["n_epochs"]),
        "batch_size": int(a["batch_size"]),
        "learning_rate": float(a["learning_rate"]),
        "lambda_s": float(a["lambda_s"]),
        "double_update": a["tied_update"] == "double",
    }
    if tool == "binaps":
        return BinaryNetConfig(**common, init="floor", length_reduce="sum")
    return BinaryNetConfig(
        **common,
        lambda_c=float(a["lambda_c"]),
        elastic=(float(a["elastic"][0]), float(a["elastic"][1])),
        class_elastic=(float(a["class_elastic"][0]), float(a["class_elastic"][1])),
        regu_rate=float(a["regu_rate"]),
        regu_cap=REGU_CAP,
        train_fraction=float(a["train_fraction"]),
        init="xavier",
        length_reduce="mean",
    )


def _fit(xb: sparse.csr_matrix, cfg: Any, labels: np.ndarray | None, n_classes: int, seed: int, a: dict) -> Any:
    from fischer_sc.core.binarynet import fit_binary_net

    return fit_binary_net(
        xb,
        cfg,
        labels=labels,
        n_classes=n_classes,
        seed=seed,
        progress=progress_enabled(a["progress"]),
        device=_device(a["device"]),
    )


def _history(history: dict[str, list[float]]) -> pd.DataFrame:
    n = max((len(v) for v in history.values()), default=0)
    df = pd.DataFrame({k: v + [np.nan] * (n - len(v)) for k, v in history.items()})
    df.index = pd.Index([str(i) for i in range(n)], name="epoch")
    return df


def _support_table(
    xb: sparse.csr_matrix, membership: sparse.csc_matrix, var_names: np.ndarray
) -> tuple[np.ndarray, pd.DataFrame]:
    from fischer_sc.core.binarynet import contains

    present = contains(xb, membership)
    sizes = np.diff(membership.indptr)
    half = np.asarray((xb @ sparse.csc_matrix(membership, dtype=np.float32)).todense()) >= np.ceil(sizes / 2)[None, :]
    table = pd.DataFrame(
        {
            "pattern_id": np.arange(membership.shape[1], dtype=np.int64),
            "features": [
                ",".join(var_names[membership.indices[membership.indptr[i] : membership.indptr[i + 1]]])
                for i in range(membership.shape[1])
            ],
            "size": sizes.astype(np.int64),
            "support": present.mean(0) if len(present) else np.zeros(membership.shape[1]),
            "half_support": half.mean(0) if len(half) else np.zeros(membership.shape[1]),
        }
    )
    return present, table


def _write(adata: AnnData, key: str, membership: sparse.csc_matrix, present: np.ndarray, uns: dict[str, Any]) -> None:
    adata.varm[key] = np.asarray(membership.toarray(), dtype=bool)
    adata.obsm["X_" + key] = present.astype(np.uint8)
    adata.uns[key] = uns


def _save(path: Any, result: Any, extra: dict[str, Any]) -> None:
    import torch

    torch.save(
        {
            "weights": torch.from_numpy(result.weights),
            "bias": torch.from_numpy(result.bias),
            "class_weights": None if result.class_weights is None else torch.from_numpy(result.class_weights),
            **extra,
        },
        path,
    )


def _params(a: dict[str, Any], seed: int, extra: dict[str, Any]) -> dict[str, Any]:
    params = {k: v for k, v in a.items() if k not in _NOT_PARAMS}
    if not isinstance(a["random_state"], numbers.Integral):
        params["random_state"] = seed
    if a["binarize"] is None:
        params["binarize"] = "none"
    params.update(extra)
    return clean_params(params)


def run_binaps(adata: AnnData, a: dict[str, Any]) -> AnnData | None:
    """Run BinaPs with the arguments ``a`` of :func:`fischer_sc.tl.binaps` (its ``locals()``)."""
    from fischer_sc.core.binarynet import extract_patterns

    _check_options(a, "binaps")
    _device(a["device"])
    key = a["key_added"] or "binaps"
    seed = _seed(a["random_state"])
    xb, applied = _binary_input(adata, a["layer"], a["binarize"], "binaps")
    hidden = a["hidden_dim"] or default_hidden_dim(xb.shape[1])
    cfg = _config(a, "binaps", int(hidden))
    result = _fit(xb, cfg, None, 0, seed, a)
    pats = extract_patterns(result.weights, float(a["threshold"]), int(a["min_size"]))
    present, table = _support_table(xb, pats.membership, adata.var_names.to_numpy().astype(str))
    table = table.sort_values(["support", "pattern_id"], ascending=[False, True], kind="stable").reset_index(drop=True)
    table.index = table.index.astype(str)
    uns = {
        "params": _params(a, seed, {"hidden_dim": int(hidden), "binarize_applied": applied, "alpha": result.alpha}),
        "patterns": table,
        "history": _history(result.history),
    }
    if a["copy"]:
        adata = adata.copy()
    _write(adata, key, pats.membership, present, uns)
    return adata if a["copy"] else None


def _group_rows(
    present: np.ndarray,
    labels: np.ndarray,
    classes: list[str],
    base: pd.DataFrame,
    assigned: np.ndarray,
    class_w: np.ndarray,
) -> pd.DataFrame:
    """One row per (pattern, group) assignment, plus unassigned patterns as "general" rows (group missing)."""
    n_per_class = np.bincount(labels, minlength=len(classes)).astype(np.float64)
    in_counts = (
        np.stack([present[labels == k].sum(0) for k in range(len(classes))])
        if present.shape[1]
        else np.zeros((len(classes), 0))
    )
    total = present.sum(0).astype(np.float64)
    rows = []
    for p in range(present.shape[1]):
        groups = np.flatnonzero(assigned[:, p])
        for k in groups:
            n_in = float(in_counts[k, p])
            n_out = total[p] - n_in
            s_in = n_in / n_per_class[k]
            s_out = n_out / max(1.0, present.shape[0] - n_per_class[k])
            with np.errstate(divide="ignore", invalid="ignore"):
                log_odds = float(np.log(s_in / s_out)) if s_in > 0 and s_out > 0 else np.nan
            rows.append(
                {
                    "pattern_id": p,
                    "group": classes[k],
                    "n_in": int(n_in),
                    "n_out": int(n_out),
                    "support_in": s_in,
                    "support_out": s_out,
                    "precision": n_in / total[p] if total[p] > 0 else np.nan,
                    "log_odds": log_odds,
                    "class_weight": float(class_w[k, p]),
                }
            )
        if len(groups) == 0:
            rows.append({"pattern_id": p, "group": None, "class_weight": float(class_w[:, p].max(initial=0.0))})
    cols = [
        "pattern_id",
        "group",
        "n_in",
        "n_out",
        "support_in",
        "support_out",
        "precision",
        "log_odds",
        "class_weight",
    ]
    extra = pd.DataFrame(rows, columns=cols)
    table = extra.merge(base, on="pattern_id", how="left")
    table["group"] = pd.Categorical(table["group"], categories=classes)
    for col in ("n_in", "n_out"):
        table[col] = table[col].fillna(-1).astype(np.int64)  # -1: general pattern, not assigned to a group
    order = [
        "pattern_id",
        "group",
        "features",
        "size",
        "support",
        "support_in",
        "support_out",
        "n_in",
        "n_out",
        "precision",
        "log_odds",
        "class_weight",
        "half_support",
    ]
    table = table[order].sort_values(
        ["group", "precision", "pattern_id"], ascending=[True, False, True], kind="stable", na_position="last"
    )
    table = table.reset_index(drop=True)
    table.index = table.index.astype(str)
    return table


def run_diffnaps(adata: AnnData, a: dict[str, Any]) -> AnnData | None:
    """Run DiffNaps with the arguments ``a`` of :func:`fischer_sc.tl.diffnaps` (its ``locals()``)."""
    from fischer_sc.core.binarynet import extract_patterns

    _check_options(a, "diffnaps")
    _device(a["device"])
    key = a["key_added"] or "diffnaps"
    seed = _seed(a["random_state"])
    labels, classes = _labels(adata, a["groupby"])
    xb, applied = _binary_input(adata, a["layer"], a["binarize"], "diffnaps")
    kept = _screen(xb, labels, len(classes), a["screen"])
    xs = xb if kept is None else xb[:, kept]
    hidden = a["hidden_dim"] or default_hidden_dim(xs.shape[1])
    cfg = _config(a, "diffnaps", int(hidden))
    result = _fit(xs, cfg, labels, len(classes), seed, a)
    pats = extract_patterns(result.weights, float(a["tau_e"]), int(a["min_size"]))
    if kept is not None:  # back to the indices of all features
        mem = pats.membership
        pats.membership = sparse.csc_matrix(
            (mem.data, kept[mem.indices], mem.indptr), shape=(xb.shape[1], mem.shape[1])
        )
    # A de-duplicated pattern takes the largest class weight among the units that carry it.
    class_w = np.zeros((len(classes), pats.n_patterns), dtype=np.float32)
    for p, units in enumerate(pats.units):
        class_w[:, p] = result.class_weights[:, units].max(axis=1)
    assigned = class_w > float(a["tau_c"])
    present, base = _support_table(xb, pats.membership, adata.var_names.to_numpy().astype(str))
    table = _group_rows(present, labels, classes, base, assigned, class_w)
    if a["save_model"] is not None:
        _save(
            a["save_model"],
            result,
            {
                "classes": classes,
                "alpha": result.alpha,
                # the columns of the weights: the features trained on (after the screen)
                "var_names": list(map(str, adata.var_names if kept is None else adata.var_names[kept])),
            },
        )
    uns = {
        "params": _params(
            a,
            seed,
            {
                "hidden_dim": int(hidden),
                "binarize_applied": applied,
                "alpha": result.alpha,
                "screen_applied": kept is not None,
                "n_features_used": int(xs.shape[1]),
            },
        ),
        "patterns": table,
        "class_weights": class_w,
        "classes": np.asarray(classes, dtype=object),
        "history": _history(result.history),
    }
    if a["copy"]:
        adata = adata.copy()
    _write(adata, key, pats.membership, present, uns)
    return adata if a["copy"] else None
