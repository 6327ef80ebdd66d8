"""``fs.tl.binaps``: patterns of co-occurring features learnt by a binarised autoencoder.

Also holds the reading of the binary input, which :func:`fischer_sc.tl.diffnaps` (BinaPs with a
class head) shares.
"""

from __future__ import annotations

import math
import numbers
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from fischer_sc._utils import (
    check_adata,
    check_bool,
    check_choice,
    check_int,
    check_number,
    clean_params,
    obs_codes,
    progress_enabled,
    read_matrix,
    resolve_device,
    resolve_keys,
    resolve_random_state,
)

if TYPE_CHECKING:
    from anndata import AnnData
    from scipy import sparse


def read_binary(
    adata: AnnData, layer: str | None, binarize: str | float | None, tool: str
) -> tuple[sparse.csr_matrix, str]:
    """The 0/1 CSR matrix a pattern tool trains on, and the binarisation rule applied.

    Raises when the matrix is too small or has all-zero observations (they hold no pattern).
    Observations that only become empty through the rule (nothing above a gene's quartile) are
    kept: they are data, and the reconstruction loss counts any pattern predicted there.
    """
    from fischer_sc.core.binarynet import binarize_matrix, empty_rows

    if isinstance(binarize, numbers.Real) and not isinstance(binarize, bool):
        binarize = check_number(binarize, "binarize", hint="a threshold, or 'auto', 'q75', 'nonzero' or None")
    x, where = read_matrix(adata, layer)
    if adata.n_obs < 2 or adata.n_vars < 2:
        msg = f"{tool} needs at least 2 observations and 2 features, got {adata.n_obs} x {adata.n_vars}."
        raise ValueError(msg)
    empty = empty_rows(x)
    if len(empty):
        first = ", ".join(repr(str(n)) for n in adata.obs_names[empty[:3]])
        msg = (
            f"{len(empty)} observations of {where} are empty (all zero; e.g. {first}): they hold no pattern. "
            "Remove them first, e.g. sc.pp.filter_cells(adata, min_genes=1)."
        )
        raise ValueError(msg)
    return binarize_matrix(x, binarize, where)


MAX_GROUPS = 50  # more distinct values than this in `groupby` (the paper went up to 50 classes) is not a set of groups


def check_pair(value: Any, name: str) -> tuple[float, float]:
    """``value`` as a pair of non-negative floats (the L1 and L2 weights of a regulariser)."""
    pair = isinstance(value, tuple | list) and len(value) == 2
    if not pair or not all(isinstance(v, numbers.Real) and math.isfinite(v) and v >= 0 for v in value):
        msg = f"{name} must be a pair (L1, L2) of non-negative numbers, got {value!r}."
        raise ValueError(msg)
    return float(value[0]), float(value[1])


def group_codes(adata: AnnData, groupby: str) -> tuple[np.ndarray, list[str]]:
    """DiffNaps' group codes of ``obs[groupby]``: 2 to ``MAX_GROUPS`` levels, not a continuous (float) column."""
    column = adata.obs[groupby] if isinstance(groupby, str) and groupby in adata.obs else None
    if column is not None and column.dtype.kind == "f" and not np.all(np.mod(column.dropna().to_numpy(), 1) == 0):
        n_levels = column.nunique()
        msg = (
            f"groupby={groupby!r}: adata.obs[{groupby!r}] is a continuous (float) column with {n_levels} distinct "
            "values; diffnaps needs a categorical column of groups (bin it first, e.g. with pandas.cut)."
        )
        raise ValueError(msg)
    labels, classes = obs_codes(adata, groupby, max_levels=MAX_GROUPS, param="groupby")
    if len(classes) < 2:
        msg = (
            f"adata.obs[{groupby!r}] has {len(classes)} group(s) ({', '.join(map(repr, classes))}); diffnaps contrasts "
            "groups and needs at least 2. Use fs.tl.binaps for patterns without groups."
        )
        raise ValueError(msg)
    if np.bincount(labels).max() < 2:
        msg = (
            f"every group of adata.obs[{groupby!r}] has fewer than 2 observations; a reported pattern needs a joint "
            "support of at least 2 in its group. Use larger groups."
        )
        raise ValueError(msg)
    return labels, classes


def binaps(
    adata: AnnData,
    *,
    layer: str | None = None,
    binarize: Literal["auto", "q75", "nonzero"] | float | None = "auto",
    hidden_dim: int | None = None,
    n_epochs: int = 10,
    batch_size: int = 64,
    learning_rate: float = 0.01,
    lambda_s: float = 0.0,
    threshold: float = 0.2,
    min_size: int = 2,
    tied_update: Literal["double", "single"] = "double",
    random_state: int | np.random.Generator | None = 0,
    device: str | None = None,
    progress: bool = True,
    key_added: str | None = None,
    copy: bool = False,
) -> AnnData | None:
    """BinaPs: patterns of co-occurring binary features from a binarised autoencoder :cite:p:`binaps`.

    Parameters
    ----------
    adata
        Annotated data matrix.
    layer
        Layer to read instead of ``.X``.
    binarize
        How expression becomes presence/absence. ``"auto"`` (default) uses 0/1 data as is and
        applies ``"q75"`` otherwise; ``"q75"``: per feature, 1 where the value exceeds the
        feature's upper quartile (over all observations, zeros included), or, where that quartile
        is 0, wherever the value is non-zero (on sparse counts this mostly means "expressed");
        ``"nonzero"``; a number: 1 where the value exceeds it; ``None``: the data must already be
        0/1 (a ``ValueError`` names the other values).
    hidden_dim
        Width of the hidden layer, the largest number of patterns; ``None``:
        ``min(1000, max(64, n_vars // 2))``.
    n_epochs
        Training epochs.
    batch_size
        Rows per mini-batch.
    learning_rate
        Step size.
    lambda_s
        Weight of the pattern-size regulariser.
    threshold
        Encoder weight above which a feature belongs to a hidden unit's pattern.
    min_size
        Smallest pattern reported (a pattern is a set of features that occur together).
    tied_update
        ``"double"`` (default): the encoder and the decoder parts of the tied weights' gradient each
        get their own Adam update per step, as in the authors' code, for which the published
        hyper-parameters were tuned; ``"single"``: one update from their sum (the comparison is in
        the DiffNaps notes of the documentation).
    random_state
        Seed or generator of the row split, the initialisation and every Bernoulli weight draw;
        the same seed gives the same patterns on the same machine.
    device
        ``None`` or ``"cpu"``, or ``"cuda"`` (results on a GPU differ from those on the CPU).
    progress
        Show a progress bar.
    key_added
        Name of every key written instead of the defaults (scanpy's rule: ``obsm[key_added]``,
        ``varm[key_added]`` and ``uns[key_added]``, no ``X_`` prefix).
    copy
        Return a copy instead of writing into ``adata``.

    Returns
    -------
    ``None``, or a copy of ``adata`` when ``copy=True``. Writes (``key`` is ``"binaps"`` or
    ``key_added``; ``obsm_key`` is ``"X_binaps"`` or ``key_added``):

    ``adata.varm[key]`` : :class:`numpy.ndarray` of bool (n_vars, n_patterns)
        Pattern membership of each feature.
    ``adata.obsm[obsm_key]`` : :class:`numpy.ndarray` of uint8 (n_obs, n_patterns)
        1 where the observation contains the whole pattern.
    ``adata.uns[key]['params']`` : :class:`dict`
        The parameters used (``layer``, ``binarize``, ``hidden_dim`` resolved, ``n_epochs``,
        ``batch_size``, ``learning_rate``, ``lambda_s``, ``threshold``, ``min_size``,
        ``tied_update``, ``random_state``, ``key_added``; ``None`` values left out), the
        binarisation applied (``binarize_applied``) and the data density ``alpha`` (the cost of a
        false 1).
    ``adata.uns[key]['patterns']`` : :class:`pandas.DataFrame`
        One row per pattern, most frequent first: ``pattern_id`` (column of ``varm[key]``),
        ``features`` (comma-joined ``var_names``), ``size``, ``support`` (fraction of observations
        holding every feature) and ``half_support`` (holding at least half of them).
    ``adata.uns[key]['history']`` : :class:`pandas.DataFrame`
        Per epoch: mean training loss parts and the held-out reconstruction loss.

    Examples
    --------
    >>> import fischer_sc as fs
    >>> adata = fs.datasets.planted_patterns(200, 2, 100, random_state=0)
    >>> fs.tl.binaps(adata, progress=False)
    >>> adata.uns["binaps"]["patterns"].head()  # doctest: +SKIP
    """
    from fischer_sc.core import binarynet

    check_adata(adata, "binaps")
    if hidden_dim is not None:
        hidden_dim = check_int(hidden_dim, "hidden_dim", low=1)
    n_epochs = check_int(n_epochs, "n_epochs", low=0)
    batch_size = check_int(batch_size, "batch_size", low=1)
    min_size = check_int(min_size, "min_size", low=1)
    learning_rate = check_number(learning_rate, "learning_rate", low=0.0, low_open=True)
    lambda_s = check_number(lambda_s, "lambda_s", low=0.0)
    threshold = check_number(threshold, "threshold", low=0.0, high=1.0)
    check_choice(tied_update, "tied_update", ("double", "single"))
    check_bool(progress, "progress")
    check_bool(copy, "copy")
    keys = resolve_keys("binaps", key_added)
    device = resolve_device(device, "binaps")
    recorded, seed = resolve_random_state(random_state)
    xb, applied = read_binary(adata, layer, binarize, "binaps")

    hidden = hidden_dim or binarynet.default_hidden_dim(xb.shape[1])
    cfg = binarynet.binaps_config(
        hidden_dim=hidden,
        n_epochs=n_epochs,
        batch_size=batch_size,
        learning_rate=learning_rate,
        lambda_s=lambda_s,
        double_update=tied_update == "double",
    )
    result = binarynet.fit_binary_net(xb, cfg, seed=seed, progress=progress_enabled(progress), device=device)
    patterns = binarynet.extract_patterns(result.weights, threshold, min_size)
    present, table = binarynet.support_table(xb, patterns.membership, adata.var_names.to_numpy().astype(str))
    table = table.sort_values(["support", "pattern_id"], ascending=[False, True], kind="stable").reset_index(drop=True)
    table.index = table.index.astype(str)
    params = {
        "layer": layer,
        "binarize": "none" if binarize is None else binarize,
        "hidden_dim": int(hidden),
        "n_epochs": n_epochs,
        "batch_size": batch_size,
        "learning_rate": learning_rate,
        "lambda_s": lambda_s,
        "threshold": threshold,
        "min_size": min_size,
        "tied_update": tied_update,
        "random_state": recorded,
        "key_added": key_added,
        "binarize_applied": applied,
        "alpha": result.alpha,
    }

    adata = adata.copy() if copy else adata
    adata.varm[keys.uns] = patterns.membership.toarray().astype(bool)
    adata.obsm[keys.obsm] = present.astype("uint8")
    adata.uns[keys.uns] = {
        "params": clean_params(params),
        "patterns": table,
        "history": binarynet.history_frame(result.history),
    }
    return adata if copy else None
