"""MDL code lengths shared by the pattern-mining methods (Premise, DiffNaps post-filtering, Slim/Grab-style tools).

All lengths are in bits (log base 2). Log-binomials come from a table of ``log2(k!)`` so that the
many small deltas a greedy search evaluates are differences of table entries, not of large totals.
The NML parametric complexities are computed in log space, so they stay finite for 10^5-10^6 rows.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from scipy.special import gammaln

__all__ = [
    "log2_binom",
    "log2_factorial_table",
    "nml_binomial_complexity",
    "nml_multinomial_complexity",
    "universal_int_length",
]

_LN2 = np.log(2.0)
# Rissanen's normalising constant of the universal code for the integers: sum_k 2^-log*(k) = 1.
_RISSANEN_C0 = 2.865064
# Truncation of the binomial NML series: the dropped tail is about 2^-(32 log2 10) = 1e-32 relative.
_SERIES_BITS = 32 * np.log2(10.0)


def log2_factorial_table(n: int) -> np.ndarray:
    """``log2(k!)`` for ``k = 0..n`` as a float64 array of length ``n + 1``.

    Parameters
    ----------
    n
        Largest argument, ``n >= 0``.

    Returns
    -------
    numpy.ndarray
        ``table[k] = log2(k!)``; ``log2 C(a, b) = table[a] - table[b] - table[a - b]``.
    """
    n = int(n)
    if n < 0:
        msg = f"n must be >= 0, got {n}."
        raise ValueError(msg)
    return gammaln(np.arange(n + 1, dtype=np.float64) + 1.0) / _LN2


def log2_binom(n: np.ndarray | int, k: np.ndarray | int) -> np.ndarray | float:
    """``log2 C(n, k)`` via ``lgamma``, elementwise; ``-inf`` where ``k < 0`` or ``k > n``.

    Parameters
    ----------
    n, k
        Integers or integer arrays (broadcast against each other).

    Returns
    -------
    float or numpy.ndarray
        The log-binomial in bits, exactly 0 for ``k in {0, n}``.
    """
    n_arr = np.asarray(n, dtype=np.float64)
    k_arr = np.asarray(k, dtype=np.float64)
    valid = (k_arr >= 0) & (k_arr <= n_arr)
    with np.errstate(invalid="ignore"):
        out = (gammaln(n_arr + 1) - gammaln(k_arr + 1) - gammaln(n_arr - k_arr + 1)) / _LN2
    out = np.where(valid, out, -np.inf)
    # lgamma rounding must not make the edges C(n, 0) = C(n, n) = 1 cost anything.
    out = np.where(valid & ((k_arr == 0) | (k_arr == n_arr)), 0.0, out)
    return float(out) if out.ndim == 0 else out


def universal_int_length(k: np.ndarray | int) -> np.ndarray | float:
    """Rissanen's universal code length ``L_N(k)`` for integers ``k >= 1``, in bits.

    ``L_N(k) = log2(c0) + log2 k + log2 log2 k + ...`` summing only the positive terms, with
    ``c0 = 2.865064``.

    Parameters
    ----------
    k
        Integer or integer array, every entry ``>= 1``.

    Returns
    -------
    float or numpy.ndarray
        The code length in bits (``L_N(1) = log2(c0)``).
    """
    k_arr = np.asarray(k, dtype=np.float64)
    if np.any(k_arr < 1) or not np.all(np.isfinite(k_arr)):
        msg = "universal_int_length is defined for integers k >= 1."
        raise ValueError(msg)
    total = np.full(k_arr.shape, np.log2(_RISSANEN_C0))
    term = k_arr.copy()
    # log2 iterated: at most ~5 rounds for any float64 value.
    while True:
        with np.errstate(divide="ignore", invalid="ignore"):
            term = np.where(term > 1, np.log2(np.maximum(term, 1.0)), 0.0)
        if not np.any(term > 0):
            break
        total += np.where(term > 0, term, 0.0)
    return float(total) if total.ndim == 0 else total


@lru_cache(maxsize=4096)
def _nml_binomial_scalar(n: int) -> float:
    if n <= 0:
        return 0.0
    # Mononen-Myllymaki form C2(N) = sum_k prod_{i<k} (N - i) / N; terms decay like exp(-k^2 / 2N).
    n_terms = min(n + 1, int(np.ceil(2 + np.sqrt(2.0 * n * _SERIES_BITS * _LN2))) + 1)
    i = np.arange(1, n_terms, dtype=np.float64)
    log_terms = np.concatenate(([0.0], np.cumsum(np.log1p(-(i - 1) / n))))
    top = log_terms.max()
    return float((top + np.log(np.exp(log_terms - top).sum())) / _LN2)


def nml_binomial_complexity(n: np.ndarray | int) -> np.ndarray | float:
    """``COMP(n) = log2 C2(n)``, the parametric complexity of the binomial NML code for ``n`` trials.

    ``C2(n) = sum_h C(n, h) (h/n)^h ((n-h)/n)^(n-h)``, evaluated by the equivalent series
    ``sum_k prod_{i<k} (n - i)/n`` (Mononen and Myllymaki, 2008) in log space, truncated where the
    tail falls below 1e-32 relative. Values are cached per ``n``.

    Parameters
    ----------
    n
        Non-negative integer or integer array.

    Returns
    -------
    float or numpy.ndarray
        ``COMP(0) = 0``, ``COMP(1) = 1``, ``COMP(2) = log2 2.5``; grows like ``0.5 log2(pi n / 2)``.
    """
    n_arr = np.asarray(n)
    if np.any(n_arr < 0):
        msg = "nml_binomial_complexity needs n >= 0."
        raise ValueError(msg)
    if n_arr.ndim == 0:
        return _nml_binomial_scalar(int(n_arr))
    flat = n_arr.ravel().astype(np.int64)
    uniq, inv = np.unique(flat, return_inverse=True)
    vals = np.array([_nml_binomial_scalar(int(v)) for v in uniq], dtype=np.float64)
    return vals[inv].reshape(n_arr.shape)


def nml_multinomial_complexity(n: int, k: int) -> float:
    """``log2`` of the multinomial NML parametric complexity ``C(K, n)`` for ``k`` categories and ``n`` trials.

    Uses the Kontkanen-Myllymaki (2007) recurrence ``C(K + 2, n) = C(K + 1, n) + n / K * C(K, n)``
    from ``C(1, n) = 1`` and the binomial ``C(2, n)``, carried in log space so it neither overflows
    nor loses precision.

    Parameters
    ----------
    n
        Number of trials, ``n >= 0``.
    k
        Number of categories, ``k >= 1``.

    Returns
    -------
    float
        The complexity in bits; 0 for ``k == 1`` or ``n == 0``.
    """
    n, k = int(n), int(k)
    if n < 0 or k < 1:
        msg = f"nml_multinomial_complexity needs n >= 0 and k >= 1, got n={n}, k={k}."
        raise ValueError(msg)
    if n == 0 or k == 1:
        return 0.0
    ln_prev = 0.0  # ln C(1, n)
    ln_cur = _nml_binomial_scalar(n) * _LN2  # ln C(2, n)
    for j in range(1, k - 1):  # produces C(j + 2, n)
        ln_next = ln_cur + np.log1p(n / j * np.exp(ln_prev - ln_cur))
        ln_prev, ln_cur = ln_cur, ln_next
    return float(ln_cur / _LN2)
