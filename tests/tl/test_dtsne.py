"""fs.tl.dtsne: planted densities, the scanpy contract, bad input, determinism."""

from __future__ import annotations

import anndata as ad
import numpy as np
import pytest
import scanpy as sc

import fischer_sc as fs
from fischer_sc.testing import h5ad_roundtrip

SPREADS = (1.0, 2.0, 4.0)


def blobs(n_per: int = 150, dims: int = 10, seed: int = 0) -> ad.AnnData:
    """Three far-apart Gaussian clusters with spreads 1, 2, 4: the density ground truth."""
    rng = np.random.default_rng(seed)
    x = np.vstack([rng.normal(size=(n_per, dims)) * sd + 60.0 * c for c, sd in enumerate(SPREADS)])
    adata = ad.AnnData(x.astype(np.float32))
    adata.obs["cluster"] = np.repeat(["a", "b", "c"], n_per)
    adata.obs["cluster"] = adata.obs["cluster"].astype("category")
    return adata


def cluster_radii(y: np.ndarray, labels: np.ndarray) -> np.ndarray:
    radii = []
    for lab in np.unique(labels):
        pts = y[labels == lab]
        radii.append(np.linalg.norm(pts - pts.mean(axis=0), axis=1).mean())
    return np.asarray(radii)


@pytest.fixture(scope="module")
def embedded() -> ad.AnnData:
    adata = blobs()
    fs.tl.dtsne(adata, progress=False)
    fs.tl.dtsne(adata, pair_scale=None, key_added="X_tsne_core", progress=False)
    return adata


def test_dtsne_keeps_relative_spreads_that_tsne_loses(embedded):
    labels = embedded.obs["cluster"].to_numpy()
    ratios = cluster_radii(embedded.obsm["X_dtsne"], labels)
    ratios /= ratios[0]
    np.testing.assert_allclose(ratios, SPREADS, rtol=0.25)
    tsne = cluster_radii(embedded.obsm["X_tsne_core"], labels)
    tsne /= tsne[0]
    assert tsne[2] < 1.6  # t-SNE equalises the clusters ...
    assert ratios[2] > 2 * tsne[2]  # ... dtSNE does not


def test_dtsne_writes_documented_fields(embedded):
    y = embedded.obsm["X_dtsne"]
    assert y.shape == (embedded.n_obs, 2) and y.dtype == np.float32
    uns = embedded.uns["dtsne"]
    assert uns["params"]["perplexity"] == 30.0 and uns["params"]["pair_scale"] == "mean"
    assert "device" not in uns["params"] and "progress" not in uns["params"]
    assert uns["repulsion"] == "barnes_hut" and uns["perplexity"] == 30.0  # by cost above ~400 points
    assert 0.0 < uns["kl_divergence"] < 3.0
    assert embedded.uns["X_tsne_core"]["params"]["pair_scale"] == "none"


DEFAULT_PARAMS = {
    "perplexity",
    "n_components",
    "n_iter",
    "early_exaggeration",
    "early_exaggeration_iter",
    "learning_rate",
    "pair_scale",
    "balance",
    "radius",
    "contrast",
    "density_weight",
    "repulsion",
    "theta",
    "metric",
    "random_state",
}


def test_params_record_holds_exactly_the_arguments(embedded):
    params = embedded.uns["dtsne"]["params"]
    assert set(params) == DEFAULT_PARAMS
    assert params == {
        "perplexity": 30.0,
        "n_components": 2,
        "n_iter": 750,
        "early_exaggeration": 12.0,
        "early_exaggeration_iter": 250,
        "learning_rate": "auto",
        "pair_scale": "mean",
        "balance": 0.5,
        "radius": "knn",
        "contrast": 0.8,
        "density_weight": 0.5,
        "repulsion": "auto",
        "theta": 1.0,
        "metric": "euclidean",
        "random_state": 0,
    }
    assert set(embedded.uns["X_tsne_core"]["params"]) == DEFAULT_PARAMS | {"key_added"}


def test_copy_key_added_roundtrip_and_plot(tmp_path):
    adata = blobs(n_per=40)
    out = fs.tl.dtsne(adata, perplexity=10, n_iter=100, early_exaggeration_iter=50, copy=True, progress=False)
    assert "X_dtsne" not in adata.obsm and "dtsne" not in adata.uns
    assert out is not None and "X_dtsne" in out.obsm
    assert (
        fs.tl.dtsne(adata, perplexity=10, n_iter=100, early_exaggeration_iter=50, key_added="dt", progress=False)
        is None
    )
    np.testing.assert_array_equal(adata.obsm["dt"], out.obsm["X_dtsne"])
    back = h5ad_roundtrip(out, tmp_path)
    np.testing.assert_array_equal(back.obsm["X_dtsne"], out.obsm["X_dtsne"])
    assert back.uns["dtsne"]["params"] == out.uns["dtsne"]["params"]
    fig = sc.pl.embedding(out, "dtsne", color="cluster", show=False, return_fig=True)
    assert fig is not None


def test_same_seed_same_result_whatever_the_threads():
    adata = blobs(n_per=40)
    kw = {"perplexity": 10, "n_iter": 150, "early_exaggeration_iter": 50, "progress": False}
    a = fs.tl.dtsne(adata, n_jobs=1, copy=True, **kw)
    b = fs.tl.dtsne(adata, n_jobs=2, copy=True, **kw)
    np.testing.assert_array_equal(a.obsm["X_dtsne"], b.obsm["X_dtsne"])


def test_barnes_hut_agrees_with_exact():
    adata = blobs(n_per=100)
    kw = {"perplexity": 20, "progress": False, "copy": True}
    exact = fs.tl.dtsne(adata, repulsion="exact", **kw).obsm["X_dtsne"]
    bh = fs.tl.dtsne(adata, repulsion="barnes_hut", **kw).obsm["X_dtsne"]
    labels = adata.obs["cluster"].to_numpy()
    r_exact, r_bh = cluster_radii(exact, labels), cluster_radii(bh, labels)
    np.testing.assert_allclose(r_bh / r_bh[0], r_exact / r_exact[0], rtol=0.1)


def test_neighbors_key_reuses_the_graph_and_clips_perplexity():
    adata = blobs(n_per=40)
    sc.pp.neighbors(adata, n_neighbors=16, use_rep="X", key_added="nn")
    with pytest.warns(UserWarning, match=r"15 neighbours per cell, fewer than 3 \* perplexity"):
        fs.tl.dtsne(adata, neighbors_key="nn", n_iter=100, early_exaggeration_iter=50, progress=False)
    assert adata.uns["dtsne"]["perplexity"] == pytest.approx(5.0)
    params = adata.uns["dtsne"]["params"]
    assert set(params) == DEFAULT_PARAMS | {"neighbors_key"} and params["neighbors_key"] == "nn"
    # a Generator is recorded as the int seed it gave
    fs.tl.dtsne(adata, random_state=np.random.default_rng(5), n_iter=10, early_exaggeration_iter=5, progress=False)
    assert adata.uns["dtsne"]["params"]["random_state"] == int(np.random.default_rng(5).integers(2**31 - 1))


def _unchanged(adata: ad.AnnData, before: ad.AnnData) -> bool:
    return set(adata.obsm) == set(before.obsm) and set(adata.uns) == set(before.uns)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"pair_scale": "median"}, ValueError, r"pair_scale='median' is not one of 'mean', 'geometric', None"),
        ({"repulsion": "fft"}, ValueError, r"repulsion='fft' is not one of"),
        ({"use_rep": "X_nope"}, KeyError, r"use_rep='X_nope' is not in adata.obsm"),
        ({"neighbors_key": "nope"}, KeyError, r"neighbors_key='nope' is not a neighbours record"),
        ({"perplexity": 50}, ValueError, r"needs more than 3 \* perplexity = 150 observations, got 120"),
        ({"perplexity": 0.5}, ValueError, r"perplexity must be a finite number >= 1, got 0.5"),
        ({"n_components": 0}, ValueError, r"n_components must be an integer >= 1, got 0"),
        ({"n_iter": 100, "early_exaggeration_iter": 200}, ValueError, r"early_exaggeration_iter must be .* <= 100"),
        ({"learning_rate": -1.0}, ValueError, r"learning_rate must be a finite number > 0, got -1.0; or 'auto'"),
        ({"device": "cuda"}, ValueError, r"dtsne runs on the CPU only"),
        ({"theta": 0.0}, ValueError, r"theta must be a finite number > 0 and <= 1.5, got 0.0"),
        ({"balance": 2.0}, ValueError, r"balance must be a finite number >= 0 and <= 1, got 2.0"),
        ({"n_components": 4, "repulsion": "barnes_hut"}, ValueError, r"at most 3 embedding dimensions, got 4"),
    ],
)
def test_bad_options_raise_and_leave_adata_unchanged(kwargs, error, match):
    adata = blobs(n_per=40)
    before = adata.copy()
    with pytest.raises(error, match=match):
        fs.tl.dtsne(adata, progress=False, **kwargs)
    assert _unchanged(adata, before)


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_non_finite_input_raises(bad):
    adata = blobs(n_per=40)
    adata.X[3, 2] = bad
    with pytest.raises(ValueError, match=r"adata.X contains 1 NaN or infinite values \(first in row 3\)"):
        fs.tl.dtsne(adata, progress=False)
    assert "X_dtsne" not in adata.obsm


def test_too_few_observations():
    adata = ad.AnnData(np.random.default_rng(0).normal(size=(3, 4)).astype(np.float32))
    with pytest.raises(ValueError, match=r"at least 4 observations, got 3"):
        fs.tl.dtsne(adata, perplexity=1, progress=False)


def test_progress_bar_reports_the_iterations(capsys):
    adata = blobs(n_per=40)
    fs.tl.dtsne(adata, perplexity=10, n_iter=60, early_exaggeration_iter=20, progress=True)
    err = capsys.readouterr().err
    assert "embedding" in err and "60/60" in err and "kl=" in err
