from __future__ import annotations

import numba
import numpy as np
import pytest

from fischer_sc.core import mix64, njit
from fischer_sc.core._hashing import mix64_reference
from fischer_sc.core._numba import NUMPY_ERRORS


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


@njit
def _mix_all(zs):
    out = np.empty_like(zs)
    for i in range(zs.size):
        out[i] = mix64(zs[i])
    return out


def test_mix64_matches_its_python_reference():
    run = _mix_all
    zs = np.array([0, 1, -1, 2**62, -(2**63), 2**63 - 1, 123456789, -987654321], dtype=np.int64)
    assert run(zs).tolist() == [mix64_reference(int(z)) for z in zs]
    hashed = run(np.arange(10_000, dtype=np.int64))
    assert len(set(hashed.tolist())) == 10_000
    assert (run(zs) >= 0).all() and (hashed >= 0).all()  # bits 0-62 only
    # the low 32 bits, which kernels slice, are close to uniform: each bit set about half the time
    bits = (hashed[:, None] >> np.arange(32)) & 1
    assert np.abs(bits.mean(axis=0) - 0.5).max() < 0.03


@njit(error_model=NUMPY_ERRORS)
def _ratio(a, b):
    return a / b


@njit
def _ratio_checked(a, b):
    return a / b


def test_numpy_error_model_divides_by_zero_like_numpy():
    assert _ratio(1.0, 0.0) == np.inf
    assert np.isnan(_ratio(0.0, 0.0))
    assert _ratio(3.0, 4.0) == 0.75
    with pytest.raises(ZeroDivisionError):  # the default error model keeps raising
        _ratio_checked(1.0, 0.0)
