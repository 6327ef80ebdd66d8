from __future__ import annotations

from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from os import PathLike

    import numpy as np
    from anndata import AnnData


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
        Weight threshold that turns hidden units into patterns.
    min_size
        Smallest pattern reported.
    tied_update
        ``"double"`` (default): the encoder and the decoder parts of the tied weights' gradient each
        get their own Adam update per step, as in the authors' code, for which the published
        hyper-parameters were tuned; ``"single"``: one update from their sum. On planted data
        (200-500 features, 2-3 classes) ``"double"`` gave soft-F1 0.64-0.81 where ``"single"``
        gave 0.47-0.63.
    random_state
        Seed or generator of the row split, the initialisation and every Bernoulli weight draw;
        the same seed gives the same patterns on the same machine.
    device
        ``None`` or ``"cpu"``, or ``"cuda"`` (results on a GPU differ from those on the CPU).
    progress
        Show a progress bar.
    key_added
        Name of every key written instead of ``"binaps"``.
    copy
        Return a copy instead of writing into ``adata``.

    Returns
    -------
    ``None``, or a copy of ``adata`` when ``copy=True``. Writes (``key`` is ``"binaps"`` or ``key_added``):

    ``adata.varm[key]`` : :class:`numpy.ndarray` of bool (n_vars, n_patterns)
        Pattern membership of each feature.
    ``adata.obsm['X_' + key]`` : :class:`numpy.ndarray` of uint8 (n_obs, n_patterns)
        1 where the observation contains the whole pattern.
    ``adata.uns[key]['params']`` : :class:`dict`
        The parameters used, with the resolved ``hidden_dim``, the binarisation applied
        (``binarize_applied``), the data density ``alpha`` (the cost of a false 1) of the features
        trained on, whether the screen was applied (``screen_applied``) and ``n_features_used``.
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
    from ._diffnaps_impl import run_binaps

    return run_binaps(adata, locals())


def diffnaps(
    adata: AnnData,
    groupby: str,
    *,
    layer: str | None = None,
    binarize: Literal["auto", "q75", "nonzero"] | float | None = "auto",
    screen: Literal["auto"] | bool = "auto",
    hidden_dim: int | None = None,
    n_epochs: int = 50,
    batch_size: int = 64,
    learning_rate: float = 0.01,
    lambda_c: float = 10.0,
    lambda_s: float = 1.0,
    elastic: tuple[float, float] = (0.0, 0.0),
    class_elastic: tuple[float, float] = (0.0, 0.0),
    regu_rate: float = 1.08,
    tau_e: float = 0.3,
    tau_c: float = 0.3,
    min_size: int = 1,
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
        How expression becomes presence/absence. ``"auto"`` (default) uses 0/1 data as is and
        applies ``"q75"`` otherwise; ``"q75"``: per feature, 1 where the value exceeds the
        feature's upper quartile (over all observations, zeros included), or, where that quartile
        is 0, wherever the value is non-zero (on sparse counts this mostly means "expressed");
        ``"nonzero"``; a number: 1 where the value exceeds it; ``None``: the data must already be
        0/1 (a ``ValueError`` names the other values).
    screen
        Train only on the features that are significantly more frequent in some group than outside
        it (one-sided two-proportion z-test per feature and group, Bonferroni at 0.05 over all of
        them); patterns can then hold only such features. ``"auto"`` (default): only above 20 000
        features, where a CPU-sized hidden layer is otherwise spent on structure shared by all
        groups (see the DiffNaps notes in the docs); ``True``/``False``: always/never.
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
        L1 and L2 weights of the elastic-net regulariser on the encoder.
    class_elastic
        L1 and L2 weights of the elastic-net regulariser on the classification head.
    regu_rate
        Growth rate of the regulariser schedule.
    tau_e
        Encoder weight threshold for pattern extraction.
    tau_c
        Classifier weight threshold for assigning patterns to groups.
    min_size
        Smallest pattern reported.
    train_fraction
        Fraction of observations used for training; the rest is held out.
    save_model
        Save the trained weights (a ``torch.save`` dict: ``weights``, ``bias``, ``class_weights``,
        ``classes``, ``alpha``, ``var_names``: the features trained on, the columns of ``weights``)
        to this path.
    tied_update
        ``"double"`` (default): the encoder and the decoder parts of the tied weights' gradient each
        get their own Adam update per step, as in the authors' code, for which the published
        hyper-parameters were tuned; ``"single"``: one update from their sum. On planted data
        (200-500 features, 2-3 classes) ``"double"`` gave soft-F1 0.64-0.81 where ``"single"``
        gave 0.47-0.63.
    random_state
        Seed or generator of the row split, the initialisation and every Bernoulli weight draw;
        the same seed gives the same patterns on the same machine.
    device
        ``None`` or ``"cpu"``, or ``"cuda"`` (results on a GPU differ from those on the CPU).
    progress
        Show a progress bar.
    key_added
        Name of every key written instead of ``"diffnaps"``.
    copy
        Return a copy instead of writing into ``adata``.

    Returns
    -------
    ``None``, or a copy of ``adata`` when ``copy=True``. Writes (``key`` is ``"diffnaps"`` or ``key_added``):

    ``adata.varm[key]`` : :class:`numpy.ndarray` of bool (n_vars, n_patterns)
        Pattern membership of each feature.
    ``adata.obsm['X_' + key]`` : :class:`numpy.ndarray` of uint8 (n_obs, n_patterns)
        1 where the observation contains the whole pattern.
    ``adata.uns[key]['params']`` : :class:`dict`
        The parameters used, with the resolved ``hidden_dim``, the binarisation applied
        (``binarize_applied``), the data density ``alpha`` (the cost of a false 1) of the features
        trained on, whether the screen was applied (``screen_applied``) and ``n_features_used``.
    ``adata.uns[key]['patterns']`` : :class:`pandas.DataFrame`
        One row per (pattern, group) assignment, by group and then precision: ``pattern_id``
        (column of ``varm[key]``), ``group`` (the group it characterises; missing for "general"
        patterns whose class weights all stay below ``tau_c``), ``features`` (comma-joined
        ``var_names``), ``size``, ``support`` (fraction of all observations holding every feature),
        ``support_in`` and ``support_out`` (the same inside the group and outside it), ``n_in`` and
        ``n_out`` (the counts; -1 for general patterns), ``precision`` (P(group | pattern)),
        ``log_odds`` (ln(support_in / support_out), missing when either is 0), ``class_weight`` (the
        learnt weight of the pattern for the group) and ``half_support``.
    ``adata.uns[key]['class_weights']`` : :class:`numpy.ndarray` (n_groups, n_patterns)
        Classifier weights per pattern (the largest over the hidden units that carry it).
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
    from ._diffnaps_impl import run_diffnaps

    return run_diffnaps(adata, locals())
