from __future__ import annotations

from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from collections.abc import Sequence

    import numpy as np
    from anndata import AnnData


def factor_out(
    adata: AnnData,
    prior_key: str | Sequence[str] | None = None,
    *,
    prior: np.ndarray | None = None,
    method: Literal["jedi", "confetti", "ctsne"] = "confetti",
    use_rep: str | None = None,
    n_pcs: int | None = None,
    layer: str | None = None,
    lam: float = 1.0,
    alpha: float = 0.5,
    beta: float = 0.5,
    ctsne_beta: float = 1e-4,
    perplexity: float = 30.0,
    prior_perplexity: float | None = None,
    embedding: Literal["umap", "tsne", "dtsne"] = "umap",
    n_neighbors: int = 15,
    store_graph: bool = True,
    random_state: int | np.random.Generator | None = 0,
    device: str | None = None,
    progress: bool = True,
    key_added: str | None = None,
    copy: bool = False,
) -> AnnData | None:
    """Embed the structure of the data beyond a known prior: JEDI, CONFETTI and ct-SNE :cite:p:`factor_out`.

    Parameters
    ----------
    adata
        Annotated data matrix.
    prior_key
        What is already known: an ``obs`` column (labels or numbers), a list of ``obs`` columns or
        ``var_names``, an ``obsm`` key or an ``obsp`` key of distances.
    prior
        The prior as an array instead: labels (n,), features (n, d) or distances (n, n).
    method
        ``"jedi"``, ``"confetti"`` or the ``"ctsne"`` baseline for label priors.
    use_rep
        Representation of the data (``"X"`` or an ``obsm`` key); ``None`` chooses as scanpy does.
    n_pcs
        Use this many principal components of the representation.
    layer
        Layer to read ``var_names`` priors from.
    lam
        Weight of the prior term.
    alpha
        Alpha of the alpha-beta divergence (JEDI).
    beta
        Beta of the alpha-beta divergence (JEDI).
    ctsne_beta
        Label factor of ct-SNE.
    perplexity
        Perplexity of the data affinities.
    prior_perplexity
        Perplexity of the prior affinities; ``None`` uses ``perplexity``.
    embedding
        Backend of CONFETTI.
    n_neighbors
        Neighbours of the CONFETTI graph.
    store_graph
        Store the CONFETTI graph in the :func:`scanpy.pp.neighbors` layout.
    random_state
        Seed or generator; the same seed gives the same embedding.
    device
        ``None`` or ``"cpu"``, or ``"cuda"``.
    progress
        Show a progress bar.
    key_added
        Prefix of every key written instead of ``"factor_out"``.
    copy
        Return a copy instead of writing into ``adata``.

    Returns
    -------
    ``None``, or a copy of ``adata`` when ``copy=True``. Writes:

    ``adata.obsm['X_factor_out' | key_added]`` : :class:`numpy.ndarray`
        The embedding.
    ``adata.uns['factor_out' | key_added]`` : :class:`dict`
        ``params`` (with a text description of the prior), and for CONFETTI with ``store_graph``
        ``distances_key`` and ``connectivities_key``.
    ``adata.obsp['factor_out_distances' | key_added + '_distances']`` : :class:`scipy.sparse.csr_matrix`
        CONFETTI graph distances (with ``store_graph``).
    ``adata.obsp['factor_out_connectivities' | key_added + '_connectivities']`` : :class:`scipy.sparse.csr_matrix`
        CONFETTI graph connectivities (with ``store_graph``).
    """
    from ._factor_out_impl import run_factor_out

    return run_factor_out(adata, locals())
