from __future__ import annotations

import numba
import numpy as np

from fischer_sc.core import njit


@njit(parallel=True)
def _row_sums(x):
    out = np.empty(x.shape[0])
    for i in numba.prange(x.shape[0]):
        out[i] = x[i].sum()
    return out


@njit
def _cumsum(x):
    out = np.empty_like(x)
    total = 0.0
    for i in range(x.shape[0]):
        total += x[i]
        out[i] = total
    return out


def test_njit_compiles_parallel_and_serial_kernels_like_numpy():
    x = np.random.default_rng(0).normal(size=(50, 7))
    np.testing.assert_allclose(_row_sums(x), x.sum(axis=1))
    np.testing.assert_allclose(_cumsum(x[:, 0]), np.cumsum(x[:, 0]))
    assert _cumsum.targetoptions["nogil"] and _row_sums.targetoptions["parallel"]
