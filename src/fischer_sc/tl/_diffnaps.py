"""``fs.tl.diffnaps``: differential patterns, features jointly present in one group and not in the others."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

import numpy as np

from fischer_sc._utils import (
    check_adata,
    check_bool,
    check_choice,
    check_int,
    check_number,
    check_save_path,
    clean_params,
    progress_enabled,
    resolve_device,
    resolve_keys,
    resolve_random_state,
)

from ._binaps import check_pair, group_codes, read_binary

if TYPE_CHECKING:
    from os import PathLike

    from anndata import AnnData


def diffnaps(
    adata: AnnData,
    groupby: str,
    *,
    layer: str | None = None,
    binarize: Literal["auto", "q75", "nonzero"] | float | None = "auto",
    screen: Literal["auto"] | bool = "auto",
    min_support: float = 0.05,
    cooccurrence: bool = True,
    level: float = 0.05,
    hidden_dim: int | None = None,
    n_epochs: int = 50,
    batch_size: int = 64,
    learning_rate: float = 0.01,
    lambda_c: float = 10.0,
    lambda_s: float = 1.0,
    elastic: tuple[float, float] = (0.0, 0.0),
    class_elastic: tuple[float, float] = (0.0, 0.0),
    regu_rate: float = 1.08,
    threshold: float = 0.3,
    class_threshold: float = 0.3,
    min_size: int = 2,
    train_fraction: float = 0.9,
    save_model: str | PathLike[str] | None = None,
    tied_update: Literal["double", "single"] = "double",
    random_state: int | np.random.Generator | None = 0,
    device: str | None = None,
    progress: bool = True,
    key_added: str | None = None,
    copy: bool = False,
) -> AnnData | None:
    """DiffNaps: differential patterns, features jointly present in one group and not in the others :cite:p:`diffnaps`.

    Parameters
    ----------
    adata
        Annotated data matrix.
    groupby
        Categorical ``obs`` column with the groups.
    layer
        Layer to read instead of ``.X``.
    binarize
        How expression becomes presence/absence, as in :func:`fischer_sc.tl.binaps`: ``"auto"``
        (default; 0/1 data as is, else ``"q75"``), ``"q75"``, ``"nonzero"``, a threshold, or
        ``None`` (the data must already be 0/1).
    screen
        Train only on the features present in at least ``min_support`` of some group's
        observations. A pattern's joint support is at most that of each of its features, so this
        loses no pattern that could be reported. ``"auto"`` (default) and ``True``: apply it;
        ``False``: train on all features.
    min_support
        Smallest joint support (fraction of a group's observations holding every feature of the
        pattern, and at least 2) of a reported pattern in its group.
    cooccurrence
        Also grow candidate patterns from the features that co-occur beyond independence within a
        group (the patterns a per-feature test cannot see). ``False``: the network's patterns only.
    level
        Family-wise error level of the joint-support tests (and of the co-occurrence links).
    hidden_dim
        Width of the hidden layer, the largest number of patterns; ``None``:
        ``min(1000, max(64, m // 2))`` for the ``m`` features trained on (after the screen).
    n_epochs
        Training epochs.
    batch_size
        Rows per mini-batch.
    learning_rate
        Step size.
    lambda_c
        Weight of the classification loss.
    lambda_s
        Weight of the pattern-size regulariser. It is averaged over the hidden units (as are the
        ``elastic`` terms), so its pull on each weight grows as ``hidden_dim`` shrinks: when
        reusing settings tuned for a wider layer, scale it by the ratio of the widths.
    elastic
        L1 and L2 weights of the W-shaped (elastic) regulariser on the encoder.
    class_elastic
        The same on the classification head.
    regu_rate
        Growth rate of the regulariser schedule.
    threshold
        Encoder weight above which a feature belongs to a hidden unit's pattern.
    class_threshold
        Class-head weight above which the network itself credits a pattern to a group, recorded
        as ``head_assigned``; the reported group comes from the joint-support test.
    min_size
        Smallest pattern reported (a pattern is a set of features that occur together).
    train_fraction
        Fraction of observations used for training; the rest is held out.
    save_model
        Save the trained weights (a ``torch.save`` dict: ``weights``, ``bias``, ``class_weights``,
        ``classes``, ``alpha``, ``var_names``: the features trained on, the columns of ``weights``)
        to this path.
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
    ``None``, or a copy of ``adata`` when ``copy=True``. Writes (``key`` is ``"diffnaps"`` or
    ``key_added``; ``obsm_key`` is ``"X_diffnaps"`` or ``key_added``):

    ``adata.varm[key]`` : :class:`numpy.ndarray` of bool (n_vars, n_patterns)
        Pattern membership of each feature.
    ``adata.obsm[obsm_key]`` : :class:`numpy.ndarray` of uint8 (n_obs, n_patterns)
        1 where the observation contains the whole pattern.
    ``adata.uns[key]['params']`` : :class:`dict`
        The parameters used (every parameter but ``adata``, ``save_model``, ``device``,
        ``progress`` and ``copy``, with ``hidden_dim`` resolved; ``None`` values left out), the
        binarisation applied (``binarize_applied``), the data density ``alpha`` (the cost of a
        false 1) of the features trained on, ``screen_applied``, ``n_features_used`` and
        ``n_unsupported`` (network patterns no group holds ``min_support`` times, not reported).
    ``adata.uns[key]['patterns']`` : :class:`pandas.DataFrame`
        One row per (pattern, group) assignment, by group and then precision: ``pattern_id``
        (column of ``varm[key]``), ``group`` (where the pattern's joint support is significantly
        higher than in the other observations; missing for "general" patterns, held but not
        differential), ``features`` (comma-joined ``var_names``), ``size``, ``support`` (fraction
        of all observations holding every feature), ``support_in``/``support_out`` and
        ``n_in``/``n_out`` (the same inside and outside the group; -1 for general patterns),
        ``precision`` (P(group | pattern)), ``log_odds`` (ln(support_in / support_out)),
        ``p_value`` (one-sided Fisher exact test of n_in), ``class_weight`` (the class head's
        weight; NaN for co-occurrence patterns), ``half_support``, ``source`` (``"network"``,
        ``"cooccurrence"`` or ``"both"``) and ``head_assigned`` (class weight above
        ``class_threshold``).
    ``adata.uns[key]['class_weights']`` : :class:`numpy.ndarray` (n_groups, n_patterns)
        Class-head weights per pattern (the largest over its hidden units; NaN without units).
    ``adata.uns[key]['classes']`` : :class:`numpy.ndarray` of str
        The groups, in the order of the rows of ``class_weights``.
    ``adata.uns[key]['history']`` : :class:`pandas.DataFrame`
        Per epoch: mean training loss parts, training accuracy, and held-out reconstruction loss,
        classification loss and accuracy.

    Examples
    --------
    >>> import fischer_sc as fs
    >>> adata = fs.datasets.planted_patterns(200, 2, 200, random_state=0)
    >>> fs.tl.diffnaps(adata, "class", n_epochs=10, progress=False)
    >>> adata.uns["diffnaps"]["patterns"][["group", "features", "precision"]].head()  # doctest: +SKIP
    """
    from fischer_sc.core import binarynet, patterns

    check_adata(adata, "diffnaps")
    if hidden_dim is not None:
        hidden_dim = check_int(hidden_dim, "hidden_dim", low=1)
    n_epochs = check_int(n_epochs, "n_epochs", low=0)
    batch_size = check_int(batch_size, "batch_size", low=1)
    min_size = check_int(min_size, "min_size", low=1)
    learning_rate = check_number(learning_rate, "learning_rate", low=0.0, low_open=True)
    lambda_s = check_number(lambda_s, "lambda_s", low=0.0)
    lambda_c = check_number(lambda_c, "lambda_c", low=0.0)
    regu_rate = check_number(regu_rate, "regu_rate", low=0.0, low_open=True)
    threshold = check_number(threshold, "threshold", low=0.0, high=1.0)
    class_threshold = check_number(class_threshold, "class_threshold", low=0.0, high=1.0)
    train_fraction = check_number(train_fraction, "train_fraction", low=0.0, high=1.0, low_open=True)
    min_support = check_number(min_support, "min_support", low=0.0, high=1.0)
    level = check_number(level, "level", low=0.0, high=1.0, low_open=True)
    check_bool(cooccurrence, "cooccurrence")
    elastic = check_pair(elastic, "elastic")
    class_elastic = check_pair(class_elastic, "class_elastic")
    if not (isinstance(screen, bool) or screen == "auto"):
        msg = f"screen must be 'auto', True or False, got {screen!r}."
        raise ValueError(msg)
    check_choice(tied_update, "tied_update", ("double", "single"))
    check_bool(progress, "progress")
    check_bool(copy, "copy")
    check_save_path(save_model, "save_model")
    keys = resolve_keys("diffnaps", key_added)
    device = resolve_device(device, "diffnaps")
    recorded, seed = resolve_random_state(random_state)
    labels, classes = group_codes(adata, groupby)
    xb, applied = read_binary(adata, layer, binarize, "diffnaps")
    min_count = patterns.min_counts(labels, len(classes), min_support)
    frequent = patterns.group_frequent_items(xb, labels, len(classes), min_count)
    kept = np.flatnonzero(frequent.any(0)) if screen is not False else np.arange(xb.shape[1])
    if len(kept) < 2:
        msg = (
            f"no group has 2 features present in min_support={min_support:g} of its observations (kept {len(kept)} "
            f"of {xb.shape[1]}); lower min_support."
        )
        raise ValueError(msg)
    xs = xb[:, kept]
    hidden = hidden_dim or binarynet.default_hidden_dim(xs.shape[1])
    cfg = binarynet.diffnaps_config(
        hidden_dim=hidden,
        n_epochs=n_epochs,
        batch_size=batch_size,
        learning_rate=learning_rate,
        lambda_s=lambda_s,
        lambda_c=lambda_c,
        elastic=elastic,
        class_elastic=class_elastic,
        regu_rate=regu_rate,
        train_fraction=train_fraction,
        double_update=tied_update == "double",
    )
    result = binarynet.fit_binary_net(
        xs, cfg, labels=labels, n_classes=len(classes), seed=seed, progress=progress_enabled(progress), device=device
    )
    net = binarynet.expand_patterns(binarynet.extract_patterns(result.weights, threshold), kept, xb.shape[1])
    found = binarynet.differential_patterns(
        xb,
        labels,
        len(classes),
        net,
        min_count,
        frequent=frequent if cooccurrence else None,
        level=level,
        min_size=min_size,
    )
    class_w = binarynet.pattern_class_weights(result.class_weights, found.units)
    _, base = binarynet.support_table(xb, found.membership, adata.var_names.to_numpy().astype(str))
    base["source"] = found.source.astype(str)
    table = binarynet.group_pattern_table(found.counts, found.p_values, found.assigned, labels, classes, base, class_w)
    hw = table["class_weight"].to_numpy(dtype=float)
    table["head_assigned"] = table["group"].notna().to_numpy() & (np.nan_to_num(hw, nan=0.0) > class_threshold)
    if save_model is not None:
        binarynet.save_binary_net(
            save_model, result, classes=classes, alpha=result.alpha, var_names=list(map(str, adata.var_names[kept]))
        )
    params = {
        "groupby": groupby,
        "layer": layer,
        "binarize": "none" if binarize is None else binarize,
        "screen": screen,
        "min_support": min_support,
        "cooccurrence": cooccurrence,
        "level": level,
        "hidden_dim": int(hidden),
        "n_epochs": n_epochs,
        "batch_size": batch_size,
        "learning_rate": learning_rate,
        "lambda_c": lambda_c,
        "lambda_s": lambda_s,
        "elastic": elastic,
        "class_elastic": class_elastic,
        "regu_rate": regu_rate,
        "threshold": threshold,
        "class_threshold": class_threshold,
        "min_size": min_size,
        "train_fraction": train_fraction,
        "tied_update": tied_update,
        "random_state": recorded,
        "key_added": key_added,
        "binarize_applied": applied,
        "alpha": result.alpha,
        "screen_applied": len(kept) < xb.shape[1],
        "n_features_used": int(xs.shape[1]),
        "n_unsupported": found.n_unsupported,
    }

    adata = adata.copy() if copy else adata
    adata.varm[keys.uns] = found.membership.toarray().astype(bool)
    adata.obsm[keys.obsm] = found.present.astype(np.uint8)
    adata.uns[keys.uns] = {
        "params": clean_params(params),
        "patterns": table,
        "class_weights": class_w,
        "classes": np.asarray(classes, dtype=object),
        "history": binarynet.history_frame(result.history),
    }
    return adata if copy else None
