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
    method: Literal["jedi", "confetti", "ctsne"] = "jedi",
    use_rep: str | None = None,
    n_pcs: int | None = None,
    layer: str | None = None,
    lam: float | None = None,
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

    * ``"jedi"`` (default) runs t-SNE on KL(P || Q) - lam JS(P' || Q), the alpha-beta
      Jensen-Shannon divergence to the prior affinities P', with the JS term split into a scaled
      repulsion and a sparse term over the prior pairs (t-SNE speed, Barnes-Hut above 2 000
      cells). A label prior is the paper's P', uniform over all same-label points, whose term is
      estimated from 8 same-label partners per cell drawn afresh in every iteration (unbiased).
      The term starts after early exaggeration.
    * ``"confetti"`` replaces the data distance by F = D'^X - (lam / 2) D'^Z + lam (both scaled to
      [0, 1]) and embeds the exact k nearest neighbours under F with UMAP or the t-SNE engine. The
      constant lam cancels in UMAP (which subtracts each point's nearest distance) but not in a
      perplexity-calibrated Gaussian, so the backends give different results. With a label prior
      of more than two labels F only pairs each label with its nearest other label, so the labels
      stay partly visible; use JEDI or ct-SNE for those.
    * ``"ctsne"`` is the original ct-SNE (the label factor on Q: same-label pairs are expected to
      be close), for label priors only.

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
        Weight of the prior term: the weight of JEDI's JS term (1 is the paper's objective) and
        CONFETTI's lambda. ``None`` uses the value that removes the prior's clusters of the
        paper's synthetic set while keeping the other clusters (see the documentation): JEDI 10
        for label priors and 50 for the other priors, CONFETTI 2. At lam = 1 the prior stays
        clearly visible there.
    alpha
        Alpha of the alpha-beta divergence (JEDI), in [0, 1].
    beta
        Beta of the alpha-beta divergence (JEDI), in (0, 1).
    ctsne_beta
        Label factor of ct-SNE for different-label pairs; same-label pairs get the factor that
        keeps the mean factor at 1.
    perplexity
        Perplexity of the data affinities.
    prior_perplexity
        Perplexity of the prior affinities of non-label priors (JEDI); ``None`` uses
        ``perplexity``. Label priors are uniform over the same-label points (a warning says it is
        ignored).
    embedding
        Backend of CONFETTI: ``"umap"`` (umap-learn on the F graph), ``"tsne"`` (the package's
        engine on perplexity affinities calibrated from F) or ``"dtsne"`` (the same with
        :func:`fischer_sc.tl.dtsne`'s pair scale and its default affinity ``balance``). JEDI and
        ct-SNE ignore it.
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
        ``params``: the arguments, ``factor_out_method``, ``prior`` (a text description of the
        prior, never its values) and ``prior_kind``; for a stored CONFETTI graph also the
        :func:`scanpy.pp.neighbors` fields (``method="umap"``, ``metric="precomputed"``,
        ``n_neighbors``) and ``distances_key`` / ``connectivities_key`` beside ``params``; for JEDI
        ``js_divergence``, the final JS^alpha_beta(P' || Q).
    ``adata.obsp['factor_out_distances' | key_added + '_distances']`` : :class:`scipy.sparse.csr_matrix`
        CONFETTI graph distances (with ``store_graph``).
    ``adata.obsp['factor_out_connectivities' | key_added + '_connectivities']`` : :class:`scipy.sparse.csr_matrix`
        CONFETTI graph connectivities (with ``store_graph``).
    """
    from ._factor_out_impl import run_factor_out

    return run_factor_out(adata, locals())
