"""The AnnData route: clients from an obs key (donor, site), a cell-label classifier trained with FedDC."""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from anndata import AnnData


def _representation(adata: AnnData, use_rep: str | None, random_state: int) -> tuple[np.ndarray, str]:
    if use_rep is None:
        if "X_pca" in adata.obsm:
            use_rep = "X_pca"
        elif adata.n_vars <= 50:
            use_rep = "X"
        else:
            import scanpy as sc

            warnings.warn(
                "federated_classifier: no obsm['X_pca'] and more than 50 variables; computing 50 principal "
                "components of .X (not stored). Run scanpy.pp.pca first or pass use_rep to silence this.",
                UserWarning,
                stacklevel=3,
            )
            X = adata.X.toarray() if hasattr(adata.X, "toarray") else np.asarray(adata.X)
            n = min(50, adata.n_obs - 1, adata.n_vars - 1)
            return np.asarray(sc.pp.pca(X.astype(np.float32), n_comps=n, random_state=random_state)), "X_pca (computed)"
    if use_rep == "X":
        X = adata.X
    elif use_rep in adata.obsm:
        X = adata.obsm[use_rep]
    else:
        msg = f"use_rep={use_rep!r} is neither 'X' nor a key of adata.obsm ({list(adata.obsm)})."
        raise KeyError(msg)
    X = X.toarray() if hasattr(X, "toarray") else np.asarray(X)
    return X, use_rep


def _obs_codes(adata: AnnData, key: str, what: str) -> tuple[np.ndarray, list[str]]:
    if key not in adata.obs:
        msg = f"{what}={key!r} is not a column of adata.obs; available: {list(adata.obs.columns)}."
        raise KeyError(msg)
    col = adata.obs[key]
    if col.isna().any():
        msg = f"adata.obs[{key!r}] ({what}) has missing values; drop or fill those cells first."
        raise ValueError(msg)
    codes, cats = pd.factorize(col.astype(str), sort=True)
    return codes.astype(np.int64), [str(c) for c in cats]


def federated_classifier(
    adata: AnnData,
    client_key: str,
    label_key: str,
    *,
    use_rep: str | None = None,
    method: Literal["feddc", "fedavg"] = "feddc",
    hidden: int = 64,
    rounds: int = 200,
    daisy_period: int | None = 1,
    agg_period: int | None = 10,
    lr: float = 0.1,
    local_steps: int = 1,
    batch_size: int | None = None,
    dp: Any = None,
    test_fraction: float = 0.2,
    random_state: int = 0,
    device: str | None = None,
    key_added: str = "federated",
    copy: bool = False,
) -> AnnData | None:
    """Train a cell-label classifier across the clients in ``obs[client_key]`` with FedDC (arXiv 2110.03469).

    Each client (donor, site) keeps its cells; a random ``test_fraction`` of every client's cells is held
    out. Features are the chosen representation, standardised with the training cells' mean and standard
    deviation (two aggregate statistics a federation can share). An MLP with one hidden layer is trained
    in-process by :func:`~fischer_sc_federated.sim.feddc` (or :func:`~fischer_sc_federated.sim.fedavg`).

    Parameters
    ----------
    adata
        Annotated data matrix.
    client_key
        obs column naming each cell's client (at least 2 clients).
    label_key
        obs column with the cell labels to learn.
    use_rep
        ``"X"`` or an obsm key; ``None`` takes ``X_pca``, else ``.X`` with at most 50 variables, else 50
        principal components computed (with a warning) and not stored.
    method
        ``"feddc"`` or ``"fedavg"`` (``daisy_period`` is ignored).
    hidden
        Width of the hidden layer.
    rounds, daisy_period, agg_period, lr, local_steps, batch_size, dp
        As in :func:`~fischer_sc_federated.sim.feddc`.
    test_fraction
        Share of each client's cells held out for evaluation (clients with one cell keep it for training).
    random_state
        Seed of the split and of the training.
    device
        Torch device.
    key_added
        Prefix of the written keys.
    copy
        Return a modified copy instead of writing into ``adata``.

    Returns
    -------
    ``None``, or a copy when ``copy=True``. Writes

    - ``obs[f"{key_added}_prediction"]``: the averaged model's label for every cell (categorical);
    - ``obs[f"{key_added}_split"]``: ``"train"`` or ``"test"``;
    - ``uns[key_added]``: ``params``, ``test_accuracy``, ``client_accuracy`` (``client``, ``n_train``,
      ``n_test``, ``accuracy`` on the held-out cells, NaN without any), ``history`` (columns of the run's
      history) and ``weights`` (the averaged model's parameters as arrays). Everything survives ``write_h5ad``.
    """
    from .models import mlp
    from .partition import from_index_lists
    from .sim import fedavg, feddc

    if method not in ("feddc", "fedavg"):
        msg = f"method must be 'feddc' or 'fedavg', got {method!r}."
        raise ValueError(msg)
    if not (0.0 <= test_fraction < 1.0):
        msg = f"test_fraction must be in [0, 1), got {test_fraction!r}."
        raise ValueError(msg)
    if not isinstance(key_added, str) or not key_added:
        msg = "key_added must be a non-empty string."
        raise ValueError(msg)
    clients, client_names = _obs_codes(adata, client_key, "client_key")
    labels, label_names = _obs_codes(adata, label_key, "label_key")
    if len(client_names) < 2:
        msg = f"adata.obs[{client_key!r}] names {len(client_names)} client(s); a federation needs at least 2."
        raise ValueError(msg)
    if len(label_names) < 2:
        msg = f"adata.obs[{label_key!r}] holds {len(label_names)} label(s); a classifier needs at least 2."
        raise ValueError(msg)
    X, rep = _representation(adata, use_rep, random_state)
    if not np.all(np.isfinite(X)):
        msg = f"The representation {rep!r} contains NaN or inf."
        raise ValueError(msg)

    rng = np.random.default_rng(random_state)
    is_test = np.zeros(adata.n_obs, dtype=bool)
    train_lists = []
    for c in range(len(client_names)):
        cells = rng.permutation(np.flatnonzero(clients == c))
        n_test = min(int(round(test_fraction * len(cells))), len(cells) - 1)
        is_test[cells[:n_test]] = True
        train_lists.append(np.sort(cells[n_test:]))
    mu = X[~is_test].mean(0)
    sd = X[~is_test].std(0)
    Z = ((X - mu) / np.where(sd > 0, sd, 1.0)).astype(np.float32)
    parts = from_index_lists(Z, labels, train_lists, names=client_names)
    eval_data = (Z[is_test], labels[is_test]) if is_test.any() else None
    n_classes = len(label_names)
    model_fn = lambda: mlp(Z.shape[1], n_classes, hidden)
    opts = {
        "rounds": rounds,
        "agg_period": agg_period,
        "lr": lr,
        "local_steps": local_steps,
        "batch_size": batch_size,
        "dp": dp,
        "eval_data": eval_data,
        "random_state": random_state,
        "device": device,
    }
    res = (
        feddc(model_fn, parts, daisy_period=daisy_period, **opts)
        if method == "feddc"
        else fedavg(model_fn, parts, **opts)
    )

    pred = res.predict(Z)
    acc = np.full(len(client_names), np.nan)
    n_test_c = np.bincount(clients[is_test], minlength=len(client_names))
    for c in range(len(client_names)):
        sel = is_test & (clients == c)
        if sel.any():
            acc[c] = float(np.mean(pred[sel] == labels[sel]))
    out = adata.copy() if copy else adata
    out.obs[f"{key_added}_prediction"] = pd.Categorical.from_codes(pred, categories=label_names)
    out.obs[f"{key_added}_split"] = pd.Categorical(np.where(is_test, "test", "train"), categories=["train", "test"])
    params = {k: v for k, v in res.params.items() if v is not None and not isinstance(v, dict)}
    params.update(method=method, client_key=client_key, label_key=label_key, use_rep=rep, hidden=hidden,
                  test_fraction=test_fraction)  # fmt: skip
    hist = res.history
    out.uns[key_added] = {
        "params": params,
        "test_accuracy": float(np.mean(pred[is_test] == labels[is_test])) if is_test.any() else float("nan"),
        "client_accuracy": {
            "client": np.array(client_names, dtype=object),
            "n_train": np.array([len(t) for t in train_lists], dtype=np.int64),
            "n_test": n_test_c.astype(np.int64),
            "accuracy": acc,
        },
        "history": {c: (hist[c].to_numpy(dtype=object) if c == "action" else hist[c].to_numpy()) for c in hist.columns},
        "weights": {k: v.detach().cpu().numpy() for k, v in res.model.named_parameters()},
        "feature_mean": mu.astype(np.float64),
        "feature_std": sd.astype(np.float64),
    }
    return out if copy else None
