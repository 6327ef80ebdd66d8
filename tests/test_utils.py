"""The helpers every tool uses: representation choice, finiteness, keys, seeds, params, progress."""

from __future__ import annotations

import numpy as np
import pytest
import scanpy as sc
from scipy import sparse

from fischer_sc._utils import (
    check_adata,
    check_bool,
    check_choice,
    check_finite,
    check_int,
    check_metric,
    check_number,
    check_save_path,
    check_spread,
    choose_representation,
    clean_params,
    labels_to_codes,
    obs_codes,
    progress_enabled,
    read_matrix,
    resolve_device,
    resolve_keys,
    resolve_n_jobs,
    resolve_random_state,
    resolve_rng,
    resolve_seed,
)
from fischer_sc.testing import small_adata


def test_representation_uses_x_when_it_has_few_variables(adata):
    np.testing.assert_array_equal(choose_representation(adata), np.asarray(adata.X, dtype=np.float64))


def test_representation_uses_x_pca_for_many_variables():
    adata = small_adata(n_vars=60)
    np.testing.assert_array_equal(choose_representation(adata), adata.obsm["X_pca"])
    np.testing.assert_array_equal(choose_representation(adata, n_pcs=3), adata.obsm["X_pca"][:, :3])


def test_representation_computes_pca_with_a_warning_and_writes_nothing():
    adata = small_adata(n_vars=60)
    del adata.obsm["X_pca"]
    with pytest.warns(UserWarning, match=r"adata.obsm\['X_pca'\] is missing; computing 50"):
        x = choose_representation(adata)
    assert x.shape == (adata.n_obs, 50)
    assert "X_pca" not in adata.obsm and "pca" not in adata.uns
    expected = sc.pp.pca(np.asarray(adata.X, dtype=np.float64), n_comps=50, random_state=0)
    np.testing.assert_allclose(np.abs(x), np.abs(expected), atol=1e-8)


def test_representation_densifies_sparse_x():
    adata = small_adata(sparse_x=True)
    assert sparse.issparse(adata.X)
    np.testing.assert_array_equal(choose_representation(adata, use_rep="X"), adata.X.toarray())


def test_representation_errors_name_the_parameter(adata):
    with pytest.raises(KeyError, match=r"use_rep='X_umap' is not in adata.obsm \(keys: 'X_pca'\)"):
        choose_representation(adata, use_rep="X_umap")
    with pytest.raises(ValueError, match="n_pcs=11 exceeds the 10 columns"):
        choose_representation(adata, use_rep="X_pca", n_pcs=11)
    with pytest.raises(ValueError, match="n_pcs must be a positive integer"):
        choose_representation(adata, n_pcs=0)


def test_nan_and_inf_are_reported_with_their_row(adata):
    adata.X[4, 2] = np.nan
    adata.X[7, 1] = np.inf
    with pytest.raises(ValueError, match=r"adata.X contains 2 NaN or infinite values \(first in row 4\)"):
        choose_representation(adata)
    assert check_finite(np.ones((2, 2)), "x") is not None


def test_keys_follow_scanpy():
    assert (resolve_keys("dtsne", None).obsm, resolve_keys("dtsne", None).uns) == ("X_dtsne", "dtsne")
    keys = resolve_keys("mercat", "sphere")
    assert (keys.obsm, keys.uns) == ("sphere", "sphere")
    with pytest.raises(TypeError, match="key_added must be a non-empty string"):
        resolve_keys("dtsne", "")


def test_seeds_are_reproducible_and_generators_pass_through():
    a, b = resolve_rng(0).normal(size=3), resolve_rng(0).normal(size=3)
    np.testing.assert_array_equal(a, b)
    gen = np.random.default_rng(5)
    assert resolve_rng(gen) is gen
    assert resolve_seed(1) == resolve_seed(1) == int(np.random.default_rng(1).integers(2**31 - 1))
    assert resolve_seed(2) != resolve_seed(1)
    with pytest.raises(ValueError, match="non-negative"):
        resolve_rng(-1)
    with pytest.raises(TypeError, match="random_state must be an int"):
        resolve_rng(1.5)


def test_params_drop_none_and_stay_h5ad_safe():
    params = clean_params({"a": 1, "b": None, "c": (1.0, 2.0), "d": "x", "e": np.random.default_rng(0)})
    assert params["a"] == 1 and "b" not in params and params["c"] == [1.0, 2.0] and params["d"] == "x"
    assert isinstance(params["e"], str)


@pytest.fixture
def scanpy_settings():
    """Restore scanpy's settings (a class with properties that monkeypatch cannot undo)."""
    saved = (sc.settings.verbosity, sc.settings.n_jobs)
    yield sc.settings
    sc.settings.verbosity, sc.settings.n_jobs = saved


def test_progress_follows_scanpy_verbosity(scanpy_settings):
    scanpy_settings.verbosity = 0
    assert not progress_enabled(True)
    scanpy_settings.verbosity = 1  # scanpy's default
    assert progress_enabled(True) and not progress_enabled(False)


def test_n_jobs_defaults_to_scanpy(scanpy_settings):
    scanpy_settings.n_jobs = 3
    assert resolve_n_jobs(None) == 3
    assert resolve_n_jobs(-1) >= 1
    with pytest.raises(TypeError, match="n_jobs must be an int"):
        resolve_n_jobs(2.0)


def test_number_and_int_checks_name_the_parameter_and_bounds():
    assert check_number(0.5, "alpha", low=0, high=1) == 0.5
    with pytest.raises(ValueError, match=r"alpha must be a finite number > 0 and <= 1, got 0; use 0.5"):
        check_number(0, "alpha", low=0, high=1, low_open=True, hint="use 0.5")
    for bad in (np.nan, np.inf, True, "1", None):
        with pytest.raises(ValueError, match="x must be a finite number"):
            check_number(bad, "x")
    assert check_int(np.int64(3), "k", low=1) == 3
    for bad in (0, 2.0, True, None):
        with pytest.raises(ValueError, match="k must be an integer >= 1"):
            check_int(bad, "k", low=1)


def test_choice_and_bool_checks():
    assert check_choice("a", "method", ("a", "b")) == "a"
    with pytest.raises(ValueError, match=r"method='c' is not one of 'a', 'b'"):
        check_choice("c", "method", ("a", "b"))
    with pytest.raises(ValueError, match="is not one of"):
        check_choice(["a"], "method", {"a"})
    assert check_bool(False, "copy") is False
    with pytest.raises(TypeError, match="copy must be True or False"):
        check_bool(1, "copy")


def test_device_follows_the_registry_record(monkeypatch):
    from fischer_sc.plugins import builtin_spec

    assert resolve_device(None, "dtsne") == resolve_device("cpu", "dtsne") == "cpu"
    with pytest.raises(ValueError, match="must be None, 'cpu' or 'cuda"):
        resolve_device("tpu", "dtsne")
    for name in ("dtsne", "factor_out", "binaps", "diffnaps"):
        spec = builtin_spec(name)
        if spec.supports_gpu:
            import torch

            monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
            with pytest.raises(ValueError, match="torch sees no CUDA device"):
                resolve_device("cuda", name)
        else:
            with pytest.raises(ValueError, match="runs on the CPU only"):
                resolve_device("cuda", name)


def test_obs_codes_and_matrix_reading():
    import anndata as ad
    import pandas as pd

    obs = pd.DataFrame({"g": ["b", "a", "b", "c"], "t": [0.1, 0.2, 0.3, 0.4]}, index=[f"c{i}" for i in range(4)])
    a = ad.AnnData(np.ones((4, 2)), obs=obs)
    a.layers["counts"] = np.zeros((4, 2))
    codes, levels = obs_codes(a, "g")
    assert codes.tolist() == [1, 0, 1, 2] and levels == ["a", "b", "c"]
    with pytest.raises(ValueError, match=r"adata.obs\['t'\] has 4 distinct values, more than the 3"):
        obs_codes(a, "t", max_levels=3)
    with pytest.raises(KeyError, match="is not a column of adata.obs"):
        obs_codes(a, "missing")
    with pytest.raises(KeyError, match=r"groupby='missing' is not a column of adata.obs \(columns: 'g', 't'"):
        obs_codes(a, "missing", param="groupby")
    a.obs["cat"] = pd.Categorical(["b", "a", "b", "a"], categories=["z", "b", "a"])
    codes, levels = obs_codes(a, "cat")
    assert codes.tolist() == [0, 1, 0, 1] and levels == ["b", "a"]  # the categories' order, unused dropped
    with pytest.raises(ValueError, match="1 missing labels"):
        labels_to_codes(pd.Series(["a", None]), "labels")
    x, where = read_matrix(a, "counts")
    assert where == "adata.layers['counts']" and x.sum() == 0
    with pytest.raises(KeyError, match=r"layer='raw' is not in adata.layers \(layers: 'counts'\)"):
        read_matrix(a, "raw")


def test_representation_accepts_numpy_integers_for_n_pcs(adata):
    np.testing.assert_array_equal(
        choose_representation(adata, use_rep="X_pca", n_pcs=np.int64(3)), adata.obsm["X_pca"][:, :3]
    )
    with pytest.raises(TypeError, match="use_rep must be 'X', a key of adata.obsm or None, got int"):
        choose_representation(adata, use_rep=3)


def test_representation_checks_spread_columns_and_pca_size(adata):
    adata.X[:] = 2.0
    with pytest.raises(ValueError, match="all 90 observations of adata.X are identical"):
        choose_representation(adata)
    adata.obsm["X_empty"] = np.zeros((adata.n_obs, 0))
    with pytest.raises(ValueError, match=r"adata.obsm\['X_empty'\] has no columns"):
        choose_representation(adata, use_rep="X_empty")
    wide = small_adata(n_obs=20, n_vars=60)
    del wide.obsm["X_pca"]
    with pytest.raises(ValueError, match=r"n_pcs=30, but adata.X \(20 x 60\) allows at most 19"):
        choose_representation(wide, n_pcs=30)
    wide.X[3, 3] = np.nan  # checked before PCA, named as .X
    with pytest.raises(ValueError, match=r"adata.X contains 1 NaN"):
        choose_representation(wide)


def test_spread_bounds_follow_the_float32_neighbour_search():
    x = np.random.default_rng(0).normal(size=(30, 4))
    for scale in (1e-12, 1.0, 1e12):
        assert check_spread(x * scale, "x") is not None
    for scale in (1e-30, 1e30):
        with pytest.raises(ValueError, match=r"x deviates from its mean by up to .* Rescale it first"):
            check_spread(x * scale, "x")
    with pytest.raises(ValueError, match="deviates from its mean by up to inf"):
        check_spread(np.array([[1.5e308], [1.5e308], [-1.5e308]]), "x")  # the mean overflows: still a clear error
    assert check_spread(np.ones((5, 2)), "prior", identical_ok=True) is not None


def test_numpy_scalars_are_plain_in_params_and_n_jobs():
    params = clean_params({"k": np.int64(3), "lr": np.float32(0.5), "flag": np.bool_(True), "pair": (np.int64(1), 2)})
    assert params == {"k": 3, "lr": 0.5, "flag": True, "pair": [1, 2]}
    assert type(params["k"]) is int and type(params["flag"]) is bool
    assert resolve_n_jobs(np.int64(2)) == 2


def test_adata_metric_and_save_path_checks(tmp_path):
    with pytest.raises(TypeError, match="dtsne takes an AnnData as its first argument, got ndarray"):
        check_adata(np.zeros((3, 3)), "dtsne")
    assert check_metric("euclidean") == "euclidean" and check_metric("manhattan") == "manhattan"
    with pytest.raises(ValueError, match="metric='eucledian' is not a metric"):
        check_metric("eucledian")
    with pytest.raises(TypeError, match="metric must be a string"):
        check_metric(2)
    assert check_save_path(None, "save_model") is None
    assert check_save_path(tmp_path / "m.pt", "save_model") == tmp_path / "m.pt"
    assert check_save_path("m.pt", "save_model") is not None  # the working directory
    with pytest.raises(ValueError, match="does not exist; create it first"):
        check_save_path(tmp_path / "no" / "m.pt", "save_model")
    with pytest.raises(ValueError, match="is a directory"):
        check_save_path(tmp_path, "save_model")


def test_random_state_records_an_int_that_reproduces_the_engine_seed():
    assert resolve_random_state(4) == (4, resolve_seed(4))
    assert resolve_random_state(np.int64(4)) == (4, resolve_seed(4))
    recorded, seed = resolve_random_state(np.random.default_rng(9))
    assert recorded == int(np.random.default_rng(9).integers(2**31 - 1)) and seed == resolve_seed(recorded)
    recorded, seed = resolve_random_state(None)
    assert resolve_random_state(recorded) == (recorded, seed)
    with pytest.raises(ValueError, match="non-negative"):
        resolve_random_state(-3)


def test_representation_must_be_numeric_and_custom_metrics_compiled(adata):
    import pandas as pd

    values = {"x": np.arange(adata.n_obs, dtype=float), "s": ["a"] * adata.n_obs}
    adata.obsm["table"] = pd.DataFrame(values, index=adata.obs_names)
    with pytest.raises(ValueError, match=r"adata.obsm\['table'\] must hold numbers"):
        choose_representation(adata, use_rep="table")
    with pytest.raises(TypeError, match=r"numba-compiled function \(decorate it with @numba.njit\)"):
        check_metric(lambda u, v: 0.0)
    from pynndescent.distances import manhattan  # a numba function, as pynndescent takes them

    assert check_metric(manhattan) is manhattan
