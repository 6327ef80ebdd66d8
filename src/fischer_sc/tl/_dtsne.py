from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from ._pending import not_implemented

if TYPE_CHECKING:
    import numpy as np
    from anndata import AnnData


def dtsne(
    adata: AnnData,
    n_pcs: int | None = None,
    *,
    use_rep: str | None = None,
    neighbors_key: str | None = None,
    perplexity: float = 30.0,
    n_components: int = 2,
    n_iter: int = 750,
    early_exaggeration: float = 12.0,
    early_exaggeration_iter: int = 250,
    learning_rate: float | Literal["auto"] = "auto",
    pair_scale: str = "mean",
    repulsion: Literal["auto", "exact", "sampled"] = "auto",
    n_negative: int = 10,
    metric: str = "euclidean",
    random_state: int | np.random.Generator | None = 0,
    n_jobs: int | None = None,
    device: str | None = None,
    progress: bool = True,
    key_added: str | None = None,
    copy: bool = False,
) -> AnnData | None:
    """Density-preserving t-SNE (dtSNE) :cite:p:`dtsne`.

    t-SNE whose low-dimensional kernel is scaled per pair by the points' local radii, so that
    relative densities survive the embedding while neighbourhoods and global layout stay as in t-SNE.

    Parameters
    ----------
    adata
        Annotated data matrix.
    n_pcs
        Use this many principal components of the representation.
    use_rep
        Representation to embed: ``"X"``, or a key of ``adata.obsm``. ``None`` takes ``.X`` when it
        has at most 50 variables, otherwise ``obsm["X_pca"]`` (computed, with a warning, if missing).
    neighbors_key
        Reuse the kNN distances stored by :func:`scanpy.pp.neighbors` under this key.
    perplexity
        Effective number of neighbours of the input affinities.
    n_components
        Dimension of the embedding.
    n_iter
        Number of optimisation iterations, including early exaggeration.
    early_exaggeration
        Factor on the attractive forces during the first ``early_exaggeration_iter`` iterations.
    early_exaggeration_iter
        Length of the early exaggeration phase.
    learning_rate
        Step size; ``"auto"`` is ``n / 12``.
    pair_scale
        How the per-pair kernel scale combines the two points' radii.
    repulsion
        Estimator of the repulsive forces: exact (small data) or sampled.
    n_negative
        Negative samples per point and iteration for the sampled repulsion.
    metric
        Distance of the input space.
    random_state
        Seed or generator; the same seed gives the same embedding.
    n_jobs
        Threads; ``None`` uses :attr:`scanpy.settings.n_jobs`.
    device
        ``None`` or ``"cpu"``; ``"cuda"`` runs the optimiser with torch on a GPU.
    progress
        Show a progress bar.
    key_added
        Write ``obsm[key_added]`` and ``uns[key_added]`` instead of ``obsm["X_dtsne"]`` and ``uns["dtsne"]``.
    copy
        Return a copy instead of writing into ``adata``.

    Returns
    -------
    ``None``, or a copy of ``adata`` when ``copy=True``. Writes:

    ``adata.obsm['X_dtsne' | key_added]`` : :class:`numpy.ndarray` (n_obs, n_components)
        The embedding.
    ``adata.uns['dtsne' | key_added]['params']`` : :class:`dict`
        The parameters used.
    ``adata.uns['dtsne' | key_added]['kl_divergence']`` : :class:`float`
        The final objective.
    """
    not_implemented("dtsne", "dtSNE on a fast shared embedding engine")
