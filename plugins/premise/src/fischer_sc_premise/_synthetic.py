"""Planted error rules in Zipf-distributed token data, for tests, benchmarks and the docs."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import sparse

from fischer_sc.core.patterns import binary_csr


@dataclass
class PlantedErrors:
    """A synthetic error-analysis data set: ``X`` (instances x tokens), ``is_error`` and the planted rules."""

    X: sparse.csr_matrix
    is_error: np.ndarray
    rules: list[tuple[int, ...]]


def _rules_in_range(
    rng: np.random.Generator,
    rule_sizes: Sequence[int],
    rule_token_ranks: tuple[int, int] | None,
    n_tokens: int,
    n_rule_tokens: int,
) -> list[tuple[int, ...]]:
    if rule_token_ranks is None:
        lo = min(20, n_tokens // 10)
        hi = max(lo + n_rule_tokens, min(n_tokens, 20 * n_rule_tokens + lo))
    else:
        lo, hi = (int(v) for v in rule_token_ranks)
    if hi > n_tokens or hi - lo < n_rule_tokens or lo < 0:
        msg = f"ranks {lo}..{hi - 1} of n_tokens={n_tokens} cannot hold {n_rule_tokens} planted rule tokens."
        raise ValueError(msg)
    rule_tokens = rng.choice(np.arange(lo, hi), size=n_rule_tokens, replace=False)
    rules = []
    start = 0
    for size in rule_sizes:
        rules.append(tuple(sorted(int(t) for t in rule_tokens[start : start + size])))
        start += size
    return rules


def _rules_from_ranks(
    rng: np.random.Generator, rule_sizes: Sequence[int], rule_ranks: Sequence[tuple[int, int]], n_tokens: int
) -> list[tuple[int, ...]]:
    if len(rule_ranks) != len(rule_sizes):
        msg = f"rule_ranks has {len(rule_ranks)} ranges for {len(rule_sizes)} rules; give one (lo, hi) per rule."
        raise ValueError(msg)
    used: set[int] = set()
    rules = []
    for size, (lo, hi) in zip(rule_sizes, rule_ranks, strict=True):
        free = np.array([t for t in range(int(lo), min(int(hi), n_tokens)) if t not in used], dtype=np.int64)
        if lo < 0 or hi > n_tokens or free.size < size:
            msg = f"ranks {lo}..{hi - 1} of n_tokens={n_tokens} cannot hold {size} more planted rule tokens."
            raise ValueError(msg)
        chosen = rng.choice(free, size=size, replace=False)
        used.update(int(t) for t in chosen)
        rules.append(tuple(sorted(int(t) for t in chosen)))
    return rules


def planted_errors(
    n_instances: int = 5000,
    n_tokens: int = 1000,
    *,
    rule_sizes: tuple[int, ...] = (1, 1, 2, 2, 3, 3),
    rule_rate: float = 0.03,
    rule_error_rate: float = 0.8,
    base_error_rate: float = 0.15,
    mean_length: float = 12.0,
    zipf_exponent: float = 1.1,
    rule_token_ranks: tuple[int, int] | None = None,
    rule_ranks: Sequence[tuple[int, int]] | None = None,
    random_state: int = 0,
) -> PlantedErrors:
    """Instances of Zipf-distributed background tokens with planted conjunctive error rules.

    Every instance draws ``Poisson(mean_length)`` background tokens with probability
    ``∝ 1 / rank^zipf_exponent``. Each rule (a set of ``rule_sizes[i]`` distinct mid-frequency
    tokens, disjoint across rules) is inserted into a ``rule_rate`` fraction of the instances; an
    instance holding a rule is an error with probability ``rule_error_rate``, any other one with
    ``base_error_rate``. Rule tokens also occur in the background, so a rule is only visible as a
    whole.

    Parameters
    ----------
    n_instances, n_tokens
        Size of the data.
    rule_sizes
        Number of tokens of each planted rule.
    rule_rate
        Fraction of instances each rule is inserted into.
    rule_error_rate, base_error_rate
        Error probability with and without a planted rule.
    mean_length
        Mean number of background tokens per instance.
    zipf_exponent
        Exponent of the background token distribution.
    rule_token_ranks
        ``(lo, hi)``: rule tokens are drawn from the background ranks ``lo..hi - 1`` (0 = most
        frequent). Default: mid-frequency ranks from ``min(20, n_tokens // 10)`` on.
    rule_ranks
        One ``(lo, hi)`` per rule, in place of ``rule_token_ranks``: the tokens of rule ``i`` are
        drawn from ranks ``lo..hi - 1`` (still disjoint across rules), e.g. one pair of frequent
        tokens beside rules of mid-frequency ones.
    random_state
        Seed.

    Returns
    -------
    PlantedErrors
        ``X`` (binary CSR), ``is_error`` (bool) and ``rules`` (tuples of token indices).
    """
    rng = np.random.default_rng(random_state)
    n_rule_tokens = int(sum(rule_sizes))
    if rule_ranks is not None:
        rules = _rules_from_ranks(rng, rule_sizes, rule_ranks, n_tokens)
    else:
        rules = _rules_in_range(rng, rule_sizes, rule_token_ranks, n_tokens, n_rule_tokens)
    weights = 1.0 / np.arange(1, n_tokens + 1) ** zipf_exponent
    lengths = rng.poisson(mean_length, size=n_instances)
    tokens = rng.choice(n_tokens, size=int(lengths.sum()), p=weights / weights.sum())
    row_of = np.repeat(np.arange(n_instances), lengths)
    has_rule = np.zeros(n_instances, dtype=bool)
    extra_rows, extra_tokens = [], []
    for rule in rules:
        hit = rng.random(n_instances) < rule_rate
        has_rule |= hit
        for t in rule:
            extra_rows.append(np.flatnonzero(hit))
            extra_tokens.append(np.full(hit.sum(), t))
    rows = np.concatenate([row_of, *extra_rows])
    cols = np.concatenate([tokens, *extra_tokens])
    X = binary_csr(sparse.csr_matrix((np.ones(rows.size, dtype=np.int8), (rows, cols)), shape=(n_instances, n_tokens)))
    is_error = rng.random(n_instances) < np.where(has_rule, rule_error_rate, base_error_rate)
    return PlantedErrors(X, is_error, rules)
