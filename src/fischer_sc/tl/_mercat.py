from __future__ import annotations

from typing import TYPE_CHECKING, Literal

import numpy as np

from fischer_sc._utils import (
    check_adata,
    check_bool,
    check_choice,
    check_int,
    check_number,
    choose_representation,
    clean_params,
    progress_enabled,
    resolve_device,
    resolve_keys,
    resolve_n_jobs,
    resolve_random_state,
)

if TYPE_CHECKING:
    from anndata import AnnData

MIN_OBS = 10
THREAD_MIN_OBS = 10_000
#: Default weight of the neighbour term against the angle loss (benchmarks/results/mercat_sweep.md).
NEIGHBOUR_WEIGHT = 3.0
#: Default share of the epochs in the slow refinement stage (benchmarks/results/mercat_recall.md).
REFINE = 0.5


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
    neighbour_weight: float = NEIGHBOUR_WEIGHT,
    refine: float = REFINE,
    refine_weight: float | Literal["auto"] | None = "auto",
    angle: Literal["chord", "spherical"] = "chord",
    loss: Literal["angle", "cos"] = "angle",
    learning_rate: float = 0.03,
    projection: Literal["equirectangular", "mercator"] = "equirectangular",
    random_state: int | np.random.Generator | None = 0,
    n_jobs: int | None = None,
    device: str | None = None,
    progress: bool = True,
    key_added: str | None = None,
    copy: bool = False,
) -> AnnData | None:
    """Mercat: an angle-preserving embedding on the sphere :cite:p:`mercat`.

    Places the observations on the unit sphere S^2 so that the angles of triangles in the
    (denoised) data are kept, at every scale at once, then projects the sphere to a 2-D map.
    Steps: PCA denoising at a Marchenko-Pastur rank, a half-sphere start from the first two
    principal components, Riemannian Adam over triples sampled afresh every epoch (one in ten among
    neighbours, one in ten neighbour-far, the rest at random) plus a neighbour term, a slow
    refinement stage at the end, canonical orientation, map projection.

    Parameters
    ----------
    adata
        Annotated data matrix.
    n_pcs
        Use this many principal components of the representation.
    use_rep
        Representation to embed: ``"X"``, or a key of ``adata.obsm``. ``None`` takes ``.X`` when it
        has at most 50 variables, otherwise ``obsm["X_pca"]`` (computed, with a warning, if missing).
    denoise_rank
        Rank of the spectral denoising. ``"auto"``: the number of covariance eigenvalues above the
        Marchenko-Pastur edge sigma^2 (1 + sqrt(D / n))^2 of a spiked model, sigma^2 estimated from
        the median eigenvalue, clamped to [2, 50]; a representation that already is a PCA
        (an ``obsm`` key starting with ``"X_pca"``) is used as it is. An integer keeps that many
        components; ``None`` uses the representation as it is.
    n_epochs
        Optimisation epochs, the last ``refine`` share of them in the refinement stage; in each
        stage the step decays linearly to 0 over its last 30 %.
    triplets_per_point
        Triples sampled per observation and epoch: the cost is linear in n.
    sampling
        ``"stratified"``: for triple t of vertex j, t % 10 == 0 draws both ends from kNN(j),
        t % 10 == 1 one end from kNN(j) and one uniformly, the others both uniformly, so local and
        global angles are both fitted. ``"uniform"``: all uniformly.
    n_neighbors
        Neighbours for the stratified sampler and the neighbour term.
    neighbour_weight
        Weight of the neighbour term against the angle loss: each point is pulled towards
        ``n_neighbors`` nearest neighbours in the data against a repulsion from 50 random points
        (InfoNCE with a Cauchy kernel of the chord, width^2 0.1 * 4 pi / n). Angles do not see
        scale, so without it (``0``) neighbourhoods are placed but not kept; larger values keep
        more neighbours at some cost to the angles of far triples.
    refine
        Share of the epochs, in [0, 1), spent in a refinement stage: the same objective with an
        eighth of ``learning_rate``, fresh Adam moments and 100 random negatives per point in the
        neighbour term. Adam moves every point by about its step per epoch, and the main step is
        the size of a whole cluster of a few hundred points, so neighbourhoods only settle at a
        smaller one. ``0`` leaves the stage out (all epochs at ``learning_rate``).
    refine_weight
        Weight of the neighbour term in the refinement stage. ``"auto"`` (default): a feedback that
        buys neighbours with angles only while they come cheaply. The stage starts at
        ``neighbour_weight``; every 10 % of its epochs the kNN recall (``n_neighbors`` neighbours)
        of up to 5000 points against their data neighbours and the rank correlation of 20 000
        uniform triples' angles with the denoised data's are measured, and the weight is raised by
        1.5x while the last raise bought at least 3 % more recall and the angle correlation stays,
        with room for one more drop like the last, above min(0.81, its first value - 0.01); at most
        five raises, none into the step's decay, and a raise that did not pay is taken back. On
        three well-separated clusters with equal spreads, whose recall keeps rising, the weight ended
        at 10-15; on noisy spheres, where the first raise bought little, at 3
        (``benchmarks/results/mercat_sweep_refine.md``). The weight used is recorded as
        ``params["refine_weight_used"]``, the checks as ``uns[key]["refine_checks"]``. A number
        fixes the weight; ``None`` uses ``neighbour_weight``.
    angle
        The angle at y_j compared with the data's: ``"chord"`` (default), the Euclidean angle between
        y_i - y_j and y_k - y_j in R^3, which an embedding of data on a sphere can match exactly; or
        ``"spherical"``, the angle between the great circles, whose triangles have angle sums above
        pi and so cannot match the flat triangles of the data.
    loss
        ``"angle"``: mean (theta_X - theta_Y)^2; ``"cos"``: mean (cos theta_X - cos theta_Y)^2.
    learning_rate
        Adam's step size on the sphere (radians, roughly).
    projection
        Map projection of the 2-D view: ``"equirectangular"`` (longitude, latitude) or ``"mercator"``
        (latitudes clipped to +-85 degrees).
    random_state
        Seed or generator; the same seed gives the same embedding.
    n_jobs
        Threads; ``None`` uses :attr:`scanpy.settings.n_jobs`. The optimiser uses at most one
        thread per 10 000 observations. The result does not depend on it.
    device
        ``None`` or ``"cpu"``: the numba kernels run on the CPU.
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
        Unit vectors on the sphere, in canonical orientation (mean direction at longitude and
        latitude 0, main spread along the equator).
    ``adata.obsm['X_mercat_2d' | key_added + '_2d']`` : :class:`numpy.ndarray` (n_obs, 2)
        Map coordinates (draw with ``sc.pl.embedding(adata, "mercat_2d")``).
    ``adata.uns['mercat' | key_added]['params']`` : :class:`dict`
        The parameters used, with ``refine_weight_used`` (the refinement stage's final weight).
    ``adata.uns['mercat' | key_added]['denoise_rank']`` : :class:`int`
        The rank used, with ``denoise_rule`` (how it was chosen) and ``noise_variance``.
    ``adata.uns['mercat' | key_added]['loss']`` : :class:`float`
        Mean triple loss of the last epoch, with ``loss_history`` (every epoch).
    ``adata.uns['mercat' | key_added]['refine_checks']`` : :class:`numpy.ndarray` (c, 4)
        With ``refine_weight="auto"``: epoch, weight up to it, measured kNN recall and angle
        correlation at every check (no rows otherwise).

    Examples
    --------
    >>> import scanpy as sc
    >>> import fischer_sc as fs
    >>> adata = sc.datasets.pbmc68k_reduced()
    >>> fs.tl.mercat(adata, n_epochs=50, progress=False)
    >>> adata.obsm["X_mercat"].shape
    (700, 3)
    >>> fs.pl.mercat(adata, color="bulk_labels")  # doctest: +SKIP
    """
    from fischer_sc.core.embedding import knn
    from fischer_sc.core.sphere import (
        ANGLES,
        LOSSES,
        PROJECTIONS,
        SAMPLINGS,
        canonical_orientation,
        denoise,
        half_sphere_init,
        map_projection,
        optimise_sphere,
    )

    # Validation: every option before any work, so adata is untouched on error.
    check_adata(adata, "mercat")
    if denoise_rank is not None and denoise_rank != "auto":
        denoise_rank = check_int(denoise_rank, "denoise_rank", low=2, hint="or 'auto' or None")
    n_epochs = check_int(n_epochs, "n_epochs", low=1)
    triplets_per_point = check_int(triplets_per_point, "triplets_per_point", low=1, hint="10 is the default")
    check_choice(sampling, "sampling", SAMPLINGS)
    check_choice(angle, "angle", ANGLES)
    check_choice(loss, "loss", LOSSES)
    check_choice(projection, "projection", PROJECTIONS)
    neighbour_weight = check_number(neighbour_weight, "neighbour_weight", low=0.0, hint="0 turns the term off")
    refine = check_number(refine, "refine", low=0.0, high=1.0, high_open=True, hint="0.5 is the default")
    if refine_weight is not None and not (isinstance(refine_weight, str) and refine_weight == "auto"):
        refine_weight = check_number(
            refine_weight, "refine_weight", low=0.0, hint="'auto' adapts it, None uses neighbour_weight"
        )
    learning_rate = check_number(learning_rate, "learning_rate", low=0.0, low_open=True, hint="0.03 is the default")
    check_bool(progress, "progress")
    check_bool(copy, "copy")
    resolve_device(device, "mercat")
    keys = resolve_keys("mercat", key_added)
    threads = resolve_n_jobs(n_jobs)
    recorded, seed = resolve_random_state(random_state)
    if adata.n_obs < MIN_OBS:
        msg = f"mercat needs at least {MIN_OBS} observations, got {adata.n_obs}."
        raise ValueError(msg)
    n_neighbors = check_int(
        n_neighbors, "n_neighbors", low=2, high=adata.n_obs - 1, hint=f"adata has {adata.n_obs} observations"
    )
    x = choose_representation(adata, use_rep=use_rep, n_pcs=n_pcs, tool="mercat")
    if x.shape[1] < 2:
        msg = (
            f"mercat needs a representation with at least 2 dimensions (its start is the first two principal "
            f"components), got {x.shape[1]}; choose another use_rep or a larger n_pcs."
        )
        raise ValueError(msg)
    rep_key = use_rep or ("X" if adata.n_vars <= 50 and n_pcs is None else "X_pca")  # choose_representation's rule

    # Core: denoise -> neighbours -> half-sphere start -> Riemannian Adam -> orientation -> map.
    if denoise_rank is None or (denoise_rank == "auto" and str(rep_key).startswith("X_pca")):
        scores, rank = (x - x.mean(axis=0)).astype(np.float32), x.shape[1]
        rule, noise = ("none" if denoise_rank is None else "input_is_pca"), float("nan")
    else:
        out = denoise(x, None if denoise_rank == "auto" else denoise_rank)
        scores, rank, noise = out.scores, out.rank, out.noise_variance
        rule = "marchenko_pastur" if denoise_rank == "auto" else "fixed"
    indices, _ = knn(x, n_neighbors, random_state=seed, n_jobs=threads)
    result = optimise_sphere(
        scores,
        half_sphere_init(scores),
        indices,
        n_epochs=n_epochs,
        triplets_per_point=triplets_per_point,
        sampling=sampling,
        neighbour_weight=neighbour_weight,
        refine_fraction=refine,
        refine_weight=refine_weight,
        angle=angle,
        loss=loss,
        learning_rate=learning_rate,
        seed=seed,
        # Below 10 000 points per thread an epoch takes milliseconds and synchronising the threads
        # four times per epoch costs more than it saves (on a busy machine, far more); the result
        # does not depend on the thread count.
        n_jobs=min(threads, max(1, adata.n_obs // THREAD_MIN_OBS)),
        callback=_progress_callback(n_epochs) if progress_enabled(progress) else None,
    )
    sphere = canonical_orientation(result.embedding)

    # Writing.
    adata = adata.copy() if copy else adata
    params = {
        "n_pcs": n_pcs,
        "use_rep": use_rep,
        "denoise_rank": "none" if denoise_rank is None else denoise_rank,
        "n_epochs": n_epochs,
        "triplets_per_point": triplets_per_point,
        "sampling": sampling,
        "n_neighbors": n_neighbors,
        "neighbour_weight": neighbour_weight,
        "refine": refine,
        "refine_weight": refine_weight,
        "refine_weight_used": result.refine_weight if refine > 0 else None,
        "angle": angle,
        "loss": loss,
        "learning_rate": learning_rate,
        "projection": projection,
        "random_state": recorded,
        "n_jobs": n_jobs,
        "key_added": key_added,
    }
    adata.obsm[keys.obsm] = sphere.astype(np.float32)
    adata.obsm[f"{keys.obsm}_2d"] = map_projection(sphere, projection).astype(np.float32)
    adata.uns[keys.uns] = {
        "params": clean_params(params),
        "denoise_rank": int(rank),
        "denoise_rule": rule,
        "noise_variance": float(noise),
        "loss": float(result.loss),
        "loss_history": result.loss_history.astype(np.float32),
        "refine_checks": np.asarray(result.recall_checks, dtype=np.float64).reshape(-1, 4),
    }
    return adata if copy else None


def _progress_callback(n_epochs: int):
    """A tqdm bar advanced by the optimiser's per-epoch callback (closed at the last epoch)."""
    from tqdm.auto import tqdm

    bar = tqdm(total=n_epochs, desc="mercat", unit="epoch")

    def update(epoch: int, loss: float) -> None:
        bar.update(1)
        if epoch % 25 == 0:
            bar.set_postfix(loss=f"{loss:.4f}", refresh=False)
        if epoch == n_epochs - 1:
            bar.close()

    return update
