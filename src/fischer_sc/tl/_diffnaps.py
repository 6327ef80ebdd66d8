from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from ._pending import not_implemented

if TYPE_CHECKING:
    from os import PathLike

    import numpy as np
    from anndata import AnnData

_CAPABILITY = "DiffNaps and BinaPs: differential patterns at 100k features on a CPU"


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
        ``"auto"`` uses 0/1 data as is and applies ``"q75"`` otherwise; ``"q75"``, ``"nonzero"``,
        a threshold, or ``None`` for data that must already be binary.
    hidden_dim
        Width of the hidden layer; ``None`` picks it from the number of features.
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
    random_state
        Seed or generator; the same seed gives the same patterns.
    device
        ``None`` or ``"cpu"``, or ``"cuda"``.
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
    ``adata.uns[key]`` : :class:`dict`
        ``params``, ``patterns`` (a :class:`pandas.DataFrame`, one row per pattern) and
        ``history`` (per-epoch loss parts).
    """
    not_implemented("binaps", _CAPABILITY)


def diffnaps(
    adata: AnnData,
    groupby: str,
    *,
    layer: str | None = None,
    binarize: Literal["auto", "q75", "nonzero"] | float | None = "auto",
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
        ``"auto"`` uses 0/1 data as is and applies ``"q75"`` otherwise; ``"q75"``, ``"nonzero"``,
        a threshold, or ``None`` for data that must already be binary.
    hidden_dim
        Width of the hidden layer; ``None`` picks it from the number of features.
    n_epochs
        Training epochs.
    batch_size
        Rows per mini-batch.
    learning_rate
        Step size.
    lambda_c
        Weight of the classification loss.
    lambda_s
        Weight of the pattern-size regulariser.
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
        Save the trained model to this path.
    random_state
        Seed or generator; the same seed gives the same patterns.
    device
        ``None`` or ``"cpu"``, or ``"cuda"``.
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
    ``adata.uns[key]`` : :class:`dict`
        ``params``; ``patterns`` (a :class:`pandas.DataFrame`, one row per pattern and the group it
        characterises, with its support inside and outside the group); ``class_weights``;
        ``classes``; ``history`` (per-epoch loss parts).
    """
    not_implemented("diffnaps", _CAPABILITY)
