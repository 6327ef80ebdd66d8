"""Bad and unusual input to every fs.tl tool: a clear error that names the fix, and adata left unchanged.

The table of everything tried is in docs/robustness.md; these are the cases that failed before.
"""

from __future__ import annotations

import anndata as ad
import numpy as np
import pandas as pd
import pytest

import fischer_sc as fs
from fischer_sc.testing import small_adata

DTSNE = {"perplexity": 5, "n_iter": 60, "early_exaggeration_iter": 20, "progress": False}
MERCAT = {"n_epochs": 10, "progress": False}
FACTOR_OUT = {"prior_key": "batch", "perplexity": 5, "progress": False}
EMBEDDINGS = {
    "dtsne": (fs.tl.dtsne, DTSNE),
    "mercat": (fs.tl.mercat, MERCAT),
    "factor_out": (fs.tl.factor_out, FACTOR_OUT),
}


def state(adata: ad.AnnData) -> tuple:
    """What a failed call must leave as it was: every key, and the values of X."""
    return (
        np.asarray(adata.X).tobytes(),
        sorted(adata.obsm),
        sorted(adata.uns),
        sorted(adata.obsp),
        sorted(adata.varm),
        sorted(adata.varp),
        list(adata.obs.columns),
        list(adata.var.columns),
    )


def raises_unchanged(call, adata, error, match):
    before = state(adata)
    with pytest.raises(error, match=match):
        call(adata)
    assert state(adata) == before


def binary_adata(n: int = 40, d: int = 10) -> ad.AnnData:
    rng = np.random.default_rng(0)
    x = (rng.random((n, d)) < 0.3).astype(np.float32)
    x[:, 0] = 1.0  # no empty observation
    x[np.arange(n) % 2 == 1, 1:4] = 1.0  # a pattern of group A
    adata = ad.AnnData(x, obs=pd.DataFrame(index=[f"c{i}" for i in range(n)]))
    adata.var_names = [f"g{j}" for j in range(d)]
    adata.obs["group"] = pd.Categorical(np.where(np.arange(n) % 2, "A", "B"))
    return adata


@pytest.fixture(scope="module")
def grn():
    net = fs.datasets.random_signed_network(5, random_state=0)
    return fs.datasets.simulate_grn(net, n_trajectories=6, random_state=0), net


GRN_FAST = {
    "trajectory_key": "trajectory",
    "hidden_dim": 6,
    "n_epochs": 3,
    "prune_start": 1,
    "prune_every": 1,
    "prune_first": 0.7,
    "prune_step": 0.5,
    "target_sparsity": 0.9,
}


@pytest.mark.parametrize("name", sorted(fs.tl.__all__))
def test_an_array_instead_of_anndata_is_a_type_error(name):
    with pytest.raises(TypeError, match=f"{name} takes an AnnData as its first argument, got ndarray"):
        getattr(fs.tl, name)(np.zeros((20, 4)), **({"groupby": "g"} if name == "diffnaps" else {}))


@pytest.mark.parametrize("name", sorted(fs.tl.__all__))
def test_copy_must_be_a_bool(name):
    adata = small_adata(n_obs=40)
    kwargs = {"groupby": "group"} if name == "diffnaps" else {}
    raises_unchanged(lambda a: getattr(fs.tl, name)(a, copy="yes", **kwargs), adata, TypeError, "copy must be True")


@pytest.mark.parametrize("name", sorted(EMBEDDINGS))
def test_identical_observations_are_an_error_not_a_collapsed_embedding(name):
    tool, fast = EMBEDDINGS[name]
    adata = small_adata(n_obs=40)
    adata.X[:] = 1.0
    raises_unchanged(lambda a: tool(a, **fast), adata, ValueError, "all 40 observations of adata.X are identical")


@pytest.mark.parametrize("name", sorted(EMBEDDINGS))
@pytest.mark.parametrize("scale", [1e30, 1e-30])
def test_magnitudes_the_neighbour_search_cannot_rank_are_an_error(name, scale):
    tool, fast = EMBEDDINGS[name]
    adata = small_adata(n_obs=40)
    adata.X = adata.X.astype(np.float64) * scale
    raises_unchanged(lambda a: tool(a, **fast), adata, ValueError, r"adata.X deviates from its mean by up to .*Rescale")


def test_a_large_but_representable_scale_still_embeds():
    adata = small_adata(n_obs=40)
    adata.X = adata.X.astype(np.float64) * 1e10
    fs.tl.dtsne(adata, **DTSNE)
    assert np.isfinite(adata.obsm["X_dtsne"]).all()


def test_mercat_needs_two_dimensions():
    adata = small_adata(n_obs=40)
    adata.obsm["X_one"] = adata.obsm["X_pca"][:, :1].copy()
    raises_unchanged(
        lambda a: fs.tl.mercat(a, use_rep="X_one", **MERCAT), adata, ValueError, "at least 2 dimensions.*got 1"
    )


def test_mercat_too_few_observations_for_n_neighbors_says_how_many():
    adata = small_adata(n_obs=10)
    raises_unchanged(lambda a: fs.tl.mercat(a, **MERCAT), adata, ValueError, "<= 9, got 15; adata has 10 observations")


def test_factor_out_data_without_columns_is_an_error():
    adata = small_adata(n_obs=40)
    adata.obsm["X_empty"] = np.zeros((40, 0))
    raises_unchanged(
        lambda a: fs.tl.factor_out(a, use_rep="X_empty", **FACTOR_OUT), adata, ValueError, "has no columns"
    )


def test_factor_out_prior_of_unrankable_magnitude_is_an_error():
    adata = small_adata(n_obs=40)
    adata.obsm["prior"] = adata.obsm["X_pca"][:, :2].astype(np.float64) * 1e30
    kwargs = {**FACTOR_OUT, "prior_key": "prior"}
    raises_unchanged(lambda a: fs.tl.factor_out(a, **kwargs), adata, ValueError, "the prior deviates")


def test_factor_out_constant_feature_prior_still_runs():
    adata = small_adata(n_obs=40)
    adata.obs["constant"] = 1.0
    fs.tl.factor_out(adata, **{**FACTOR_OUT, "prior_key": "constant"})
    assert np.isfinite(adata.obsm["X_factor_out"]).all()


@pytest.mark.parametrize("name", ["dtsne", "factor_out"])
def test_unknown_metric_is_named_before_any_work(name):
    tool, fast = EMBEDDINGS[name]
    adata = small_adata(n_obs=40)
    raises_unchanged(
        lambda a: tool(a, metric="eucldean", **fast), adata, ValueError, "metric='eucldean' is not a metric"
    )


def test_numpy_integers_are_accepted_and_recorded_as_python_ints():
    adata = small_adata(n_obs=40, n_vars=60)
    fs.tl.dtsne(adata, n_pcs=np.int64(5), n_jobs=np.int64(1), random_state=np.int64(3), **DTSNE)
    params = adata.uns["dtsne"]["params"]
    assert params["n_pcs"] == 5 and params["n_jobs"] == 1 and params["random_state"] == 3
    assert all(type(params[k]) is int for k in ("n_pcs", "n_jobs", "random_state"))


def test_n_pcs_beyond_what_pca_of_x_allows_is_an_error():
    adata = small_adata(n_obs=20, n_vars=60)
    del adata.obsm["X_pca"]
    raises_unchanged(
        lambda a: fs.tl.dtsne(a, n_pcs=30, **DTSNE), adata, ValueError, "allows at most 19 principal components"
    )


def test_dash_grn_records_a_numpy_seed_as_given(grn):
    adata, net = grn
    out = fs.tl.dash_grn(adata, net, random_state=np.int64(7), copy=True, progress=False, **GRN_FAST)
    assert out.uns["dash_grn"]["params"]["random_state"] == 7


def test_dash_grn_unscaled_huge_values_are_an_error(grn):
    adata, net = grn
    adata = adata.copy()
    adata.X = adata.X * 1e9
    raises_unchanged(
        lambda a: fs.tl.dash_grn(a, net, scale=False, progress=False, **GRN_FAST), adata, ValueError, "Use scale=True"
    )


@pytest.mark.parametrize("tool", ["diffnaps", "dash_grn"])
def test_save_model_into_a_missing_directory_fails_before_training(tool, grn, tmp_path):
    path = tmp_path / "missing" / "model.pt"
    if tool == "diffnaps":
        adata = binary_adata()

        def call(a):
            return fs.tl.diffnaps(a, "group", save_model=path, progress=False)
    else:
        adata, net = grn[0].copy(), grn[1]

        def call(a):
            return fs.tl.dash_grn(a, net, save_model=path, progress=False, **GRN_FAST)

    raises_unchanged(call, adata, ValueError, "does not exist; create it first")


def test_save_model_must_be_a_file_path(tmp_path):
    adata = binary_adata()
    raises_unchanged(
        lambda a: fs.tl.diffnaps(a, "group", save_model=tmp_path, progress=False), adata, ValueError, "is a directory"
    )
    raises_unchanged(
        lambda a: fs.tl.diffnaps(a, "group", save_model=3, progress=False), adata, TypeError, "save_model must be"
    )


@pytest.mark.parametrize("name", ["binaps", "diffnaps"])
def test_binarize_threshold_must_be_finite(name):
    adata = binary_adata()
    kwargs = {"groupby": "group"} if name == "diffnaps" else {}
    raises_unchanged(
        lambda a: getattr(fs.tl, name)(a, binarize=float("nan"), progress=False, **kwargs),
        adata,
        ValueError,
        "binarize must be a finite number",
    )


def test_diffnaps_groups_of_single_observations_are_named():
    adata = binary_adata(n=2)
    raises_unchanged(
        lambda a: fs.tl.diffnaps(a, "group", progress=False), adata, ValueError, "fewer than 2 observations"
    )


def test_dtsne_neighbors_key_must_name_a_finite_neighbours_record():
    import scanpy as sc

    adata = small_adata(n_obs=40)
    sc.pp.neighbors(adata, n_neighbors=16, use_rep="X")
    adata.uns["text"] = "distances_key"
    raises_unchanged(
        lambda a: fs.tl.dtsne(a, neighbors_key="text", **DTSNE), adata, KeyError, "is not a neighbours record"
    )
    adata.obsp["distances"].data[:3] = np.nan
    raises_unchanged(
        lambda a: fs.tl.dtsne(a, neighbors_key="neighbors", **DTSNE),
        adata,
        ValueError,
        r"adata.obsp\['distances'\] contains 3 NaN",
    )


@pytest.mark.parametrize("given", [None, "generator"])
def test_the_recorded_random_state_reproduces_a_run_seeded_by_none_or_a_generator(given):
    adata = small_adata(n_obs=40)
    random_state = np.random.default_rng(11) if given == "generator" else None
    first = fs.tl.mercat(adata, random_state=random_state, copy=True, **MERCAT)
    recorded = first.uns["mercat"]["params"]["random_state"]
    assert type(recorded) is int
    again = fs.tl.mercat(adata, random_state=recorded, copy=True, **MERCAT)
    np.testing.assert_array_equal(first.obsm["X_mercat"], again.obsm["X_mercat"])


def test_the_recorded_random_state_reproduces_binaps():
    adata = binary_adata()
    first = fs.tl.binaps(adata, random_state=np.random.default_rng(2), n_epochs=2, progress=False, copy=True)
    again = fs.tl.binaps(
        adata, random_state=first.uns["binaps"]["params"]["random_state"], n_epochs=2, progress=False, copy=True
    )
    pd.testing.assert_frame_equal(first.uns["binaps"]["history"], again.uns["binaps"]["history"])
