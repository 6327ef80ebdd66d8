from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from ._pending import not_implemented

if TYPE_CHECKING:
    import numpy as np
    from anndata import AnnData


def mercat(
    adata: AnnData,
    n_pcs: int | None = None,
    *,
    use_rep: str | None = None,
    denoise_rank: int | Literal["auto"] | None = "auto",
    n_epochs: int = 500,
    triplets_per_point: int = 10,
    sampling: Literal["stratified", "uniform"] = "stratified",
    n_neighbors: int = 15,
    angle: Literal["spherical", "euclidean"] = "spherical",
    loss: str = "angle",
    learning_rate: float = 0.01,
    projection: Literal["equirectangular", "mercator"] = "equirectangular",
    random_state: int | np.random.Generator | None = 0,
    device: str | None = None,
    progress: bool = True,
    key_added: str | None = None,
    copy: bool = False,
) -> AnnData | None:
    """Mercat: an angle-preserving embedding on the sphere :cite:p:`mercat`.

    Places the observations on the unit sphere so that the angles of triangles in the data are
    kept, then projects the sphere to a 2-D map.

    Parameters
    ----------
    adata
        Annotated data matrix.
    n_pcs
        Use this many principal components of the representation.
    use_rep
        Representation to embed (``"X"`` or an ``obsm`` key); ``None`` chooses as scanpy does.
    denoise_rank
        Rank of the spectral denoising; ``"auto"`` picks it from the Marchenko-Pastur edge.
    n_epochs
        Optimisation epochs.
    triplets_per_point
        Triangles sampled per observation and epoch.
    sampling
        How triangles are sampled.
    n_neighbors
        Neighbours used by the stratified sampler.
    angle
        Which angle is compared in the embedding.
    loss
        The angle loss.
    learning_rate
        Step size of the optimiser.
    projection
        Map projection of the 2-D view.
    random_state
        Seed or generator; the same seed gives the same embedding.
    device
        ``None`` or ``"cpu"``, or ``"cuda"``.
    progress
        Show a progress bar.
    key_added
        Write ``obsm[key_added]``, ``obsm[key_added + "_2d"]`` and ``uns[key_added]``.
    copy
        Return a copy instead of writing into ``adata``.

    Returns
    -------
    ``None``, or a copy of ``adata`` when ``copy=True``. Writes:

    ``adata.obsm['X_mercat' | key_added]`` : :class:`numpy.ndarray` (n_obs, 3)
        Unit vectors on the sphere.
    ``adata.obsm['X_mercat_2d' | key_added + '_2d']`` : :class:`numpy.ndarray` (n_obs, 2)
        Map coordinates.
    ``adata.uns['mercat' | key_added]`` : :class:`dict`
        ``params``, ``denoise_rank`` (the rank used) and ``loss`` (final value).
    """
    not_implemented("mercat", "Mercat angle-preserving spherical embedding")
