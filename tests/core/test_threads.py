"""Row-range kernels on Python threads: coverage of the ranges, and results independent of the thread count."""

from __future__ import annotations

import importlib

import numba
import numpy as np
import pytest
from scipy import sparse

from fischer_sc.core.embedding import _threads
from fischer_sc.core.embedding._affinities import calibrate_beta, conditional_affinities, symmetrise
from fischer_sc.core.embedding._bhtree import morton_keys, repulsion_barnes_hut
from fischer_sc.core.embedding._forces import (
    N_ATTRACTION_BLOCKS,
    attraction,
    attraction_symmetric,
    repulsion_exact,
)
from fischer_sc.core.embedding._knn import knn


@pytest.mark.parametrize(
    ("n", "threads", "grain"), [(0, 2, 1), (1, 4, 1), (10, 1, 1), (1000, 2, 256), (1000, 3, 1), (7, 8, 1)]
)
def test_row_ranges_cover_every_row_once_in_order(n, threads, grain):
    ranges = _threads.row_ranges(n, threads, grain)
    covered = [i for lo, hi in ranges for i in range(lo, hi)]
    assert covered == list(range(n))
    assert all(hi > lo for lo, hi in ranges)
    if threads == 1 or n < 2 * grain:
        assert len(ranges) <= 1
    else:
        assert 1 < len(ranges) <= _threads.CHUNKS_PER_THREAD * threads


def test_run_rows_runs_every_range_and_reraises(monkeypatch):
    monkeypatch.setattr(numba, "get_num_threads", lambda: 3)
    seen = np.zeros(1000, dtype=int)

    def mark(lo, hi, out):
        out[lo:hi] += 1

    _threads.run_rows(mark, 1000, seen, grain=10)
    assert (seen == 1).all()

    def fail(lo, hi):
        if lo > 0:
            msg = "boom"
            raise RuntimeError(msg)

    with pytest.raises(RuntimeError, match="boom"):
        _threads.run_rows(fail, 1000, grain=10)


def _csr(rng, n, k, symmetric_upper):
    rows = np.repeat(np.arange(n), k)
    cols = rng.integers(0, n, n * k)
    P = sparse.csr_matrix((rng.random(n * k), (rows, cols)), shape=(n, n))
    P = P + P.T
    P.setdiag(0.0)
    P.eliminate_zeros()
    P = sparse.triu(P, k=1, format="csr") if symmetric_upper else P.tocsr()
    P.sort_indices()
    return P


def _all_kernels(n_threads, monkeypatch):
    """Every threaded kernel of the default dtSNE path on fixed inputs, at ``n_threads`` threads."""
    monkeypatch.setattr(numba, "get_num_threads", lambda: n_threads)
    rng = np.random.default_rng(3)
    n = 3000
    y = rng.normal(size=(n, 2)) * np.repeat([1.0, 4.0, 0.3], n // 3)[:, None]
    s = rng.uniform(0.5, 2.0, n)
    out = {}
    U = _csr(rng, n, 10, True)
    buf = np.empty((N_ATTRACTION_BLOCKS, n, 2))
    out["attr_sym"] = np.empty_like(y)
    attraction_symmetric(U.indptr, U.indices, U.data, y, s, 0, buf, out["attr_sym"])
    P = _csr(rng, n, 10, False)
    out["attr"] = np.empty_like(y)
    attraction(P.indptr, P.indices, P.data, y, s, 1, out["attr"])
    out["bh"], out["bh_z"] = np.empty_like(y), np.empty(n)
    out["order"] = repulsion_barnes_hut(y, s, 0, 1.0, out["bh"], out["bh_z"])
    y3 = rng.normal(size=(700, 3))
    out["bh3"], out["bh3_z"] = np.empty_like(y3), np.empty(700)
    repulsion_barnes_hut(y3, s[:700], 1, 0.8, out["bh3"], out["bh3_z"])
    out["exact"], out["exact_z"] = np.empty((600, 2)), np.empty(600)
    repulsion_exact(y[:600], s[:600], 0, out["exact"], out["exact_z"])
    out["keys"] = morton_keys(y, 31)[0]
    x = rng.normal(size=(1500, 20))
    out["knn_idx"], out["knn_d"] = knn(x, 45, method="exact")
    d2 = out["knn_d"] ** 2
    out["beta"] = calibrate_beta(d2, 15.0, 1e-5, 50)
    out["p"] = conditional_affinities(out["knn_idx"], d2, out["beta"], 0)
    Ps = symmetrise(out["knn_idx"], out["p"])
    out["P_data"], out["P_indices"], out["P_indptr"] = Ps.data, Ps.indices, Ps.indptr
    return out


def test_threaded_kernels_do_not_depend_on_the_thread_count(monkeypatch):
    one = _all_kernels(1, monkeypatch)
    for threads in (2, 3):
        many = _all_kernels(threads, monkeypatch)
        for key, value in one.items():
            np.testing.assert_array_equal(many[key], value, err_msg=f"{key} at {threads} threads")


@pytest.mark.parametrize("module", ["_affinities", "_bhgroup", "_bhtree", "_forces", "_select"])
def test_default_path_kernels_compile_serially(module):
    """``parallel=True`` costs three to five times the compile time; these kernels run on ``run_rows`` instead."""
    mod = importlib.import_module(f"fischer_sc.core.embedding.{module}")
    dispatchers = [v for v in vars(mod).values() if isinstance(v, numba.core.registry.CPUDispatcher)]
    assert dispatchers
    assert not [d.py_func.__name__ for d in dispatchers if d.targetoptions.get("parallel")]
